// An expired sync cursor and a revoked grant: the two ways a provider takes a mailbox's sync away.
import { describe, expect, it } from 'vitest';
import { eventsNamed, linkKeys, storedBySubject, storedMessages, timelineMessages, type ProviderConformanceContext } from '../context.js';
import { CLIENT, OWNER, TENANT } from '../world.js';

export function recoveryCases(t: ProviderConformanceContext): void {
  describe('recovery', () => {
    it('resyncs when the cursor expired, keeping the messages, their automatic and manual links, and going on live', async () => {
      const world = await t.open();
      const connection = await world.connect();
      await world.driver.deliver({ to: OWNER, from: CLIENT, subject: 'Linked before expiry', text: 'x' });
      await world.settle();
      const before = await storedBySubject(world.tl, connection.id, 'Linked before expiry');
      const deal = { type: 'deal', id: 'deal-7', label: 'Big deal' };
      await world.tl.matching.link(before.id, deal, { tenantId: TENANT, userId: 'u1' });
      const cursorBefore = (await world.tl.connections.get(connection.id, { tenantId: TENANT, as: 'admin' })).cursor;

      world.driver.expireCursor(OWNER);
      await world.driver.deliver({ to: OWNER, from: CLIENT, subject: 'Sent while the cursor was lost', text: 'x' });
      await world.settle();

      expect(eventsNamed(world.events, 'sync.error').map((event) => event.code)).toContain('CURSOR_EXPIRED');
      const after = await world.tl.connections.get(connection.id, { tenantId: TENANT, as: 'admin' });
      expect(after.status).toBe('live');
      expect(after.cursor).not.toBe(cursorBefore);
      expect(after.health.lastFullSyncAt).not.toBeNull();
      expect((await storedMessages(world.tl, connection.id)).map((message) => message.subject).sort()).toEqual([
        'Linked before expiry',
        'Sent while the cursor was lost',
      ]);
      const kept = await storedBySubject(world.tl, connection.id, 'Linked before expiry');
      expect(kept.id).toBe(before.id);
      expect(linkKeys(kept)).toEqual(['client:c-bigco', 'deal:deal-7 (manual)']);
      expect((await timelineMessages(world.tl, deal)).map((message) => message.id)).toEqual([before.id]);

      await world.driver.deliver({ to: OWNER, from: CLIENT, subject: 'After the resync', text: 'x' });
      await world.settle();
      expect(linkKeys(await storedBySubject(world.tl, connection.id, 'After the resync'))).toEqual(['client:c-bigco']);
    });

    it('reconciles a mailbox it stores whole without reading a message, keeping its links', async () => {
      // Every maintain() is due for the periodic reconciliation; the safety-net pull is not.
      const world = await t.open({ engine: { fullResyncIntervalMs: 1 } });
      const connection = await world.connect();
      const subjects = ['Stored 1', 'Stored 2', 'Stored 3', 'Stored 4', 'Stored 5', 'Stored 6'];
      for (const subject of subjects) await world.driver.deliver({ to: OWNER, from: CLIENT, subject, text: 'x' });
      await world.settle();
      const linked = await storedBySubject(world.tl, connection.id, 'Stored 1');
      await world.tl.matching.link(linked.id, { type: 'deal', id: 'deal-7', label: 'Big deal' }, { tenantId: TENANT, userId: 'u1' });
      const before = await world.tl.connections.get(connection.id, { tenantId: TENANT, as: 'admin' });
      const readsBefore = world.driver.messageReads(OWNER);

      await world.tl.maintain();
      await world.settle();

      const after = await world.tl.connections.get(connection.id, { tenantId: TENANT, as: 'admin' });
      expect(after.health.lastFullSyncAt).not.toBe(before.health.lastFullSyncAt);
      // Re-reading the mailbox would be 6 reads: the listing names ids only, all of them stored.
      expect(world.driver.messageReads(OWNER) - readsBefore).toBe(0);
      expect((await storedMessages(world.tl, connection.id)).map((message) => message.subject).sort()).toEqual([...subjects].sort());
      expect(linkKeys(await storedBySubject(world.tl, connection.id, 'Stored 1'))).toEqual(['client:c-bigco', 'deal:deal-7 (manual)']);
    });

    it('moves a connection whose grant was revoked to needs_reauth once, and leaves it there', async () => {
      const world = await t.open();
      const connection = await world.connect();
      world.driver.revokeGrant(OWNER);
      await world.driver.deliver({ to: OWNER, from: CLIENT, subject: 'Nobody can read this here', text: 'x' });
      await world.settle();

      expect((await world.tl.connections.get(connection.id, { tenantId: TENANT, as: 'admin' })).status).toBe('needs_reauth');
      expect((await world.tl.health(connection.id, { tenantId: TENANT, as: 'admin' })).verdict).toBe('needs_reauth');
      expect(eventsNamed(world.events, 'connection.needs_reauth').map((event) => event.connection.id)).toEqual([connection.id]);
      expect(eventsNamed(world.events, 'sync.error').map((event) => event.code)).toContain('AUTH_REVOKED');

      // Maintenance and later mail change nothing: no second event, no retry storm.
      await world.driver.deliver({ to: OWNER, from: CLIENT, subject: 'Still revoked', text: 'x' });
      await world.tl.maintain();
      await world.settle();
      expect((await world.tl.connections.get(connection.id, { tenantId: TENANT, as: 'admin' })).status).toBe('needs_reauth');
      expect(eventsNamed(world.events, 'connection.needs_reauth')).toHaveLength(1);
      expect((await storedMessages(world.tl, connection.id)).map((message) => message.subject)).toEqual([]);
    });
  });
}
