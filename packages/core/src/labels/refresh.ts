// Keeps each connection's label directory (names of Gmail labels / Outlook folders) current.
// Neither provider pushes a label rename (Gmail's history.list has no record for it), so the
// directory is read again — one provider call (Gmail labels.list: 1 quota unit) — when:
//   - a pull says labels changed (PullResult.labelsChanged),
//   - a synced message carries a label id the directory lacks (once per id: an id still missing
//     after the read is remembered until the next scheduled read, so an id the provider never
//     lists cannot cost a call per pull),
//   - the directory is older than EngineOptions.labelRefreshIntervalMs: ONE route, maintain()
//     asks for a pull (its safety-net pull, or a 'labels' one) and that sync job reads it. A
//     back-fill page never reads on schedule, so a pass that queues a pull and a back-fill page
//     reads the directory once;
//   - it was never read (the read at connect: the first back-fill page or sync does it).
// A failed read is logged and retried by the next trigger, not before LABEL_RETRY_MS (or the
// interval, when shorter) — so a pass whose jobs all see a failing directory reads it once; it
// never fails the sync that asked.
import type { Connection } from '../domain/schemas.js';
import type { EngineDeps } from '../engine/engine-options.js';
import { callProvider } from '../engine/provider-call.js';
import { toThreadlinkError } from '../errors.js';
import type { Change, MailProvider, ProviderSession } from '../ports/mail-provider.js';

/**
 * Per engine and connection: label ids a directory read did not return. They trigger no further
 * read until the next scheduled one clears them. In memory: another process may read once more.
 */
const unlistedByEngine = new WeakMap<object, Map<string, Set<string>>>();
/** Per engine and connection: when the directory was last asked for (success or not). */
const attemptsByEngine = new WeakMap<object, Map<string, number>>();
/** A failed directory read is not retried sooner than this (or the refresh interval, when shorter). */
const LABEL_RETRY_MS = 60_000;

function attemptsOf(deps: EngineDeps): Map<string, number> {
  let attempts = attemptsByEngine.get(deps);
  if (!attempts) attemptsByEngine.set(deps, (attempts = new Map()));
  return attempts;
}

/** True when a read of this directory was attempted so recently that another would repeat it. */
function attemptedRecently(deps: Pick<EngineDeps, 'clock' | 'options'>, connectionId: string): boolean {
  const at = attemptsByEngine.get(deps)?.get(connectionId);
  return at !== undefined && deps.clock.now() - at < Math.min(LABEL_RETRY_MS, deps.options.labelRefreshIntervalMs);
}

/**
 * Per engine and connection: label ids the stored directory is known to hold (read once, replaced
 * by this engine's refreshes), so a sync does not read the directory to learn that INBOX is known
 * (issue 21: a store round trip per sync job). An id missing here is checked against the store
 * before it triggers a read (another process may have refreshed the directory meanwhile).
 */
const knownByEngine = new WeakMap<object, Map<string, Set<string>>>();

function perConnection(registry: WeakMap<object, Map<string, Set<string>>>, deps: EngineDeps, connectionId: string): Set<string> {
  let byConnection = registry.get(deps);
  if (!byConnection) registry.set(deps, (byConnection = new Map()));
  let ids = byConnection.get(connectionId);
  if (!ids) byConnection.set(connectionId, (ids = new Set()));
  return ids;
}

const unlistedOf = (deps: EngineDeps, connectionId: string): Set<string> => perConnection(unlistedByEngine, deps, connectionId);
const knownOf = (deps: EngineDeps, connectionId: string): Set<string> => perConnection(knownByEngine, deps, connectionId);

function labelIdsOf(changes: readonly Change[]): Set<string> {
  return new Set(changes.flatMap((change) => (change.type === 'upsert' ? change.message.labels : [])));
}

export type LabelRefreshReason = 'changed' | 'unknown-label' | 'schedule' | 'never-read';

/** True when the directory was never read or is older than the configured interval (and no read was just attempted). */
export function labelsStale(deps: Pick<EngineDeps, 'clock' | 'options'>, connection: Connection): boolean {
  const refreshedAt = connection.health.labelsRefreshedAt ?? null;
  if (attemptedRecently(deps, connection.id)) return false;
  return refreshedAt === null || deps.clock.now() - refreshedAt >= deps.options.labelRefreshIntervalMs;
}

/**
 * Why the directory should be read again after these changes, or null. Reads the stored directory
 * only when it must. `job`: a sync does the scheduled read; a back-fill page only the first one.
 */
export async function labelRefreshReason(
  deps: EngineDeps,
  connection: Connection,
  provider: MailProvider,
  changes: readonly Change[],
  labelsChanged: boolean | undefined,
  job: 'sync' | 'backfill',
): Promise<LabelRefreshReason | null> {
  if (!provider.listLabels) return null;
  if (labelsChanged) return 'changed';
  if (labelsStale(deps, connection)) {
    if ((connection.health.labelsRefreshedAt ?? null) === null) return 'never-read';
    if (job === 'sync') return 'schedule';
  }
  const unlisted = unlistedOf(deps, connection.id);
  const cached = knownOf(deps, connection.id);
  const seen = [...labelIdsOf(changes)].filter((id) => !unlisted.has(id) && !cached.has(id));
  if (seen.length === 0) return null;
  const known = new Set((await deps.store.listLabels(connection.tenantId, [connection.id])).map((label) => label.id));
  for (const id of known) cached.add(id);
  const unknown = seen.filter((id) => !known.has(id));
  if (unknown.length === 0) return null;
  // Asked about once: if the read does not list them either, they stay unresolved until the next scheduled read.
  for (const id of unknown) unlisted.add(id);
  return 'unknown-label';
}

/** Reads the provider's directory and replaces the stored one. False when the provider has none or the read failed. */
export async function refreshLabels(
  deps: EngineDeps,
  connection: Connection,
  provider: MailProvider,
  session: ProviderSession,
  reason: LabelRefreshReason,
): Promise<boolean> {
  const listLabels = provider.listLabels;
  if (!listLabels) return false;
  attemptsOf(deps).set(connection.id, deps.clock.now());
  try {
    const labels = await callProvider(deps, connection, 'listLabels', () => listLabels(session));
    await deps.store.saveLabels(connection.id, labels);
    const known = knownOf(deps, connection.id);
    known.clear();
    for (const label of labels) known.add(label.id);
    if (reason !== 'unknown-label') unlistedOf(deps, connection.id).clear();
    const refreshedAt = deps.clock.now();
    await deps.store.patchConnection(connection.id, { health: { labelsRefreshedAt: refreshedAt } });
    connection.health = { ...connection.health, labelsRefreshedAt: refreshedAt };
    deps.logger.debug('label directory refreshed', { connectionId: connection.id, reason, labels: labels.length });
    return true;
  } catch (error) {
    deps.logger.warn('label directory refresh failed', { connectionId: connection.id, reason, code: toThreadlinkError(error).code });
    return false;
  }
}
