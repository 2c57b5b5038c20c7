// The public shape of threadlink: what a host configures and what it gets back. Declared here
// rather than inferred from createThreadlink, so the contract is read (and reviewed) in one place
// and an implementation change cannot widen it by accident.
import type EventEmitter from 'eventemitter3';
import type { ConnectionPolicyInput, TenantPolicyInput } from './domain/policy.js';
import type { Direction, MessageBody, MessageMeta, Participant, ProviderId, RecordLink, RecordRef, ReplyDraft } from './domain/schemas.js';
import type { EngineOptions } from './engine/sync-engine.js';
import type { PublicConnection, ThreadlinkEvents } from './events.js';
import type { ConnectionHealth } from './health/health.js';
import type { LabeledMessage } from './labels/names.js';
import type { Logger } from './logger.js';
import type { MatchingOptions } from './matching/index.js';
import type { OrgCommands } from './org/types.js';
import type { PolicyChangeReport, PolicyPreview, PolicyTarget, PolicyView } from './policy/commands.js';
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
   * How often maintain() re-reads an organization's directory and applies its selection (joiners
   * connected, leavers offboarded), as tl.org.sync() does. Default 6 hours; 0 turns it off.
   */
  orgSyncIntervalMs?: number;
  /**
   * Whether start() processes jobs in this process. A web-only instance behind a load balancer
   * (webhooks, OAuth, reads) sets false and leaves the work to worker processes on a shared queue.
   */
  runWorker?: boolean;
  /**
   * How long `stop()` lets running jobs finish before aborting them (default 10 s). From the first
   * moment of stop() webhooks are answered 503 + Retry-After (the provider redelivers to another
   * instance) and no new job starts; past the grace a running job's provider calls are aborted, its
   * mailbox lease released and (on a shared queue) the job handed back for another instance to retry.
   * Keep it below the orchestrator's kill timeout (Kubernetes: terminationGracePeriodSeconds, 30 s).
   */
  shutdownGraceMs?: number;
  /** Backoff for retryable job failures (default: 1 s doubling to 32 s, plus jitter; Retry-After wins). */
  retryBackoff?: BackoffOptions;
  /** Contact discovery (`tl.contacts.suggest`, `contact.suggested`). */
  contacts?: {
    /** The score at which `contact.suggested` is emitted (default 2: two recent two-way exchanges). */
    suggestThreshold?: number;
  };
  /** The connect flow's checks. */
  connect?: {
    /**
     * When `connect.start` was given a `loginHint`, what happens if the user grants another account:
     * 'enforce' (default) refuses with ACCOUNT_MISMATCH and revokes the grant; 'warn' connects the
     * granted account, logs a warning and emits `connection.account_mismatch`.
     */
    loginHint?: 'enforce' | 'warn';
  };
}

export interface ConnectStartInput {
  provider: ProviderId;
  tenantId: string;
  userId: string;
  loginHint?: string;
  /** Where the browser goes after the callback (must be same-origin as publicUrl or a relative path). */
  returnTo?: string;
}

/**
 * The cookie that binds a connect flow to the browser that started it (as Auth.js does with its
 * state and PKCE cookies). The host sets it on the response that sends the browser to `url`.
 */
export interface ConnectCookie {
  /** `threadlink_connect_<8 chars of the state's id>`: two flows in one browser keep two cookies. */
  name: string;
  /** A fresh random secret; the sealed state holds only its SHA-256. */
  value: string;
  attributes: {
    httpOnly: true;
    /** True unless publicUrl is plain http on a non-loopback host (browsers drop Secure cookies there). */
    secure: boolean;
    sameSite: 'lax';
    /** The OAuth callback's path, so the cookie is sent nowhere else. */
    path: string;
    /** Seconds: the state's lifetime (`oauthStateTtlMs`). */
    maxAge: number;
  };
  /** The same, as a ready `Set-Cookie` header value. */
  header: string;
}

export interface ConnectStartResult {
  /** The provider's consent URL. */
  url: string;
  /** The sealed state the URL carries. */
  state: string;
  /** Set it on the response that redirects the browser to `url`; the callback refuses a state without it. */
  cookie: ConnectCookie;
}

/** What the OAuth callback carries: the callback URL itself, or its `code` and `state`. */
export type ConnectCompleteInput = URL | { code: string; state: string };

