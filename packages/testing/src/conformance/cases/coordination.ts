// Leases (one engine per mailbox at a time, crash-safe by expiry) and one-time claims.
import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from '../context.js';
import { makeConnection, uniqueId } from '../fixtures.js';

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

  describe('claimPush', () => {
    it('claims as claimOnce does and records lastPushAt only with the claim it won, merged into the stored health', async () => {
      const connection = makeConnection();
      await t.store.saveConnection(connection);
      await t.store.patchConnection(connection.id, { health: { lastSyncAt: 5_000, consecutiveErrors: 2 } });
      const key = `notification:gmail:${connection.id}:${uniqueId('push')}`;
      expect(await t.store.claimPush({ key, expiresAt: 100_000, now: 10_000, connectionId: connection.id, lastPushAt: 10_000 })).toBe(true);
      // A redelivery: the claim is lost, so the push it carries is not recorded again.
      expect(await t.store.claimPush({ key, expiresAt: 100_000, now: 20_000, connectionId: connection.id, lastPushAt: 20_000 })).toBe(false);
      expect(await t.store.claimOnce(key, 100_000, 30_000)).toBe(false);
      const health = (await t.store.getConnection(connection.id))!.health;
      expect(health).toMatchObject({ lastPushAt: 10_000, lastSyncAt: 5_000, consecutiveErrors: 2 });

      // Without lastPushAt only the claim is taken; a claim taken by claimOnce is refused too.
      const quiet = `notification:gmail:${connection.id}:${uniqueId('push')}`;
      expect(await t.store.claimPush({ key: quiet, expiresAt: 100_000, now: 40_000, connectionId: connection.id, lastPushAt: null })).toBe(true);
      expect((await t.store.getConnection(connection.id))!.health.lastPushAt).toBe(10_000);
      const taken = `notification:gmail:${connection.id}:${uniqueId('push')}`;
      expect(await t.store.claimOnce(taken, 100_000, 0)).toBe(true);
      expect(await t.store.claimPush({ key: taken, expiresAt: 100_000, now: 50_000, connectionId: connection.id, lastPushAt: 50_000 })).toBe(false);
      expect((await t.store.getConnection(connection.id))!.health.lastPushAt).toBe(10_000);
    });

    it('takes the claim for a connection that is gone, and lets exactly one of many concurrent claims record the push', async () => {
      expect(
        await t.store.claimPush({ key: `notification:gmail:${uniqueId('gone')}:1`, expiresAt: 1_000, now: 0, connectionId: uniqueId('gone'), lastPushAt: 0 }),
      ).toBe(true);
      const connection = makeConnection();
      await t.store.saveConnection(connection);
      const key = `notification:gmail:${connection.id}:${uniqueId('push')}`;
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, index) =>
          t.store.claimPush({ key, expiresAt: 60_000, now: index, connectionId: connection.id, lastPushAt: 1_000 + index }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await t.store.getConnection(connection.id))!.health.lastPushAt).toBe(1_000 + results.indexOf(true));
    });
  });
}
