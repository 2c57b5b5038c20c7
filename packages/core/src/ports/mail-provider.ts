// The MailProvider port: one provider's wire protocol and nothing of storage or CRM.
// Adapters (@threadlink/gmail, @threadlink/outlook) return a plain object implementing it.
import type {
  ChangeHint,
  AttachmentMeta,
  ComposeDraft,
  ForwardDraft,
  Connection,
  LabelRef,
  MessageBody,
  Participant,
  ProviderId,
  ProviderMessage,
  ProviderTokens,
  ReplyDraft,
  SubscriptionState,
} from '../domain/schemas.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../util/clock.js';
import type { MailboxGrant, OrganizationSupport } from './organization.js';

/** Everything an adapter needs to act for one connection. Built by the engine per call. */
export interface ProviderSession {
  readonly connection: Connection;
  /** The connection's tokens, unsealed for this call only. */
  tokens(): ProviderTokens;
  /** Persist refreshed tokens (the engine seals and stores them). */
  updateTokens(tokens: ProviderTokens): Promise<void>;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Where this provider's webhooks are mounted: `${publicUrl}/webhooks/${provider.id}`. Graph's lifecycle URL is this + '/lifecycle'. */
  readonly webhookUrl: string;
  readonly signal?: AbortSignal;
  /**
   * Set when the connection belongs to an organization (`connection.orgId`): the adapter acts on
   * `grant.mailbox` with the org's app credentials instead of a delegated refresh token. `tokens()`
   * then holds the last app token obtained for this mailbox (adapters refresh it from the grant).
   */
  readonly grant?: MailboxGrant;
}

export interface AuthorizeUrlInput {
  /** Opaque, signed and sealed by core; the adapter passes it through unchanged. */
  state: string;
  /** PKCE S256 challenge of a verifier core keeps sealed inside the state. */
  codeChallenge: string;
  redirectUri: string;
  loginHint?: string;
}

export interface ExchangeCodeInput {
  code: string;
  codeVerifier: string;
  redirectUri: string;
}

export interface ExchangedAccount {
  accountEmail: string;
  displayName: string | null;
  tokens: ProviderTokens;
  scopes: string[];
}

export interface SubscribeResult {
  subscription: SubscriptionState;
  /** The cursor to sync from (Gmail: the watch historyId; Outlook: initial delta links). */
  cursor: string;
}

/** A verified webhook's outcome. `response` overrides the default 2xx (validation handshakes). */
export interface WebhookOutcome {
  response?: Response;
  hints: ChangeHint[];
}

/** Look-ups a webhook handler may make; they cross tenants because providers name mailboxes, not tenants. */
export interface WebhookContext {
  connectionsByAccount(provider: ProviderId, accountEmail: string): Promise<Connection[]>;
  /**
   * The connections holding any of these subscription ids, in ONE store query: a batch of
   * notifications is checked for the price of one look-up, however many ids it names (the
   * webhook is unauthenticated until a clientState matches, so per-id look-ups are an
   * amplification). Callers cap the ids first (outlook: MAX_SUBSCRIPTIONS_PER_REQUEST).
   */
  connectionsBySubscriptions(provider: ProviderId, subscriptionIds: readonly string[]): Promise<Connection[]>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The host's webhook body limit (`ThreadlinkConfig.maxBodyBytes`): a parser reading the body itself honours it. */
  readonly maxBodyBytes: number;
}

export type Change = { type: 'upsert'; message: ProviderMessage } | { type: 'delete'; providerMessageId: string };

export interface PullResult {
  changes: Change[];
  /** The cursor after these changes. Committed atomically with them. */
  nextCursor: string;
  /** True when more changes are waiting right now (the engine pulls again at once). */
  hasMore: boolean;
  /** Provider timestamp of the newest change (for lag metrics), if known. */
  newestChangeAt?: number;
  /**
   * True when the provider said that labels/folders themselves changed (created, renamed, moved,
   * deleted): core re-reads the directory with `listLabels`. Core also re-reads it on its own when
   * a message carries a label id the stored directory lacks, so an adapter that cannot tell may
   * leave this out.
   */
  labelsChanged?: boolean;
  /**
   * True when the parts of the mailbox push must cover changed (Outlook: a folder joined the sync
   * since the last subscribe/renew and has no subscription): core queues a `renew` at once, whose
   * `renew` subscribes the new parts, so their mail arrives by push from then on.
   */
  pushCoverageChanged?: boolean;
}