/**
 * Who is completing a connect flow, for hosts that complete it themselves instead of mounting
 * `tl.handler`: the tenant and user of the host's authenticated session. It must equal the
 * tenant and user `connect.start` was called for, or the flow is refused (OAUTH_STATE_INVALID).
 */
export interface ConnectSession {
  tenantId: string;
  userId: string;
  /**
   * The callback request's `Cookie` header. Optional extra binding: when given, it must hold the
   * connect cookie of this state (the handler's own callback route always requires it).
   */
  cookieHeader?: string;
}

/** A user of a tenant: sees their own mailboxes and shared ones, changes only their own. */
export interface UserScope {
  tenantId: string;
  userId: string;
  as?: never;
}

/** Administrative access to a tenant (maintenance, support tools): explicit, never the default. */
export interface AdminScope {
  tenantId: string;
  as: 'admin';
  userId?: never;
}

/**
 * Every call that names a connection, message or record takes one. A missing tenant, or a scope
 * with neither `userId` nor `as: 'admin'`, is SCOPE_REQUIRED; a mailbox the scope may not see is
 * not found (its existence is not revealed).
 */
export type Scope = UserScope | AdminScope;

/** @deprecated Use `Scope`. */
export type ReadScope = Scope;

export type DisconnectOptions = Scope & {
  /** Delete every stored row of the mailbox (default true); false keeps the metadata, marked disconnected. */
  purge?: boolean;
};

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
  /** Pulls asked for only because a label directory was older than `labelRefreshIntervalMs`. */
  labelRefreshes: number;
  resyncs: number;
  backfills: number;
  stalled: number;
  /** Organizations whose directory was re-read and applied (due after `orgSyncIntervalMs`; at most 3 a pass). */
  orgSyncs: number;
}

export type TimelineInput = Scope & {
  /** Page size, clamped to 1‥200 (default 50). */
  limit?: number;
  /** The cursor of the previous page. */
  after?: string | null;
  /** Show whole threads (default: by record type, see `wholeThreadTypes`). */
  wholeThreads?: boolean;
};

export type BodyInput = Scope & {
  /** Only this form (default: both). Named `format` because `as` is the scope's. */
  format?: 'html' | 'text';
  /** Keep remote images in the sanitised HTML (default false: they can track the reader). */
  allowRemoteImages?: boolean;
};

export type AttachmentInput = Scope & {
  /** Refuse (PAYLOAD_TOO_LARGE) past this many bytes; default 50 MiB. Checked before and during the download. */
  maxBytes?: number;
};

/** One attachment on its way from the provider to the caller: read `stream` once, or cancel it. */
export interface AttachmentDownload {
  messageId: string;
  attachmentId: string;
  /** Sanitised: no path, no control or direction-override characters, at most 200 characters. */
  filename: string;
  /** A plain `type/subtype`, application/octet-stream when the provider's was not one. */
  contentType: string;
  /** Exact decoded size when the provider announced it; null otherwise. */
  size: number | null;
  /** The bytes as they arrive; never buffered whole, never stored. Errors past `maxBytes`. */
  stream: ReadableStream<Uint8Array>;
}

/**
 * A file for a reply, a new message or a forward. `content` is the bytes, a web
 * `ReadableStream<Uint8Array>` (e.g. `Readable.toWeb(fs.createReadStream(path))`, a `fetch`
 * response's body) or a `Blob`/`File`. Streams and Blobs are read once, with the call's
 * `maxAttachmentBytes` (default 35 MB, all files together) counted as they arrive: past it the
 * source is cancelled and the call fails with PAYLOAD_TOO_LARGE before anything is sent.
 */
export interface OutgoingAttachmentInput {
  filename: string;
  content: Uint8Array | ReadableStream<Uint8Array> | Blob;
  contentType?: string;
}

/** The limit on the files of one outgoing message, all together (default 35 MB). */
interface OutgoingLimits {
  maxAttachmentBytes?: number;
}

/** `tl.messages.reply`: the reply's text or html, Cc, reply-all and files. */
export type ReplyInput = Scope & Omit<ReplyDraft, 'attachments'> & OutgoingLimits & { attachments?: OutgoingAttachmentInput[] };

