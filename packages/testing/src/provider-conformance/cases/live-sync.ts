// Connect → push → pull, and pushes that arrive twice or out of order.
import { describe, expect, it } from 'vitest';
import { eventsNamed, linkKeys, minutesApart, storedBySubject, storedMessages, timelineMessages, type ProviderConformanceContext } from '../context.js';
import { CLIENT, CLIENT_RECORD, OWNER, TENANT } from '../world.js';

export function liveSyncCases(t: ProviderConformanceContext): void {
  describe('live sync', () => {
    it('connects through the consent flow, back-fills what was there, then stores and matches pushed mail', async () => {
      const world = await t.open();
      world.driver.addMailbox(OWNER);
      await world.driver.deliver({ to: OWNER, from: 'colleague@owner.test', subject: 'Before connecting', text: 'old news' });
      const connection = await world.connect();
      expect(connection).toMatchObject({ provider: world.driver.provider, accountEmail: OWNER });
      const live = await world.tl.connections.get(connection.id, { tenantId: TENANT, as: 'admin' });
      expect(live.status).toBe('live');
      expect(live.backfill.state).toBe('done');
      expect(eventsNamed(world.events, 'connection.live').map((event) => event.connection.id)).toContain(connection.id);
      expect((await storedMessages(world.tl, connection.id)).map((message) => message.subject)).toEqual(['Before connecting']);

      await world.driver.deliver({ to: OWNER, from: `BigCo <${CLIENT}>`, subject: 'Quote request', text: 'How much?' });
      await world.settle();

      // It came by push: a notification with work in it reached the handler for this connection.
      expect(eventsNamed(world.events, 'notification.received').some((event) => event.hints > 0 && event.connectionIds.includes(connection.id))).toBe(true);
      expect((await world.tl.connections.get(connection.id, { tenantId: TENANT, as: 'admin' })).health.lastPushAt).not.toBeNull();
      const stored = await storedBySubject(world.tl, connection.id, 'Quote request');
      expect(stored).toMatchObject({ connectionId: connection.id, direction: 'inbound', from: { address: CLIENT } });
      expect(linkKeys(stored)).toEqual(['client:c-bigco']);
      expect((await timelineMessages(world.tl, CLIENT_RECORD)).map((message) => message.id)).toEqual([stored.id]);
      expect(eventsNamed(world.events, 'sync.error')).toEqual([]);
    });

    it('stores a message once however often its push is delivered', async () => {
      const world = await t.open();
      const connection = await world.connect();
      world.driver.duplicatePushes(true);
      for (const subject of ['Twice 1', 'Twice 2', 'Twice 3']) {
        await world.driver.deliver({ to: OWNER, from: CLIENT, subject, text: 'x' });
        await world.settle();
      }
      world.driver.duplicatePushes(false);

      expect(world.driver.duplicatedPushes()).toBeGreaterThan(0);
      expect((await storedMessages(world.tl, connection.id)).map((message) => message.subject).sort()).toEqual(['Twice 1', 'Twice 2', 'Twice 3']);
      const created = eventsNamed(world.events, 'message.synced').filter((event) => event.created);
      expect(created.map((event) => event.message.subject).sort()).toEqual(['Twice 1', 'Twice 2', 'Twice 3']);
    });

    it('stores pushes that arrive newest first (and twice) once each, in the order the mail was received', async () => {
      const world = await t.open();
      const connection = await world.connect();
      const dates = minutesApart(4);
      const subjects = dates.map((_, index) => `In order ${index + 1}`);
      const pushesBefore = world.driver.pushesSent();
      world.driver.duplicatePushes(true);
      await world.driver.deliverWithPushesReordered(subjects.map((subject, index) => ({ to: OWNER, from: CLIENT, subject, text: 'x', date: dates[index]! })));
      world.driver.duplicatePushes(false);
      await world.settle();

      // One push per mail at least (each its own POST, so the order between them is real).
      expect(world.driver.pushesSent() - pushesBefore).toBeGreaterThanOrEqual(subjects.length);
      const stored = await storedMessages(world.tl, connection.id);
      expect(stored.map((message) => message.subject).sort()).toEqual([...subjects].sort());
      expect(stored.map((message) => message.receivedAt).sort()).toEqual(dates.map((date) => date.getTime()));
      // The timeline shows the newest thread first, whatever order the pushes came in.
      expect((await timelineMessages(world.tl, CLIENT_RECORD)).map((message) => message.subject)).toEqual([...subjects].reverse());
    });
  });
}
