// The sync engine: turns ChangeHints and schedules into provider pulls and atomic store writes.
// Invariants: one holder per connection at a time (the store's lease); the cursor only moves in
// the same applySync as the rows it covers (a crash replays, never skips); bursts coalesce (the
// queue drops a sync job whose key is already waiting); retryable failures back off.
// This file is the orchestrator: the lease around each job, dispatch by job kind, and what a
// failure leads to. Each job kind lives in engine/jobs/, the write path in engine/commit.ts, push
// pacing in engine/push-pacing.ts.
import { setMaxListeners } from 'node:events';
import type { Connection, MessageMeta, ProviderMessage, RecordLink } from '../domain/schemas.js';
import { ThreadlinkError, toThreadlinkError } from '../errors.js';
import type { Job } from '../ports/job-queue.js';
import type { Change, MailProvider } from '../ports/mail-provider.js';
import type { ApplySyncResult, PushLease, SyncLeaseResult } from '../ports/metadata-store.js';
import { randomId } from '../util/clock.js';
import { jobSignal } from '../util/job-signal.js';
import { commitChanges, matchPage, toMeta, type CommitOptions } from './commit.js';
import type { EngineDeps } from './engine-options.js';
import type { JobContext, JobRun } from './job-context.js';
import { recordFailure, recordSuccess } from './job-outcome.js';
import { backfillPage } from './jobs/backfill.js';
import { recreate, renew } from './jobs/renew.js';
import { resync } from './jobs/resync.js';
import { sync } from './jobs/sync.js';
import { LEASE_BUSY_RETRY_MS, MailboxLeases } from './mailbox-leases.js';
import { PushPacing } from './push-pacing.js';
import { jobKey, normalizeScope, syncKey } from './sync-scope.js';

export { defaultEngineOptions, type EngineDeps, type EngineOptions } from './engine-options.js';
export { messageIdFor, threadIdFor } from './ids.js';

/** One handler per job kind; sync and resync report whether their last commit recorded the success. */
// biome-ignore lint/suspicious/noConfusingVoidType: renew, backfill and recreate report nothing (Promise<void>); `undefined` would not accept them.
const JOBS: Record<Job['name'], (context: JobContext, connection: Connection, provider: MailProvider, run: JobRun) => Promise<boolean | void>> = {
  sync,
  resync,
  backfill: backfillPage,
  renew,
  recreate,
};

export class SyncEngine {
  readonly owner = `engine-${randomId(9)}`;
  private readonly abort = new AbortController();
  /** Each mailbox's pull tokens (push pacing; in memory, per process). */
  private readonly pacing: PushPacing;
  private readonly leases: MailboxLeases;
  private readonly context: JobContext;
  private started = false;
  private stopRequested = false;

  constructor(private readonly deps: EngineDeps) {
    this.pacing = new PushPacing(deps.options, deps.clock);
    this.leases = new MailboxLeases({
      store: deps.store,
      clock: deps.clock,
      logger: deps.logger,
      leaseTtlMs: deps.options.leaseTtlMs,
      owner: this.owner,
      signal: this.abort.signal,
    });
    // One listener per running job (its own signal) and one per job waiting for a mailbox held here.
    setMaxListeners(2 * deps.options.concurrency + 10, this.abort.signal);
    this.context = {
      deps,
      pacing: this.pacing,
      requestSync: (connectionId, reason) => this.requestSync(connectionId, reason),
      enqueue: (name, connectionId, delayMs, data) => this.enqueue(name, connectionId, delayMs, data),
      commit: (connection, changes, options) => this.commit(connection, changes, options),
      commitLast: async (connection, changes, options, hold) => {
        // The job's last write also releases the store's lease, unless a job of this engine waits for it.
        const releaseLease = this.leases.releaseWithCommit(hold);
        const result = await this.commit(connection, changes, { ...options, releaseLease });
        if (releaseLease) this.leases.releasedWithCommit(hold);
        return result;
      },
    };
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.deps.queue.process((job) => this.run(job), { concurrency: this.deps.options.concurrency });
  }

  /** True from the first moment of stop(): webhook intake answers 503 so the provider redelivers elsewhere. */
  get stopping(): boolean {
    return this.stopRequested;
  }