/** `tl.messages.send`: a new message from one of the user's connections, linked to CRM records. */
export type ComposeInput = Scope &
  OutgoingLimits & {
    connectionId: string;
    to?: Participant[];
    cc?: Participant[];
    bcc?: Participant[];
    subject?: string;
    text?: string;
    html?: string;
    attachments?: OutgoingAttachmentInput[];
    /** The records it is composed from (a work order, a client): linked with rule `manual`. */
    links?: RecordRef[];
  };

/** `tl.messages.forward`: recipients, an optional note, extra files; the original's attachments go along. */
export type ForwardInput = Scope &
  OutgoingLimits & {
    to?: Participant[];
    cc?: Participant[];
    bcc?: Participant[];
    text?: string;
    html?: string;
    attachments?: OutgoingAttachmentInput[];
    links?: RecordRef[];
  };

export interface ComposeResult {
  /**
   * The sent message as stored now (the synced-back copy updates the same row); null when the
   * provider did not say under which id it sent it (Outlook with Mail.Send alone): it is stored when
   * it syncs back, unlinked.
   */
  message: StoredMessage | null;
  links: RecordLink[];
  providerMessageId: string | null;
  internetMessageId: string | null;
}

/**
 * How much thread text `draftContext` may return: characters, or approximate tokens (1 token ≈ 4
 * characters, `CHARACTERS_PER_TOKEN`, the usual ratio for English with GPT-style tokenizers).
 * Default: 16 000 characters. The budget covers `text` whole: headers, bodies and separators.
 */
export type DraftBudget = { maxCharacters: number; maxTokens?: never } | { maxTokens: number; maxCharacters?: never };

export interface DraftContextOptions {
  budget?: DraftBudget;
}

/** One message of the thread as an assistant reads it: who wrote to whom, and only what the message added. */
export interface DraftContextMessage {
  messageId: string;
  /** `outbound`: written from the user's mailbox ("us"); `inbound`: written to it. */
  direction: Direction;
  from: Participant | null;
  to: Participant[];
  cc: Participant[];
  /** Epoch ms (sent time, or received time when the provider gives none). */
  sentAt: number;
  subject: string;
  /** Clean text: HTML converted to text, quoted history and signature removed. */
  text: string;
  /** True when `text` was shortened to fit the budget (only ever the newest message, when it alone exceeds it). */
  truncated: boolean;
}

export interface DraftContext {
  message: StoredMessage;
  /** The visible thread, in the store's order. */
  thread: StoredMessage[];
  /** The asked message's own body as `messages.body` returns it (HTML sanitised), for a composer that quotes it. */
  body: MessageBody;
  /** The thread's messages that fit the budget, oldest first; when it must cut, the newest are kept. */
  messages: DraftContextMessage[];
  /** Thread messages left out: over the budget, or no longer at the provider. */
  omitted: number;
  /** `messages` rendered as one plain-text transcript (headers, blank line, text; `---` between), ready for a prompt. */
  text: string;
  budget: { maxCharacters: number; usedCharacters: number; approximateTokens: number };
}

export interface ContactSuggestOptions {
  /** How many suggestions, 1‥100 (default 20). */
  limit?: number;
  /** Only mail received since this time (epoch ms; default: the last 365 days). */
  since?: number;
}

/**
 * Someone the mailboxes exchange mail with whom the CRM does not know (the resolver found no
 * contact for the address). Metadata only: counts, times, the display name mail gave them.
 */
export interface ContactSuggestion {
  /** Lower case. */
  address: string;
  /** The display name on the newest message that carries one. */
  name: string | null;
  domain: string;
  /** The record `companiesByDomain` resolves the domain to; never for free-mail or the tenant's own domains. */
  company: RecordRef | null;
  /**
   * `(min(received, sent) + min(1, 0.1 × |received − sent|)) × 0.5^(days since lastExchangeAt / 90)`:
   * two-way exchanges count, one-way mail (newsletters, unanswered sends) adds at most 1, recent beats old.
   */
  score: number;
  /** Inbound messages from them. */
  received: number;
  /** Outbound messages to them (to, cc or bcc). */
  sent: number;
  /** Epoch ms of the newest message either way. */
  lastExchangeAt: number;
}

