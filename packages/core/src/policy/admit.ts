// The policy step of the write path (engine/commit.ts): runs on a page BEFORE its rows are built
// and before the store write, so excluded mail never reaches a table, an event or a log line.
// An excluded upsert becomes a delete of that provider id: a stored message that now falls
// outside (a label added, moved to an excluded folder, a thread turned internal) leaves the store
// in the same applySync, and an unknown one is simply ignored by the store.
import type { Connection, MessageMeta, ProviderMessage, RecordLink } from '../domain/schemas.js';
import { ConnectionPolicy, TenantPolicy } from '../domain/policy.js';
import type { MetadataStore, StoredPolicies } from '../ports/metadata-store.js';
import { exclusionOf, hasLabelRules, isOpen, storesMatchedOnly, type EffectivePolicy } from './evaluate.js';

const DEFAULT_TENANT = TenantPolicy.parse({});
const DEFAULT_CONNECTION = ConnectionPolicy.parse({});

/** Both levels, defaults where none is saved. */
export async function effectivePolicyOf(store: MetadataStore, tenantId: string, connectionId: string): Promise<EffectivePolicy> {
  return withDefaults(await store.getPolicies(tenantId, connectionId));
}

const withDefaults = (stored: StoredPolicies): EffectivePolicy => ({
  tenant: stored.tenant ?? DEFAULT_TENANT,
  connection: stored.connection ?? DEFAULT_CONNECTION,
});

/**
 * The policy that applies to a page, or null when it keeps nothing out (the common case: the page
 * then skips every check). Read per page, never cached across jobs: another instance may have
 * tightened the policy a moment ago, and a stale copy would store what it now excludes. `stored`:
 * the policies the job read with its connection a moment ago (`getSyncContext`), for its first page.
 */
export async function pagePolicy(store: MetadataStore, connection: Connection, stored?: StoredPolicies): Promise<EffectivePolicy | null> {
  const policy = stored ? withDefaults(stored) : await effectivePolicyOf(store, connection.tenantId, connection.id);
  return isOpen(policy) ? null : withLabelNames(store, connection, policy);
}

/**
 * The policy with the mailbox's label directory attached when a label rule needs it (a rule may
 * name a label by its name: labels.ts); one store read, and only then.
 */
export async function withLabelNames(store: MetadataStore, connection: Connection, policy: EffectivePolicy): Promise<EffectivePolicy> {
  if (!hasLabelRules(policy)) return policy;
  const labels = await store.listLabels(connection.tenantId, [connection.id]);
  return { ...policy, labelNames: new Map(labels.map((label) => [label.id, label.name.toLowerCase()])) };
}

export function admits(policy: EffectivePolicy | null, message: ProviderMessage): boolean {
  return policy === null || exclusionOf(policy, message) === null;
}

/**
 * With `store: 'matched'`: the messages of the page that may not be stored because nothing links
 * them — no automatic link from this page's matching (thread inheritance included) and no
 * non-suppressed link already stored (a manual link keeps its message).
 */
export async function unmatchedOf(
  store: MetadataStore,
  policy: EffectivePolicy | null,
  connection: Connection,
  messages: MessageMeta[],
  links: ReadonlyMap<string, RecordLink[]>,
): Promise<MessageMeta[]> {
  if (policy === null || !storesMatchedOnly(policy)) return [];
  const candidates = messages.filter((message) => (links.get(message.id) ?? []).length === 0);
  if (candidates.length === 0) return [];
  const stored = await store.getMessages(
    connection.tenantId,
    candidates.map((message) => message.id),
  );
  const linked = new Set(stored.filter((message) => message.links.some((link) => !link.suppressed)).map((message) => message.id));
  return candidates.filter((message) => !linked.has(message.id));
}
