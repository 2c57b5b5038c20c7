// applySync in two phases, like a transaction: `planSync` validates the whole batch and
// reads only; `commitSync` mutates, and cannot fail part-way. Nothing awaits in between,
// so no other call interleaves: a rejected batch leaves messages, links and cursor untouched.
// The batch rules themselves (what is refused, which id a message keeps) are core's.
import {
  assignStoredIds,
  keepThreadingHeaders,
  parseSyncBatch,
  recordKey,
  syncResult,
  ThreadlinkError,
  threadIdsToRead,
  validateSyncBatch,
  withThreadLinks,
  type ApplySyncResult,
  type Connection,
  type MessageMeta,
  type PlannedUpsert,
  type RecordLink,
  type StoredMessage,
  type SyncBatch,
} from '@threadlink/core/store';
import { indexAdd, indexMessage, indexRemove, providerKey, unindexMessage } from './indexes.js';
import { copy, deleteLink, deleteMessage, linksOf, setLink, type Tables } from './tables.js';

export function subscriptionIds(connection: Connection): string[] {
  return connection.subscription?.items.map((item) => item.id) ?? [];
}

export function writeConnection(tables: Tables, connection: Connection): void {
  const previous = tables.connections.get(connection.id);
  if (previous) for (const id of subscriptionIds(previous)) indexRemove(tables.indexes.bySubscription, id, previous.id);
  tables.connections.set(connection.id, copy(connection));
  for (const id of subscriptionIds(connection)) indexAdd(tables.indexes.bySubscription, id, connection.id);
}

interface MemorySyncPlan {
  /** As planned by core, for the result. */
  planned: PlannedUpsert[];
  upserts: Array<{ message: MessageMeta; previous: MessageMeta | undefined; links: RecordLink[] }>;
  deletes: MessageMeta[];
  connection: Connection | null;
}

/** `readThreads`: the connection's stored messages of these threads (`linksFromThreads`), read before any write. */
export function planSync(
  tables: Tables,
  connectionId: string,
  batch: SyncBatch,
  readThreads: (connection: Connection, threadIds: string[]) => StoredMessage[],
): MemorySyncPlan {
  const parsed = parseSyncBatch(batch);
  const connection = tables.connections.get(connectionId);
  if (!connection) throw new ThreadlinkError('CONNECTION_NOT_FOUND', 'No such connection', { details: { connectionId } });
  const threadIds = threadIdsToRead(batch);
  const withThreads = withThreadLinks(batch, parsed, threadIds.length > 0 ? readThreads(connection, threadIds) : []);
  const storedMessageOf = (providerMessageId: string): MessageMeta | undefined => {
    const id = tables.indexes.byProviderId.get(providerKey(connection.id, providerMessageId));
    return id === undefined ? undefined : tables.messages.get(id);
  };
  const plan = assignStoredIds(validateSyncBatch(connection, withThreads), {
    storedIdOf: (providerMessageId) => storedMessageOf(providerMessageId)?.id,
    isTaken: (messageId) => tables.messages.has(messageId),
  });

  const linksById = new Map<string, RecordLink[]>();
  for (const link of plan.links) {
    const list = linksById.get(link.messageId) ?? [];
    list.push(link);
    linksById.set(link.messageId, list);
  }
  const upserts = plan.upserts.map(({ message, exists }) => ({
    message,
    previous: exists ? tables.messages.get(message.id) : undefined,
    links: linksById.get(message.id) ?? [],
  }));

  const upsertedByProviderId = new Map(plan.upserts.map(({ message }) => [message.providerMessageId, message]));
  // A delete of a message this batch inserts removes it too (after the insert, as in SQL).
  const deletes = plan.deletes.flatMap((providerMessageId) => storedMessageOf(providerMessageId) ?? upsertedByProviderId.get(providerMessageId) ?? []);
  return { planned: plan.upserts, upserts, deletes, connection: plan.nextConnection };
}

export function commitSync(tables: Tables, plan: MemorySyncPlan): ApplySyncResult {
  for (const { message: given, previous, links } of plan.upserts) {
    const message = previous ? keepThreadingHeaders(given, previous) : given;
    if (previous) unindexMessage(tables.indexes, previous);
    tables.messages.set(message.id, copy(message));
    indexMessage(tables.indexes, message);

    const decided = new Set<string>();
    for (const link of linksOf(tables, message.id)) {
      if (link.manual) decided.add(recordKey(link.record));
      else deleteLink(tables, message.tenantId, link);
    }
    for (const link of links) if (!decided.has(recordKey(link.record))) setLink(tables, message.tenantId, link);
  }
  const removedIds: string[] = [];
  for (const candidate of plan.deletes) {
    const message = tables.messages.get(candidate.id);
    if (!message) continue;
    deleteMessage(tables, message);
    removedIds.push(message.id);
  }
  if (plan.connection) writeConnection(tables, plan.connection);
  return syncResult(plan.planned, removedIds);
}
