// A policy change applied to what is already stored: tightening purges what now falls outside,
// loosening asks for a reconciliation that brings back what the provider still has.
import type EventEmitter from 'eventemitter3';
import type { ThreadlinkEventListeners } from '../api.js';
import type { Connection, MessageMeta } from '../domain/schemas.js';
import type { ConnectionPolicy, TenantPolicy } from '../domain/policy.js';
import type { MetadataStore } from '../ports/metadata-store.js';
import { MAX_PURGE_IDS } from '../store/policy-arguments.js';
import { withLabelNames } from './admit.js';
import { exclusionOf, storesMatchedOnly, type EffectivePolicy } from './evaluate.js';

/** A stored message by its ids only: what a purge needs and reports. */
export interface MessageIds {
  id: string;
  providerMessageId: string;
}

/**
 * The stored messages of a connection the policy no longer admits. Streams the connection's
 * export (messages, then their links) so memory holds ids, not rows.
 */
export async function outsideOf(store: MetadataStore, connection: Connection, rules: EffectivePolicy): Promise<MessageIds[]> {
  const policy = await withLabelNames(store, connection, rules);
  const outside: MessageIds[] = [];
  const matchedOnly = storesMatchedOnly(policy);
  const unlinked = new Map<string, MessageIds>();
  for await (const record of store.exportConnection(connection.id)) {
    if (record.kind === 'message') {
      const message: MessageMeta = record.data;
      const ids = { id: message.id, providerMessageId: message.providerMessageId };
      if (exclusionOf(policy, message) !== null) outside.push(ids);
      else if (matchedOnly) unlinked.set(message.id, ids);
    } else if (record.kind === 'link' && !record.data.suppressed) {
      unlinked.delete(record.data.messageId);
    }
  }
  return [...outside, ...unlinked.values()];
}

/**
 * Deletes the messages (with their links) in store-sized chunks and emits `message.deleted` for
 * each one that really went, as a sync's delete does: a host mirroring activities drops them too.
 */
export async function purgeMessages(
  deps: { store: MetadataStore; events: EventEmitter<ThreadlinkEventListeners> },
  connection: Connection,
  messages: MessageIds[],
): Promise<{ messageIds: string[]; links: number }> {
  const report = { messageIds: [] as string[], links: 0 };
  const providerIds = new Map(messages.map((message) => [message.id, message.providerMessageId]));
  for (let start = 0; start < messages.length; start += MAX_PURGE_IDS) {
    const chunk = await deps.store.purgeMessages(
      connection.tenantId,
      messages.slice(start, start + MAX_PURGE_IDS).map((message) => message.id),
    );
    report.messageIds.push(...chunk.messageIds);
    report.links += chunk.links;
    for (const messageId of chunk.messageIds) {
      deps.events.emit('message.deleted', {
        connectionId: connection.id,
        tenantId: connection.tenantId,
        messageId,
        providerMessageId: providerIds.get(messageId) ?? '',
      });
    }
  }
  return report;
}

const missingFrom = <T>(before: readonly T[], after: readonly T[]): boolean => before.some((value) => !after.includes(value));

/** Whether an include list now admits more: it was set and is now empty, or gained an entry. */
const includeWidened = <T>(before: readonly T[], after: readonly T[]): boolean => before.length > 0 && (after.length === 0 || missingFrom(after, before));

/**
 * Whether the new rules may admit mail the old ones kept out — then a reconciliation must look for
 * it at the provider (purged mail was never kept anywhere else). Conservative: any relaxed rule counts.
 */
export function loosens(before: TenantPolicy | ConnectionPolicy, after: TenantPolicy | ConnectionPolicy): boolean {
  const ownDomainsShrank = 'ownDomains' in before && 'ownDomains' in after && missingFrom(before.ownDomains, after.ownDomains);
  return (
    missingFrom(before.exclude, after.exclude) ||
    missingFrom(before.folders.exclude, after.folders.exclude) ||
    missingFrom(before.labels.exclude, after.labels.exclude) ||
    includeWidened(before.folders.include, after.folders.include) ||
    includeWidened(before.labels.include, after.labels.include) ||
    (before.internalOnly === 'skip' && (after.internalOnly === 'keep' || ownDomainsShrank)) ||
    (before.store === 'matched' && after.store === 'all')
  );
}
