// The sync engine: turns ChangeHints and schedules into provider pulls and atomic store writes.
// Invariants: one holder per connection at a time (the store's lease); the cursor only moves in
// the same applySync as the rows it covers (a crash replays, never skips); bursts coalesce (the
// queue drops a sync job whose key is already waiting); retryable failures back off.
import type EventEmitter from 'eventemitter3';
import type { BackfillProgress, Connection, ConnectionHealthState, MessageMeta, ProviderMessage, RecordLink } from '../domain/schemas.js';
import { ThreadlinkError, isThreadlinkError, toThreadlinkError } from '../errors.js';
import { publicConnection, type ThreadlinkEvents } from '../events.js';
import type { Logger } from '../logger.js';
import type { Job, JobQueue } from '../ports/job-queue.js';
import type { Change, MailProvider, ProviderSession } from '../ports/mail-provider.js';
import type { ApplySyncResult, MetadataStore, StoredMessage, SyncBatch } from '../ports/metadata-store.js';
import type { RecordResolver } from '../ports/record-resolver.js';
import type { Matcher } from '../matching/index.js';
import { stableId } from '../security/hash.js';
import type { Telemetry } from '../observability/telemetry.js';
import type { Clock } from '../util/clock.js';
import { randomId } from '../util/clock.js';
import { LEASE_BUSY_RETRY_MS, MailboxLeases, type MailboxHold } from './mailbox-leases.js';
import { jobKey, normalizeScope, scopeOf, syncKey } from './sync-scope.js';

export interface EngineOptions {
  /** How long a connection lease lasts without renewal. */
  leaseTtlMs: number;
  /** A pull for every live connection when nothing synced it for this long (Gmail drops pushes > 1/s). */
  safetyNetPullMs: number;
  /** A full reconciliation (resync) this often per connection. 0 disables. */
  fullResyncIntervalMs: number;
  /** How far back back-fill goes (ms); 0 = everything. */
  backfillWindowMs: number;
  backfillPageSize: number;
  /** Max pull rounds per sync job before yielding the lease to others. */
  maxRoundsPerJob: number;
  concurrency: number;
  /** When a connection counts as stalled: no push and no successful sync for this long. */
  stalledAfterMs: number;
  /**
   * Push pacing per mailbox, a token bucket: up to `pushPullBurst` pulls at once, refilled at
   * `pushPullsPerSecond`. A push finding the bucket empty waits for the next token, coalesced with the
   * pushes behind it, so a burst of 100 messages costs a handful of pulls (Graph allows a mailbox
   * about 16 requests/s per app) while mail arriving at everyday rates is never delayed.
   * `pushPullsPerSecond: 0` disables pacing.
   */
  pushPullsPerSecond: number;
  pushPullBurst: number;
}

export const defaultEngineOptions: EngineOptions = {
  leaseTtlMs: 60_000,
  safetyNetPullMs: 10 * 60_000,
  fullResyncIntervalMs: 24 * 60 * 60_000,
  backfillWindowMs: 0,
  backfillPageSize: 100,
  maxRoundsPerJob: 20,
  concurrency: 8,
  stalledAfterMs: 60 * 60_000,
  pushPullsPerSecond: 10,
  pushPullBurst: 5,
};

export interface EngineDeps {
  store: MetadataStore;
  providers: Map<string, MailProvider>;
  queue: JobQueue;
  matcher: Matcher;
  resolver: RecordResolver;
  sessionFor(connection: Connection, signal?: AbortSignal): Promise<ProviderSession>;
  events: EventEmitter<{ [K in keyof ThreadlinkEvents]: (payload: ThreadlinkEvents[K]) => void }>;
  logger: Logger;
  clock: Clock;
  options: EngineOptions;
  telemetry: Telemetry;
}

export function messageIdFor(connectionId: string, providerMessageId: string): string {
  return stableId('msg', connectionId, providerMessageId);
}

export function threadIdFor(connectionId: string, providerThreadId: string): string {
  return stableId('thr', connectionId, providerThreadId);
}

