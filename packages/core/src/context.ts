// The wiring every use case shares, built once per createThreadlink: config read into parts
// (clock, logger, sealer, store, providers, queue, matcher, engine) plus the scope checks every
// read and command goes through. Use cases receive this object; none builds its own parts, so a
// setting (a limit, a threshold) is read in exactly one place.
//
// Scopes: every call that names a connection, message or record passes its scope through
// `checkScope` and then `connectionFor` / `messageFor` / `visibleConnectionIds`, here and nowhere
// else. A user reads their own mailboxes and shared ones, and changes only their own; an admin
// scope reads and changes any mailbox of its tenant. What a scope may not see is "not found".
import EventEmitter from 'eventemitter3';
import type { Scope, ThreadlinkConfig, ThreadlinkEventListeners } from './api.js';
import { cookieIsSecure, type CookieSettings } from './connect/binding.js';
import type { Connection } from './domain/schemas.js';
import { createSessionFactory } from './engine/sessions.js';
import { createOrgCache, type OrgCache } from './org/grants.js';
import { defaultEngineOptions, SyncEngine, type EngineOptions } from './engine/sync-engine.js';
import { ThreadlinkError, toThreadlinkError } from './errors.js';
import type { HealthThresholds } from './health/health.js';
import { DEFAULT_MAX_BODY_BYTES } from './http/handler.js';
import { consoleJsonLogger, redactingLogger, silentLogger, type Logger } from './logger.js';
import { createMatcher, type Matcher } from './matching/index.js';
import { createTelemetry, type Telemetry } from './observability/telemetry.js';
import type { JobQueue } from './ports/job-queue.js';
import type { MailProvider } from './ports/mail-provider.js';
import type { MetadataStore, StoredMessage } from './ports/metadata-store.js';
import { inProcessQueue } from './queue/in-process-queue.js';
import { createSealer, type Sealer } from './security/sealing.js';
import { getMessage } from './store/reads.js';
import { systemClock, type Clock } from './util/clock.js';

/** What a call does with a mailbox: read it (own or shared), or change it / act as it (own only). */
type Access = 'read' | 'own';

/** The scope, checked at run time too (a JavaScript host gets no type errors): SCOPE_REQUIRED when unusable. */
export function checkScope(scope: unknown): Scope {
  const candidate = (typeof scope === 'object' && scope !== null ? scope : {}) as { tenantId?: unknown; userId?: unknown; as?: unknown };
  if (typeof candidate.tenantId !== 'string' || candidate.tenantId.length === 0) {
    throw new ThreadlinkError('SCOPE_REQUIRED', 'A scope with a tenantId is required');
  }
  const hasUser = typeof candidate.userId === 'string' && candidate.userId.length > 0;
  if (candidate.as !== undefined && candidate.as !== 'admin') throw new ThreadlinkError('SCOPE_REQUIRED', "A scope's `as` can only be 'admin'");
  if (candidate.as === 'admin' && candidate.userId === undefined) return { tenantId: candidate.tenantId, as: 'admin' };
  if (hasUser && candidate.as === undefined) return { tenantId: candidate.tenantId, userId: candidate.userId as string };
  throw new ThreadlinkError('SCOPE_REQUIRED', "A scope names a user ({ tenantId, userId }) or is explicitly administrative ({ tenantId, as: 'admin' })");
}

export interface CoreContext {
  readonly config: ThreadlinkConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly sealer: Sealer;
  readonly store: MetadataStore;
  readonly providers: ReadonlyMap<string, MailProvider>;
  readonly events: EventEmitter<ThreadlinkEventListeners>;
  readonly queue: JobQueue;
  readonly matcher: Matcher;
  readonly engine: SyncEngine;
  readonly telemetry: Telemetry;
  readonly options: EngineOptions;
  readonly thresholds: HealthThresholds;
  readonly limits: { readonly maxBodyBytes: number };
  readonly urls: { readonly origin: string; readonly basePath: string; readonly redirectUri: string; webhook(provider: string): string };
  readonly sessionFor: ReturnType<typeof createSessionFactory>;
  /** Organizations, cached briefly for org mailbox sessions; tl.org.* writes through it (issue 19). */
  readonly orgCache: OrgCache;
  /** Where the connect cookie lives (the callback path) and whether it is Secure. */
  readonly connectCookie: CookieSettings;
  /** Initialises the store once (every use case awaits it before its first read). */
  init(): Promise<void>;
  /** The configured provider, or CONFIG_INVALID. */
  providerOf(id: string): MailProvider;
  /** A connection the scope may read (default) or own, or CONNECTION_NOT_FOUND. */
  connectionFor(connectionId: string, scope: Scope, access?: Access): Promise<Connection>;
  /** The connection ids a user may read (own and shared), or undefined for an admin scope (all of the tenant's). */
  visibleConnectionIds(scope: Scope): Promise<string[] | undefined>;
  /** A message of a connected mailbox the scope may read (default) or own, or NOT_FOUND / CONNECTION_DISCONNECTED. */
  messageFor(messageId: string, scope: Scope, access?: Access): Promise<{ message: StoredMessage; connection: Connection }>;
}

