// Typed events. Payloads carry metadata and ids only: never a body, snippet or token.
import type { BackfillProgress, Connection, MessageMeta, RecordLink } from './domain/schemas.js';
import type { ContactSuggestion } from './api.js';
import type { ErrorCode } from './errors.js';

/** A connection as events and public reads expose it: no sealed tokens. */
export type PublicConnection = Omit<Connection, 'sealedTokens'>;

export interface ThreadlinkEvents {
  'connection.live': { connection: PublicConnection };
  'connection.needs_reauth': { connection: PublicConnection; reason: string };
  'connection.disconnected': { connectionId: string; tenantId: string; purged: boolean };
  /** `connect: { loginHint: 'warn' }` only: the user granted another account than the hint; it was connected anyway. */
  'connection.account_mismatch': { connectionId: string; tenantId: string; userId: string; provider: string; loginHint: string; accountEmail: string };
  'connection.stalled': { connection: PublicConnection; reason: string };
  'backfill.progress': { connectionId: string; tenantId: string; progress: BackfillProgress; done: number; estimatedTotal: number | null };
  'backfill.done': { connectionId: string; tenantId: string; total: number };
  'message.synced': { message: MessageMeta; created: boolean };
  'message.matched': { message: MessageMeta; links: RecordLink[] };
  'message.deleted': { connectionId: string; tenantId: string; messageId: string; providerMessageId: string };
  /**
   * New mail brought an address the CRM does not know to the suggestion threshold (`contacts.suggestThreshold`);
   * at most once per 30 days per address. Evaluated only while a listener is subscribed (it costs a store
   * query and a resolver call per synced page).
   */
  'contact.suggested': { tenantId: string; suggestion: ContactSuggestion };
  'sync.error': { connectionId: string; code: ErrorCode; message: string; retryable: boolean; attempt: number };
  'notification.received': { provider: string; connectionIds: string[]; hints: number };
  'notification.rejected': { provider: string; code: ErrorCode; status: number };
  /** Organizations (issue 19): ids and counts only, never credentials. */
  'org.connected': { orgId: string; tenantId: string; provider: string };
  'org.mailbox.added': { orgId: string; tenantId: string; connectionId: string; kind: 'user' | 'shared' };
  'org.mailbox.removed': { orgId: string; tenantId: string; connectionId: string };
  'org.needs_reauth': { orgId: string; tenantId: string; provider: string; reason: string };
  'org.disconnected': { orgId: string; tenantId: string; mailboxes: number };
}

export type ThreadlinkEventName = keyof ThreadlinkEvents;

export function publicConnection(connection: Connection): PublicConnection {
  const { sealedTokens: _sealed, ...rest } = connection;
  return rest;
}

/** Every event name, for hosts and tests that subscribe to all of them. */
export const THREADLINK_EVENT_NAMES = [
  'connection.live',
  'connection.needs_reauth',
  'connection.disconnected',
  'connection.account_mismatch',
  'connection.stalled',
  'backfill.progress',
  'backfill.done',
  'message.synced',
  'message.matched',
  'message.deleted',
  'contact.suggested',
  'sync.error',
  'notification.received',
  'notification.rejected',
  'org.connected',
  'org.mailbox.added',
  'org.mailbox.removed',
  'org.needs_reauth',
  'org.disconnected',
] as const satisfies readonly ThreadlinkEventName[];

// Compile-time check that the list names every event.
type MissingEvent = Exclude<ThreadlinkEventName, (typeof THREADLINK_EVENT_NAMES)[number]>;
const everyEventListed: MissingEvent extends never ? true : never = true;
void everyEventListed;
