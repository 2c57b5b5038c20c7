// The MetadataStore port: connections (tokens sealed), message metadata, record links,
// cursors, leases and one-time keys. Everything is scoped by tenant and connection.
// The key write is `applySync`: rows and the cursor that covers them commit together,
// so a crash replays the pull instead of skipping it.
//
// Shared rules (every backend, checked by runStoreConformance in @threadlink/testing; helpers in
// core's util/store-rules.ts and store/, where applySync's batch checks are validateSyncBatch and
// assignStoredIds): input is parsed with the strict schemas — a content key such as
// body/snippet/bodyPreview is CONTENT_FORBIDDEN, any other bad input INVALID_INPUT. Ids compare
// in binary order (Postgres `COLLATE "C"`). Returned objects are copies. Leases and claims are live
// while `now < expiresAt`. Lease/claim keys name a connection by a `:` segment (`sync:<id>`).
import type { ConnectionPolicy, TenantPolicy } from '../domain/policy.js';
import type { Organization } from '../domain/organization.js';
import type { Connection, ConnectionHealthState, ConnectionStatus, LabelRef, MessageMeta, ProviderId, RecordLink, RecordRef } from '../domain/schemas.js';

export interface SyncBatch {
  /**
   * Insert or replace by (connectionId, providerMessageId). Existing links are kept. Each must
   * carry the connection's tenantId, connectionId and provider (else INVALID_INPUT). When the pair
   * is already stored under another `id`, the stored id is kept (and batch links follow it).
   * The same providerMessageId twice in one batch: the last entry wins. A replacing entry with
   * neither `inReplyTo` nor `references` keeps both as stored: a message's threading headers never
   * change, but not every copy shows them (Graph's Sent Items copy has no internetMessageHeaders).
   */
  upserts: MessageMeta[];
  /** Provider message ids to delete, with all their links (manual ones too). Applied after the
   * upserts; unknown ids are ignored. */
  deletes: string[];
  /**
   * The automatic links of every message in `upserts` are replaced by the entries here for that
   * message. Manual links and manual unlinks (suppressed) are never touched by applySync: an entry
   * for a (message, record) pair that has a manual decision is skipped. Every entry must be
   * automatic (`manual: false`) and name a message of this batch's upserts (else INVALID_INPUT);
   * several entries for one (message, record) keep the highest confidence.
   */
  links: RecordLink[];
  /** The new cursor; undefined leaves it unchanged. */
  cursor?: string | null;
  /** Compare-and-set: the stored cursor must equal this, else CURSOR_CONFLICT and nothing changes.
   * Undefined skips the check; null expects no cursor. */
  expectedCursor?: string | null;
  /** Connection fields updated in the same transaction (backfill progress, health, status), with
   * patchConnection's rules (health merged field by field). `cursor` above wins over `connection.cursor`. */
  connection?: ConnectionPatch;
  /**
   * Links that depend on the stored thread (thread-link inheritance), computed INSIDE the write: the
   * store reads this connection's stored messages of `threadIds` (as `listThreads(tenantId, threadIds,
   * [connectionId])` answers, before the batch's own writes), calls `build` with them (synchronous,
   * no I/O) and applies what it returns as more `links`, under the same rules. A sync batch then
   * costs one transaction, not a read and a write (issue 21). `build` throwing writes nothing.
   */
  linksFromThreads?: { threadIds: string[]; build(stored: StoredMessage[]): RecordLink[] };
  /**
   * The job's lease, released by the same write when it commits (`releaseLease(key, owner)`'s
   * rules: another owner's lease is left alone). A refused batch releases nothing.
   */
  releaseLease?: { key: string; owner: string };
}

export interface ApplySyncResult {
  /** Message ids (threadlink ids) newly inserted. Each id appears in at most one list. */
  inserted: string[];
  /** Message ids that existed and were replaced. */
  updated: string[];
  /** Message ids removed (deletes of unknown ids are not listed). */
  deleted: string[];
}

/**
 * Top-level fields replace the stored ones (undefined leaves a field alone). `health` is merged
 * field by field into the stored health, inside the store's write: the webhook (lastPushAt) and
 * the job holding the mailbox (lastSyncAt, errors) write different health fields of one row
 * concurrently, and neither may overwrite the other's with a stale copy.
 */