/** Options of one incremental pull. */
export interface PullOptions {
  /**
   * Pull only these parts of the mailbox (a push hint's `scope`); the cursor of every other part
   * comes back unchanged. Absent: everything. Adapters that cannot narrow a pull ignore it.
   */
  scope?: readonly string[];
  /**
   * Called at most once per pull, as soon as the adapter knows which messages its answer will carry
   * and before it reads them (Gmail: after `history.list`, before `messages.get`), with their ids and
   * threads. Core opens the page's store transaction then (`MetadataStore.prepareSync`), so the
   * commit after the read costs one database round trip fewer. Ids only, never content; it must not
   * throw. An adapter that learns ids and messages in the same response (Outlook's delta) omits it.
   */
  onListed?: (listed: readonly ListedMessage[]) => void;
}

/** A message a pull will answer for, as its listing named it (`PullOptions.onListed`). */
export interface ListedMessage {
  providerMessageId: string;
  providerThreadId: string;
}

export interface FullSyncOptions {
  /** Only messages received at or after this time (epoch ms). */
  since?: number;
  pageSize?: number;
  /**
   * Ids the caller already stores (a resync passes them). The adapter then lists ids only, at the
   * provider's largest page, re-reads metadata only for ids NOT in this set, and names the listed
   * known ids in `FullSyncPage.unchanged`: a reconciliation of an unchanged mailbox costs one list
   * call per page of ids instead of one read per message (issue 21). A known message whose labels or
   * folder changed keeps its stored row until the live path reports the change.
   */
  known?: ReadonlySet<string>;
  /**
   * With `known`, when no pull from a kept cursor follows the listing (a resync after an expired
   * cursor): the label ids stored for each known message (Gmail label ids; Outlook: its folder id).
   * The adapter then also re-reads, and returns in `messages`, every known message whose membership
   * of the labels/folders it compares differs from the provider's (Gmail: per-label id listings;
   * Outlook: the folder whose delta lists it), so label and folder changes made while the cursor was
   * expired reach the store for ids, not reads. Adapters state which labels they compare.
   */
  knownLabels?: ReadonlyMap<string, readonly string[]>;
}

/** One page of a full listing, newest first. Used for back-fill and for resync after CURSOR_EXPIRED. */
export interface FullSyncPage {
  messages: ProviderMessage[];
  /** Resume token for the next page; null when the listing is complete. */
  next: string | null;
  estimatedTotal?: number;
  /**
   * A cursor from which incremental sync covers everything after this listing began.
   * Adapters return it on the first page (Gmail: current historyId) or the last (Outlook: delta links).
   * Resync adopts the last cursor seen (a reconciliation by `known` ids keeps the stored one, whose
   * pull sees what an id listing cannot); back-fill adopts a cursor only from its final page (a cursor
   * taken at the start of a long back-fill could have expired by its end).
   */
  cursor?: string;
  /**
   * With `FullSyncOptions.known`: the listed ids that were in `known` and so were not re-read.
   * They are still in the mailbox (a resync must not delete them); `messages` holds only the rest.
   */
  unchanged?: string[];
}

export interface SentMessage {
  providerMessageId: string | null;
  providerThreadId: string | null;
  internetMessageId: string | null;
  /** The metadata of the sent copy, when the adapter knows it now (optimistic timeline entry). */
  message?: ProviderMessage;
}

export interface ReplyContext {
  /** The stored metadata of the message being answered (for In-Reply-To, References, Subject). */
  original: {
    providerMessageId: string;
    providerThreadId: string;
    internetMessageId: string | null;
    references: string[];
    subject: string;
    from: Participant | null;
    to: Participant[];
    cc: Participant[];
    replyTo: Participant[];
  };
  draft: ReplyDraft;
}

/** One attachment's bytes, streamed from the provider as they arrive (see `MailProvider.fetchAttachment`). */
export interface AttachmentContent {
  /** The decoded bytes. Never buffered whole by the adapter; cancelling it aborts the download. */
  stream: ReadableStream<Uint8Array>;
  /** As the provider names it (core sanitises it before a host sees it). */
  filename: string | null;
  contentType: string | null;
  /** Bytes of the decoded content when the provider says so before sending it; null when unknown. */
  size: number | null;
}

export interface FetchAttachmentOptions {
  /** Refuse (PAYLOAD_TOO_LARGE) before the download when the provider announces more bytes than this. */
  maxBytes: number;
}