/**
 * Work a job leaves for after it has let go of its mailbox: jobs for the same mailbox enqueued
 * while the lease is still held would only find it busy (and wait out the lease-busy retry).
 */
type FollowUp = () => Promise<unknown>;

/** One job's run: its hold on the mailbox lease, and what to enqueue once it is let go. */
interface JobRun {
  job: Job;
  hold: MailboxHold;
  later: FollowUp[];
}

/** Health written by the commit that ends a successful sync or resync (in place of a separate write). */
const succeededAt = (pullStartedAt: number): Partial<ConnectionHealthState> => ({ lastSyncAt: pullStartedAt, consecutiveErrors: 0 });

/**
 * A push newer than the last sync, and recent: a real-time sync is waiting for this mailbox
 * (here or in another process). Back-fill lets it go first. Bounded in time, so a sync that keeps
 * failing cannot hold back-fill off for good.
 */
const PUSH_PRIORITY_MS = 10_000;

export class SyncEngine {
  readonly owner = `engine-${randomId(9)}`;
  private readonly abort = new AbortController();
  /** Each mailbox's pull tokens (push pacing; in memory, per process). */
  private readonly pullBuckets = new Map<string, { tokens: number; at: number }>();
  private readonly leases: MailboxLeases;
  private started = false;

  constructor(private readonly deps: EngineDeps) {
    this.leases = new MailboxLeases({
      store: deps.store,
      clock: deps.clock,
      logger: deps.logger,
      leaseTtlMs: deps.options.leaseTtlMs,
      owner: this.owner,
      signal: this.abort.signal,
    });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.deps.queue.process((job) => this.run(job), { concurrency: this.deps.options.concurrency });
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.deps.queue.close();
  }

  /**
   * Request a pull for a connection (coalesced with a waiting one of the same scope). `scope`
   * narrows a push's pull to the parts of the mailbox its hint named; every other reason pulls all.
   */
  requestSync(connectionId: string, reason: string, requestedAt = this.deps.clock.now(), scope?: readonly string[]): Promise<boolean> {
    const parts = normalizeScope(scope);
    const data = parts ? { reason, scope: parts.join(',') } : { reason };
    const delayMs = reason === 'push' ? this.pushDelay(connectionId) : 0;
    return this.deps.queue.enqueue({ name: 'sync', connectionId, data, requestedAt }, { key: syncKey(connectionId, parts), ...(delayMs > 0 ? { delayMs } : {}) });
  }

