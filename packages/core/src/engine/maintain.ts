// One maintenance pass over every live mailbox: what push alone cannot guarantee. Expiring push
// channels are renewed (or recreated when gone), a safety-net pull covers silent ones, a back-fill
// whose queued page died with its process is re-queued, a periodic full resync reconciles, and a
// stalled mailbox is announced; organizations due re-read their directory (org/schedule.ts). Pulls and reconciliations are spaced by evidence (idle-cadence.ts).
import type { MaintenanceReport } from '../api.js';
import type { CoreContext } from '../context.js';
import { publicConnection } from '../events.js';
import { assessHealth } from '../health/health.js';
import { labelsStale } from '../labels/refresh.js';
import { syncDueOrganizations } from '../org/schedule.js';
import { reconciliationIntervalMs, renewalDueAt, safetyNetIntervalMs } from './idle-cadence.js';

/**
 * One pass at a time: a call while a pass runs joins it (gets its report). The pass reads every
 * live mailbox and awaits a queue write per job it asks for, so at 10,000 mailboxes on BullMQ it
 * can outlast the 60 s timer; overlapping passes each held their own copy of every connection
 * (the soak: heap after GC +18 MB a step, one step per pass left running).
 */
export function createMaintain(context: CoreContext): () => Promise<MaintenanceReport> {
  let running: Promise<MaintenanceReport> | undefined;
  const pass = createPass(context);
  return () => {
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  };
}

function createPass(context: CoreContext): () => Promise<MaintenanceReport> {
  const { store, engine, events, clock, options, thresholds, providers } = context;
  return async function maintain() {
    await context.init();
    const now = clock.now();
    const report: MaintenanceReport = { renewals: 0, recreated: 0, pulls: 0, labelRefreshes: 0, resyncs: 0, backfills: 0, stalled: 0, orgSyncs: 0 };
    const connections = await store.listConnections({ status: ['live', 'backfilling'] });
    for (const connection of connections) {
      const subscription = connection.subscription;
      if (!subscription || subscription.expiresAt <= now) {
        await engine.enqueue('recreate', connection.id);
        report.recreated += 1;
      } else if (renewalDueAt(connection, subscription, options) <= now) {
        await engine.enqueue('renew', connection.id);
        report.renewals += 1;
      }
      const lastSync = connection.health.lastSyncAt ?? connection.createdAt;
      // A push newer than the last sync that has waited this long: the job it queued is gone
      // (queue lost its data, process died). Pull now rather than at the next safety net.
      const lastPush = connection.health.lastPushAt ?? 0;
      const pushLost = lastPush > lastSync && now - lastPush >= options.pendingPushPullMs;
      const safetyNetDue = now - lastSync >= safetyNetIntervalMs(connection, options);
      if (safetyNetDue || pushLost) {
        // A due safety net keeps its name even when the pull also recovers lost work: only a
        // safety-net pull that finds changes renews push ("changes no push announced"), and a lost
        // job's pull would otherwise absorb the mail a silently dead channel never announced, leaving
        // the mailbox without push until its next renewal. The price is a renewal after a crash that
        // was only lost work.
        await engine.requestSync(connection.id, safetyNetDue ? 'safety-net' : 'lost-work');
        report.pulls += 1;
      } else if (providers.get(connection.provider)?.listLabels && labelsStale({ clock, options }, connection)) {
        // Label renames are never pushed: a directory older than labelRefreshIntervalMs is read by
        // a pull, the one scheduled route (labels/refresh.ts) — the safety-net pull above when it
        // runs, else this one. A back-fill page queued below never reads it on schedule.
        await engine.requestSync(connection.id, 'labels');
        report.labelRefreshes += 1;
      }
      // A back-fill's next page is a queued job: when the process holding it dies (in-process
      // queue) nothing else would ever queue it again. Re-queue it: coalesced by key while one
      // waits, and every page resumes from the `resume` token committed with the previous one.
      if (connection.backfill.state !== 'done' && (await engine.enqueue('backfill', connection.id))) report.backfills += 1;
      const lastFull = connection.health.lastFullSyncAt ?? connection.createdAt;
      if (options.fullResyncIntervalMs > 0 && now - lastFull >= reconciliationIntervalMs(connection, options) && connection.backfill.state === 'done') {
        await engine.enqueue('resync', connection.id, 0, { reason: 'reconciliation' });
        report.resyncs += 1;
      }
      const verdict = assessHealth(connection, now, thresholds);
      if (verdict.verdict === 'stalled') {
        report.stalled += 1;
        events.emit('connection.stalled', { connection: publicConnection(connection), reason: verdict.reason });
      }
    }
    report.orgSyncs = await syncDueOrganizations(context);
    return report;
  };
}