export type ManualLinkInput = Scope & {
  /** Shown in `explain()`; default "linked by {userId}" / "unlinked by {userId}". */
  reason?: string;
};

/** The listener signature eventemitter3 expects for each threadlink event. */
export type ThreadlinkEventListeners = { [K in keyof ThreadlinkEvents]: (payload: ThreadlinkEvents[K]) => void };

/** A web-standard handler that knows its own body limit (so Node glue defaults to the same one). */
export interface ThreadlinkHandler {
  (request: Request): Promise<Response>;
  /** The configured `maxBodyBytes`. */
  readonly maxBodyBytes: number;
}

/** `tl.health.instance()`: whether this instance can do its work right now, and why not. */
export interface InstanceHealth {
  status: 'ok' | 'degraded' | 'stopping';
  /** Content-free reasons, e.g. `store unreachable: STORE_ERROR getConnection failed (SQLSTATE 57P01)`. */
  reasons: string[];
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
  /**
   * Graceful shutdown (call it on SIGTERM): webhooks are refused with 503 + Retry-After at once, the
   * maintenance timer and the worker stop taking work, running jobs get `shutdownGraceMs` to finish,
   * then are aborted (lease released, job handed back to a shared queue).
   */
  stop(): Promise<void>;
  /** Resolves when no engine work is waiting or running. */
  idle(): Promise<void>;
  /** One maintenance pass: renewals, recreations, safety-net pulls, back-fill restarts, stalled alerts. A call while a pass runs joins it (same report). */
  maintain(): Promise<MaintenanceReport>;

  /** Honest sync health: one connection, or every connection the scope may see via `.all()`. */
  readonly health: {
    (connectionId: string, scope: Scope): Promise<ConnectionHealth>;
    all(scope: Scope): Promise<ConnectionHealth[]>;
    /**
     * This instance's own health, for a readiness probe: 'ok', 'degraded' with the reasons while the
     * store cannot be reached (an outage: webhooks are answered 503 and jobs retry meanwhile), or
     * 'stopping' once stop() began. Never throws for an outage; the scope is checked like any call.
     */
    instance(scope: Scope): Promise<InstanceHealth>;
  };

  /** The OAuth connect flow. */
  readonly connect: {
    /** The provider's consent URL for a user, the sealed `state` it carries and the cookie binding it to the browser. */
    start(input: ConnectStartInput): Promise<ConnectStartResult>;
    /**
     * Exchanges the callback's code, stores the connection, subscribes to push and starts the
     * back-fill; for hosts completing the flow themselves, `session` is their signed-in user.
     */
    complete(input: ConnectCompleteInput, session: ConnectSession): Promise<PublicConnection>;
  };

  /** Connected mailboxes. */
  readonly connections: {
    /** One connection the scope may see: the user's own or a shared one (any of the tenant's for admin). No tokens. */
    get(connectionId: string, scope: Scope): Promise<PublicConnection>;
    /** The user's own connections, or all of the tenant's for an admin scope. */
    list(scope: Scope): Promise<PublicConnection[]>;
    /** Stops push, revokes the grant and (by default) purges every stored row of the mailbox. Owner or admin. */
    disconnect(connectionId: string, options: DisconnectOptions): Promise<DisconnectResult>;
    /** Asks for a pull now (e.g. a "refresh" button); coalesced with any pending one. Owner or admin. */
    sync(connectionId: string, scope: Scope): Promise<void>;
    /** Asks for a full reconciliation against the provider. Owner or admin. */
    resync(connectionId: string, scope: Scope): Promise<void>;
    /** Makes the mailbox visible to every user of the tenant (or only its owner again). Owner or admin. */
    setShared(connectionId: string, shared: boolean, scope: Scope): Promise<void>;
    /** Every stored row of the mailbox (data portability), streamed. Owner or admin. */
    export(connectionId: string, scope: Scope): AsyncGenerator<ExportRecord, void, undefined>;
  };

  /** What a CRM record's page shows. */
  readonly timeline: {
    /** Messages linked to a record, newest first, a page at a time. */
    forRecord(record: RecordRef, input: TimelineInput): Promise<TimelineResult>;
    /** One thread's visible messages, oldest first, with their labels by name (`labelRefs`). */
    thread(threadId: string, scope: Scope): Promise<LabeledMessage[]>;
  };