export type ConnectionPatch = Partial<Omit<Connection, 'id' | 'tenantId' | 'provider' | 'createdAt' | 'health'>> & {
  health?: Partial<ConnectionHealthState>;
};

export interface ConnectionQuery {
  tenantId?: string;
  userId?: string;
  provider?: ProviderId;
  accountEmail?: string;
  /** A push subscription id (Gmail watch, Graph subscription) held in `subscription.items`. */
  subscriptionId?: string;
  /**
   * Any of these push subscription ids: a Graph batch checks all its subscriptions in one query,
   * so an unauthenticated request costs one look-up, not one per notification. Empty: nothing.
   */
  subscriptionIds?: string[];
  status?: ConnectionStatus[];
  /** The mailbox connections an organization owns (issue 19). */
  orgId?: string;
  /**
   * Any of these account addresses (case-insensitive): webhook intake looks up the connections of
   * several pushed mailboxes in one query. Empty: nothing.
   */
  accountEmails?: string[];
}

/**
 * Index look-ups behind rematch: any message whose participants (from, to, cc, bcc, reply-to)
 * or reference tokens hit — the union of every listed criterion. Addresses and domains match
 * case-insensitively; reference tokens and thread ids exactly. An empty query hits nothing.
 */
export interface MessageIndexQuery {
  addresses?: string[];
  domains?: string[];
  referenceTokens?: string[];
  threadIds?: string[];
}

/**
 * Contact discovery's look-up: who the mailboxes exchanged mail with, per address, from stored
 * participants only. An address counts as `received` for each inbound message it is the sender
 * (`from`) of, and as `sent` for each outbound message it is a recipient (to, cc, bcc) of; reply-to
 * and other roles count for nothing. A message is counted once per address however many roles
 * name it. Addresses and domains compare case-insensitively.
 */
export interface ParticipantActivityQuery {
  tenantId: string;
  /** Only these connections' messages (undefined: every connection of the tenant). */
  connectionIds?: string[];
  /** Only messages received at or after this time (epoch ms; undefined: all). */
  since?: number;
  /** Only these addresses (undefined: every address). */
  addresses?: string[];
  /** Never returned (the tenant's own mailboxes). */
  excludeAddresses?: string[];
  /** Addresses at these domains are never returned (the tenant's own domains). */
  excludeDomains?: string[];
  /** 1..1000 (MAX_PAGE_LIMIT); anything else is INVALID_INPUT. */
  limit: number;
}

/**
 * One address's exchange with the mailboxes. Ordered two-way first: by min(received, sent) desc,
 * then received + sent desc, then the latest of lastReceivedAt / lastSentAt desc, then address
 * (binary) — so a backend can cut at `limit` and still return the best candidates.
 */
export interface ParticipantActivity {
  /** Lower case. */
  address: string;
  /** The display name on the newest counted message that carries one (ties by message id, greatest), else null. */
  name: string | null;
  /** Inbound messages from the address. */
  received: number;
  /** Outbound messages to it (to, cc or bcc). */
  sent: number;
  /** Newest receivedAt among those inbound messages, or null. */
  lastReceivedAt: number | null;
  /** Newest receivedAt among those outbound messages, or null. */
  lastSentAt: number | null;
}

export interface PageRequest {
  /** 1..1000 (MAX_PAGE_LIMIT); anything else is INVALID_INPUT. */
  limit: number;
  /** Opaque keyset cursor from a previous page (a malformed one is INVALID_INPUT). */
  after?: string | null;
}

export interface TimelineQuery extends PageRequest {
  tenantId: string;
  record: RecordRef;
  /** Restrict to these connections (user-scoped visibility); undefined = every connection of the tenant. */
  connectionIds?: string[];
  /** true: whole threads that touch the record (client panel); false: only linked messages (project panel). */
  wholeThreads: boolean;
}

export interface StoredMessage extends MessageMeta {
  /** Every link of the message, manual unlinks (suppressed: true) included so callers can tell
   * "unlinked by a user" from "never linked"; ordered by record type then id. */
  links: RecordLink[];
}

