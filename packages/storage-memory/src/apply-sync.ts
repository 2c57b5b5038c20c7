// applySync in two phases, like a transaction: `planSync` validates the whole batch and
// reads only; `commitSync` mutates, and cannot fail part-way. Nothing awaits in between,
// so no other call interleaves: a rejected batch leaves messages, links and cursor untouched.
import {
  applyConnectionPatch,
  dedupeLinks,
  parseStoredLink,
  parseStoredMessage,
  recordKey,
  SyncCursor,
  parseStoreInput,
  ThreadlinkError,
  type ApplySyncResult,
  type Connection,
  type MessageMeta,
  type RecordLink,
  type SyncBatch,
} from '@threadlink/core';
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

interface SyncPlan {
  upserts: Array<{ message: MessageMeta; previous: MessageMeta | undefined; links: RecordLink[] }>;
  deletes: MessageMeta[];
  connection: Connection | null;
}

export function planSync(tables: Tables, connectionId: string, batch: SyncBatch): SyncPlan {
  const connection = tables.connections.get(connectionId);
  if (!connection) throw new ThreadlinkError('CONNECTION_NOT_FOUND', 'No such connection', { details: { connectionId } });
  if (typeof batch !== 'object' || batch === null || !Array.isArray(batch.upserts) || !Array.isArray(batch.deletes) || !Array.isArray(batch.links)) {
    throw new ThreadlinkError('INVALID_INPUT', 'A sync batch needs upserts, deletes and links arrays');
  }

  // Last entry wins per provider message id (a history page may list one message twice).
  const incoming = new Map<string, MessageMeta>();
  for (const raw of batch.upserts) {
    const message = parseStoredMessage(raw);
    if (message.tenantId !== connection.tenantId || message.connectionId !== connection.id || message.provider !== connection.provider) {
      throw new ThreadlinkError('INVALID_INPUT', "A message's tenant, connection and provider must be its connection's", {
        details: { connectionId, messageId: message.id },
      });
    }
    incoming.set(message.providerMessageId, message);
  }

  const finalIdOf = new Map<string, string>();
  const upserts: SyncPlan['upserts'] = [];
  const batchIds = new Set<string>();
  for (const message of incoming.values()) {
    const storedId = tables.indexes.byProviderId.get(providerKey(connection.id, message.providerMessageId));
    const previous = storedId === undefined ? undefined : tables.messages.get(storedId);
    // The stored id is the row's identity; a differently derived id must not fork it.
    const id = previous?.id ?? message.id;
    if ((!previous && tables.messages.has(id)) || batchIds.has(id)) {
      throw new ThreadlinkError('INVALID_INPUT', 'A message id is already used by another provider message', { details: { messageId: id } });
    }
    batchIds.add(id);
    finalIdOf.set(message.id, id);
    upserts.push({ message: { ...message, id }, previous, links: [] });
  }

  const linksById = new Map<string, RecordLink[]>();
  for (const raw of batch.links) {
    const link = parseStoredLink(raw);
    if (link.manual) throw new ThreadlinkError('INVALID_INPUT', 'applySync takes automatic links only; manual ones go through saveManualLink');
    const id = finalIdOf.get(link.messageId);
    if (id === undefined) {
      throw new ThreadlinkError('INVALID_INPUT', "A link must name a message of the batch's upserts", { details: { messageId: link.messageId } });
    }
    const list = linksById.get(id) ?? [];
    list.push({ ...link, messageId: id });
    linksById.set(id, list);
  }
  for (const upsert of upserts) upsert.links = dedupeLinks(linksById.get(upsert.message.id) ?? []);

  const deletes: MessageMeta[] = [];
  const deleting = new Set<string>();
  for (const providerMessageId of batch.deletes) {
    if (typeof providerMessageId !== 'string') throw new ThreadlinkError('INVALID_INPUT', 'deletes are provider message ids');
    if (deleting.has(providerMessageId)) continue;
    deleting.add(providerMessageId);
    const upserted = incoming.get(providerMessageId);
    const storedId = tables.indexes.byProviderId.get(providerKey(connection.id, providerMessageId));
    const stored = storedId === undefined ? undefined : tables.messages.get(storedId);
    if (stored) deletes.push(stored);
    else if (upserted) deletes.push({ ...upserted, id: finalIdOf.get(upserted.id) ?? upserted.id });
  }

  const cursor = batch.cursor === undefined || batch.cursor === null ? batch.cursor : parseStoreInput(SyncCursor, batch.cursor, 'cursor');
  const nextConnection =
    batch.connection !== undefined || cursor !== undefined ? applyConnectionPatch(connection, batch.connection ?? {}, cursor) : null;

  if (batch.expectedCursor !== undefined && batch.expectedCursor !== connection.cursor) {
    throw new ThreadlinkError('CURSOR_CONFLICT', 'The stored cursor moved since this pull started', { details: { connectionId } });
  }
  return { upserts, deletes, connection: nextConnection };
}

export function commitSync(tables: Tables, plan: SyncPlan): ApplySyncResult {
  const inserted: string[] = [];
  const updated: string[] = [];
  const deleted: string[] = [];
  for (const { message, previous, links } of plan.upserts) {
    if (previous) unindexMessage(tables.indexes, previous);
    tables.messages.set(message.id, copy(message));
    indexMessage(tables.indexes, message);
    (previous ? updated : inserted).push(message.id);

    const decided = new Set<string>();
    for (const link of linksOf(tables, message.id)) {
      if (link.manual) decided.add(recordKey(link.record));
      else deleteLink(tables, message.tenantId, link);
    }
    for (const link of links) if (!decided.has(recordKey(link.record))) setLink(tables, message.tenantId, link);
  }
  for (const candidate of plan.deletes) {
    const message = tables.messages.get(candidate.id);
    if (!message) continue;
    deleteMessage(tables, message);
    const insertedAt = inserted.indexOf(message.id);
    const updatedAt = updated.indexOf(message.id);
    if (insertedAt >= 0) inserted.splice(insertedAt, 1);
    if (updatedAt >= 0) updated.splice(updatedAt, 1);
    // A message first seen in this very batch and deleted in it never existed for the caller.
    if (insertedAt < 0) deleted.push(message.id);
  }
  if (plan.connection) writeConnection(tables, plan.connection);
  return { inserted, updated, deleted };
}