  /** One message: metadata, its body on demand, and replies. */
  readonly messages: {
    /** The stored metadata of one visible message, with its labels by name (`labelRefs`). */
    get(messageId: string, scope: Scope): Promise<LabeledMessage>;
    /** The body fetched from the provider now (never stored), HTML sanitised. */
    body(messageId: string, scope: BodyInput): Promise<MessageBody & { messageId: string }>;
    /**
     * Streams one attachment (an `AttachmentMeta.id`) from the provider: never buffered whole,
     * never stored. Serve it with `attachmentResponseHeaders` (a download, never rendered).
     */
    attachment(messageId: string, attachmentId: string, input: AttachmentInput): Promise<AttachmentDownload>;
    /**
     * Sends a new message from one of the user's connections (owner or admin), at most once
     * (SEND_UNCONFIRMED when that cannot be known), stores it at once and links it to `links`.
     */
    send(input: ComposeInput): Promise<ComposeResult>;
    /** Forwards a message with its original attachments from its mailbox (owner or admin), at most once. */
    forward(messageId: string, input: ForwardInput): Promise<ComposeResult>;
    /** Sends a reply in the message's thread from its mailbox (owner or admin); returns the sent message as it will be stored. */
    reply(messageId: string, input: ReplyInput): Promise<MessageMeta>;
    /**
     * What an assistant drafting a reply needs: the whole visible thread as clean text (quoted
     * history and signatures removed), oldest first, within `options.budget`, with participants and
     * direction per message. Bodies are fetched now and never stored, logged or emitted.
     */
    draftContext(messageId: string, scope: Scope, options?: DraftContextOptions): Promise<DraftContext>;
  };

  /** Contact discovery from stored metadata. */
  readonly contacts: {
    /**
     * People the scope's mailboxes (a user's own; every mailbox of the tenant for an admin)
     * exchange mail with whom the resolver does not know, best first (see `ContactSuggestion.score`).
     * The tenant's own addresses and domains are never suggested. Once the CRM creates one,
     * `matching.rematch` links their stored history.
     */
    suggest(scope: Scope, options?: ContactSuggestOptions): Promise<ContactSuggestion[]>;
  };

  /** Which records a message belongs to, and a user's corrections. */
  readonly matching: {
    /** Links existing messages to a record the CRM just gained (and their threads' replies). */
    rematch(record: ResolvedRecord, scope: Scope): Promise<{ linked: number }>;
    /** The links of a message and why each was made. */
    explain(messageId: string, scope: Scope): Promise<RecordLink[]>;
    /** A user's manual link (wins over automatic ones, passes down the thread). */
    link(messageId: string, record: RecordRef, scope: ManualLinkInput): Promise<RecordLink>;
    /** A user's manual unlink (suppresses the automatic link for good). */
    unlink(messageId: string, record: RecordRef, scope: ManualLinkInput): Promise<RecordLink>;
    /** Forgets a manual decision; returns whether there was one. */
    reset(messageId: string, record: RecordRef, scope: Scope): Promise<boolean>;
  };

  /**
   * The ingestion policy: what mail is never stored. Without `connectionId` the target is the
   * tenant's policy (changed with an admin scope); with one, that mailbox's own rules (owner or
   * admin). A message is stored only when both levels admit it. Invalid rules are POLICY_INVALID.
   */
  readonly policy: {
    /** The tenant's rules and, for a connection target, the connection's (defaults when unsaved). */
    get(target: PolicyTarget): Promise<PolicyView>;
    /** Replaces the target's rules; purges what now falls outside, and enqueues a reconciliation when they loosen. */
    set(rules: TenantPolicyInput | ConnectionPolicyInput, target: PolicyTarget): Promise<PolicyChangeReport>;
    /** `set` with the saved rules' other top-level fields kept. */
    update(patch: Partial<TenantPolicyInput & ConnectionPolicyInput>, target: PolicyTarget): Promise<PolicyChangeReport>;
    /** What `set` would purge, without changing anything. */
    preview(rules: TenantPolicyInput | ConnectionPolicyInput, target: PolicyTarget): Promise<PolicyPreview>;
  };

  /** Organization-wide connect (issue 19): one admin approval owning many mailbox connections. See org/types.ts. */
  readonly org: OrgCommands;
}
