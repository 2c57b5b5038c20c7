// The provider id is an open slug: a third adapter (here the scripted mailbox registered as
// 'imap-test') connects, receives push on its own webhook path and syncs, and nothing in core
// treats it as gmail or outlook.
import { Connection, ProviderId } from '@threadlink/core';
import { afterEach, describe, expect, it } from 'vitest';
import { startedHarness } from './support/harness.js';
import { scriptedMailbox } from './support/scripted-provider.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

describe('provider ids', () => {
  it('accepts any lower-case slug of 2 to 32 characters and refuses everything else', () => {
    for (const id of ['gmail', 'outlook', 'imap-test', 'jmap2', `a${'b'.repeat(31)}`]) expect(ProviderId.parse(id)).toBe(id);
    for (const id of ['', 'x', 'Gmail', 'imap test', 'imap_test', '2imap', '-imap', `a${'b'.repeat(32)}`, 'imap/../gmail']) {
      expect(ProviderId.safeParse(id).success, id).toBe(false);
    }
  });

  it('connects a third provider, takes its push at /webhooks/imap-test and stores its mail under its own id', async () => {
    const mailbox = scriptedMailbox('ana@acme.com', 'imap-test');
    mailbox.add({ subject: 'history' });
    const { tl, store } = await startedHarness({}, mailbox);
    stops.push(() => tl.stop());
    const { state } = await tl.connect.start({ provider: 'imap-test', tenantId: 't1', userId: 'u1' });
    const connected = await tl.connect.complete({ code: 'code-1', state }, { tenantId: 't1', userId: 'u1' });
    await tl.idle();
    const connection = Connection.parse(await store.getConnection(connected.id));
    expect(connection.provider).toBe('imap-test');
    expect((await store.listConnections({ tenantId: 't1', provider: 'imap-test' })).map((found) => found.id)).toEqual([connection.id]);

    mailbox.add({ subject: 'pushed PRJ-1042' });
    const push = await tl.handler(
      new Request('https://crm.example.test/threadlink/webhooks/imap-test', { method: 'POST', body: JSON.stringify({ account: 'ana@acme.com', id: 'n-1' }) }),
    );
    expect(push.status).toBe(202);
    await tl.idle();
    expect((await store.listProviderMessageIds(connection.id)).sort()).toEqual(mailbox.ids());
    const pushed = await store.getMessageByProviderId(connection.id, mailbox.ids().at(-1)!);
    expect(pushed).toMatchObject({ provider: 'imap-test', subject: 'pushed PRJ-1042' });
    expect(pushed!.links.map((link) => link.record.id)).toContain('p-1042');
    // Other providers' paths are still unknown here: only configured ids route.
    expect((await tl.handler(new Request('https://crm.example.test/threadlink/webhooks/gmail', { method: 'POST', body: '{}' }))).status).toBe(404);
  });
});
