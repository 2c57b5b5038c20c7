// A policy purge holds the mailbox's lease, the one every sync, back-fill and resync job commits
// under. Why: a job reads the policy at the start of each page and writes at its end; had it read
// the OLD policy just before `set` saved the new one, its write could land after a lease-less purge
// and store what the new policy excludes. With the lease, a purge starts only once no page is in
// flight, and every page after it reads the saved policy.
import { randomUUID } from 'node:crypto';
import type { CoreContext } from '../context.js';
import { connectionLeaseKey, LEASE_BUSY_RETRY_MS } from '../engine/mailbox-leases.js';

/** How long a policy change waits for a busy mailbox (a back-fill page or a pull) before purging anyway. */
const HOLD_WAIT_MS = 30_000;

export async function withMailboxHeld<T>(
  context: Pick<CoreContext, 'store' | 'clock' | 'options' | 'logger'>,
  connectionId: string,
  work: () => Promise<T>,
): Promise<T> {
  const { store, clock, options, logger } = context;
  const key = connectionLeaseKey(connectionId);
  const owner = `policy:${randomUUID()}`;
  const giveUpAt = Date.now() + HOLD_WAIT_MS;
  for (;;) {
    if (await store.acquireLease({ key, owner, ttlMs: options.leaseTtlMs, now: clock.now() })) break;
    if (Date.now() >= giveUpAt) {
      // A mailbox busy for this long (a resync of a huge mailbox) must not block the purge: at worst
      // one page in flight lands after it, and the next change of that message removes it.
      logger.warn('policy purge ran without the mailbox lease', { connectionId });
      return work();
    }
    await new Promise((resolve) => setTimeout(resolve, LEASE_BUSY_RETRY_MS));
  }
  try {
    return await work();
  } finally {
    await store.releaseLease(key, owner);
  }
}
