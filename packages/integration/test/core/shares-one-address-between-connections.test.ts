// One mailbox address connected twice (two tenants here; two users of one tenant are the same
// case): a push names the address once and must reach both connections, and offboarding one must
// leave the other its grant — and, where the provider's push channel is per mailbox, its push.
import type { MailProvider } from '@threadlink/core';
import { afterEach, describe, expect, it } from 'vitest';
import { startedHarness } from './support/harness.js';
import { scriptedMailbox } from './support/scripted-provider.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

const base = 'https://crm.example.test/threadlink';

async function twoTenantsOneAddress(pushChannel?: MailProvider['pushChannel']) {
  const mailbox = scriptedMailbox();
  if (pushChannel) mailbox.provider = { ...mailbox.provider, pushChannel };
  const { tl, store } = await startedHarness({}, mailbox);
  stops.push(() => tl.stop());
  const connect = async (tenantId: string) => {
    const { state } = await tl.connect.start({ provider: 'gmail', tenantId, userId: `${tenantId}-owner` });
    return tl.connect.complete({ code: `code-${tenantId}`, state }, { tenantId, userId: `${tenantId}-owner` });
  };
  const first = await connect('t1');
  const second = await connect('t2');
  await tl.idle();
  return { tl, store, mailbox, first, second };
}

describe('one address connected in two tenants', () => {
  it("syncs both connections from one push, and still ignores that push's redelivery", async () => {
    const { tl, store, mailbox, first, second } = await twoTenantsOneAddress();
    expect(first.id).not.toBe(second.id);
    mailbox.add({ subject: 'for both' });
    const pullsBefore = mailbox.calls.pull;
    const push = () => tl.handler(new Request(`${base}/webhooks/gmail`, { method: 'POST', body: JSON.stringify({ account: 'ana@acme.com', id: 'push-1' }) }));
    expect((await push()).status).toBe(202);
    await tl.idle();
    expect(mailbox.calls.pull - pullsBefore).toBe(2);
    expect(await store.listProviderMessageIds(first.id)).toEqual(mailbox.ids());
    expect(await store.listProviderMessageIds(second.id)).toEqual(mailbox.ids());
    expect((await push()).status).toBe(202);
    await tl.idle();
    expect(mailbox.calls.pull - pullsBefore).toBe(2);
  });

  it('keeps the grant while the other connection remains, and revokes when the last one leaves', async () => {
    const { tl, store, mailbox, first, second } = await twoTenantsOneAddress();
    const leaving = await tl.connections.disconnect(second.id, { purge: true, tenantId: 't2', as: 'admin' });
    expect(leaving).toMatchObject({ revoked: false, revokeSkipped: 'shared-grant', unsubscribed: true });
    expect(leaving.unsubscribeSkipped).toBeUndefined();
    // Per-connection push channels (the default) are this connection's own: they are deleted.
    expect(mailbox.calls).toMatchObject({ revoke: 0, unsubscribe: 1 });
    expect(await store.getConnection(second.id)).toBeNull();
    expect((await store.getConnection(first.id))?.status).toBe('live');

    const last = await tl.connections.disconnect(first.id, { purge: true, tenantId: 't1', as: 'admin' });
    expect(last).toMatchObject({ revoked: true, unsubscribed: true });
    expect(last.revokeSkipped).toBeUndefined();
    expect(mailbox.calls).toMatchObject({ revoke: 1, unsubscribe: 2 });
  });

  it('leaves a per-mailbox push channel to the connection that remains', async () => {
    const { tl, mailbox, second } = await twoTenantsOneAddress('mailbox');
    const leaving = await tl.connections.disconnect(second.id, { purge: false, tenantId: 't2', as: 'admin' });
    expect(leaving).toMatchObject({ revoked: false, unsubscribed: false, revokeSkipped: 'shared-grant', unsubscribeSkipped: 'shared-watch' });
    expect(mailbox.calls).toMatchObject({ revoke: 0, unsubscribe: 0 });
  });

  it('does not count a disconnected (kept, purge: false) connection as one that still needs the grant', async () => {
    const { tl, mailbox, first, second } = await twoTenantsOneAddress('mailbox');
    await tl.connections.disconnect(second.id, { purge: false, tenantId: 't2', as: 'admin' });
    const last = await tl.connections.disconnect(first.id, { purge: true, tenantId: 't1', as: 'admin' });
    expect(last).toMatchObject({ revoked: true, unsubscribed: true });
    expect(mailbox.calls).toMatchObject({ revoke: 1, unsubscribe: 1 });
  });
});
