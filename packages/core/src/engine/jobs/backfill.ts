// The `backfill` job: one page of history per job, so real-time syncs interleave and never wait
// for history.
import type { BackfillProgress, Connection } from '../../domain/schemas.js';
import { isThreadlinkError } from '../../errors.js';
import { publicConnection } from '../../events.js';
import type { MailProvider } from '../../ports/mail-provider.js';
import type { JobContext, JobRun } from '../job-context.js';
import { LEASE_BUSY_RETRY_MS } from '../mailbox-leases.js';
import { labelRefreshReason, refreshLabels } from '../../labels/refresh.js';
import { callProvider } from '../provider-call.js';

/**
 * A push newer than the last sync, and recent: a real-time sync is waiting for this mailbox
 * (here or in another process). Back-fill lets it go first. Bounded in time, so a sync that keeps
 * failing cannot hold back-fill off for good.
 */
const PUSH_PRIORITY_MS = 10_000;

export async function backfillPage(context: JobContext, connection: Connection, provider: MailProvider, run: JobRun): Promise<void> {
  const { deps } = context;
  const { clock, options, events } = deps;
  const { lease } = run.hold;
  const progress = connection.backfill;
  if (progress.state === 'done') return;
  const now = clock.now();
  if (pushWaiting(connection, now)) {
    // A real-time sync is waiting for this mailbox (this engine hands it the lease first; one in
    // another process is retrying): step aside for it, history can wait a moment.
    run.later.push(() => context.enqueue('backfill', connection.id, LEASE_BUSY_RETRY_MS));
    return;
  }
  const since = options.backfillWindowMs > 0 ? (progress.startedAt ?? now) - options.backfillWindowMs : undefined;
  const session = await deps.sessionFor(connection, run.signal);
  const page = await callProvider(deps, connection, 'fullSync', () =>
    provider.fullSync(session, progress.resume, { ...(since === undefined ? {} : { since }), pageSize: options.backfillPageSize }),
  );
  const startedAt = progress.startedAt ?? now;
  const done = progress.done + page.messages.length;
  const finished = page.next === null;
  const elapsed = Math.max(1, clock.now() - startedAt);
  const next: BackfillProgress = {
    state: finished ? 'done' : 'running',
    done,
    estimatedTotal: finished ? done : Math.max(done, page.estimatedTotal ?? progress.estimatedTotal ?? done),
    resume: page.next,
    startedAt,
    finishedAt: finished ? clock.now() : null,
    rate: Math.round((done / elapsed) * 1000 * 100) / 100,
  };
  // A cursor on the final page (Outlook: delta links over the whole folders) tracks more than the
  // connect-time cursor did (Outlook's only follows recently received mail), so it is adopted —
  // compare-and-set against the current cursor, in the same write as the page.
  let adopt = finished && page.cursor !== undefined && page.cursor !== connection.cursor;
  const upserts = page.messages.map((message) => ({ type: 'upsert' as const, message }));
  const connectionPatch = { backfill: next, ...(finished && connection.status === 'backfilling' ? { status: 'live' as const } : {}) };
  lease.check();
  try {
    await context.commit(connection, upserts, {
      connectionPatch,
      policies: run.policies,
      ...(adopt ? { cursor: page.cursor, expectedCursor: connection.cursor } : {}),
    });
  } catch (error) {
    // The live cursor moved since this job read it: keep it (still correct, only narrower) and
    // never lose the page over the optional adoption.
    if (!adopt || !isThreadlinkError(error, 'CURSOR_CONFLICT')) throw error;
    adopt = false;
    lease.check();
    await context.commit(connection, upserts, { connectionPatch, policies: run.policies });
  }
  if (adopt && page.cursor !== undefined) connection.cursor = page.cursor;
  connection.backfill = next;
  // The first page of a new connection reads the directory (never read = stale), so history shows names from the start.
  const labelReason = await labelRefreshReason(deps, connection, provider, upserts, undefined, 'backfill');
  if (labelReason) await refreshLabels(deps, connection, provider, session, labelReason);
  events.emit('backfill.progress', { connectionId: connection.id, tenantId: connection.tenantId, progress: next, done, estimatedTotal: next.estimatedTotal });
  if (finished) {
    events.emit('backfill.done', { connectionId: connection.id, tenantId: connection.tenantId, total: done });
    if (connection.status === 'backfilling') {
      const updated = await deps.store.getConnection(connection.id);
      if (updated) events.emit('connection.live', { connection: publicConnection(updated) });
    }
  } else {
    // Enqueued once this job has let go of the lease, so the next page starts at once (behind any
    // real-time job waiting for the mailbox) instead of finding the lease busy.
    run.later.push(() => context.enqueue('backfill', connection.id));
  }
}

function pushWaiting(connection: Connection, now: number): boolean {
  const { lastPushAt, lastSyncAt } = connection.health;
  return lastPushAt !== null && lastPushAt > (lastSyncAt ?? 0) && now - lastPushAt < PUSH_PRIORITY_MS;
}
