// The single source of types: every domain shape is a zod schema and its type is z.infer of it.
// Dates are epoch milliseconds (integers) everywhere: comparable, index-friendly and JSON-safe.
import { z } from 'zod';

// A provider is named by a slug: the built-in 'gmail' and 'outlook', or any other adapter's own id
// ('imap', 'fastmail-jmap'). Open, not an enum: which providers exist is whatever createThreadlink()
// was given. The slug keeps it safe where it travels: webhook paths (/webhooks/<id>), metric
// labels and stored rows (storage-postgres checks the same pattern).
const PROVIDER_ID_PATTERN = /^[a-z][a-z0-9-]{1,31}$/;
export const ProviderId = z.string().regex(PROVIDER_ID_PATTERN, 'a provider id is a lower-case slug: a letter, then 1 to 31 of a-z, 0-9 and -');
export type ProviderId = z.infer<typeof ProviderId>;

export const ConnectionStatus = z.enum(['connecting', 'backfilling', 'live', 'needs_reauth', 'disconnected']);
export type ConnectionStatus = z.infer<typeof ConnectionStatus>;

const EpochMs = z.number().int().nonnegative();

/** An email address, normalised to lower case. */
export const EmailAddress = z
  .string()
  .trim()
  .min(3)
  .max(320)
  .transform((value) => value.toLowerCase())
  .pipe(z.string().regex(/^[^\s@]+@[^\s@]+$/, 'not an email address'));

export const Participant = z.strictObject({
  address: EmailAddress,
  name: z.string().max(512).optional(),
});
export type Participant = z.infer<typeof Participant>;

/**
 * A provider-side push subscription: Gmail has one watch per mailbox, Outlook one Graph
 * subscription per folder. `clientStateHash` is the SHA-256 of Graph's clientState, so the
 * shared secret itself is never at rest; notifications are checked against the hash.
 */
export const SubscriptionItem = z.strictObject({
  id: z.string().min(1),
  resource: z.string().min(1),
  expiresAt: EpochMs,
  clientStateHash: z.string().optional(),
});
export type SubscriptionItem = z.infer<typeof SubscriptionItem>;

export const SubscriptionState = z.strictObject({
  items: z.array(SubscriptionItem),
  /** When the engine should renew next (the provider's advice, e.g. daily for Gmail). */
  renewAt: EpochMs,
  /** The earliest expiry among the items. */
  expiresAt: EpochMs,
});
export type SubscriptionState = z.infer<typeof SubscriptionState>;

/** An opaque provider cursor: a Gmail historyId, or Outlook delta links serialised by the adapter. */
export const SyncCursor = z
  .string()
  .min(1)
  .max(64 * 1024);
export type SyncCursor = z.infer<typeof SyncCursor>;

export const BackfillProgress = z.strictObject({
  state: z.enum(['pending', 'running', 'done', 'failed']),
  done: z.number().int().nonnegative(),
  estimatedTotal: z.number().int().nonnegative().nullable(),
  /** Opaque resume token (the provider's page token and position). Null when done or not started. */
  resume: z.string().nullable(),
  startedAt: EpochMs.nullable(),
  finishedAt: EpochMs.nullable(),
  /** Messages per second over the run so far. */
  rate: z.number().nonnegative().nullable(),
});
export type BackfillProgress = z.infer<typeof BackfillProgress>;

export const ConnectionHealthState = z.strictObject({
  lastPushAt: EpochMs.nullable(),
  lastSyncAt: EpochMs.nullable(),
  lastFullSyncAt: EpochMs.nullable(),
  /** Provider timestamp of the newest change seen by the last pull. */
  newestChangeAt: EpochMs.nullable(),
  consecutiveErrors: z.number().int().nonnegative(),
  lastErrorCode: z.string().nullable(),
  lastErrorAt: EpochMs.nullable(),
  /** When a safety-net pull last found changes that no push had announced (push is broken). */
  missedPushAt: EpochMs.nullable().optional(),
  /** When the connection's label directory (MetadataStore.saveLabels) was last read from the provider. */
  labelsRefreshedAt: EpochMs.nullable().optional(),
  /**
   * How many messages the last full reconciliation found in the mailbox: sizes the next one's
   * interval against `EngineOptions.reconciliationIdsPerDay` (idle-cadence.ts). Before the first,
   * the back-fill's count stands in.
   */
  reconciledIds: z.number().int().nonnegative().nullable().optional(),
});
export type ConnectionHealthState = z.infer<typeof ConnectionHealthState>;