/**
 * Threads that have at least one non-suppressed link to the record among the visible messages,
 * ordered by lastActivityAt desc then threadId desc (binary); `next` is null on the last page.
 * Messages oldest first (receivedAt, then id).
 */
export interface ThreadPage {
  threads: Array<{
    threadId: string;
    /** The newest receivedAt among the messages returned for this thread. */
    lastActivityAt: number;
    messages: StoredMessage[];
  }>;
  next: string | null;
}

/** A label directory entry with the connection it belongs to (ids are only unique per mailbox). */
export interface ConnectionLabel extends LabelRef {
  connectionId: string;
}

export interface PurgeReport {
  connections: number;
  messages: number;
  links: number;
  /** Leases, claims, label directory entries and any other rows named for the connection. */
  other: number;
}

/** Export order: the connection, then its labels (id), then its messages (receivedAt, id), then their links. */
export type ExportRecord =
  | { kind: 'connection'; data: Omit<Connection, 'sealedTokens'> & { sealedTokens: '[sealed]' } }
  | { kind: 'label'; data: ConnectionLabel }
  | { kind: 'message'; data: MessageMeta }
  | { kind: 'link'; data: RecordLink };

/** The stored ingestion policies that apply to one connection (null: none saved, the defaults apply). */
export interface StoredPolicies {
  tenant: TenantPolicy | null;
  connection: ConnectionPolicy | null;
}

/** What purgeMessages removed. */
export interface MessagePurge {
  /** Threadlink ids of the messages removed, in the order asked (unknown ids are not listed). */
  messageIds: string[];
  /** Links removed with them (manual ones too). */
  links: number;
}

export interface LeaseRequest {
  key: string;
  owner: string;
  ttlMs: number;
  now: number;
}

/** A sync job's lease and the connection it works on (`acquireSyncLeases`). */
export interface SyncLeaseRequest extends LeaseRequest {
  connectionId: string;
}

/** `context` is read only when the lease is won (null then when the connection does not exist). */
export interface SyncLeaseResult {
  acquired: boolean;
  context: SyncContext | null;
}

/** A push notification's redelivery claim and the push it records, written together (`claimPush`). */
/** One stored message's provider id and label ids (`MetadataStore.listProviderMessageLabels`). */
export interface StoredMessageLabels {
  providerMessageId: string;
  labels: string[];
}

/** What `markOrganizationNeedsReauth` writes: when, and the error code on each mailbox's health. */
export interface OrgReauthMark {
  at: number;
  errorCode: string;
}

export interface OrgReauthResult {
  /** True when this call moved the org to needs_reauth (at most one concurrent caller sees true). */
  organizationChanged: boolean;
  /** The org's connections this call moved to needs_reauth. */
  connections: Connection[];
}

export interface PushClaim {
  /** The notification's claim key, as `claimOnce` takes it. */
  key: string;
  expiresAt: number;
  now: number;
  connectionId: string;
  /** Merged into the connection's `health.lastPushAt` only when the claim is won; null leaves health alone. */
  lastPushAt: number | null;
  /**
   * The sync lease of `connectionId`, to take in the same transaction when the claim is won
   * (`claimPushesForAccounts` only): the push's sync job runs in this process and starts from it,
   * so a push into a quiet mailbox costs the claim and the job's commit, not a third transaction for
   * the lease (issue 21). Taken as `acquireSyncLeases` takes it, with `now` the claim's.
   */
  lease?: PushLease;
}

/** The sync lease a push claim takes for the job it starts (`PushClaim.lease`). */
export interface PushLease {
  key: string;
  owner: string;
  ttlMs: number;
}

/** `claimPushesForAccounts`' answer. */
export interface PushClaimsAnswer {
  won: boolean[];
  connectionIds: string[][];
  /**
   * One per claim, for claims that asked for a `lease`: what `acquireSyncLeases` would answer (not
   * acquired when the claim was lost or another owner holds the lease); undefined for a claim that
   * asked for none. A store that takes no leases with claims leaves it out. The context's
   * `health.lastPushAt` may predate this batch's claims (SQL reads the statement's snapshot).
   */
  leases?: Array<SyncLeaseResult | undefined>;
}

