// What a job's outcome writes into the connection's health: a success with nothing to commit, a
// failure (counted, surfaced as an event, AUTH_REVOKED parks the connection), and push found dead.
import type { Connection } from '../domain/schemas.js';
import type { ThreadlinkError } from '../errors.js';
import { publicConnection } from '../events.js';
import type { Job } from '../ports/job-queue.js';
import { revokeOrganization } from '../org/revocation.js';
import type { EngineDeps } from './engine-options.js';
import { succeededAt, type JobContext, type JobRun } from './job-context.js';

/** A sync with nothing to commit (no cursor yet) still succeeded: one merged health write, no read. */
export async function recordSuccess(deps: EngineDeps, connectionId: string): Promise<void> {
  await deps.store.patchConnection(connectionId, { health: succeededAt(deps.clock.now()) });
}

export async function recordFailure(deps: EngineDeps, job: Job, error: ThreadlinkError): Promise<void> {
  const { store, clock, events, logger } = deps;
  const connection = await store.getConnection(job.connectionId);
  if (!connection) return;
  logger.warn('sync job failed', { job: job.name, connectionId: job.connectionId, code: error.code, retryable: error.retryable, attempt: job.attempt ?? 1 });
  events.emit('sync.error', { connectionId: connection.id, code: error.code, message: error.message, retryable: error.retryable, attempt: job.attempt ?? 1 });
  // Only the fields this failure changes: the store merges them into the stored health.
  const health = { consecutiveErrors: connection.health.consecutiveErrors + 1, lastErrorCode: error.code, lastErrorAt: clock.now() };
  if (error.code === 'AUTH_REVOKED') {
    const updated = await store.patchConnection(connection.id, { status: 'needs_reauth', health, updatedAt: clock.now() });
    if (connection.status !== 'needs_reauth' && updated) {
      events.emit('connection.needs_reauth', { connection: publicConnection(updated), reason: error.message });
    }
    // An org mailbox acts with the org's grant: revoked for one is revoked for all of them.
    if (connection.orgId)
      await revokeOrganization(deps, { tenantId: connection.tenantId, orgId: connection.orgId, provider: connection.provider }, error.message);
    return;
  }
  await store.patchConnection(connection.id, { health });
}

/**
 * A safety-net pull found changes that no push announced: the watch/subscription is silently
 * dead (or pushes were dropped). Record it for health and re-establish push now.
 */
export async function pushWasMissed(
  context: JobContext,
  connection: Connection,
  changes: number,
  run: JobRun,
  foundBy: 'safety-net' | 'reconciliation' = 'safety-net',
): Promise<void> {
  const { clock, logger, store } = context.deps;
  const now = clock.now();
  logger.warn(`${foundBy === 'safety-net' ? 'safety-net pull' : 'reconciliation'} found changes no push announced; renewing push`, {
    connectionId: connection.id,
    provider: connection.provider,
    changes,
  });
  await store.patchConnection(connection.id, { health: { missedPushAt: now } });
  run.later.push(() => context.enqueue('renew', connection.id));
}