export const Connection = z.strictObject({
  id: z.string().min(1),
  tenantId: z.string().min(1),
  userId: z.string().min(1),
  provider: ProviderId,
  accountEmail: EmailAddress,
  displayName: z.string().nullable(),
  status: ConnectionStatus,
  /** AES-256-GCM sealed provider tokens (see security/sealing.ts); never the clear text. */
  sealedTokens: z.string().min(1),
  scopes: z.array(z.string()),
  subscription: SubscriptionState.nullable(),
  cursor: SyncCursor.nullable(),
  backfill: BackfillProgress,
  health: ConnectionHealthState,
  /** Whether other users of the tenant may see this mailbox's mail in timelines. */
  shared: z.boolean(),
  /**
   * The organization that owns this connection (issue 19), absent for a user's own connection.
   * An org's mailbox connection is acted on with the org's app grant (ProviderSession.grant), and
   * `mailboxId` is the directory id it acts on (Graph user id; Google: the address).
   */
  orgId: z.string().min(1).optional(),
  mailboxId: z.string().min(1).max(256).optional(),
  /** 'shared' for a shared mailbox (sales@, support@) connected through an organization. */
  mailboxKind: z.enum(['user', 'shared']).optional(),
  createdAt: EpochMs,
  updatedAt: EpochMs,
});
export type Connection = z.infer<typeof Connection>;

export const LabelKind = z.enum(['system', 'user']);
export type LabelKind = z.infer<typeof LabelKind>;

/**
 * One entry of a connection's label directory: a Gmail label, or an Outlook mail folder. `id` is
 * the provider's own id — what `ProviderMessage.labels` holds — and `name` its display name now.
 * `kind: 'system'` is a provider-defined label or well-known folder (INBOX, SENT, Archive, …),
 * whose name is stable; `'user'` is one the user made and may rename. Names are never stored on
 * messages: a message keeps ids and reads resolve them against the directory, so a rename is one
 * directory write, not a rewrite of every message that carries the label.
 */
export const LabelRef = z.strictObject({
  id: z.string().min(1).max(255),
  name: z.string().min(1).max(1024),
  kind: LabelKind,
});
export type LabelRef = z.infer<typeof LabelRef>;

export const Direction = z.enum(['inbound', 'outbound']);
export type Direction = z.infer<typeof Direction>;

export const AttachmentMeta = z.strictObject({
  /**
   * The provider's handle for `tl.messages.attachment` (Gmail: the MIME part id, stable where
   * Gmail's attachmentId is not; Outlook: the attachment id). Absent where the provider's metadata
   * scope cannot see parts (Gmail metadata mode) and on rows stored before it existed.
   */
  id: z.string().min(1).max(2048).optional(),
  name: z.string().max(1024),
  mimeType: z.string().max(255).nullable(),
  size: z.number().int().nonnegative().nullable(),
  /** Shown inside the body (a signature logo, a pasted image) rather than offered as a file. */
  inline: z.boolean().optional(),
});
export type AttachmentMeta = z.infer<typeof AttachmentMeta>;

/**
 * What a provider reports for one message: metadata only. Strict, so a `body`, `snippet`,
 * `bodyPreview`, `html` or `text` key is a parse error — the privacy contract enforced by the type.
 */
export const ProviderMessage = z.strictObject({
  providerMessageId: z.string().min(1).max(1024),
  providerThreadId: z.string().min(1).max(1024),
  internetMessageId: z.string().max(998).nullable(),
  inReplyTo: z.string().max(998).nullable(),
  references: z.array(z.string().max(998)).max(200),
  subject: z.string().max(4096),
  from: Participant.nullable(),
  to: z.array(Participant),
  cc: z.array(Participant),
  bcc: z.array(Participant),
  replyTo: z.array(Participant),
  sentAt: EpochMs.nullable(),
  receivedAt: EpochMs,
  direction: Direction,
  /** Normalised folder: inbox, sent, archive, trash, spam, drafts or other. */
  folder: z.enum(['inbox', 'sent', 'archive', 'trash', 'spam', 'drafts', 'other']),
  /** Provider ids of the message's labels (Gmail label ids; Outlook: its folder id). Names: LabelRef. */
  labels: z.array(z.string().max(255)),
  attachments: z.array(AttachmentMeta),
  hasAttachments: z.boolean(),
});
export type ProviderMessage = z.infer<typeof ProviderMessage>;

/** A stored message: provider metadata plus threadlink's keys. Still strict; still no body. */
export const MessageMeta = ProviderMessage.extend({
  id: z.string().min(1),
  tenantId: z.string().min(1),
  connectionId: z.string().min(1),
  userId: z.string().min(1),
  provider: ProviderId,
  threadId: z.string().min(1),
  /** Reference tokens found by the host's patterns (kept so rematch is an index lookup). */
  referenceTokens: z.array(z.string().max(128)),
  syncedAt: EpochMs,
});
export type MessageMeta = z.infer<typeof MessageMeta>;

/** Keys that would carry message content. Rejected everywhere metadata crosses a boundary. */
export const FORBIDDEN_CONTENT_KEYS = ['body', 'snippet', 'bodyPreview', 'html', 'text', 'content', 'raw', 'uniqueBody'] as const;

export const RecordRef = z.strictObject({
  /** The host's record type: client, contact, company, project, proposal, work_order, … */
  type: z.string().min(1).max(64),
  id: z.string().min(1).max(256),
  /** A display label supplied by the host (e.g. "Acme Corp" or "PRJ-1042"). */
  label: z.string().max(512).optional(),
});
export type RecordRef = z.infer<typeof RecordRef>;