/** A provider account a push named (a Gmail push names its mailbox's address). */
export interface PushAccount {
  provider: ProviderId;
  accountEmail: string;
}

/** What a page will hold, known before its messages are read (`prepareSync`). */
export interface SyncPreview {
  /** The page's threads (their stored messages give thread-link inheritance). */
  threadIds: string[];
  /** The page's messages: their stored ids are read with the threads. */
  messages: Array<{ id: string; providerMessageId: string }>;
}

/** A page's applySync transaction, opened ahead of the page (`prepareSync`). */
export interface PreparedSync {
  readonly connectionId: string;
  /** Rolls the transaction back unless an applySync took it; safe to call more than once. */
  release(): void;
}

export interface ApplySyncOptions {
  prepared?: PreparedSync | null | undefined;
}

/** What a sync job starts from (`getSyncContext`). */
export interface SyncContext {
  connection: Connection;
  policies: StoredPolicies;
}

export interface MetadataStore {
  readonly name: string;
  /** Create tables / run migrations. Idempotent. */
  init(): Promise<void>;
  close(): Promise<void>;

  // Connections
  /** Insert or replace. Moving an existing connection to another tenant is INVALID_INPUT. */
  saveConnection(connection: Connection): Promise<void>;
  /** Null when the connection does not exist. The result must parse as a Connection (see ConnectionPatch). */
  patchConnection(connectionId: string, patch: ConnectionPatch): Promise<Connection | null>;
  getConnection(connectionId: string): Promise<Connection | null>;
  /** Every filter given must hold (status: any of); ordered by createdAt, then id. */
  listConnections(query: ConnectionQuery): Promise<Connection[]>;

  // Sync
  /**
   * Atomic: everything is validated before anything is written. Unknown connection → CONNECTION_NOT_FOUND.
   * `options.prepared`: the transaction `prepareSync` opened for this page; the store uses it when
   * it still holds and covers the batch, and otherwise commits as without it (the answer is the same).
   */
  applySync(connectionId: string, batch: SyncBatch, options?: ApplySyncOptions): Promise<ApplySyncResult>;
  /**
   * Optional (PostgreSQL on a pool). Opens the transaction of a page's coming `applySync` now — its
   * connection row locked, the page's threads and ids read — while the page is still being read from
   * the provider, so `applySync(…, { prepared })` then costs one round trip instead of two. Null when
   * the store declines: other applySyncs are in flight (a prepared transaction holds its row lock
   * across a provider round trip, so only a quiet store opens one), one is already held, or it has
   * no connection to spare. The store rolls a prepared transaction back by itself when no applySync
   * takes it soon (PostgreSQL: within 1 s); the caller calls `release()` when the page will not
   * be committed (its pull failed). Never throws.
   */
  prepareSync?(connectionId: string, preview: SyncPreview): PreparedSync | null;
  /** Every provider message id stored for a connection (resync reconciliation). */
  listProviderMessageIds(connectionId: string): Promise<string[]>;
  /**
   * Every provider message id stored for a connection with its stored label ids (Gmail label ids;
   * Outlook: its folder id), ordered by id as `listProviderMessageIds`. A resync after an expired
   * cursor compares them with the provider's per-label listings to re-read only what changed.
   */
  listProviderMessageLabels(connectionId: string): Promise<StoredMessageLabels[]>;

  // Messages (tenant-scoped: another tenant's ids answer nothing). One batch read each; core's
  // getMessage / listThread (store/reads.ts) derive the single-item reads from them.
  /** In the order asked; unknown (or other tenants') ids are skipped. */
  getMessages(tenantId: string, messageIds: string[]): Promise<StoredMessage[]>;
  getMessageByProviderId(connectionId: string, providerMessageId: string): Promise<StoredMessage | null>;
  /** Every message of these threads in one call (matching a page reads all its threads at once),
   * oldest first (receivedAt, then id); unknown thread ids are skipped. `connectionIds` keeps only
   * those connections' copies (undefined: every connection of the tenant). */
  listThreads(tenantId: string, threadIds: string[], connectionIds?: string[]): Promise<StoredMessage[]>;
  /** Message ids hitting the index query, ascending by id, keyset-paginated. */
  findMessageIds(tenantId: string, query: MessageIndexQuery, page: PageRequest): Promise<{ ids: string[]; next: string | null }>;
  /** Per-address exchange counts for contact discovery, best two-way candidates first (see ParticipantActivity), at most `limit`. */
  participantActivity(query: ParticipantActivityQuery): Promise<ParticipantActivity[]>;

