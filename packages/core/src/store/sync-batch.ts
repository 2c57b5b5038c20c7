// applySync's rules in one place, so every backend accepts and refuses the same batches with the
// same codes and messages. A backend runs: `parseSyncBatch` (optional, before it borrows anything),
// `validateSyncBatch` against the stored connection, `assignStoredIds` with what its read found,
// its writes, then `syncResult` for the answer. Invariant: nothing is written before the checks
// of all three have passed, so a refused batch leaves messages, links and cursor as they were.
import { SyncCursor, type Connection, type MessageMeta, type RecordLink } from '../domain/schemas.js';
import { ThreadlinkError } from '../errors.js';
import type { ApplySyncResult, ConnectionPatch, StoredMessage, SyncBatch } from '../ports/metadata-store.js';
import { applyConnectionPatch, dedupeLinks, parseStoredLink, parseStoredMessage, parseStoreInput } from '../util/store-rules.js';
import { stringList } from './arguments.js';

/** A batch whose entries parsed: every check that needs neither the connection nor a read. */
export interface ParsedSyncBatch {
  /** One entry per providerMessageId, the last of the batch (a history page may list one twice). */
  upserts: MessageMeta[];
  /** Distinct provider message ids, in the order given. */
  deletes: string[];
  /** Automatic links, each naming one of `upserts` by its incoming id. */
  links: RecordLink[];
  /** Parsed; undefined leaves the cursor alone. */
  cursor: string | null | undefined;
  expectedCursor: string | null | undefined;
  connection: ConnectionPatch | undefined;
}

/** A batch checked against its connection. */
export interface ValidatedSyncBatch extends ParsedSyncBatch {
  /** The connection after the batch's cursor and patch, or null when the batch changes neither. */
  nextConnection: Connection | null;
}

const parsedBatches = new WeakSet<object>();

function parseBatchLink(raw: RecordLink, upsertIds: ReadonlySet<string>): RecordLink {
  const link = parseStoredLink(raw);
  if (link.manual) throw new ThreadlinkError('INVALID_INPUT', 'applySync takes automatic links only; manual ones go through saveManualLink');
  if (!upsertIds.has(link.messageId)) {
    throw new ThreadlinkError('INVALID_INPUT', "A link must name a message of the batch's upserts", { details: { messageId: link.messageId } });
  }
  return link;
}

/**
 * Parses a batch without its connection: shape, strict schemas (CONTENT_FORBIDDEN / INVALID_INPUT),
 * last entry wins per providerMessageId, links automatic only and naming a batch upsert, deletes
 * as ids. A SQL backend calls it before it borrows a database connection, so a bad batch (or a
 * large one's parsing) never holds the connection row's lock.
 */
export function parseSyncBatch(batch: SyncBatch): ParsedSyncBatch {
  if (typeof batch !== 'object' || batch === null || !Array.isArray(batch.upserts) || !Array.isArray(batch.deletes) || !Array.isArray(batch.links)) {
    throw new ThreadlinkError('INVALID_INPUT', 'A sync batch needs upserts, deletes and links arrays');
  }
  const byProviderId = new Map<string, MessageMeta>();
  for (const raw of batch.upserts) {
    const message = parseStoredMessage(raw);
    byProviderId.set(message.providerMessageId, message);
  }
  const upserts = [...byProviderId.values()];
  const upsertIds = new Set(upserts.map((message) => message.id));
  const links = batch.links.map((raw) => parseBatchLink(raw, upsertIds));
  if (batch.linksFromThreads !== undefined && (typeof batch.linksFromThreads?.build !== 'function' || !Array.isArray(batch.linksFromThreads.threadIds))) {
    throw new ThreadlinkError('INVALID_INPUT', 'linksFromThreads needs threadIds and a build function');
  }
  if (batch.releaseLease !== undefined && (typeof batch.releaseLease?.key !== 'string' || typeof batch.releaseLease.owner !== 'string')) {
    throw new ThreadlinkError('INVALID_INPUT', 'releaseLease needs a key and an owner');
  }
  const deletes = [...new Set(stringList(batch.deletes, 'deletes'))];
  const cursor = batch.cursor === undefined || batch.cursor === null ? batch.cursor : parseStoreInput(SyncCursor, batch.cursor, 'cursor');
  const parsed: ParsedSyncBatch = { upserts, deletes, links, cursor, expectedCursor: batch.expectedCursor, connection: batch.connection };
  parsedBatches.add(parsed);
  return parsed;
}

/**
 * Checks a batch against its stored connection (`connection`: the row the caller read, and in
 * SQL holds locked), parsing it first unless `parseSyncBatch` already did: every upsert carries
 * the connection's tenant, id and provider; the patch and cursor apply to the connection
 * (patchConnection's rules); `expectedCursor` equals the stored cursor, else CURSOR_CONFLICT.
 */