  /**
   * Stops taking work, lets running jobs finish for `graceMs`, then aborts them: their provider
   * calls fail, their leases are released, and a shared queue gets them back as retryable failures.
   */
  async stop(graceMs = 0): Promise<void> {
    this.stopRequested = true;
    const closed = this.deps.queue.close();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const graceOver = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, graceMs));
    });
    await Promise.race([closed, graceOver]);
    clearTimeout(timer);
    this.abort.abort();
    await closed;
  }

  /**
   * Request a pull for a connection (coalesced with a waiting one of the same scope). `scope`
   * narrows a push's pull to the parts of the mailbox its hint named; every other reason pulls all.
   */
  requestSync(connectionId: string, reason: string, requestedAt = this.deps.clock.now(), scope?: readonly string[]): Promise<boolean> {
    const parts = normalizeScope(scope);
    const data = parts ? { reason, scope: parts.join(',') } : { reason };
    const delayMs = reason === 'push' ? this.pacing.delayFor(connectionId) : 0;
    return this.deps.queue.enqueue(
      { name: 'sync', connectionId, data, requestedAt },
      { key: syncKey(connectionId, parts), ...(delayMs > 0 ? { delayMs } : {}) },
    );
  }

  /**
   * For webhook intake: the sync lease to take in a push's claim (`PushClaim.lease`), when the
   * sync job the push queues will start in this process at once (an in-process queue with room,
   * no pacing delay, no job of this engine on the mailbox); null otherwise. Every reservation is
   * settled with the claim's answer (`settlePushLease`).
   */
  reservePushLease(connectionId: string): PushLease | null {
    if (!this.started || this.stopRequested || this.deps.queue.startsAtOnce !== true) return null;
    if (this.pacing.delayFor(connectionId) > 0) return null;
    return this.leases.reserve(connectionId);
  }

  /** The claim's answer for a reserved lease (undefined: not taken); see MailboxLeases.settleReservation. */
  settlePushLease(connectionId: string, owner: string, result: SyncLeaseResult | undefined): void {
    this.leases.settleReservation(connectionId, owner, result);
  }

  /** The push's job could not be queued: a reserved lease goes back. */
  cancelPushLease(connectionId: string, owner: string): void {
    this.leases.cancelReservation(connectionId, owner);
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
    const signal = jobSignal(this.abort.signal);
    const run: JobRun = { job, hold: obtained, later: [], signal: signal.signal };
    // The provider the job's connection uses, once it is read: the retries metric is per provider.
    let provider: string | undefined;
    try {
      await this.runHeld(run, (connection) => (provider = connection.provider));
    } catch (raw) {
      // Aborted by stop() past its grace: whatever the provider call failed with, the job is handed
      // back (retryable: a shared queue gives it to another instance) and the mailbox's health is
      // not charged with an error it did not have.
      if (this.abort.signal.aborted) throw new ThreadlinkError('SHUTTING_DOWN', `Job ${job.name} handed back: the instance is stopping`, { cause: raw });
      const error = toThreadlinkError(raw);
      await recordFailure(this.deps, job, error);
      if (error.retryable) this.deps.telemetry.retry(provider ?? 'unknown', error.code, job.name);
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
      signal.release();
      try {
        await this.leases.letGo(run.hold);
      } finally {
        for (const followUp of run.later) await followUp();
      }
    }
  }

  private async runHeld(run: JobRun, loaded: (connection: Connection) => void): Promise<void> {
    const { job } = run;
    // The connection and its ingestion policies in one read (with the store's lease, unless the
    // hold was handed over by another job): the job's first commit needs no other.
    const started = run.hold.context !== undefined ? run.hold.context : await this.deps.store.getSyncContext(job.connectionId);
    if (!started) return;
    const { connection } = started;
    if (connection.status === 'disconnected' || connection.status === 'needs_reauth') return;
    if (connection.status === 'connecting' && job.name !== 'recreate') return;
    loaded(connection);
    run.policies = started.policies;
    const provider = this.providerOf(connection);
    // Sync and resync write their success into the health with their last commit; the write here
    // is only for a job that had nothing to commit.
    const succeeded = (await JOBS[job.name](this.context, connection, provider, run)) === true;
    if (job.name === 'sync' || job.name === 'resync') {
      if (!succeeded) await recordSuccess(this.deps, connection.id);
      this.deps.telemetry.syncCompleted(connection.provider, job.name);
    }
  }

  private providerOf(connection: Connection): MailProvider {
    const provider = this.deps.providers.get(connection.provider);
    if (!provider) throw new ThreadlinkError('CONFIG_INVALID', `No provider "${connection.provider}" is configured`);
    return provider;
  }

  /** Builds metadata rows, matches them, and applies everything in one atomic write. */
  commit(connection: Connection, changes: Change[], options: CommitOptions): Promise<ApplySyncResult> {
    return commitChanges(this.deps, connection, changes, options);
  }

  toMeta(connection: Connection, message: ProviderMessage, now: number): MessageMeta {
    return toMeta(this.deps, connection, message, now);
  }

  /** Matches a page of messages with one resolver round per rule kind. */
  match(connection: Connection, messages: MessageMeta[]): Promise<Map<string, RecordLink[]>> {
    return matchPage(this.deps, connection, messages);
  }
}