export function createCoreContext(config: ThreadlinkConfig): CoreContext {
  const clock = config.clock ?? systemClock;
  const logger =
    config.logger === 'console'
      ? consoleJsonLogger()
      : config.logger === 'silent' || config.logger === undefined
        ? silentLogger
        : redactingLogger(config.logger);
  const sealer = createSealer(config.sealingKeys);
  const store = config.store;
  const publicUrl = new URL(config.publicUrl.replace(/\/+$/, ''));
  const basePath = publicUrl.pathname.replace(/\/+$/, '');
  const webhook = (provider: string): string => `${publicUrl.origin}${basePath}/webhooks/${provider}`;
  const urls = { origin: publicUrl.origin, basePath, redirectUri: `${publicUrl.origin}${basePath}/oauth/callback`, webhook };
  const connectCookie: CookieSettings = { path: `${basePath}/oauth/callback`, secure: cookieIsSecure(publicUrl) };
  const providers = new Map<string, MailProvider>();
  for (const provider of config.providers) {
    if (providers.has(provider.id)) throw new ThreadlinkError('CONFIG_INVALID', `Provider "${provider.id}" is configured twice`);
    providers.set(provider.id, provider);
  }
  const events = new EventEmitter<ThreadlinkEventListeners>();
  const queue =
    config.queue ??
    inProcessQueue({
      clock,
      ...(config.retryBackoff ? { backoff: config.retryBackoff } : {}),
      // Otherwise silent: a renewal or back-fill page that gave up is only retried by maintain().
      onFailed: (job, error) =>
        logger.warn('job gave up', { job: job.name, connectionId: job.connectionId, code: toThreadlinkError(error).code, attempt: job.attempt ?? 1 }),
    });
  const matcher: Matcher = createMatcher(config.matching ?? {});
  const options: EngineOptions = { ...defaultEngineOptions, ...(config.engine ?? {}) };
  const orgCache = createOrgCache({ store, clock });
  const sessionFor = createSessionFactory({ store, sealer, logger, clock, webhookUrl: webhook, orgCache });
  const telemetry = createTelemetry();
  const engine = new SyncEngine({ store, providers, queue, matcher, resolver: config.resolver, sessionFor, events, logger, clock, options, telemetry });
  let initialized: Promise<void> | undefined;
  const init = (): Promise<void> => (initialized ??= store.init());

  const providerOf = (id: string): MailProvider => {
    const provider = providers.get(id);
    if (!provider) throw new ThreadlinkError('CONFIG_INVALID', `No provider "${id}" is configured`);
    return provider;
  };

  const allows = (scope: Scope, connection: Connection, access: Access): boolean =>
    connection.tenantId === scope.tenantId && (scope.as === 'admin' || connection.userId === scope.userId || (access === 'read' && connection.shared));

  const connectionFor = async (connectionId: string, rawScope: Scope, access: Access = 'read'): Promise<Connection> => {
    const scope = checkScope(rawScope);
    await init();
    const connection = await store.getConnection(connectionId);
    if (!connection || !allows(scope, connection, access)) {
      throw new ThreadlinkError('CONNECTION_NOT_FOUND', 'No such connection', { details: { connectionId } });
    }
    return connection;
  };

  const visibleConnectionIds = async (rawScope: Scope): Promise<string[] | undefined> => {
    const scope = checkScope(rawScope);
    if (scope.as === 'admin') return undefined;
    await init();
    const all = await store.listConnections({ tenantId: scope.tenantId });
    return all.filter((connection) => allows(scope, connection, 'read')).map((connection) => connection.id);
  };

  const messageFor = async (messageId: string, rawScope: Scope, access: Access = 'read'): Promise<{ message: StoredMessage; connection: Connection }> => {
    const scope = checkScope(rawScope);
    await init();
    const message = await getMessage(store, scope.tenantId, messageId);
    const connection = message ? await store.getConnection(message.connectionId) : null;
    if (!message || !connection || !allows(scope, connection, access)) {
      throw new ThreadlinkError('NOT_FOUND', 'No such message', { details: { messageId } });
    }
    if (connection.status === 'disconnected') throw new ThreadlinkError('CONNECTION_DISCONNECTED', 'The mailbox is disconnected');
    return { message, connection };
  };

  return {
    config,
    clock,
    logger,
    sealer,
    store,
    providers,
    events,
    queue,
    matcher,
    engine,
    telemetry,
    options,
    thresholds: { stalledAfterMs: options.stalledAfterMs, degradedAfterErrors: 3 },
    limits: Object.freeze({ maxBodyBytes: config.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES }),
    urls,
    sessionFor,
    orgCache,
    connectCookie,
    init,
    providerOf,
    connectionFor,
    visibleConnectionIds,
    messageFor,
  };
}