  // Links
  /**
   * Insert automatic links unless the (message, record) pair already has a link (manual or not).
   * Links to messages outside the tenant are ignored; a `manual: true` entry is INVALID_INPUT.
   * Returns how many were inserted.
   */
  addLinks(tenantId: string, links: RecordLink[]): Promise<number>;
  /**
   * Upsert a manual link or manual unlink (suppressed); replaces any link for the same (message, record).
   * `manual` must be true (else INVALID_INPUT); a message outside the tenant is NOT_FOUND.
   */
  saveManualLink(tenantId: string, link: RecordLink): Promise<void>;
  /** Remove a manual decision (back to automatic rules). Automatic links are not removed: false. */
  removeLink(tenantId: string, messageId: string, record: RecordRef): Promise<boolean>;

  // Timelines
  timeline(query: TimelineQuery): Promise<ThreadPage>;

  // Label directory (Gmail labels, Outlook folders): names live here once per connection, not on messages
  /**
   * Replaces the connection's whole directory with `labels` (parsed as LabelRef; an id twice:
   * the last entry wins). Unknown connection → CONNECTION_NOT_FOUND. Messages are not touched.
   */
  saveLabels(connectionId: string, labels: LabelRef[]): Promise<void>;
  /**
   * The directories of these connections (tenant-scoped: other tenants' connections answer
   * nothing), ordered by connectionId then id. Empty list: nothing.
   */
  listLabels(tenantId: string, connectionIds: string[]): Promise<ConnectionLabel[]>;

  // Coordination
  /**
   * True when the key is free or its lease expired; the caller then holds it until now + ttlMs.
   * Not re-entrant: a live lease refuses everyone, its own owner too (one engine runs several
   * jobs at once under one owner name, and they must not share a mailbox).
   */
  acquireLease(request: LeaseRequest): Promise<boolean>;
  /** True only while this owner still holds an unexpired lease; extends it to now + ttlMs. */
  renewLease(request: LeaseRequest): Promise<boolean>;
  /** Releases the key if this owner holds it; another owner's lease is left alone. */
  releaseLease(key: string, owner: string): Promise<void>;
  /** True the first time a key is claimed before it expires (notification dedupe, OAuth state replay). */
  claimOnce(key: string, expiresAt: number, now: number): Promise<boolean>;
  /**
   * Frees a claim so the key can be claimed again at once (no-op for an unknown key). Webhook intake
   * calls it when the work a claimed notification stands for could not be handed on (store or queue
   * down, instance stopping): the provider redelivers, and the redelivery must not be taken for a
   * duplicate and dropped.
   */
  releaseClaim(key: string): Promise<void>;

  // Ingestion policy (core's policy/ module decides what it means; the store keeps it)
  /** The tenant's policy and, when `connectionId` is given, that connection's, in one read. */
  getPolicies(tenantId: string, connectionId?: string): Promise<StoredPolicies>;
  /**
   * Replaces the tenant's policy (`connectionId` null, parsed as TenantPolicy) or a connection's
   * (parsed as ConnectionPolicy; a connection outside the tenant is CONNECTION_NOT_FOUND).
   * Bad input is INVALID_INPUT. purgeConnection deletes a connection's policy with it.
   */
  savePolicy(tenantId: string, connectionId: string | null, policy: TenantPolicy | ConnectionPolicy): Promise<void>;
  /**
   * Deletes these messages of the tenant with every link of them (manual ones too) and their index
   * rows, in one transaction; other tenants' and unknown ids are skipped. At most 1000 ids (else INVALID_INPUT).
   */
  purgeMessages(tenantId: string, messageIds: string[]): Promise<MessagePurge>;

