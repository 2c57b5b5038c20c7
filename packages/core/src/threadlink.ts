// createThreadlink: the facade a host CRM uses. It wires the ports (providers, store, resolver,
// queue) to the engine, the HTTP handler, timelines, body on demand, reply and offboarding.
import EventEmitter from 'eventemitter3';
import { z } from 'zod';
import {
  Connection as ConnectionSchema,
  ProviderId,
  RecordRef as RecordRefSchema,
  ReplyDraft as ReplyDraftSchema,
  type Connection,
  type MessageBody,
  type MessageMeta,
  type RecordLink,
  type RecordRef,
  type ReplyDraft,
} from './domain/schemas.js';
import { ThreadlinkError, toThreadlinkError } from './errors.js';
import { publicConnection, type PublicConnection, type ThreadlinkEvents } from './events.js';
import { consoleJsonLogger, redactingLogger, silentLogger, type Logger } from './logger.js';
import { createMatcher, type Matcher, type MatchingOptions } from './matching/index.js';
import { createSessionFactory, sealTokens } from './engine/sessions.js';
import { defaultEngineOptions, messageIdFor, SyncEngine, type EngineOptions } from './engine/sync-engine.js';
import { createHandler, errorResponse, jsonResponse } from './http/handler.js';
import { createState, openState } from './oauth/connect-flow.js';
import type { JobQueue } from './ports/job-queue.js';
import type { MailProvider, WebhookContext } from './ports/mail-provider.js';
import type { MetadataStore, PurgeReport, StoredMessage } from './ports/metadata-store.js';
import type { RecordResolver, ResolvedRecord } from './ports/record-resolver.js';
import { inProcessQueue } from './queue/in-process-queue.js';
import { createSealer, type SealingKey } from './security/sealing.js';
import { replySubject } from './util/headers.js';
import { sanitizeEmailHtml } from './security/sanitize.js';
import { chronological, DEFAULT_WHOLE_THREAD_TYPES, recordTimeline, type TimelineResult } from './timeline/timeline.js';
import { randomId, systemClock, type Clock } from './util/clock.js';
import type { BackoffOptions } from './util/retry.js';
import { createTelemetry } from './observability/telemetry.js';
import { assessHealth, type ConnectionHealth } from './health/health.js';
import { stableId } from './security/hash.js';

export interface ThreadlinkConfig {
  store: MetadataStore;
  providers: MailProvider[];
  resolver: RecordResolver;
  /** The first key seals; all keys open (rotation). */
  sealingKeys: SealingKey[];
  /** Public base URL where `handler` is mounted; webhooks and the OAuth callback live under it. */
  publicUrl: string;
  matching?: MatchingOptions;
  queue?: JobQueue;
  logger?: Logger | 'console' | 'silent';
  clock?: Clock;
  engine?: Partial<EngineOptions>;
  /** Record types whose timeline shows whole threads (default: client, contact, company, …). */
  wholeThreadTypes?: string[];
  /** Max webhook body size in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** How long a connect link stays valid (default 15 minutes). */
  oauthStateTtlMs?: number;
  /** How often start() runs maintain() (renewals, safety net). 0 disables the timer. Default 60 s. */
  maintenanceIntervalMs?: number;
  /**
   * Whether start() processes jobs in this process. A web-only instance behind a load balancer
   * (webhooks, OAuth, reads) sets false and leaves the work to worker processes on a shared queue.
   */
  runWorker?: boolean;
  /** Backoff for retryable job failures (default: 1 s doubling to 32 s, plus jitter; Retry-After wins). */
  retryBackoff?: BackoffOptions;
}

export interface ConnectStartInput {
  provider: ProviderId;
  tenantId: string;
  userId: string;
  loginHint?: string;
  /** Where the browser goes after the callback (must be same-origin as publicUrl or a relative path). */
  returnTo?: string;
}

export interface ReadScope {
  tenantId: string;
  /** When given, only this user's mailboxes and shared ones are visible. */
  userId?: string;
}

type Events = { [K in keyof ThreadlinkEvents]: (payload: ThreadlinkEvents[K]) => void };

export type Threadlink = ReturnType<typeof createThreadlink>;

const DisconnectOptions = z.strictObject({ purge: z.boolean().optional(), tenantId: z.string().optional() });