export const MatchRule = z.enum(['participant.address', 'participant.domain', 'reference', 'signed_proposal', 'thread', 'subject', 'manual']);
export type MatchRule = z.infer<typeof MatchRule>;

export const RecordLink = z.strictObject({
  messageId: z.string().min(1),
  record: RecordRef,
  rule: MatchRule,
  reason: z.string().max(1024),
  confidence: z.number().min(0).max(1),
  manual: z.boolean(),
  /** A manual unlink: the record is hidden for this message and automatic rules may not re-add it. */
  suppressed: z.boolean(),
  createdAt: EpochMs,
});
export type RecordLink = z.infer<typeof RecordLink>;

export const ChangeHintKind = z.enum(['changes', 'resync', 'renew', 'recreate']);
export type ChangeHintKind = z.infer<typeof ChangeHintKind>;

/** What a verified webhook tells the engine: "something changed for this connection". */
export const ChangeHint = z.strictObject({
  connectionId: z.string().min(1),
  kind: ChangeHintKind,
  /** Provider-side id of the notification (Pub/Sub messageId, Graph item hash) for dedupe. */
  notificationId: z.string().max(512).optional(),
  /**
   * Where in the mailbox the change is (Outlook: the folders whose subscriptions fired). The
   * engine may pull only these; absent means anywhere, and every pull that is not a push's covers
   * the whole mailbox. Names are the adapter's own (no commas: they travel joined in job data).
   */
  scope: z
    .array(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/))
    .min(1)
    .max(16)
    .optional(),
  receivedAt: EpochMs,
});
export type ChangeHint = z.infer<typeof ChangeHint>;

/** Tokens as the adapter needs them; the engine seals them before they reach a store. */
export const ProviderTokens = z.strictObject({
  accessToken: z.string().min(1),
  refreshToken: z.string().optional(),
  expiresAt: EpochMs.optional(),
  scope: z.string().optional(),
  /** Adapter-owned serialized state (e.g. the MSAL token cache). Sealed with the rest. */
  cache: z.string().optional(),
});
export type ProviderTokens = z.infer<typeof ProviderTokens>;

export const MessageBody = z.strictObject({
  html: z.string().nullable(),
  text: z.string().nullable(),
  attachments: z.array(AttachmentMeta),
});
export type MessageBody = z.infer<typeof MessageBody>;

export const ReplyDraft = z.strictObject({
  text: z.string().max(5_000_000).optional(),
  html: z.string().max(5_000_000).optional(),
  cc: z.array(EmailAddress).optional(),
  /** Reply to everyone on the original (default: only the sender). */
  replyAll: z.boolean().optional(),
  attachments: z
    .array(z.strictObject({ filename: z.string().min(1).max(255), content: z.instanceof(Uint8Array), contentType: z.string().optional() }))
    .optional(),
});
export type ReplyDraft = z.infer<typeof ReplyDraft>;

/** An attachment the host hands over for a new message or a reply: bytes it already holds. */
const OutgoingAttachment = z.strictObject({
  filename: z.string().min(1).max(255),
  content: z.instanceof(Uint8Array),
  contentType: z.string().max(255).optional(),
});

/**
 * A new message (not a reply): `tl.messages.send`. At least one recipient in To, Cc or Bcc, and
 * text or html (core refuses an empty message before any provider call). 500 recipients in all is
 * Exchange Online's default per-message limit; Gmail's is the same.
 */
export const ComposeDraft = z
  .strictObject({
    to: z.array(Participant).max(500).default([]),
    cc: z.array(Participant).max(500).default([]),
    bcc: z.array(Participant).max(500).default([]),
    subject: z.string().max(998).default(''),
    text: z.string().max(5_000_000).optional(),
    html: z.string().max(5_000_000).optional(),
    attachments: z.array(OutgoingAttachment).max(100).optional(),
  })
  .refine((draft) => draft.to.length + draft.cc.length + draft.bcc.length > 0, { message: 'A new message needs at least one recipient' })
  .refine((draft) => draft.to.length + draft.cc.length + draft.bcc.length <= 500, { message: 'At most 500 recipients' });
export type ComposeDraft = z.infer<typeof ComposeDraft>;

/** A forward (`tl.messages.forward`): recipients, an optional note over the original, extra files. */
export const ForwardDraft = z
  .strictObject({
    to: z.array(Participant).max(500).default([]),
    cc: z.array(Participant).max(500).default([]),
    bcc: z.array(Participant).max(500).default([]),
    text: z.string().max(5_000_000).optional(),
    html: z.string().max(5_000_000).optional(),
    attachments: z.array(OutgoingAttachment).max(100).optional(),
  })
  .refine((draft) => draft.to.length + draft.cc.length + draft.bcc.length > 0, { message: 'A forward needs at least one recipient' })
  .refine((draft) => draft.to.length + draft.cc.length + draft.bcc.length <= 500, { message: 'At most 500 recipients' });
export type ForwardDraft = z.infer<typeof ForwardDraft>;
