// The scheduled org sync (issue 19): each maintain() pass re-reads the directory of the active
// organizations, of every tenant, whose last sync is older than `orgSyncIntervalMs` (default 6 h),
// so joiners are picked up and leavers offboarded without the host calling tl.org.sync(). Bounded:
// at most ORG_SYNCS_PER_PASS orgs per pass, the longest-unsynced first; the rest wait for the next
// pass. A sync already running (another instance) answers inProgress and costs nothing; a failed
// one is logged and asked again at the next pass; a needs_reauth org is not listed.
import type { CoreContext } from '../context.js';
import { toThreadlinkError } from '../errors.js';
import { syncOrganization } from './sync.js';

/** Six hours: directory changes (hires, leavers) show within a working day without a webhook for them. */
const DEFAULT_ORG_SYNC_INTERVAL_MS = 6 * 60 * 60_000;
/** Orgs synced per maintain() pass: a pass stays short even with many orgs due at once. */
const ORG_SYNCS_PER_PASS = 3;

/** Syncs the orgs due now; returns how many were synced. */
export async function syncDueOrganizations(context: CoreContext): Promise<number> {
  const interval = context.config.orgSyncIntervalMs ?? DEFAULT_ORG_SYNC_INTERVAL_MS;
  if (interval <= 0) return 0;
  const due = await context.store.listOrganizationsDue({ syncedBefore: context.clock.now() - interval + 1, limit: ORG_SYNCS_PER_PASS });
  let synced = 0;
  for (const organization of due) {
    try {
      const report = await syncOrganization(context, organization);
      if (!report.inProgress) synced += 1;
    } catch (error) {
      context.logger.warn('scheduled organization sync failed', { orgId: organization.id, code: toThreadlinkError(error).code });
    }
  }
  return synced;
}