export function createThreadlink(config: ThreadlinkConfig) {
  const clock = config.clock ?? systemClock;
  const logger =
    config.logger === 'console' ? consoleJsonLogger() : config.logger === 'silent' || config.logger === undefined ? silentLogger : redactingLogger(config.logger);
  const sealer = createSealer(config.sealingKeys);
  const store = config.store;
  const publicUrl = new URL(config.publicUrl.replace(/\/+$/, ''));
  const basePath = publicUrl.pathname.replace(/\/+$/, '');
  const redirectUri = `${publicUrl.origin}${basePath}/oauth/callback`;
  const webhookUrl = (provider: string): string => `${publicUrl.origin}${basePath}/webhooks/${provider}`;
  const providers = new Map<string, MailProvider>();
  for (const provider of config.providers) {
    if (providers.has(provider.id)) throw new ThreadlinkError('CONFIG_INVALID', `Provider "${provider.id}" is configured twice`);
    providers.set(provider.id, provider);
  }
  const events = new EventEmitter<Events>();
  const queue =
    config.queue ??
    inProcessQueue({
      clock,
      ...(config.retryBackoff ? { backoff: config.retryBackoff } : {}),
      // Otherwise silent: a renewal or back-fill page that gave up is only retried by maintain().
      onFailed: (job, error) => logger.warn('job gave up', { job: job.name, connectionId: job.connectionId, code: toThreadlinkError(error).code, attempt: job.attempt ?? 1 }),
    });
  const matcher: Matcher = createMatcher(config.matching ?? {});
  const options: EngineOptions = { ...defaultEngineOptions, ...(config.engine ?? {}) };
  const sessionFor = createSessionFactory({ store, sealer, logger, clock, webhookUrl });
  const telemetry = createTelemetry();
  const engine = new SyncEngine({ store, providers, queue, matcher, resolver: config.resolver, sessionFor, events, logger, clock, options, telemetry });
  const thresholds = { stalledAfterMs: options.stalledAfterMs, degradedAfterErrors: 3 };
  const wholeThreadTypes = new Set(config.wholeThreadTypes ?? DEFAULT_WHOLE_THREAD_TYPES);
  let maintenanceTimer: ReturnType<typeof setInterval> | undefined;
  let initialized: Promise<void> | undefined;

  const init = (): Promise<void> => (initialized ??= store.init());

  const providerOf = (id: string): MailProvider => {
    const provider = providers.get(id);
    if (!provider) throw new ThreadlinkError('CONFIG_INVALID', `No provider "${id}" is configured`);
    return provider;
  };

  const connectionFor = async (connectionId: string, scope?: ReadScope): Promise<Connection> => {
    await init();
    const connection = await store.getConnection(connectionId);
    if (!connection || (scope && connection.tenantId !== scope.tenantId)) {
      throw new ThreadlinkError('CONNECTION_NOT_FOUND', 'No such connection', { details: { connectionId } });
    }
    return connection;
  };

  const visibleConnectionIds = async (scope: ReadScope): Promise<string[] | undefined> => {
    if (!scope.userId) return undefined;
    const all = await store.listConnections({ tenantId: scope.tenantId });
    return all.filter((connection) => connection.userId === scope.userId || connection.shared).map((connection) => connection.id);
  };

  const messageFor = async (messageId: string, scope: ReadScope): Promise<{ message: StoredMessage; connection: Connection }> => {
    await init();
    const message = await store.getMessage(scope.tenantId, messageId);
    const visible = await visibleConnectionIds(scope);
    if (!message || (visible && !visible.includes(message.connectionId))) {
      throw new ThreadlinkError('NOT_FOUND', 'No such message', { details: { messageId } });
    }
    const connection = await connectionFor(message.connectionId, scope);
    if (connection.status === 'disconnected') throw new ThreadlinkError('CONNECTION_DISCONNECTED', 'The mailbox is disconnected');
    return { message, connection };
  };

  // ---- Webhooks -------------------------------------------------------------------------
  const webhookContext: WebhookContext = {
    connectionsByAccount: (provider, accountEmail) =>
      store.listConnections({ provider, accountEmail: accountEmail.toLowerCase(), status: ['live', 'backfilling', 'connecting'] }),
    connectionsBySubscription: (provider, subscriptionId) => store.listConnections({ provider, subscriptionId }),
    clock,
    logger,
  };

  /**
   * A push worth recording in health: the first in a second, or the first since the last sync began
   * (so lastPushAt > lastSyncAt says exactly "a push is waiting for a sync", which back-fill yields to
   * and syncLagMs measures). A burst while a sync is pending costs one write, not one each.
   */
  const recordsPush = (health: Connection['health'], receivedAt: number): boolean =>
    receivedAt - (health.lastPushAt ?? 0) >= 1_000 || (health.lastSyncAt ?? 0) >= (health.lastPushAt ?? 0);

  async function receiveWebhook(providerId: string, route: string, request: Request): Promise<Response> {
    const provider = providerOf(providerId);
    const receivedAt = clock.now();
    // The connections the provider looked up to verify this notification, kept for its hints: the
    // health check below then needs no second read of each.
    const loaded = new Map<string, Connection>();
    const remember = (connections: Connection[]): Connection[] => {
      for (const connection of connections) loaded.set(connection.id, connection);
      return connections;
    };
    const context: WebhookContext = {
      ...webhookContext,
      connectionsByAccount: async (kind, accountEmail) => remember(await webhookContext.connectionsByAccount(kind, accountEmail)),
      connectionsBySubscription: async (kind, subscriptionId) => remember(await webhookContext.connectionsBySubscription(kind, subscriptionId)),
    };
    let outcome;
    try {
      outcome = await telemetry.span('threadlink.webhook', { provider: providerId, route }, () => provider.handleWebhook(request, route, context));
    } catch (raw) {
      const error = toThreadlinkError(raw);
      telemetry.notificationRejected(providerId, error.code);
      events.emit('notification.rejected', { provider: providerId, code: error.code, status: error.status });
      logger.warn('webhook rejected', { provider: providerId, code: error.code, status: error.status });
      return errorResponse(error.code === 'INTERNAL' ? new ThreadlinkError('WEBHOOK_MALFORMED', 'Malformed notification') : error);
    }
    let accepted = 0;
    for (const hint of outcome.hints) {
      // Exact redeliveries (same Pub/Sub messageId / Graph item) cost nothing: claimed once for a day.
      if (hint.notificationId && !(await store.claimOnce(`notification:${providerId}:${hint.notificationId}`, receivedAt + 24 * 3600_000, receivedAt))) continue;
      accepted += 1;
      const connection = loaded.get(hint.connectionId) ?? (await store.getConnection(hint.connectionId));
      if (connection && recordsPush(connection.health, receivedAt)) {
        // The store merges the one field: a job's lastSyncAt or error count written meanwhile survives.
        await store.patchConnection(connection.id, { health: { lastPushAt: receivedAt } });
        connection.health.lastPushAt = receivedAt;
        loaded.set(connection.id, connection);
      }
      if (hint.kind === 'changes') await engine.requestSync(hint.connectionId, 'push', hint.receivedAt, hint.scope);
      else if (hint.kind === 'resync') await engine.enqueue('resync', hint.connectionId);
      else if (hint.kind === 'renew') await engine.enqueue('renew', hint.connectionId);
      else await engine.enqueue('recreate', hint.connectionId);
    }
    telemetry.notificationReceived(providerId, accepted);
    events.emit('notification.received', { provider: providerId, connectionIds: [...new Set(outcome.hints.map((hint) => hint.connectionId))], hints: accepted });
    return outcome.response ?? new Response(null, { status: 202 });
  }

  // ---- Connect --------------------------------------------------------------------------
  const ConnectStart = z.strictObject({
    provider: ProviderId,
    tenantId: z.string().min(1).max(256),
    userId: z.string().min(1).max(256),
    loginHint: z.string().max(320).optional(),
    returnTo: z.string().max(2048).optional(),
  });

  async function connectStart(input: ConnectStartInput): Promise<{ url: string; state: string }> {
    await init();
    const parsed = ConnectStart.parse(input);
    const provider = providerOf(parsed.provider);
    const { state, challenge } = createState(
      sealer,
      {
        provider: parsed.provider,
        tenantId: parsed.tenantId,
        userId: parsed.userId,
        ...(parsed.returnTo ? { returnTo: parsed.returnTo } : {}),
        ...(parsed.loginHint ? { loginHint: parsed.loginHint } : {}),
      },
      clock.now(),
      config.oauthStateTtlMs ?? 15 * 60_000,
    );
    const url = await provider.authorizeUrl({ state, codeChallenge: challenge, redirectUri, ...(parsed.loginHint ? { loginHint: parsed.loginHint } : {}) });
    return { url, state };
  }

  async function connectComplete(input: URL | { code: string; state: string }): Promise<PublicConnection> {
    await init();
    const params = input instanceof URL ? input.searchParams : new URLSearchParams({ code: input.code, state: input.state });
    const stateText = params.get('state');
    if (!stateText) throw new ThreadlinkError('OAUTH_STATE_INVALID', 'The OAuth callback has no state');
    const state = openState(sealer, stateText, clock.now());
    if (params.get('error')) throw new ThreadlinkError('OAUTH_FAILED', `The provider refused: ${params.get('error')}`);
    const code = params.get('code');
    if (!code) throw new ThreadlinkError('OAUTH_FAILED', 'The OAuth callback has no code');
    if (!(await store.claimOnce(`oauth-state:${state.nonce}`, state.expiresAt + 60_000, clock.now()))) {
      throw new ThreadlinkError('OAUTH_STATE_INVALID', 'This connect link was already used');
    }
    const provider = providerOf(state.provider);
    const account = await provider.exchangeCode({ code, codeVerifier: state.verifier, redirectUri });
    const now = clock.now();
    const existing = (await store.listConnections({ tenantId: state.tenantId, provider: state.provider, accountEmail: account.accountEmail.toLowerCase() }))[0];
    const connection: Connection = ConnectionSchema.parse({
      id: existing?.id ?? stableId('con', state.tenantId, state.provider, account.accountEmail.toLowerCase()),
      tenantId: state.tenantId,
      userId: state.userId,
      provider: state.provider,
      accountEmail: account.accountEmail,
      displayName: account.displayName,
      status: 'connecting',
      sealedTokens: sealTokens(sealer, account.tokens),
      scopes: account.scopes,
      subscription: existing?.subscription ?? null,
      cursor: existing?.cursor ?? null,
      backfill: existing?.backfill ?? { state: 'pending', done: 0, estimatedTotal: null, resume: null, startedAt: null, finishedAt: null, rate: null },
      health: existing?.health ?? { lastPushAt: null, lastSyncAt: null, lastFullSyncAt: null, newestChangeAt: null, consecutiveErrors: 0, lastErrorCode: null, lastErrorAt: null },
      shared: existing?.shared ?? false,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    });
    await store.saveConnection(connection);
    const session = await sessionFor(connection);
    const subscribed = await provider.subscribe(session);
    const backfillDone = connection.backfill.state === 'done';
    const live = await store.patchConnection(connection.id, {
      subscription: subscribed.subscription,
      // A reconnect keeps its cursor: replacing it would skip what happened while it was down.
      cursor: connection.cursor ?? subscribed.cursor,
      status: backfillDone ? 'live' : 'backfilling',
      health: { consecutiveErrors: 0, lastErrorCode: null },
      updatedAt: clock.now(),
    });
    if (!live) throw new ThreadlinkError('CONNECTION_NOT_FOUND', 'The connection vanished while connecting');
    events.emit('connection.live', { connection: publicConnection(live) });
    if (!backfillDone) await engine.enqueue('backfill', live.id);
    if (existing?.cursor) await engine.requestSync(live.id, 'reconnect');
    return publicConnection(live);
  }

  async function oauthCallback(url: URL): Promise<Response> {
    let returnTo: string | undefined;
    try {
      const state = url.searchParams.get('state');
      if (state) returnTo = openState(sealer, state, clock.now()).returnTo;
    } catch {
      returnTo = undefined;
    }
    try {
      const connection = await connectComplete(url);
      if (returnTo && isSafeReturn(returnTo)) {
        const target = new URL(returnTo, publicUrl.origin);
        target.searchParams.set('connected', connection.id);
        return new Response(null, { status: 302, headers: { location: target.toString() } });
      }
      return jsonResponse(200, { connection: { id: connection.id, provider: connection.provider, accountEmail: connection.accountEmail, status: connection.status } });
    } catch (raw) {
      const error = toThreadlinkError(raw);
      logger.warn('oauth callback failed', { code: error.code });
      if (returnTo && isSafeReturn(returnTo)) {
        const target = new URL(returnTo, publicUrl.origin);
        target.searchParams.set('error', error.code);
        return new Response(null, { status: 302, headers: { location: target.toString() } });
      }
      return errorResponse(error.code === 'INTERNAL' ? new ThreadlinkError('OAUTH_FAILED', 'Connecting the mailbox failed') : error);
    }
  }

  const isSafeReturn = (returnTo: string): boolean => {
    try {
      // Judge the URL the browser will actually follow: WHATWG parsing reads "/\evil.test" as
      // "//evil.test", so a prefix check on the raw string is an open redirect.
      return new URL(returnTo, publicUrl.origin).origin === publicUrl.origin;
    } catch {
      return false;
    }
  };

  // ---- Offboarding -----------------------------------------------------------------------
  async function disconnect(connectionId: string, input: { purge?: boolean; tenantId?: string } = {}): Promise<{ purged: PurgeReport | null; revoked: boolean; unsubscribed: boolean }> {
    const parsed = DisconnectOptions.parse(input);
    const connection = await connectionFor(connectionId, parsed.tenantId ? { tenantId: parsed.tenantId } : undefined);
    const provider = providerOf(connection.provider);
    let unsubscribed = false;
    let revoked = false;
    if (connection.status !== 'disconnected') {
      try {
        const session = await sessionFor(connection);
        try {
          await provider.unsubscribe(session);
          unsubscribed = true;
        } catch (error) {
          logger.warn('unsubscribe failed during disconnect', { connectionId, code: toThreadlinkError(error).code });
        }
        try {
          await provider.revoke(session);
          revoked = true;
        } catch (error) {
          logger.warn('revoke failed during disconnect', { connectionId, code: toThreadlinkError(error).code });
        }
      } catch (error) {
        logger.warn('could not open tokens during disconnect', { connectionId, code: toThreadlinkError(error).code });
      }
    }
    let purged: PurgeReport | null = null;
    if (parsed.purge ?? true) purged = await store.purgeConnection(connectionId);
    else {
      await store.patchConnection(connectionId, {
        status: 'disconnected',
        sealedTokens: sealTokens(sealer, { accessToken: 'revoked' }),
        subscription: null,
        updatedAt: clock.now(),
      });
    }
    events.emit('connection.disconnected', { connectionId, tenantId: connection.tenantId, purged: purged !== null });
    return { purged, revoked, unsubscribed };
  }

  // ---- Maintenance -----------------------------------------------------------------------
  async function maintain(): Promise<{ renewals: number; recreated: number; pulls: number; resyncs: number; backfills: number; stalled: number }> {
    await init();
    const now = clock.now();
    const report = { renewals: 0, recreated: 0, pulls: 0, resyncs: 0, backfills: 0, stalled: 0 };
    const connections = await store.listConnections({ status: ['live', 'backfilling'] });
    for (const connection of connections) {
      const subscription = connection.subscription;
      if (!subscription || subscription.expiresAt <= now) {
        await engine.enqueue('recreate', connection.id);
        report.recreated += 1;
      } else if (subscription.renewAt <= now) {
        await engine.enqueue('renew', connection.id);
        report.renewals += 1;
      }
      const lastSync = connection.health.lastSyncAt ?? connection.createdAt;
      if (now - lastSync >= options.safetyNetPullMs) {
        await engine.requestSync(connection.id, 'safety-net');
        report.pulls += 1;
      }
      // A back-fill's next page is a queued job: when the process holding it dies (in-process
      // queue) nothing else would ever queue it again. Re-queue it: coalesced by key while one
      // waits, and every page resumes from the `resume` token committed with the previous one.
      if (connection.backfill.state !== 'done' && (await engine.enqueue('backfill', connection.id))) report.backfills += 1;
      const lastFull = connection.health.lastFullSyncAt ?? connection.createdAt;
      if (options.fullResyncIntervalMs > 0 && now - lastFull >= options.fullResyncIntervalMs && connection.backfill.state === 'done') {
        await engine.enqueue('resync', connection.id, 0, { reason: 'reconciliation' });
        report.resyncs += 1;
      }
      const verdict = assessHealth(connection, now, thresholds);
      if (verdict.verdict === 'stalled') {
        report.stalled += 1;
        events.emit('connection.stalled', { connection: publicConnection(connection), reason: verdict.reason });
      }
    }
    return report;
  }

  // ---- Matching --------------------------------------------------------------------------
  async function rematch(record: ResolvedRecord, scope: { tenantId: string }): Promise<{ linked: number }> {
    await init();
    RecordRefSchema.parse({ type: record.type, id: record.id, ...(record.label ? { label: record.label } : {}) });
    const query = matcher.rematchQuery(record);
    const now = clock.now();
    const accounts = new Map<string, string | null>();
    const accountOf = async (connectionId: string): Promise<string | null> => {
      if (!accounts.has(connectionId)) accounts.set(connectionId, (await store.getConnection(connectionId))?.accountEmail ?? null);
      return accounts.get(connectionId) ?? null;
    };
    let linked = 0;
    const seeds = new Map<string, RecordLink[]>();
    let after: string | null = null;
    do {
      const page = await store.findMessageIds(scope.tenantId, query, { limit: 500, after });
      const messages = await store.getMessages(scope.tenantId, page.ids);
      const links: RecordLink[] = [];
      for (const message of messages) {
        const accountEmail = await accountOf(message.connectionId);
        const found = matcher.linksForRecord(message, record, now, accountEmail ? { accountEmail } : {});
        links.push(...found);
        // Job links (not participant ones) pass down the thread, as they do at sync time.
        const inheritable = found.filter((link) => link.rule !== 'participant.address' && link.rule !== 'participant.domain');
        if (inheritable.length > 0) seeds.set(message.threadId, [...(seeds.get(message.threadId) ?? []), ...inheritable]);
      }
      linked += await store.addLinks(scope.tenantId, links);
      after = page.next;
    } while (after);
    if (seeds.size > 0) {
      // Thread inheritance, retroactively: replies that lost the reference land on the job too.
      let threadAfter: string | null = null;
      do {
        const page = await store.findMessageIds(scope.tenantId, { threadIds: [...seeds.keys()] }, { limit: 500, after: threadAfter });
        const messages = await store.getMessages(scope.tenantId, page.ids);
        const inherited = messages.flatMap((message) => matcher.inheritedLinks(message, seeds.get(message.threadId) ?? [], now));
        linked += await store.addLinks(scope.tenantId, inherited);
        threadAfter = page.next;
      } while (threadAfter);
    }
    return { linked };
  }

  async function manualLink(messageId: string, record: RecordRef, scope: ReadScope & { suppressed: boolean; reason?: string }): Promise<RecordLink> {
    const { message } = await messageFor(messageId, scope);
    const link: RecordLink = {
      messageId: message.id,
      record: RecordRefSchema.parse(record),
      rule: 'manual',
      reason: scope.reason ?? (scope.suppressed ? `unlinked by ${scope.userId ?? 'a user'}` : `linked by ${scope.userId ?? 'a user'}`),
      confidence: 1,
      manual: true,
      suppressed: scope.suppressed,
      createdAt: clock.now(),
    };
    await store.saveManualLink(scope.tenantId, link);
    return link;
  }

  // ---- Messages --------------------------------------------------------------------------
  async function body(messageId: string, scope: ReadScope & { as?: 'html' | 'text'; allowRemoteImages?: boolean }): Promise<MessageBody & { messageId: string }> {
    const { message, connection } = await messageFor(messageId, scope);
    const session = await sessionFor(connection);
    const fetched = await providerOf(connection.provider).fetchBody(session, message.providerMessageId);
    // Re-sanitise here too: the guarantee must not depend on every adapter remembering it.
    const html = fetched.html === null ? null : sanitizeEmailHtml(fetched.html, { allowRemoteImages: scope.allowRemoteImages ?? false });
    if (scope.as === 'text') return { messageId, html: null, text: fetched.text, attachments: fetched.attachments };
    return { messageId, html, text: scope.as === 'html' ? null : fetched.text, attachments: fetched.attachments };
  }

  async function reply(messageId: string, input: ReadScope & ReplyDraft): Promise<MessageMeta> {
    const { tenantId, userId, ...draftInput } = input;
    const draft = ReplyDraftSchema.parse(draftInput);
    if (!draft.text && !draft.html) throw new ThreadlinkError('INVALID_INPUT', 'A reply needs text or html');
    const { message, connection } = await messageFor(messageId, { tenantId, ...(userId ? { userId } : {}) });
    const session = await sessionFor(connection);
    const sent = await providerOf(connection.provider).send(session, {
      original: {
        providerMessageId: message.providerMessageId,
        providerThreadId: message.providerThreadId,
        internetMessageId: message.internetMessageId,
        references: message.references,
        subject: message.subject,
        from: message.from,
        to: message.to,
        cc: message.cc,
        replyTo: message.replyTo,
      },
      draft,
    });
    const now = clock.now();
    if (sent.message) {
      // Optimistic: stored now under the provider's id, so the synced-back copy is the same row.
      await engine.commit(connection, [{ type: 'upsert', message: sent.message }], {});
      const stored = await store.getMessageByProviderId(connection.id, sent.message.providerMessageId);
      if (stored) return stored;
    }
    // Reply-To wins over From (RFC 5322 §3.6.2); reply-all adds the other To recipients.
    const answerTo = message.replyTo.length > 0 ? message.replyTo : message.from ? [message.from] : [];
    const recipients = draft.replyAll ? [...answerTo, ...message.to.filter((participant) => participant.address !== connection.accountEmail)] : answerTo;
    const optimistic = engine.toMeta(
      connection,
      {
        providerMessageId: sent.providerMessageId ?? `pending-${randomId(12)}`,
        providerThreadId: sent.providerThreadId ?? message.providerThreadId,
        internetMessageId: sent.internetMessageId,
        inReplyTo: message.internetMessageId,
        references: [...message.references, ...(message.internetMessageId ? [message.internetMessageId] : [])],
        subject: replySubject(message.subject),
        from: { address: connection.accountEmail, ...(connection.displayName ? { name: connection.displayName } : {}) },
        to: recipients,
        cc: (draft.cc ?? []).map((address) => ({ address })),
        bcc: [],
        replyTo: [],
        sentAt: now,
        receivedAt: now,
        direction: 'outbound',
        folder: 'sent',
        labels: [],
        attachments: (draft.attachments ?? []).map((attachment) => ({ name: attachment.filename, mimeType: attachment.contentType ?? null, size: attachment.content.byteLength })),
        hasAttachments: (draft.attachments ?? []).length > 0,
      },
      now,
    );
    return optimistic;
  }

  async function draftContext(messageId: string, scope: ReadScope): Promise<{ message: StoredMessage; thread: StoredMessage[]; body: MessageBody }> {
    const { message } = await messageFor(messageId, scope);
    const thread = await store.listThread(scope.tenantId, message.threadId, (await visibleConnectionIds(scope)) ?? undefined);
    return { message, thread, body: await body(messageId, scope) };
  }

  const handler = createHandler(
    { webhook: receiveWebhook, oauthCallback, isProvider: (id) => providers.has(id) },
    { basePath, maxBodyBytes: config.maxBodyBytes ?? 1024 * 1024, logger },
  );

  return {
    /** Web-standard handler for webhooks and the OAuth callback; mount with toNodeHandler(). */
    handler,
    events,
    on: <K extends keyof ThreadlinkEvents>(name: K, listener: (payload: ThreadlinkEvents[K]) => void) => {
      // eventemitter3's mapped listener type does not narrow through a generic key.
      const untyped = events as unknown as EventEmitter;
      untyped.on(name, listener);
      return () => void untyped.off(name, listener);
    },
    urls: { redirectUri, webhook: webhookUrl },

    async start(): Promise<void> {
      await init();
      if (config.runWorker ?? true) engine.start();
      const interval = config.maintenanceIntervalMs ?? 60_000;
      if (interval > 0 && !maintenanceTimer) {
        maintenanceTimer = setInterval(() => void maintain().catch((error) => logger.error('maintenance failed', { error })), interval);
        maintenanceTimer.unref?.();
      }
    },
    async stop(): Promise<void> {
      if (maintenanceTimer) clearInterval(maintenanceTimer);
      maintenanceTimer = undefined;
      await engine.stop();
    },
    /** Resolves when no engine work is waiting or running. */
    idle: (): Promise<void> => queue.idle(),
    maintain,

    /** Honest sync health: one connection, or every connection (optionally of one tenant). */
    health: Object.assign(
      async (connectionId: string, scope?: ReadScope): Promise<ConnectionHealth> =>
        assessHealth(await connectionFor(connectionId, scope), clock.now(), thresholds),
      {
        async all(scope?: { tenantId?: string }): Promise<ConnectionHealth[]> {
          await init();
          const connections = await store.listConnections(scope?.tenantId ? { tenantId: scope.tenantId } : {});
          const now = clock.now();
          return connections.map((connection) => assessHealth(connection, now, thresholds));
        },
      },
    ),

    connect: { start: connectStart, complete: connectComplete },

    connections: {
      async get(connectionId: string, scope: ReadScope): Promise<PublicConnection> {
        return publicConnection(await connectionFor(connectionId, scope));
      },
      async list(scope: ReadScope): Promise<PublicConnection[]> {
        await init();
        const all = await store.listConnections({ tenantId: scope.tenantId, ...(scope.userId ? { userId: scope.userId } : {}) });
        return all.map(publicConnection);
      },
      disconnect,
      /** Ask for a pull now (e.g. a "refresh" button); coalesced with any pending one. */
      async sync(connectionId: string, scope: ReadScope): Promise<void> {
        await connectionFor(connectionId, scope);
        await engine.requestSync(connectionId, 'manual');
      },
      async resync(connectionId: string, scope: ReadScope): Promise<void> {
        await connectionFor(connectionId, scope);
        await engine.enqueue('resync', connectionId);
      },
      async setShared(connectionId: string, shared: boolean, scope: ReadScope): Promise<void> {
        await connectionFor(connectionId, scope);
        await store.patchConnection(connectionId, { shared, updatedAt: clock.now() });
      },
      export: async function* (connectionId: string, scope: ReadScope) {
        await connectionFor(connectionId, scope);
        yield* store.exportConnection(connectionId);
      },
    },

    timeline: {
      async forRecord(record: RecordRef, input: ReadScope & { limit?: number; after?: string | null; wholeThreads?: boolean }): Promise<TimelineResult> {
        await init();
        const parsed = RecordRefSchema.parse(record);
        const connectionIds = await visibleConnectionIds(input);
        return recordTimeline(store, {
          tenantId: input.tenantId,
          record: parsed,
          limit: Math.min(Math.max(input.limit ?? 50, 1), 200),
          after: input.after ?? null,
          wholeThreads: input.wholeThreads ?? wholeThreadTypes.has(parsed.type),
          ...(connectionIds ? { connectionIds } : {}),
        });
      },
      async thread(threadId: string, scope: ReadScope): Promise<StoredMessage[]> {
        await init();
        const connectionIds = await visibleConnectionIds(scope);
        return (await store.listThread(scope.tenantId, threadId, connectionIds)).sort(chronological);
      },
    },

    messages: {
      async get(messageId: string, scope: ReadScope): Promise<StoredMessage> {
        return (await messageFor(messageId, scope)).message;
      },
      body,
      reply,
      draftContext,
    },

    matching: {
      rematch,
      async explain(messageId: string, scope: ReadScope): Promise<RecordLink[]> {
        return (await messageFor(messageId, scope)).message.links;
      },
      link: (messageId: string, record: RecordRef, scope: ReadScope & { reason?: string }) => manualLink(messageId, record, { ...scope, suppressed: false }),
      unlink: (messageId: string, record: RecordRef, scope: ReadScope & { reason?: string }) => manualLink(messageId, record, { ...scope, suppressed: true }),
      async reset(messageId: string, record: RecordRef, scope: ReadScope): Promise<boolean> {
        const { message } = await messageFor(messageId, scope);
        return store.removeLink(scope.tenantId, message.id, RecordRefSchema.parse(record));
      },
    },

    /** Internal pieces for tests, benchmarks and advanced hosts. */
    internals: { engine, store, queue, matcher, sealer, messageIdFor },
  };
}
