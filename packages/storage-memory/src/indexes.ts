// Secondary indexes, kept in step with the rows on every write, so reads are look-ups the way
// a database answers them: participants, domains, reference tokens, threads and Internet
// Message-IDs per tenant; provider ids and message sets per connection; linked messages per record.
import { messageAddresses, messageDomains, recordKey, type MessageMeta, type RecordRef } from '@threadlink/core/store';

/** key → set of ids; empty sets are dropped so a purge leaves no trace behind. */
export type MultiIndex = Map<string, Set<string>>;

export function indexAdd(index: MultiIndex, key: string, id: string): void {
  const ids = index.get(key);
  if (ids) ids.add(id);
  else index.set(key, new Set([id]));
}

export function indexRemove(index: MultiIndex, key: string, id: string): void {
  const ids = index.get(key);
  if (!ids) return;
  ids.delete(id);
  if (ids.size === 0) index.delete(key);
}

export function indexGet(index: MultiIndex, key: string): ReadonlySet<string> {
  return index.get(key) ?? new Set();
}

/** Composite keys: NUL cannot occur in ids, addresses or tokens, so parts never run together. */
export const key = (...parts: string[]): string => parts.join('\u0000');

export const providerKey = (connectionId: string, providerMessageId: string): string => key(connectionId, providerMessageId);
export const recordIndexKey = (tenantId: string, record: RecordRef): string => key(tenantId, recordKey(record));

export interface MessageIndexes {
  /** (connectionId, providerMessageId) → message id: the idempotency key of upserts. */
  byProviderId: Map<string, string>;
  byConnection: MultiIndex;
  byAddress: MultiIndex;
  byDomain: MultiIndex;
  byReference: MultiIndex;
  byThread: MultiIndex;
  /** (tenant, record) → messages with a non-suppressed link to it: the timeline's entry point. */
  byRecord: MultiIndex;
  /** Push subscription id → connection ids (webhooks resolve their connection by it). */
  bySubscription: MultiIndex;
}

export function createIndexes(): MessageIndexes {
  return {
    byProviderId: new Map(),
    byConnection: new Map(),
    byAddress: new Map(),
    byDomain: new Map(),
    byReference: new Map(),
    byThread: new Map(),
    byRecord: new Map(),
    bySubscription: new Map(),
  };
}

function eachMessageKey(message: MessageMeta, visit: (index: keyof MessageIndexes, indexKey: string) => void): void {
  const tenant = message.tenantId;
  visit('byConnection', message.connectionId);
  for (const address of messageAddresses(message)) visit('byAddress', key(tenant, address));
  for (const domain of messageDomains(message)) visit('byDomain', key(tenant, domain));
  for (const token of new Set(message.referenceTokens)) visit('byReference', key(tenant, token));
  visit('byThread', key(tenant, message.threadId));
}

export function indexMessage(indexes: MessageIndexes, message: MessageMeta): void {
  indexes.byProviderId.set(providerKey(message.connectionId, message.providerMessageId), message.id);
  eachMessageKey(message, (index, indexKey) => indexAdd(indexes[index] as MultiIndex, indexKey, message.id));
}

export function unindexMessage(indexes: MessageIndexes, message: MessageMeta): void {
  indexes.byProviderId.delete(providerKey(message.connectionId, message.providerMessageId));
  eachMessageKey(message, (index, indexKey) => indexRemove(indexes[index] as MultiIndex, indexKey, message.id));
}
