// Leases (one engine per mailbox at a time, crash-safe by expiry) and one-time claims.
import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from '../context.js';
import { uniqueId } from '../fixtures.js';

export function coordinationCases(t: ConformanceContext): void {
  describe('leases', () => {
    const lease = (key: string, owner: string, now: number, ttlMs = 1_000) => ({ key, owner, now, ttlMs });

    it('grants a free key and refuses it while live, to other owners and to the holder itself', async () => {
      const key = `connection:${uniqueId('conn')}`;
      expect(await t.store.acquireLease(lease(key, 'engine-a', 0))).toBe(true);
      expect(await t.store.acquireLease(lease(key, 'engine-b', 10))).toBe(false);
      // Not re-entrant: a second job of the same engine must not sync the mailbox concurrently.
      expect(await t.store.acquireLease(lease(key, 'engine-a', 20))).toBe(false);
      expect(await t.store.acquireLease(lease(`connection:${uniqueId('conn')}`, 'engine-b', 30))).toBe(true);
    });

    it('renewal by the holder extends the lease; the lease is gone at its expiry and another owner takes over', async () => {
      const key = `connection:${uniqueId('conn')}`;
      expect(await t.store.acquireLease(lease(key, 'engine-a', 0))).toBe(true);
      expect(await t.store.renewLease(lease(key, 'engine-a', 900))).toBe(true);
      expect(await t.store.acquireLease(lease(key, 'engine-b', 1_500))).toBe(false);
      expect(await t.store.acquireLease(lease(key, 'engine-b', 1_899))).toBe(false);
      expect(await t.store.acquireLease(lease(key, 'engine-b', 1_900))).toBe(true);
      // The crashed holder comes back: it may neither renew nor release the new owner's lease.
      expect(await t.store.renewLease(lease(key, 'engine-a', 1_950))).toBe(false);
      await t.store.releaseLease(key, 'engine-a');
      expect(await t.store.acquireLease(lease(key, 'engine-a', 2_000))).toBe(false);
      expect(await t.store.renewLease(lease(key, 'engine-b', 2_000))).toBe(true);
    });

    it('does not renew an expired lease, nor one held by someone else, nor a missing one', async () => {
      const key = `connection:${uniqueId('conn')}`;
      expect(await t.store.renewLease(lease(key, 'engine-a', 0))).toBe(false);
      expect(await t.store.acquireLease(lease(key, 'engine-a', 0))).toBe(true);
      expect(await t.store.renewLease(lease(key, 'engine-b', 500))).toBe(false);
      expect(await t.store.renewLease(lease(key, 'engine-a', 1_000))).toBe(false);
    });

    it('release frees the key at once, and only for its holder', async () => {
      const key = `connection:${uniqueId('conn')}`;
      expect(await t.store.acquireLease(lease(key, 'engine-a', 0, 60_000))).toBe(true);
      await t.store.releaseLease(key, 'engine-b');
      expect(await t.store.acquireLease(lease(key, 'engine-b', 10, 60_000))).toBe(false);
      await t.store.releaseLease(key, 'engine-a');
      expect(await t.store.acquireLease(lease(key, 'engine-b', 20, 60_000))).toBe(true);
    });

    it('grants a contended key to exactly one of many concurrent owners', async () => {
      const key = `connection:${uniqueId('conn')}`;
      const owners = Array.from({ length: 8 }, (_, index) => `engine-${index}`);
      const granted = await Promise.all(owners.map((owner) => t.store.acquireLease(lease(key, owner, 0, 60_000))));
      expect(granted.filter(Boolean)).toHaveLength(1);
      const sameOwnerKey = `connection:${uniqueId('conn')}`;
      const sameOwner = await Promise.all(owners.map(() => t.store.acquireLease(lease(sameOwnerKey, 'engine-0', 0, 60_000))));
      expect(sameOwner.filter(Boolean)).toHaveLength(1);
    });
  });

  describe('claimOnce', () => {
    it('is true the first time, false until the claim expires, then true again', async () => {
      const key = `dedupe:${uniqueId('notification')}`;
      expect(await t.store.claimOnce(key, 1_000, 0)).toBe(true);
      expect(await t.store.claimOnce(key, 5_000, 500)).toBe(false);
      expect(await t.store.claimOnce(key, 5_000, 999)).toBe(false);
      expect(await t.store.claimOnce(key, 5_000, 1_000)).toBe(true);
      expect(await t.store.claimOnce(key, 9_000, 4_999)).toBe(false);
      expect(await t.store.claimOnce(`dedupe:${uniqueId('notification')}`, 1_000, 0)).toBe(true);
    });

    it('lets exactly one of many concurrent claims win', async () => {
      const key = `oauth-state:${uniqueId('state')}`;
      const results = await Promise.all(Array.from({ length: 8 }, () => t.store.claimOnce(key, 60_000, 0)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('releaseClaim frees a live claim at once and leaves other keys claimed', async () => {
      const key = `dedupe:${uniqueId('notification')}`;
      const other = `dedupe:${uniqueId('notification')}`;
      expect(await t.store.claimOnce(key, 60_000, 0)).toBe(true);
      expect(await t.store.claimOnce(other, 60_000, 0)).toBe(true);
      await t.store.releaseClaim(key);
      await t.store.releaseClaim(`dedupe:${uniqueId('never-claimed')}`);
      expect(await t.store.claimOnce(key, 60_000, 1)).toBe(true);
      expect(await t.store.claimOnce(key, 60_000, 2)).toBe(false);
      expect(await t.store.claimOnce(other, 60_000, 2)).toBe(false);
    });
  });
}
