// The MetadataStore port: connections (tokens sealed), message metadata, record links,
// cursors, leases and one-time keys. Everything is scoped by tenant and connection.
// The key write is `applySync`: rows and the cursor that covers them commit together,
// so a crash replays the pull instead of skipping it.
import type { Connection, ConnectionStatus, MessageMeta, ProviderId, RecordLink, RecordRef } from '../domain/schemas.js';

export interface SyncBatch {
  /** Insert or replace by (connectionId, providerMessageId). Existing links are kept. */
  upserts: MessageMeta[];
  /** Provider message ids to delete, with all their links (manual ones too). */
  deletes: string[];
  /**
   * The automatic links of every message in `upserts` are replaced by the entries here for that
   * message. Manual links and manual unlinks (suppressed) are never touched by applySync.
   */
  links: RecordLink[];
  /** The new cursor; undefined leaves it unchanged. */
  cursor?: string | null;
  /** Compare-and-set: the stored cursor must equal this, else CURSOR_CONFLICT and nothing changes. */
  expectedCursor?: string | null;
  /** Connection fields updated in the same transaction (backfill progress, health, status). */
  connection?: ConnectionPatch;
}

export interface ApplySyncResult {
  /** Message ids (threadlink ids) newly inserted. */
  inserted: string[];
  /** Message ids that existed and were replaced. */
  updated: string[];
  /** Message ids removed. */
  deleted: string[];
}

export type ConnectionPatch = Partial<Omit<Connection, 'id' | 'tenantId' | 'provider' | 'createdAt'>>;

export interface ConnectionQuery {
  tenantId?: string;
  userId?: string;
  provider?: ProviderId;
  accountEmail?: string;
  /** A push subscription id (Gmail watch, Graph subscription) held in `subscription.items`. */
  subscriptionId?: string;
  status?: ConnectionStatus[];
}

/** Index look-ups behind rematch: any message whose participants or reference tokens hit. */
export interface MessageIndexQuery {
  addresses?: string[];
  domains?: string[];
  referenceTokens?: string[];
  threadIds?: string[];
}

export interface PageRequest {
  limit: number;
  /** Opaque keyset cursor from a previous page. */
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
  links: RecordLink[];
}

export interface ThreadPage {
  threads: Array<{
    threadId: string;
    lastActivityAt: number;
    messages: StoredMessage[];
  }>;
  next: string | null;
}

export interface PurgeReport {
  connections: number;
  messages: number;
  links: number;
  other: number;
}

export type ExportRecord =
  | { kind: 'connection'; data: Omit<Connection, 'sealedTokens'> & { sealedTokens: '[sealed]' } }
  | { kind: 'message'; data: MessageMeta }
  | { kind: 'link'; data: RecordLink };

export interface LeaseRequest {
  key: string;
  owner: string;
  ttlMs: number;
  now: number;
}

export interface MetadataStore {
  readonly name: string;
  /** Create tables / run migrations. Idempotent. */
  init(): Promise<void>;
  close(): Promise<void>;

  // Connections
  saveConnection(connection: Connection): Promise<void>;
  patchConnection(connectionId: string, patch: ConnectionPatch): Promise<Connection | null>;
  getConnection(connectionId: string): Promise<Connection | null>;
  listConnections(query: ConnectionQuery): Promise<Connection[]>;

  // Sync
  applySync(connectionId: string, batch: SyncBatch): Promise<ApplySyncResult>;
  /** Every provider message id stored for a connection (resync reconciliation). */
  listProviderMessageIds(connectionId: string): Promise<string[]>;

  // Messages (tenant-scoped: another tenant's id answers null / nothing)
  getMessage(tenantId: string, messageId: string): Promise<StoredMessage | null>;
  getMessages(tenantId: string, messageIds: string[]): Promise<StoredMessage[]>;
  getMessageByProviderId(connectionId: string, providerMessageId: string): Promise<StoredMessage | null>;
  findByInternetMessageId(tenantId: string, internetMessageIds: string[]): Promise<StoredMessage[]>;
  /** A thread's messages, oldest first. */
  listThread(tenantId: string, threadId: string, connectionIds?: string[]): Promise<StoredMessage[]>;
  /** Message ids hitting the index query, ascending by id, keyset-paginated. */
  findMessageIds(tenantId: string, query: MessageIndexQuery, page: PageRequest): Promise<{ ids: string[]; next: string | null }>;

  // Links
  /** Insert automatic links unless the (message, record) pair already has a link (manual or not). */
  addLinks(tenantId: string, links: RecordLink[]): Promise<number>;
  /** Upsert a manual link or manual unlink (suppressed); replaces any link for the same (message, record). */
  saveManualLink(tenantId: string, link: RecordLink): Promise<void>;
  /** Remove a manual decision (back to automatic rules). */
  removeLink(tenantId: string, messageId: string, record: RecordRef): Promise<boolean>;

  // Timelines
  timeline(query: TimelineQuery): Promise<ThreadPage>;

  // Coordination
  acquireLease(request: LeaseRequest): Promise<boolean>;
  renewLease(request: LeaseRequest): Promise<boolean>;
  releaseLease(key: string, owner: string): Promise<void>;
  /** True the first time a key is claimed before it expires (notification dedupe, OAuth state replay). */
  claimOnce(key: string, expiresAt: number, now: number): Promise<boolean>;

  // Offboarding
  purgeConnection(connectionId: string): Promise<PurgeReport>;
  exportConnection(connectionId: string): AsyncIterable<ExportRecord>;
}
