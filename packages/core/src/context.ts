// The wiring every use case shares, built once per createThreadlink: config read into parts
// (clock, logger, sealer, store, providers, queue, matcher, engine) plus the scope checks every
// read and command goes through. Use cases receive this object; none builds its own parts, so a
// setting (a limit, a threshold) is read in exactly one place.
import EventEmitter from 'eventemitter3';
import type { ReadScope, ThreadlinkConfig, ThreadlinkEventListeners } from './api.js';
import type { Connection } from './domain/schemas.js';
import { createSessionFactory } from './engine/sessions.js';
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
  /** Initialises the store once (every use case awaits it before its first read). */
  init(): Promise<void>;
  /** The configured provider, or CONFIG_INVALID. */
  providerOf(id: string): MailProvider;
  /** A connection of the scope's tenant (any tenant without a scope), or CONNECTION_NOT_FOUND. */
  connectionFor(connectionId: string, scope?: ReadScope): Promise<Connection>;
  /** The connection ids a user may read (own and shared), or undefined when the scope names no user. */
  visibleConnectionIds(scope: ReadScope): Promise<string[] | undefined>;
  /** A visible message of a connected mailbox, or NOT_FOUND / CONNECTION_DISCONNECTED. */
  messageFor(messageId: string, scope: ReadScope): Promise<{ message: StoredMessage; connection: Connection }>;
}

export function createCoreContext(config: ThreadlinkConfig): CoreContext {
  const clock = config.clock ?? systemClock;
  const logger =
    config.logger === 'console' ? consoleJsonLogger() : config.logger === 'silent' || config.logger === undefined ? silentLogger : redactingLogger(config.logger);
  const sealer = createSealer(config.sealingKeys);
  const store = config.store;
  const publicUrl = new URL(config.publicUrl.replace(/\/+$/, ''));
  const basePath = publicUrl.pathname.replace(/\/+$/, '');
  const webhook = (provider: string): string => `${publicUrl.origin}${basePath}/webhooks/${provider}`;
  const urls = { origin: publicUrl.origin, basePath, redirectUri: `${publicUrl.origin}${basePath}/oauth/callback`, webhook };
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
      onFailed: (job, error) => logger.warn('job gave up', { job: job.name, connectionId: job.connectionId, code: toThreadlinkError(error).code, attempt: job.attempt ?? 1 }),
    });
  const matcher: Matcher = createMatcher(config.matching ?? {});
  const options: EngineOptions = { ...defaultEngineOptions, ...(config.engine ?? {}) };
  const sessionFor = createSessionFactory({ store, sealer, logger, clock, webhookUrl: webhook });
  const telemetry = createTelemetry();
  const engine = new SyncEngine({ store, providers, queue, matcher, resolver: config.resolver, sessionFor, events, logger, clock, options, telemetry });
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
    const message = await getMessage(store, scope.tenantId, messageId);
    const visible = await visibleConnectionIds(scope);
    if (!message || (visible && !visible.includes(message.connectionId))) {
      throw new ThreadlinkError('NOT_FOUND', 'No such message', { details: { messageId } });
    }
    const connection = await connectionFor(message.connectionId, scope);
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
    init,
    providerOf,
    connectionFor,
    visibleConnectionIds,
    messageFor,
  };
}
