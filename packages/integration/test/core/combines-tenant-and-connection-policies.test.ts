// How the tenant's and a connection's ingestion policies combine, and who may change which: a
// message is stored only when both admit it — excludes add up, a subdomain wildcard is not its
// apex, the connection cannot loosen the tenant, `store: 'matched'` keeps a reply that inherits
// its thread's link. Driven through sync with a scripted provider on the memory store.
import { isThreadlinkError, type ThreadlinkEventName } from '@threadlink/core';
import { afterEach, describe, expect, it } from 'vitest';
import { connectedHarness } from './support/harness.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isThreadlinkError(error)) return error.code;
    throw error;
  }
  return 'resolved';
}

describe('tenant and connection policies together', () => {
  it('stores a message only when both admit it', async () => {
    const { tl, store, mailbox, connection } = await connectedHarness();
    stops.push(() => tl.stop());
    const admin = { tenantId: 't1', as: 'admin' } as const;
    const owner = { tenantId: 't1', userId: 'u1', connectionId: connection.id };
    const events: Array<{ name: ThreadlinkEventName; json: string }> = [];
    for (const name of ['message.synced', 'message.matched'] as const) tl.on(name, (payload) => events.push({ name, json: JSON.stringify(payload) }));
    const sync = async () => {
      await tl.connections.sync(connection.id, owner);
      await tl.idle();
    };
    const stored = async (providerMessageId: string) => (await store.getMessageByProviderId(connection.id, providerMessageId)) !== null;

    await tl.policy.set({ exclude: ['*.corp.test'], ownDomains: ['acme.com'], internalOnly: 'skip' }, admin);
    const fromSubdomain = mailbox.add({ subject: 'Payroll', from: 'pay@hr.corp.test' });
    const fromApex = mailbox.add({ subject: 'Hello', from: 'someone@corp.test' });
    const internal = mailbox.add({ subject: 'Lunch', from: 'colleague@acme.com' });
    await sync();
    expect([await stored(fromSubdomain), await stored(fromApex), await stored(internal)]).toEqual([false, true, false]);
    expect(events.map((event) => event.json).join('\n')).not.toContain('hr.corp.test');

    // The owner's own rules add to the tenant's; an owner cannot loosen the tenant's internal-only rule.
    const report = await tl.policy.set({ exclude: ['*@corp.test'], internalOnly: 'keep' }, owner);
    expect(report.purged.messages).toBe(1);
    expect(await stored(fromApex)).toBe(false);
    const internalAgain = mailbox.add({ subject: 'Coffee', from: 'colleague@acme.com' });
    await sync();
    expect(await stored(internalAgain)).toBe(false);

    // store: 'matched' on the tenant: a reply with no reference of its own inherits the thread's link and stays.
    await tl.policy.update({ store: 'matched' }, admin);
    const opener = mailbox.add({ subject: 'Change request – PRJ-1042', from: 'buyer@elsewhere.test', threadId: 'shared' });
    await sync();
    const reply = mailbox.add({ subject: 'Re: the change', from: 'buyer@elsewhere.test', threadId: 'shared' });
    const unrelated = mailbox.add({ subject: 'Newsletter', from: 'news@elsewhere.test' });
    await sync();
    expect([await stored(opener), await stored(reply), await stored(unrelated)]).toEqual([true, true, false]);

    // A manual link keeps a message that matching alone would drop.
    await tl.policy.update({ store: 'all' }, admin);
    const manual = mailbox.add({ subject: 'Keep me', from: 'person@elsewhere.test' });
    await sync();
    const manualRow = (await store.getMessageByProviderId(connection.id, manual))!;
    await tl.matching.link(manualRow.id, { type: 'client', id: 'c-bigco' }, owner);
    const matchedOnly = await tl.policy.update({ store: 'matched' }, admin);
    expect(matchedOnly.purged.messageIds).not.toContain(manualRow.id);
    expect(await stored(manual)).toBe(true);

    // Who may change what.
    expect(await codeOf(tl.policy.set({ exclude: [] }, { tenantId: 't1', userId: 'u1' }))).toBe('SCOPE_REQUIRED');
    expect(await codeOf(tl.policy.set({ exclude: [] }, { tenantId: 't1', userId: 'u2', connectionId: connection.id }))).toBe('CONNECTION_NOT_FOUND');
    expect(await codeOf(tl.policy.set({ exclude: [] }, { tenantId: 't2', as: 'admin', connectionId: connection.id }))).toBe('CONNECTION_NOT_FOUND');
    expect(await codeOf(tl.policy.get({ tenantId: '', userId: 'u1' } as never))).toBe('SCOPE_REQUIRED');
    expect(await codeOf(tl.policy.set({ exclude: ['*'] }, owner))).toBe('POLICY_INVALID');
    expect(await codeOf(tl.policy.update(null as never, owner))).toBe('POLICY_INVALID');
    const view = await tl.policy.get(owner);
    expect(view).toMatchObject({ tenant: { exclude: ['*.corp.test'], store: 'matched' }, connection: { exclude: ['*@corp.test'], internalOnly: 'keep' } });
  });
});
