// The rows. Every value is a private copy (structuredClone in and out), so a caller mutating
// what it passed or got back can never change what is stored — as with a real database.
import { compareIds, recordKey, type Connection, type LabelRef, type Organization, type MessageMeta, type RecordLink } from '@threadlink/core/store';
import type { StoredMessage } from '@threadlink/core/store';
import { createIndexes, indexAdd, indexRemove, recordIndexKey, unindexMessage, type MessageIndexes } from './indexes.js';

interface LeaseRow {
  key: string;
  owner: string;
  expiresAt: number;
}

/** One ingestion policy: the tenant's (connectionId null) or a connection's. */
interface PolicyRow {
  tenantId: string;
  connectionId: string | null;
  policy: unknown;
}

/** The policies map's key: one row per tenant and per connection. */
export const policyKey = (tenantId: string, connectionId: string | null): string => `${tenantId}\u0000${connectionId ?? ''}`;

interface ClaimRow {
  key: string;
  expiresAt: number;
}

export interface Tables {
  connections: Map<string, Connection>;
  messages: Map<string, MessageMeta>;
  /** message id → record key → link: one link per (message, record). */
  links: Map<string, Map<string, RecordLink>>;
  leases: Map<string, LeaseRow>;
  claims: Map<string, ClaimRow>;
  /** connection id → its label directory, ordered by id (one write per refresh, names never on messages). */
  labels: Map<string, LabelRef[]>;
  policies: Map<string, PolicyRow>;
  /** Organization connections (issue 19), by id. */
  organizations: Map<string, Organization>;
  indexes: MessageIndexes;
}

export function createTables(): Tables {
  return {
    connections: new Map(),
    messages: new Map(),
    links: new Map(),
    leases: new Map(),
    claims: new Map(),
    labels: new Map(),
    policies: new Map(),
    organizations: new Map(),
    indexes: createIndexes(),
  };
}

export const copy = <T>(value: T): T => structuredClone(value);

export function linksOf(tables: Tables, messageId: string): RecordLink[] {
  const byRecord = tables.links.get(messageId);
  if (!byRecord) return [];
  return [...byRecord.entries()].sort(([left], [right]) => compareIds(left, right)).map(([, link]) => link);
}

export function setLink(tables: Tables, tenantId: string, link: RecordLink): void {
  const recordId = recordKey(link.record);
  let byRecord = tables.links.get(link.messageId);
  if (!byRecord) {
    byRecord = new Map();
    tables.links.set(link.messageId, byRecord);
  }
  byRecord.set(recordId, copy(link));
  const indexKey = recordIndexKey(tenantId, link.record);
  if (link.suppressed) indexRemove(tables.indexes.byRecord, indexKey, link.messageId);
  else indexAdd(tables.indexes.byRecord, indexKey, link.messageId);
}

export function deleteLink(tables: Tables, tenantId: string, link: RecordLink): void {
  const byRecord = tables.links.get(link.messageId);
  if (!byRecord) return;
  byRecord.delete(recordKey(link.record));
  if (byRecord.size === 0) tables.links.delete(link.messageId);
  indexRemove(tables.indexes.byRecord, recordIndexKey(tenantId, link.record), link.messageId);
}

/** Removes a message with every link of it (manual ones too); returns how many links went. */
export function deleteMessage(tables: Tables, message: MessageMeta): number {
  const links = linksOf(tables, message.id);
  for (const link of links) deleteLink(tables, message.tenantId, link);
  unindexMessage(tables.indexes, message);
  tables.messages.delete(message.id);
  return links.length;
}

export function storedMessage(tables: Tables, message: MessageMeta): StoredMessage {
  return copy({ ...message, links: linksOf(tables, message.id) });
}

/** Messages by id, oldest first (receivedAt, then id) — the order of threads and exports. */
export function oldestFirst(tables: Tables, ids: Iterable<string>): MessageMeta[] {
  const messages: MessageMeta[] = [];
  for (const id of ids) {
    const message = tables.messages.get(id);
    if (message) messages.push(message);
  }
  return messages.sort((left, right) => left.receivedAt - right.receivedAt || compareIds(left.id, right.id));
}

function indexRows(index: Map<string, Set<string>>): Array<{ key: string; id: string }> {
  return [...index.entries()].flatMap(([indexKey, ids]) => [...ids].map((id) => ({ key: indexKey, id })));
}

/** Every physically held row, indexes included: a purge must leave no address behind in them either. */
export function dumpTables(tables: Tables): Record<string, unknown[]> {
  const { indexes } = tables;
  return copy({
    connections: [...tables.connections.values()],
    messages: [...tables.messages.values()],
    links: [...tables.links.values()].flatMap((byRecord) => [...byRecord.values()]),
    leases: [...tables.leases.values()],
    claims: [...tables.claims.values()],
    labels: [...tables.labels.entries()].flatMap(([connectionId, labels]) => labels.map((label) => ({ connectionId, ...label }))),
    policies: [...tables.policies.values()],
    organizations: [...tables.organizations.values()],
    'index.providerId': [...indexes.byProviderId.entries()].map(([indexKey, id]) => ({ key: indexKey, id })),
    'index.connection': indexRows(indexes.byConnection),
    'index.address': indexRows(indexes.byAddress),
    'index.domain': indexRows(indexes.byDomain),
    'index.reference': indexRows(indexes.byReference),
    'index.thread': indexRows(indexes.byThread),
    'index.record': indexRows(indexes.byRecord),
    'index.subscription': indexRows(indexes.bySubscription),
  });
}
