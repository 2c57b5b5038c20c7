// A policy change applied to what is already stored: tightening purges what now falls outside,
// loosening asks for a reconciliation that brings back what the provider still has.
import type { Connection, MessageMeta } from '../domain/schemas.js';
import type { ConnectionPolicy, TenantPolicy } from '../domain/policy.js';
import type { MetadataStore } from '../ports/metadata-store.js';
import { MAX_PURGE_IDS } from '../store/policy-arguments.js';
import { exclusionOf, storesMatchedOnly, type EffectivePolicy } from './evaluate.js';

/**
 * The stored messages of a connection the policy no longer admits, oldest first. Streams the
 * connection's export (messages, then their links) so memory holds ids, not rows.
 */
export async function outsideOf(store: MetadataStore, connection: Connection, policy: EffectivePolicy): Promise<string[]> {
  const outside: string[] = [];
  const matchedOnly = storesMatchedOnly(policy);
  const unlinked = new Set<string>();
  for await (const record of store.exportConnection(connection.id)) {
    if (record.kind === 'message') {
      const message: MessageMeta = record.data;
      if (exclusionOf(policy, message) !== null) outside.push(message.id);
      else if (matchedOnly) unlinked.add(message.id);
    } else if (record.kind === 'link' && !record.data.suppressed) {
      unlinked.delete(record.data.messageId);
    }
  }
  return [...outside, ...unlinked];
}

/** Deletes the ids (with their links) in store-sized chunks; returns what really went. */
export async function purgeIds(store: MetadataStore, tenantId: string, ids: string[]): Promise<{ messageIds: string[]; links: number }> {
  const report = { messageIds: [] as string[], links: 0 };
  for (let start = 0; start < ids.length; start += MAX_PURGE_IDS) {
    const chunk = await store.purgeMessages(tenantId, ids.slice(start, start + MAX_PURGE_IDS));
    report.messageIds.push(...chunk.messageIds);
    report.links += chunk.links;
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