export interface ForwardContext {
  /** The stored metadata of the message being forwarded. */
  original: ReplyContext['original'] & { sentAt: number | null; attachments: AttachmentMeta[] };
  draft: ForwardDraft;
}

export interface MailProvider {
  readonly id: ProviderId;
  /**
   * Whom one push channel serves. 'connection' (the default): each connection owns its own (Graph
   * subscriptions), so unsubscribing one touches no other. 'mailbox': one channel per mailbox,
   * shared by every connection of the address (Gmail's watch is per mailbox and Cloud project, and
   * users.stop ends it for all of them), so core does not unsubscribe while another remains.
   */
  readonly pushChannel?: 'mailbox' | 'connection';
  /**
   * True when `fullSync` honours `FullSyncOptions.knownLabels` (re-reads the known messages whose
   * labels/folder differ). Only then does core resync after an expired cursor by ids; without it
   * such a resync reads every message, or changes made in the gap would never reach the store.
   */
  readonly resyncComparesLabels?: boolean;
  /** Organization-wide connect (admin consent / domain-wide delegation). Optional: see ports/organization.ts. */
  readonly organization?: OrganizationSupport;

  // OAuth
  authorizeUrl(input: AuthorizeUrlInput): string | Promise<string>;
  exchangeCode(input: ExchangeCodeInput): Promise<ExchangedAccount>;
  /** Revoke the grant at the provider (Gmail's revoke endpoint; Outlook: documented no-op + unsubscribe). */
  revoke(session: ProviderSession): Promise<void>;

  // Push
  subscribe(session: ProviderSession): Promise<SubscribeResult>;
  renew(session: ProviderSession): Promise<{ subscription: SubscriptionState }>;
  unsubscribe(session: ProviderSession): Promise<void>;
  /**
   * Verify and parse a webhook request. `route` is the path below the provider's webhook root
   * ('' for notifications, 'lifecycle' for Graph lifecycle events). Throws ThreadlinkError
   * WEBHOOK_UNAUTHORIZED (401) / WEBHOOK_MALFORMED (400) for forged or broken input.
   */
  handleWebhook(request: Request, route: string, context: WebhookContext): Promise<WebhookOutcome>;

  // Sync
  pullChanges(session: ProviderSession, cursor: string, options?: PullOptions): Promise<PullResult>;
  fullSync(session: ProviderSession, resume: string | null, options: FullSyncOptions): Promise<FullSyncPage>;

  // Labels / folders
  /**
   * The mailbox's whole label directory now: every Gmail label (users.labels.list) or every Outlook
   * mail folder, with display names. Core stores it per connection (MetadataStore.saveLabels) at
   * connect, when a pull reports `labelsChanged` or an unknown label id, and on a bounded schedule
   * in maintain(). Optional: without it, messages expose their label ids as names.
   */
  listLabels?(session: ProviderSession): Promise<LabelRef[]>;

  // On demand (transient: never persisted by anyone)
  fetchBody(session: ProviderSession, providerMessageId: string): Promise<MessageBody>;
  /**
   * Streams one attachment (its `AttachmentMeta.id`). Adapters refuse what they cannot stream as
   * a file with ATTACHMENT_UNSUPPORTED, metadata-only connections with INSUFFICIENT_SCOPE, and a
   * size announced past `maxBytes` with PAYLOAD_TOO_LARGE. Optional: a provider without it
   * answers ATTACHMENT_UNSUPPORTED through core.
   */
  /**
   * Sends a new message (not in any thread) that core has validated against ComposeDraft, at most
   * once (core's sendOnce). Optional: a provider without it answers INVALID_INPUT through core.
   */
  compose?(session: ProviderSession, draft: ComposeDraft): Promise<SentMessage>;
  /** Forwards a message with its original attachments, at most once. Optional like `compose`. */
  forward?(session: ProviderSession, forward: ForwardContext): Promise<SentMessage>;
  fetchAttachment?(session: ProviderSession, providerMessageId: string, attachmentId: string, options: FetchAttachmentOptions): Promise<AttachmentContent>;
  /**
   * Sends `reply.draft`, which core has already validated: it parsed against ReplyDraft and
   * carries text or html (core refuses an empty reply with INVALID_INPUT before calling). Who
   * receives it is `replyRecipients(reply, accountEmail)` (core's util), in every adapter.
   */
  send(session: ProviderSession, reply: ReplyContext): Promise<SentMessage>;
}
