// The public shape of threadlink: what a host configures and what it gets back. Declared here
// rather than inferred from createThreadlink, so the contract is read (and reviewed) in one place
// and an implementation change cannot widen it by accident.
import type EventEmitter from 'eventemitter3';
import type { MessageBody, MessageMeta, ProviderId, RecordLink, RecordRef, ReplyDraft } from './domain/schemas.js';
import type { EngineOptions } from './engine/sync-engine.js';
import type { PublicConnection, ThreadlinkEvents } from './events.js';
import type { ConnectionHealth } from './health/health.js';
import type { Logger } from './logger.js';
import type { MatchingOptions } from './matching/index.js';
import type { JobQueue } from './ports/job-queue.js';
import type { MailProvider } from './ports/mail-provider.js';
import type { ExportRecord, MetadataStore, PurgeReport, StoredMessage } from './ports/metadata-store.js';
import type { RecordResolver, ResolvedRecord } from './ports/record-resolver.js';
import type { SealingKey } from './security/sealing.js';
import type { TimelineResult } from './timeline/timeline.js';
import type { Clock } from './util/clock.js';
import type { BackoffOptions } from './util/retry.js';

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
  /**
   * Max webhook body size in bytes (default 1 MiB). One setting for every layer that reads a body:
   * the web handler, `toNodeHandler(tl.handler)` and the providers' notification parsers.
   */
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

/** What the OAuth callback carries: the callback URL itself, or its `code` and `state`. */
export type ConnectCompleteInput = URL | { code: string; state: string };

export interface ReadScope {
  tenantId: string;
  /** When given, only this user's mailboxes and shared ones are visible. */
  userId?: string;
}

export interface DisconnectOptions {
  /** Delete every stored row of the mailbox (default true); false keeps the metadata, marked disconnected. */
  purge?: boolean;
  /** When given, a connection of another tenant is not found. */
  tenantId?: string;
}

export interface DisconnectResult {
  /** What was deleted, or null when `purge: false`. */
  purged: PurgeReport | null;
  /** Whether the provider confirmed the grant was revoked. */
  revoked: boolean;
  /** Whether the provider confirmed the push channel was stopped. */
  unsubscribed: boolean;
  /**
   * Set when the grant was deliberately left alone: another connection of the same address and
   * provider (another tenant, another user) is still connected, and a revoke at the provider would
   * end its grant too (Google revokes the whole grant of that user for this OAuth client). Only
   * this connection's sealed tokens were deleted.
   */
  revokeSkipped?: 'shared-grant';
  /** Set when the push channel is per mailbox (Gmail's watch) and another connection still needs it. */
  unsubscribeSkipped?: 'shared-watch';
}

export interface MaintenanceReport {
  renewals: number;
  recreated: number;
  pulls: number;
  resyncs: number;
  backfills: number;
  stalled: number;
}

export interface TimelineInput extends ReadScope {
  /** Page size, clamped to 1‥200 (default 50). */
  limit?: number;
  /** The cursor of the previous page. */
  after?: string | null;
  /** Show whole threads (default: by record type, see `wholeThreadTypes`). */
  wholeThreads?: boolean;
}

export interface BodyInput extends ReadScope {
  /** Only this form (default: both). */
  as?: 'html' | 'text';
  /** Keep remote images in the sanitised HTML (default false: they can track the reader). */
  allowRemoteImages?: boolean;
}

export interface DraftContext {
  message: StoredMessage;
  /** The visible thread, in the store's order. */
  thread: StoredMessage[];
  body: MessageBody;
}

export interface ManualLinkInput extends ReadScope {
  /** Shown in `explain()`; default "linked by {userId}" / "unlinked by {userId}". */
  reason?: string;
}

/** The listener signature eventemitter3 expects for each threadlink event. */
export type ThreadlinkEventListeners = { [K in keyof ThreadlinkEvents]: (payload: ThreadlinkEvents[K]) => void };

/** A web-standard handler that knows its own body limit (so Node glue defaults to the same one). */
export interface ThreadlinkHandler {
  (request: Request): Promise<Response>;
  /** The configured `maxBodyBytes`. */
  readonly maxBodyBytes: number;
}

/** What a host gets from createThreadlink. */
export interface Threadlink {
  /** Web-standard handler for webhooks and the OAuth callback; mount with `toNodeHandler(tl.handler)`. */
  readonly handler: ThreadlinkHandler;
  /** The typed event emitter (metadata and ids only, never content). */
  readonly events: EventEmitter<ThreadlinkEventListeners>;
  /** Subscribes to one event; returns the unsubscribe function. */
  on<K extends keyof ThreadlinkEvents>(name: K, listener: (payload: ThreadlinkEvents[K]) => void): () => void;
  /** The URLs to register with the providers (OAuth redirect URI, webhook endpoint per provider). */
  readonly urls: { redirectUri: string; webhook(provider: string): string };
  /** Settings read once from the config, for glue that must agree with them. */
  readonly limits: { readonly maxBodyBytes: number };

