// Replies go out at most once; bodies are fetched on demand, sanitised, and never kept.
import { describe, expect, it } from 'vitest';
import type { MessageMeta } from '@threadlink/core/provider';
import { eventsNamed, storedBySubject, storedMessages, type ProviderConformanceContext } from '../context.js';
import { CLIENT, OWNER, TENANT } from '../world.js';

const isReply = (subject: string): boolean => /^re:\s*order 12$/i.test(subject);
const CANARY = 'canary-7f3a9c1e';

export function sendAndBodyCases(t: ProviderConformanceContext): void {
  describe('replies', () => {
    it('sends a reply into the thread; the client gets it once and its sent copy is stored once', async () => {
      const world = await t.open();
      world.driver.addMailbox(CLIENT);
      const connection = await world.connect();
      await world.driver.deliver({ to: OWNER, from: `BigCo <${CLIENT}>`, subject: 'Order 12', text: 'ship?' });
      await world.settle();
      const original = await storedBySubject(world.tl, connection.id, 'Order 12');

      const reply = await world.tl.messages.reply(original.id, { tenantId: TENANT, as: 'admin', text: 'Shipping today.' });
      await world.settle();

      expect(world.driver.subjectsIn(CLIENT).filter(isReply)).toHaveLength(1);
      expect(reply).toMatchObject({ direction: 'outbound', threadId: original.threadId });
      const outbound = (await storedMessages(world.tl, connection.id)).filter((message) => message.direction === 'outbound');
      expect(outbound.map((message) => message.id)).toEqual([reply.id]);
      expect((await world.tl.timeline.thread(original.threadId, { tenantId: TENANT, as: 'admin' })).map((message) => message.id)).toEqual(
        expect.arrayContaining([original.id, reply.id]),
      );
    });

    it('sends a reply at most once when the answer to the send is lost: confirmed once, or SEND_UNCONFIRMED', async () => {
      const world = await t.open();
      world.driver.addMailbox(CLIENT);
      const connection = await world.connect();
      await world.driver.deliver({ to: OWNER, from: `BigCo <${CLIENT}>`, subject: 'Order 12', text: 'ship?' });
      await world.settle();
      const original = await storedBySubject(world.tl, connection.id, 'Order 12');

      world.driver.loseNextSendAnswer();
      const outcome = await world.tl.messages.reply(original.id, { tenantId: TENANT, as: 'admin', text: 'Shipping today.' }).then(
        (message: MessageMeta) => ({ sent: true as const, message }),
        (error: unknown) => ({ sent: false as const, error }),
      );
      await world.settle();

      // The provider carried the send out: exactly one copy reached the client, whatever the adapter concluded.
      expect(world.driver.subjectsIn(CLIENT).filter(isReply)).toHaveLength(1);
      const outbound = (await storedMessages(world.tl, connection.id)).filter((message) => message.direction === 'outbound');
      if (outcome.sent) {
        expect(outbound.map((message) => message.id)).toEqual([outcome.message.id]);
      } else {
        expect(outcome.error).toMatchObject({ name: 'ThreadlinkError', code: 'SEND_UNCONFIRMED' });
        expect(outbound.length).toBeLessThanOrEqual(1);
      }
    });
  });

  describe('bodies', () => {
    it('serves the body on demand as sanitised html and as text, and never stores, logs or emits it', async () => {
      const world = await t.open();
      const connection = await world.connect();
      await world.driver.deliver({
        to: OWNER,
        from: CLIENT,
        subject: 'Quarterly numbers',
        text: `Numbers: ${CANARY}`,
        html: `<p onclick="steal()">Numbers: <b>${CANARY}</b></p><script>steal()</script>`,
      });
      await world.settle();
      const stored = await storedBySubject(world.tl, connection.id, 'Quarterly numbers');

      const html = await world.tl.messages.body(stored.id, { tenantId: TENANT, as: 'admin', format: 'html' });
      expect(html.html).toContain(CANARY);
      expect(html.html).not.toMatch(/<script|onclick|steal\(\)/i);
      expect(html.text).toBeNull();
      const text = await world.tl.messages.body(stored.id, { tenantId: TENANT, as: 'admin', format: 'text' });
      expect(text.text).toContain(CANARY);
      expect(text.html).toBeNull();
      const both = await world.tl.messages.body(stored.id, { tenantId: TENANT, as: 'admin' });
      expect(both.html).toContain(CANARY);
      expect(both.text).toContain(CANARY);
      await world.settle();

      // Fetched three times, kept nowhere: not in anything handed to the store, the logs or the events.
      expect(world.storeTraffic()).toContain('Quarterly numbers');
      expect(world.storeTraffic()).not.toContain(CANARY);
      expect(JSON.stringify(await world.tl.messages.get(stored.id, { tenantId: TENANT, as: 'admin' }))).not.toContain(CANARY);
      expect(world.logs.join('\n')).not.toContain(CANARY);
      expect(JSON.stringify(world.events)).not.toContain(CANARY);
      expect(eventsNamed(world.events, 'message.synced').map((event) => event.message.subject)).toEqual(['Quarterly numbers']);
    });
  });
}