export function validateSyncBatch(connection: Connection, batch: SyncBatch | ParsedSyncBatch): ValidatedSyncBatch {
  const parsed = parsedBatches.has(batch) ? (batch as ParsedSyncBatch) : parseSyncBatch(batch as SyncBatch);
  for (const message of parsed.upserts) {
    if (message.tenantId !== connection.tenantId || message.connectionId !== connection.id || message.provider !== connection.provider) {
      throw new ThreadlinkError('INVALID_INPUT', "A message's tenant, connection and provider must be its connection's", {
        details: { connectionId: connection.id, messageId: message.id },
      });
    }
  }
  const nextConnection =
    parsed.connection !== undefined || parsed.cursor !== undefined ? applyConnectionPatch(connection, parsed.connection ?? {}, parsed.cursor) : null;
  if (parsed.expectedCursor !== undefined && parsed.expectedCursor !== connection.cursor) {
    throw new ThreadlinkError('CURSOR_CONFLICT', 'The stored cursor moved since this pull started', { details: { connectionId: connection.id } });
  }
  return { ...parsed, nextConnection };
}

/**
 * The batch with `linksFromThreads` applied: `stored` is what the backend read, inside its write,
 * for `batch.linksFromThreads.threadIds` (this connection's messages of those threads, before the
 * batch's writes). The built links are checked as the batch's own (automatic, naming an upsert).
 * A batch without `linksFromThreads` is returned as it is.
 */
export function withThreadLinks(batch: SyncBatch, parsed: ParsedSyncBatch, stored: StoredMessage[]): ParsedSyncBatch {
  if (!batch.linksFromThreads) return parsed;
  const upsertIds = new Set(parsed.upserts.map((message) => message.id));
  const built = batch.linksFromThreads.build(stored).map((raw) => parseBatchLink(raw, upsertIds));
  const next: ParsedSyncBatch = { ...parsed, links: [...parsed.links, ...built] };
  parsedBatches.add(next);
  return next;
}

/** The thread ids a batch's `linksFromThreads` asks to be read (empty: none). */
export function threadIdsToRead(batch: SyncBatch): string[] {
  return batch.linksFromThreads ? [...new Set(stringList(batch.linksFromThreads.threadIds, 'linksFromThreads.threadIds'))] : [];
}

/** What a backend read before planning: the ids already stored for the batch's messages. */
export interface StoredIdLookup {
  /** The id this connection already stores the provider message under, if it does. */
  storedIdOf(providerMessageId: string): string | undefined;
  /** True when a stored message (of any connection) has this id. */
  isTaken(messageId: string): boolean;
}

export interface PlannedUpsert {
  /** The message as it will be written; `id` is the stored id when the pair already exists. */
  message: MessageMeta;
  /** True when (connectionId, providerMessageId) is already stored: a replace, not an insert. */
  exists: boolean;
}

export interface SyncPlan {
  upserts: PlannedUpsert[];
  /** One per (message, record), the highest confidence (the first on a tie); named by final message ids. */
  links: RecordLink[];
  deletes: string[];
  nextConnection: Connection | null;
}

/**
 * Gives every upsert its final id: the stored one when (connectionId, providerMessageId) already
 * exists, whatever id the caller derived this time, since the stored id is the row's identity and
 * links, timelines and hosts' records point at it. Batch links follow their message. An id held by
 * another provider message (stored, or twice in the batch) is INVALID_INPUT.
 */
export function assignStoredIds(batch: ValidatedSyncBatch, stored: StoredIdLookup): SyncPlan {
  const finalIdOf = new Map<string, string>();
  const batchIds = new Set<string>();
  const upserts = batch.upserts.map((message): PlannedUpsert => {
    const storedId = stored.storedIdOf(message.providerMessageId);
    const id = storedId ?? message.id;
    if ((storedId === undefined && stored.isTaken(id)) || batchIds.has(id)) {
      throw new ThreadlinkError('INVALID_INPUT', 'A message id is already used by another provider message', { details: { messageId: id } });
    }
    batchIds.add(id);
    finalIdOf.set(message.id, id);
    return { message: { ...message, id }, exists: storedId !== undefined };
  });
  // parseSyncBatch checked that every link names an upsert, so each has a final id.
  const links = dedupeLinks(batch.links.map((link) => ({ ...link, messageId: finalIdOf.get(link.messageId) ?? link.messageId })));
  return { upserts, links, deletes: batch.deletes, nextConnection: batch.nextConnection };
}

/**
 * applySync's answer once written: `removedIds` are the ids the deletes really removed, in the
 * batch's order. A message inserted and deleted by the same batch never existed for the caller,
 * so it is in no list; one updated then deleted is only `deleted`.
 */
export function syncResult(upserts: readonly PlannedUpsert[], removedIds: readonly string[]): ApplySyncResult {
  const inserted = upserts.filter((upsert) => !upsert.exists).map(({ message }) => message.id);
  const updated = upserts.filter((upsert) => upsert.exists).map(({ message }) => message.id);
  const deleted: string[] = [];
  for (const id of removedIds) {
    const insertedAt = inserted.indexOf(id);
    const updatedAt = updated.indexOf(id);
    if (insertedAt >= 0) inserted.splice(insertedAt, 1);
    if (updatedAt >= 0) updated.splice(updatedAt, 1);
    if (insertedAt < 0) deleted.push(id);
  }
  return { inserted, updated, deleted };
}