  /**
   * `claimOnce(key, expiresAt, now)` and, only when it is won and `lastPushAt` is set, the health
   * patch `{ lastPushAt }` of the connection (merged as `patchConnection` merges health), in ONE
   * write: a push costs the store one transaction, not two (issue 21). A missing connection is
   * not an error: the claim is still taken.
   */
  claimPush(claim: PushClaim): Promise<boolean>;
  /**
   * `claimPush` for several pushes in ONE write (webhook intake's group commit: pushes arriving
   * together cost one transaction), answered in the order given. The same key twice: the first
   * entry may win, the later ones lose.
   */
  claimPushes(claims: PushClaim[]): Promise<boolean[]>;
  /**
   * `claimPushes`, and in the same transaction the ids of each account's connections that take
   * pushes (status `connecting`, `backfilling` or `live`; the address compared case-insensitively),
   * sorted, one list per account in the order given. With it, webhook intake remembers an address's
   * connections for minutes instead of seconds (a push then costs no look-up), because every push
   * still learns from its own claim whether a connection of that address was made or removed since,
   * by this instance or another (webhooks/account-lookups.ts). Optional: a store without it keeps
   * the short memory.
   */
  claimPushesForAccounts?(claims: PushClaim[], accounts: PushAccount[]): Promise<PushClaimsAnswer>;

  // Organizations (issue 19): one admin approval owning mailbox connections (`Connection.orgId`)
  /** Insert or replace (parsed as Organization). Moving an existing organization to another tenant is INVALID_INPUT. */
  saveOrganization(organization: Organization): Promise<void>;
  /** Tenant-scoped: another tenant's id answers null. */
  getOrganization(tenantId: string, orgId: string): Promise<Organization | null>;
  /** The tenant's organizations, ordered by createdAt, then id. */
  listOrganizations(tenantId: string): Promise<Organization[]>;
  /** Deletes the organization row (tenant-scoped); its connections are purged by the caller first. True when a row went. */
  deleteOrganization(tenantId: string, orgId: string): Promise<boolean>;
  /**
   * The org's grant stopped working (admin consent revoked, key deleted): in ONE pass (a
   * transaction in SQL) the org becomes `needs_reauth` and so does every connection it owns that is
   * not already `needs_reauth` or `disconnected` (health `lastErrorCode` / `lastErrorAt` merged,
   * `updatedAt` = `at`). Returns whether the org itself changed (false when it was already
   * needs_reauth or is not there: the caller announces the org once) and the connections that changed.
   */
  markOrganizationNeedsReauth(tenantId: string, orgId: string, input: OrgReauthMark): Promise<OrgReauthResult>;
  /**
   * Active organizations of every tenant whose last sync is older than `syncedBefore` (never synced
   * first, then the longest ago; ties by id), at most `limit` (1..1000): the scheduled org sync.
   */
  listOrganizationsDue(query: { syncedBefore: number; limit: number }): Promise<Organization[]>;

  /**
   * The connection and the ingestion policies that apply to it (its tenant's and its own, as
   * `getPolicies(connection.tenantId, connection.id)` answers), in ONE read: a sync job starts with
   * this instead of `getConnection` then `getPolicies` (issue 21). Null when the connection does not exist.
   */
  getSyncContext(connectionId: string): Promise<SyncContext | null>;
  /**
   * `acquireLease` for each request and, for each lease won, `getSyncContext(connectionId)`, all in
   * ONE statement: sync jobs starting together cost one transaction between them (issue 21).
   * Answered in the order given; the same key twice: the first entry may win, the later ones lose.
   */
  acquireSyncLeases(requests: SyncLeaseRequest[]): Promise<SyncLeaseResult[]>;

  // Offboarding
  /** Deletes every row of the connection: itself, messages, their links, its labels, its policy, leases and claims named for it. */
  purgeConnection(connectionId: string): Promise<PurgeReport>;
  /** Everything stored for the connection (nothing for an unknown id); tokens redacted. */
  exportConnection(connectionId: string): AsyncIterable<ExportRecord>;
}
