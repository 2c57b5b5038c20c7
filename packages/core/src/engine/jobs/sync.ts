// The `sync` job: an incremental pull from the STORED cursor, committed page by page with
// compare-and-set, so a crash between pages replays a page and never skips one.
import type { Connection } from '../../domain/schemas.js';
import type { MailProvider } from '../../ports/mail-provider.js';
import { succeededAt, type JobContext, type JobRun } from '../job-context.js';
import { pushWasMissed } from '../job-outcome.js';
import { labelRefreshReason, refreshLabels } from '../../labels/refresh.js';
import { preparedPage } from '../prepared-page.js';
import { callProvider } from '../provider-call.js';
import { scopeOf } from '../sync-scope.js';

/** True when the last commit also recorded the success in the connection's health. */
export async function sync(context: JobContext, connection: Connection, provider: MailProvider, run: JobRun): Promise<boolean> {
  if (!connection.cursor) return false;
  const { deps } = context;
  const { job } = run;
  const { lease } = run.hold;
  let cursor = connection.cursor;
  let changed = 0;
  const rounds = deps.options.maxRoundsPerJob;
  const scope = scopeOf(job);
  const pullOptions = scope ? { scope } : undefined;
  const renewNow = () => context.enqueue('renew', connection.id);
  for (let round = 0; round < rounds; round += 1) {
    const pullStartedAt = deps.clock.now();
    context.pacing.spend(connection.id);
    const session = await deps.sessionFor(connection, run.signal);
    // The page's transaction opens while the provider reads the page, where the store can (prepareSync).
    const page = preparedPage(deps.store, connection);
    try {
      const result = await callProvider(deps, connection, 'pullChanges', () => provider.pullChanges(session, cursor, page.pullOptions(pullOptions)));
      changed += result.changes.length;
      const last = !result.hasMore || round === rounds - 1;
      // Decided before the commit, so a job with nothing left to do after it lets its lease go with
      // it: a label directory to re-read or a missed push to record keeps the lease until letGo.
      const labelReason = await labelRefreshReason(deps, connection, provider, result.changes, result.labelsChanged, 'sync');
      const done = !result.hasMore && labelReason === null && !(job.data?.reason === 'safety-net' && changed > 0);
      lease.check();
      const commit = done ? (...args: Parameters<typeof context.commit>) => context.commitLast(...args, run.hold) : context.commit;
      await commit(connection, result.changes, {
        cursor: result.nextCursor,
        expectedCursor: cursor,
        requestedAt: job.requestedAt,
        policies: round === 0 ? run.policies : undefined,
        prepared: page.prepared(),
        health: {
          ...(result.newestChangeAt === undefined ? {} : { newestChangeAt: result.newestChangeAt }),
          // lastSyncAt is when the pull began: a push received after that may not be covered yet.
          ...(last ? succeededAt(pullStartedAt) : {}),
        },
      });
      cursor = result.nextCursor;
      connection.cursor = cursor;
      // After the commit: the rows are safe even if the directory read fails.
      if (labelReason) await refreshLabels(deps, connection, provider, session, labelReason);
      // A part of the mailbox without push (a folder created since the last subscribe): subscribe it
      // now rather than at the next renewal, so its own mail arrives by push too.
      if (result.pushCoverageChanged && !run.later.includes(renewNow)) run.later.push(renewNow);
      if (!result.hasMore) {
        deps.logger.debug('sync pulled', { connectionId: connection.id, reason: job.data?.reason ?? null, scope: job.data?.scope ?? null, changes: changed });
        if (job.data?.reason === 'safety-net' && changed > 0) await pushWasMissed(context, connection, changed, run);
        return true;
      }
    } finally {
      page.release();
    }
  }
  // More is waiting: yield the lease and continue in a fresh job so other mailboxes get a turn
  // (over the whole mailbox: like every pull that is not a push's, it is not narrowed).
  run.later.push(() => context.requestSync(connection.id, 'continue'));
  return true;
}