  /** Initialises the store, starts the worker (unless `runWorker: false`) and the maintenance timer. */
  start(): Promise<void>;
  /** Stops the maintenance timer and the worker, waiting for running jobs. */
  stop(): Promise<void>;
  /** Resolves when no engine work is waiting or running. */
  idle(): Promise<void>;
  /** One maintenance pass: renewals, recreations, safety-net pulls, back-fill restarts, stalled alerts. */
  maintain(): Promise<MaintenanceReport>;

  /** Honest sync health: one connection, or every connection (optionally of one tenant) via `.all()`. */
  readonly health: {
    (connectionId: string, scope?: ReadScope): Promise<ConnectionHealth>;
    all(scope?: { tenantId?: string }): Promise<ConnectionHealth[]>;
  };

  /** The OAuth connect flow. */
  readonly connect: {
    /** The provider's consent URL for a user, and the sealed `state` it carries. */
    start(input: ConnectStartInput): Promise<{ url: string; state: string }>;
    /** Exchanges the callback's code, stores the connection, subscribes to push and starts the back-fill. */
    complete(input: ConnectCompleteInput): Promise<PublicConnection>;
  };

  /** Connected mailboxes. */
  readonly connections: {
    /** One connection of the scope's tenant (no tokens). */
    get(connectionId: string, scope: ReadScope): Promise<PublicConnection>;
    /** The tenant's connections, or only the user's when `scope.userId` is given. */
    list(scope: ReadScope): Promise<PublicConnection[]>;
    /** Stops push, revokes the grant and (by default) purges every stored row of the mailbox. */
    disconnect(connectionId: string, options?: DisconnectOptions): Promise<DisconnectResult>;
    /** Asks for a pull now (e.g. a "refresh" button); coalesced with any pending one. */
    sync(connectionId: string, scope: ReadScope): Promise<void>;
    /** Asks for a full reconciliation against the provider. */
    resync(connectionId: string, scope: ReadScope): Promise<void>;
    /** Makes the mailbox visible to every user of the tenant (or only its owner again). */
    setShared(connectionId: string, shared: boolean, scope: ReadScope): Promise<void>;
    /** Every stored row of the mailbox (data portability), streamed. */
    export(connectionId: string, scope: ReadScope): AsyncGenerator<ExportRecord, void, undefined>;
  };

  /** What a CRM record's page shows. */
  readonly timeline: {
    /** Messages linked to a record, newest first, a page at a time. */
    forRecord(record: RecordRef, input: TimelineInput): Promise<TimelineResult>;
    /** One thread's visible messages, oldest first. */
    thread(threadId: string, scope: ReadScope): Promise<StoredMessage[]>;
  };

  /** One message: metadata, its body on demand, and replies. */
  readonly messages: {
    /** The stored metadata of one visible message. */
    get(messageId: string, scope: ReadScope): Promise<StoredMessage>;
    /** The body fetched from the provider now (never stored), HTML sanitised. */
    body(messageId: string, scope: BodyInput): Promise<MessageBody & { messageId: string }>;
    /** Sends a reply in the message's thread; returns the sent message as it will be stored. */
    reply(messageId: string, input: ReadScope & ReplyDraft): Promise<MessageMeta>;
    /** What a reply composer (or an assistant drafting one) needs: the message, its thread and its body. */
    draftContext(messageId: string, scope: ReadScope): Promise<DraftContext>;
  };

  /** Which records a message belongs to, and a user's corrections. */
  readonly matching: {
    /** Links existing messages to a record the CRM just gained (and their threads' replies). */
    rematch(record: ResolvedRecord, scope: { tenantId: string }): Promise<{ linked: number }>;
    /** The links of a message and why each was made. */
    explain(messageId: string, scope: ReadScope): Promise<RecordLink[]>;
    /** A user's manual link (wins over automatic ones, passes down the thread). */
    link(messageId: string, record: RecordRef, scope: ManualLinkInput): Promise<RecordLink>;
    /** A user's manual unlink (suppresses the automatic link for good). */
    unlink(messageId: string, record: RecordRef, scope: ManualLinkInput): Promise<RecordLink>;
    /** Forgets a manual decision; returns whether there was one. */
    reset(messageId: string, record: RecordRef, scope: ReadScope): Promise<boolean>;
  };
}