  /** How long a push must wait for its mailbox's next pull token (see `pushPullsPerSecond`). */
  private pushDelay(connectionId: string): number {
    const { pushPullsPerSecond: rate } = this.deps.options;
    if (rate <= 0) return 0;
    const { tokens } = this.pullBucket(connectionId);
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * 1000) / rate);
  }

  /** Every pull spends a token, whatever asked for it: pushes pace against all of a mailbox's pulls. */
  private spendPullToken(connectionId: string): void {
    if (this.deps.options.pushPullsPerSecond <= 0) return;
    const bucket = this.pullBucket(connectionId);
    // No debt: after a long catch-up (many rounds) a push waits one token's time at most.
    bucket.tokens = Math.max(0, bucket.tokens - 1);
  }

  /** The mailbox's pull bucket, refilled up to now. */
  private pullBucket(connectionId: string): { tokens: number; at: number } {
    const { pushPullsPerSecond: rate, pushPullBurst: burst } = this.deps.options;
    const now = this.deps.clock.now();
    const bucket = this.pullBuckets.get(connectionId) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * rate) / 1000);
    bucket.at = now;
    this.pullBuckets.set(connectionId, bucket);
    return bucket;
  }

  enqueue(name: Job['name'], connectionId: string, delayMs = 0, data?: Job['data']): Promise<boolean> {
    return this.deps.queue.enqueue({ name, connectionId, ...(data ? { data } : {}) }, { key: `${name}:${connectionId}`, delayMs });
  }

  /** The job dispatcher, under the connection lease. */
  async run(job: Job): Promise<void> {
    const obtained = await this.leases.obtain(job);
    if (obtained === 'covered') return;
    if (obtained === 'busy') {
      // Another worker holds the mailbox; come back shortly rather than pull concurrently.
      await this.deps.queue.enqueue({ ...job, attempt: 1 }, { key: jobKey(job), delayMs: LEASE_BUSY_RETRY_MS });
      return;
    }
    const run: JobRun = { job, hold: obtained, later: [] };
    try {
      await this.runHeld(run);
    } catch (raw) {
      const error = toThreadlinkError(raw);
      await this.recordFailure(job, error);
      if (error.retryable) this.deps.telemetry.retry(job.name, error.code);
      if (error.code === 'CURSOR_EXPIRED') {
        // A safety-net pull that needs a full reconciliation hands its duty (spotting a dead push
        // channel) on to it.
        const reason = job.data?.reason === 'safety-net' ? 'safety-net' : 'cursor-expired';
        run.later.push(() => this.enqueue('resync', job.connectionId, 0, { reason }));
        return;
      }
      if (error.code === 'AUTH_REVOKED') return;
      throw error;
    } finally {
      try {
        await this.leases.letGo(run.hold);
      } finally {
        for (const followUp of run.later) await followUp();
      }
    }
  }

  private async runHeld(run: JobRun): Promise<void> {
    const { job } = run;
    const connection = await this.deps.store.getConnection(job.connectionId);
    if (!connection || connection.status === 'disconnected' || connection.status === 'needs_reauth') return;
    if (connection.status === 'connecting' && job.name !== 'recreate') return;
    const provider = this.providerOf(connection);
    // Sync and resync write their success into the health with their last commit; the write here
    // is only for a job that had nothing to commit.
    let succeeded = false;
    switch (job.name) {
      case 'sync':
        succeeded = await this.sync(connection, provider, run);
        break;
      case 'resync':
        succeeded = await this.resync(connection, provider, run);
        break;
      case 'backfill':
        await this.backfillPage(connection, provider, run);
        break;
      case 'renew':
        await this.renew(connection, provider, false, run);
        break;
      case 'recreate':
        await this.renew(connection, provider, true, run);
        break;
    }
    if (job.name === 'sync' || job.name === 'resync') {
      if (!succeeded) await this.recordSuccess(connection.id);
      this.deps.telemetry.syncCompleted(connection.provider, job.name);
    }
  }

  private providerOf(connection: Connection): MailProvider {
    const provider = this.deps.providers.get(connection.provider);
    if (!provider) throw new ThreadlinkError('CONFIG_INVALID', `No provider "${connection.provider}" is configured`);
    return provider;
  }

  /**
   * Incremental pull from the STORED cursor, committed page by page with compare-and-set. True
   * when the last commit also recorded the success in the connection's health.
   */
  private async sync(connection: Connection, provider: MailProvider, run: JobRun): Promise<boolean> {
    if (!connection.cursor) return false;
    const { job } = run;
    const { lease } = run.hold;
    let cursor = connection.cursor;
    let changed = 0;
    const rounds = this.deps.options.maxRoundsPerJob;
    const scope = scopeOf(job);
    const pullOptions = scope ? { scope } : undefined;
    for (let round = 0; round < rounds; round += 1) {
      const pullStartedAt = this.deps.clock.now();
      this.spendPullToken(connection.id);
      const session = await this.deps.sessionFor(connection, this.abort.signal);
      const result = await this.call(connection, 'pullChanges', () => provider.pullChanges(session, cursor, pullOptions));
      changed += result.changes.length;
      const last = !result.hasMore || round === rounds - 1;
      lease.check();
      await this.commit(connection, result.changes, {
        cursor: result.nextCursor,
        expectedCursor: cursor,
        requestedAt: job.requestedAt,
        health: {
          ...(result.newestChangeAt === undefined ? {} : { newestChangeAt: result.newestChangeAt }),
          // lastSyncAt is when the pull began: a push received after that may not be covered yet.
          ...(last ? succeededAt(pullStartedAt) : {}),
        },
      });
      cursor = result.nextCursor;
      connection.cursor = cursor;
      if (!result.hasMore) {
        this.deps.logger.debug('sync pulled', { connectionId: connection.id, reason: job.data?.reason ?? null, scope: job.data?.scope ?? null, changes: changed });
        if (job.data?.reason === 'safety-net' && changed > 0) await this.pushWasMissed(connection, changed, run);
        return true;
      }
    }
    // More is waiting: yield the lease and continue in a fresh job so other mailboxes get a turn
    // (over the whole mailbox: like every pull that is not a push's, it is not narrowed).
    run.later.push(() => this.requestSync(connection.id, 'continue'));
    return true;
  }

  /** Times a provider operation for metrics; rate limits are counted as such. */
  private async call<T>(connection: Connection, method: string, run: () => Promise<T>): Promise<T> {
    const started = this.deps.clock.now();
    try {
      const result = await this.deps.telemetry.span(`threadlink.provider.${method}`, { provider: connection.provider, connectionId: connection.id }, run);
      this.deps.telemetry.providerCall(connection.provider, method, this.deps.clock.now() - started, 'ok');
      return result;
    } catch (error) {
      const code = toThreadlinkError(error).code;
      this.deps.telemetry.providerCall(connection.provider, method, this.deps.clock.now() - started, code);
      if (code === 'RATE_LIMITED') this.deps.telemetry.rateLimited(connection.provider);
      throw error;
    }
  }

  /**
   * A safety-net pull found changes that no push announced: the watch/subscription is silently
   * dead (or pushes were dropped). Record it for health and re-establish push now.
   */
  private async pushWasMissed(connection: Connection, changes: number, run: JobRun, foundBy: 'safety-net' | 'reconciliation' = 'safety-net'): Promise<void> {
    const now = this.deps.clock.now();
    this.deps.logger.warn(`${foundBy === 'safety-net' ? 'safety-net pull' : 'reconciliation'} found changes no push announced; renewing push`, {
      connectionId: connection.id,
      provider: connection.provider,
      changes,
    });
    await this.deps.store.patchConnection(connection.id, { health: { missedPushAt: now } });
    run.later.push(() => this.enqueue('renew', connection.id));
  }

  /** Builds metadata rows, matches them, and applies everything in one atomic write. */
  async commit(
    connection: Connection,
    changes: Change[],
    options: {
      cursor?: string;
      expectedCursor?: string | null;
      requestedAt?: number | undefined;
      /** Health fields to merge in the same write (the store merges them into the stored health). */
      health?: Partial<ConnectionHealthState>;
      connectionPatch?: SyncBatch['connection'];
    },
  ): Promise<ApplySyncResult> {
    const { store, clock, matcher, events } = this.deps;
    const now = clock.now();
    const latest = new Map<string, Change>();
    for (const change of changes) latest.set(change.type === 'upsert' ? change.message.providerMessageId : change.providerMessageId, change);
    const upserts: MessageMeta[] = [];
    const deletes: string[] = [];
    for (const [providerMessageId, change] of latest) {
      if (change.type === 'delete') deletes.push(providerMessageId);
      else upserts.push(this.toMeta(connection, change.message, now));
    }
    const links =
      upserts.length > 0
        ? await this.deps.telemetry.span('threadlink.match', { provider: connection.provider, connectionId: connection.id, messages: upserts.length }, () => this.match(connection, upserts))
        : new Map<string, RecordLink[]>();
    const batch: SyncBatch = {
      upserts,
      deletes,
      links: [...links.values()].flat(),
      ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
      ...(options.expectedCursor === undefined ? {} : { expectedCursor: options.expectedCursor }),
    };
    const health = { ...(options.connectionPatch?.health ?? {}), ...(options.health ?? {}) };
    const hasHealth = Object.keys(health).length > 0;
    if (options.connectionPatch || hasHealth) {
      // Only the fields this job sets: the store merges them, so a push's lastPushAt written
      // meanwhile by the webhook survives.
      batch.connection = { ...(options.connectionPatch ?? {}), ...(hasHealth ? { health } : {}), updatedAt: now };
    }
    const result = await this.deps.telemetry.span('threadlink.store.applySync', { provider: connection.provider, connectionId: connection.id }, () =>
      store.applySync(connection.id, batch),
    );
    if (hasHealth) connection.health = { ...connection.health, ...health };
    this.deps.telemetry.messagesStored(connection.provider, result.inserted.length + result.updated.length);
    this.deps.telemetry.messagesDeleted(connection.provider, result.deleted.length);
    if (options.requestedAt !== undefined && (result.inserted.length > 0 || result.deleted.length > 0)) {
      this.deps.telemetry.notificationToStored(connection.provider, clock.now() - options.requestedAt);
    }
    const inserted = new Set(result.inserted);
    for (const message of upserts) {
      const created = inserted.has(message.id);
      if (!created && !result.updated.includes(message.id)) continue;
      events.emit('message.synced', { message, created });
      const messageLinks = links.get(message.id) ?? [];
      if (created && messageLinks.length > 0) events.emit('message.matched', { message, links: messageLinks });
    }
    if (result.deleted.length > 0) {
      const byId = new Map(deletes.map((providerMessageId) => [messageIdFor(connection.id, providerMessageId), providerMessageId]));
      for (const messageId of result.deleted) {
        events.emit('message.deleted', { connectionId: connection.id, tenantId: connection.tenantId, messageId, providerMessageId: byId.get(messageId) ?? '' });
      }
    }
    return result;
  }

  toMeta(connection: Connection, message: ProviderMessage, now: number): MessageMeta {
    return {
      ...message,
      id: messageIdFor(connection.id, message.providerMessageId),
      tenantId: connection.tenantId,
      connectionId: connection.id,
      userId: connection.userId,
      provider: connection.provider,
      threadId: threadIdFor(connection.id, message.providerThreadId),
      referenceTokens: this.deps.matcher.extractReferences(message),
      syncedAt: now,
    };
  }

  /** Matches a page of messages with one resolver round per rule kind. */
  async match(connection: Connection, messages: MessageMeta[]): Promise<Map<string, RecordLink[]>> {
    const threadIds = [...new Set(messages.map((message) => message.threadId))];
    const pageIds = new Set(messages.map((message) => message.id));
    // Every thread of the page in one store call (thread-link inheritance), not one per thread.
    const stored: StoredMessage[] = await this.deps.store.listThreads(connection.tenantId, threadIds, [connection.id]);
    const threadLinksByThread = new Map<string, RecordLink[]>(threadIds.map((threadId) => [threadId, []]));
    for (const message of stored) {
      if (pageIds.has(message.id)) continue;
      threadLinksByThread.get(message.threadId)?.push(...message.links);
    }
    return this.deps.matcher.matchMany(messages, {
      resolver: this.deps.resolver,
      tenantId: connection.tenantId,
      accountEmail: connection.accountEmail,
      threadLinksByThread,
      now: this.deps.clock.now(),
    });
  }

  /**
   * Full reconciliation after CURSOR_EXPIRED (or the periodic safety net): list everything in
   * the window, upsert it (links survive: they are keyed by message), delete what the provider no
   * longer has, and adopt the listing's cursor — all under one lease, renewed page by page.
   */
  private async resync(connection: Connection, provider: MailProvider, run: JobRun): Promise<boolean> {
    const { store, clock, options } = this.deps;
    const { key: leaseKey, owner } = run.hold;
    const startedAt = clock.now();
    const since = options.backfillWindowMs > 0 ? clock.now() - options.backfillWindowMs : undefined;
    const seen = new Set<string>();
    let resume: string | null = null;
    let cursor: string | undefined;
    /** Messages this reconciliation had to add or remove: changes the live path never delivered. */
    let drift = 0;
    const startCursor = connection.cursor;
    do {
      const session = await this.deps.sessionFor(connection, this.abort.signal);
      const page = await this.call(connection, 'fullSync', () => provider.fullSync(session, resume, { ...(since === undefined ? {} : { since }), pageSize: options.backfillPageSize }));
      if (page.cursor) cursor = page.cursor;
      page.messages.forEach((message) => seen.add(message.providerMessageId));
      drift += (await this.commit(connection, page.messages.map((message) => ({ type: 'upsert' as const, message })), {})).inserted.length;
      resume = page.next;
      const renewed = await store.renewLease({ key: leaseKey, owner, ttlMs: options.leaseTtlMs, now: clock.now() });
      if (!renewed) throw new ThreadlinkError('LEASE_LOST', 'Lost the connection lease during resync');
    } while (resume);
    const stored = await store.listProviderMessageIds(connection.id);
    const missing: string[] = [];
    for (const providerMessageId of stored) {
      if (seen.has(providerMessageId)) continue;
      if (since !== undefined) {
        const message = await store.getMessageByProviderId(connection.id, providerMessageId);
        if (message && message.receivedAt < since) continue;
      }
      missing.push(providerMessageId);
    }
    const now = clock.now();
    const removed = await this.commit(
      connection,
      missing.map((providerMessageId) => ({ type: 'delete' as const, providerMessageId })),
      {
        ...(cursor === undefined ? {} : { cursor }),
        expectedCursor: startCursor,
        health: { lastFullSyncAt: now, ...succeededAt(startedAt) },
      },
    );
    drift += removed.deleted.length;
    if (cursor !== undefined) connection.cursor = cursor;
    // Changes made while we listed are after the adopted cursor: pull them once the lease is free.
    run.later.push(() => this.requestSync(connection.id, 'after-resync'));
    // A reconciliation that stands in for the safety net (the periodic one, or one a safety-net pull
    // fell into on an expired cursor) absorbs the changes that pull would have reported as "nobody
    // pushed these": it must raise the same alarm, or a silently dropped watch/subscription stays
    // dropped for as long as no further mail arrives.
    const reason = run.job.data?.reason;
    if (drift > 0 && (reason === 'reconciliation' || reason === 'safety-net')) await this.pushWasMissed(connection, drift, run, 'reconciliation');
    return true;
  }

  /** One back-fill page per job, so real-time syncs interleave and never wait for history. */
  private async backfillPage(connection: Connection, provider: MailProvider, run: JobRun): Promise<void> {
    const { clock, options, events } = this.deps;
    const { lease } = run.hold;
    const progress = connection.backfill;
    if (progress.state === 'done') return;
    const now = clock.now();
    if (this.pushWaiting(connection, now)) {
      // A real-time sync is waiting for this mailbox (this engine hands it the lease first; one in
      // another process is retrying): step aside for it, history can wait a moment.
      run.later.push(() => this.enqueue('backfill', connection.id, LEASE_BUSY_RETRY_MS));
      return;
    }
    const since = options.backfillWindowMs > 0 ? (progress.startedAt ?? now) - options.backfillWindowMs : undefined;
    const session = await this.deps.sessionFor(connection, this.abort.signal);
    const page = await this.call(connection, 'fullSync', () => provider.fullSync(session, progress.resume, { ...(since === undefined ? {} : { since }), pageSize: options.backfillPageSize }));
    const startedAt = progress.startedAt ?? now;
    const done = progress.done + page.messages.length;
    const finished = page.next === null;
    const elapsed = Math.max(1, clock.now() - startedAt);
    const next: BackfillProgress = {
      state: finished ? 'done' : 'running',
      done,
      estimatedTotal: finished ? done : Math.max(done, page.estimatedTotal ?? progress.estimatedTotal ?? done),
      resume: page.next,
      startedAt,
      finishedAt: finished ? clock.now() : null,
      rate: Math.round((done / elapsed) * 1000 * 100) / 100,
    };
    // A cursor on the final page (Outlook: delta links over the whole folders) tracks more than the
    // connect-time cursor did (Outlook's only follows recently received mail), so it is adopted —
    // compare-and-set against the current cursor, in the same write as the page.
    let adopt = finished && page.cursor !== undefined && page.cursor !== connection.cursor;
    const upserts = page.messages.map((message) => ({ type: 'upsert' as const, message }));
    const connectionPatch = { backfill: next, ...(finished && connection.status === 'backfilling' ? { status: 'live' as const } : {}) };
    lease.check();
    try {
      await this.commit(connection, upserts, { connectionPatch, ...(adopt ? { cursor: page.cursor, expectedCursor: connection.cursor } : {}) });
    } catch (error) {
      // The live cursor moved since this job read it: keep it (still correct, only narrower) and
      // never lose the page over the optional adoption.
      if (!adopt || !isThreadlinkError(error, 'CURSOR_CONFLICT')) throw error;
      adopt = false;
      lease.check();
      await this.commit(connection, upserts, { connectionPatch });
    }
    if (adopt && page.cursor !== undefined) connection.cursor = page.cursor;
    connection.backfill = next;
    events.emit('backfill.progress', { connectionId: connection.id, tenantId: connection.tenantId, progress: next, done, estimatedTotal: next.estimatedTotal });
    if (finished) {
      events.emit('backfill.done', { connectionId: connection.id, tenantId: connection.tenantId, total: done });
      if (connection.status === 'backfilling') {
        const updated = await this.deps.store.getConnection(connection.id);
        if (updated) events.emit('connection.live', { connection: publicConnection(updated) });
      }
    } else {
      // Enqueued once this job has let go of the lease, so the next page starts at once (behind any
      // real-time job waiting for the mailbox) instead of finding the lease busy.
      run.later.push(() => this.enqueue('backfill', connection.id));
    }
  }

  private pushWaiting(connection: Connection, now: number): boolean {
    const { lastPushAt, lastSyncAt } = connection.health;
    return lastPushAt !== null && lastPushAt > (lastSyncAt ?? 0) && now - lastPushAt < PUSH_PRIORITY_MS;
  }

  /** Renew the watch/subscriptions; recreate when the provider lost them. Never moves the cursor. */
  private async renew(connection: Connection, provider: MailProvider, recreate: boolean, run: JobRun): Promise<void> {
    const { store, clock } = this.deps;
    const session = await this.deps.sessionFor(connection, this.abort.signal);
    let subscription;
    if (!recreate) {
      try {
        subscription = (await this.call(connection, 'renew', () => provider.renew(session))).subscription;
      } catch (error) {
        if (!isThreadlinkError(error, 'NOT_FOUND')) throw error;
      }
    }
    let cursor = connection.cursor;
    if (!subscription) {
      const created = await this.call(connection, 'subscribe', () => provider.subscribe(session));
      subscription = created.subscription;
      cursor ??= created.cursor;
    }
    await store.patchConnection(connection.id, {
      subscription,
      cursor,
      ...(connection.status === 'connecting' ? { status: 'live' as const } : {}),
      updatedAt: clock.now(),
    });
    // Whatever happened while the watch was down is after the stored cursor: pull it.
    if (recreate) run.later.push(() => this.requestSync(connection.id, 'after-recreate'));
  }

  /** A sync with nothing to commit (no cursor yet) still succeeded: one merged health write, no read. */
  private async recordSuccess(connectionId: string): Promise<void> {
    await this.deps.store.patchConnection(connectionId, { health: succeededAt(this.deps.clock.now()) });
  }

  private async recordFailure(job: Job, error: ThreadlinkError): Promise<void> {
    const { store, clock, events, logger } = this.deps;
    const connection = await store.getConnection(job.connectionId);
    if (!connection) return;
    logger.warn('sync job failed', { job: job.name, connectionId: job.connectionId, code: error.code, retryable: error.retryable, attempt: job.attempt ?? 1 });
    events.emit('sync.error', { connectionId: connection.id, code: error.code, message: error.message, retryable: error.retryable, attempt: job.attempt ?? 1 });
    // Only the fields this failure changes: the store merges them into the stored health.
    const health = { consecutiveErrors: connection.health.consecutiveErrors + 1, lastErrorCode: error.code, lastErrorAt: clock.now() };
    if (error.code === 'AUTH_REVOKED') {
      const updated = await store.patchConnection(connection.id, { status: 'needs_reauth', health, updatedAt: clock.now() });
      if (connection.status !== 'needs_reauth' && updated) {
        events.emit('connection.needs_reauth', { connection: publicConnection(updated), reason: error.message });
      }
      return;
    }
    await store.patchConnection(connection.id, { health });
  }
}
