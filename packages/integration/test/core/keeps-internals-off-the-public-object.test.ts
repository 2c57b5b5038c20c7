import type { Threadlink } from '@threadlink/core';
import { assertReplyHasContent } from '@threadlink/core/provider';
import { internalsOf } from '@threadlink/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { connectedHarness } from './support/harness.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

describe('the public Threadlink object', () => {
  it('carries no internals; @threadlink/core/testing reaches the engine, store and sealer behind it', async () => {
    const { tl, store, connection } = await connectedHarness();
    stops.push(() => tl.stop());
    expect(Object.keys(tl)).not.toContain('internals');
    const internals = internalsOf(tl);
    expect(internals.store).toBe(store);
    // The sealer really is the one that sealed this connection's tokens.
    const sealed = (await store.getConnection(connection.id))!.sealedTokens;
    expect(JSON.parse(internals.sealer.open(sealed, 'provider-tokens'))).toMatchObject({ accessToken: expect.any(String) });
    expect(() => internalsOf({} as Threadlink)).toThrow(/createThreadlink/);
  });

  it('refuses a reply without text or html before the provider is asked to send', async () => {
    const { tl, mailbox, connection } = await connectedHarness();
    stops.push(() => tl.stop());
    mailbox.add({ subject: 'Question' });
    await tl.connections.sync(connection.id, { tenantId: 't1', as: 'admin' });
    await tl.idle();
    const [thread] = (await tl.timeline.forRecord({ type: 'client', id: 'c-bigco' }, { tenantId: 't1', as: 'admin' })).threads;
    const messageId = thread!.messages[0]!.id;
    let sends = 0;
    const send = mailbox.provider.send.bind(mailbox.provider);
    mailbox.provider.send = async (session, reply) => {
      sends += 1;
      return send(session, reply);
    };

    await expect(tl.messages.reply(messageId, { tenantId: 't1', as: 'admin', text: '' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'A reply needs text or html',
    });
    expect(sends).toBe(0);
    await tl.messages.reply(messageId, { tenantId: 't1', as: 'admin', text: 'Thanks!' });
    expect(sends).toBe(1);
    // The same rule, exported for adapters that check a reply themselves.
    expect(() => assertReplyHasContent({ html: '' })).toThrow('A reply needs text or html');
    expect(() => assertReplyHasContent({ html: '<p>ok</p>' })).not.toThrow();
  });
});
