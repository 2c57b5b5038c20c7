// Webhook intake remembers which connections an address has, so a push for a known mailbox costs no
// look-up (issue 21: a transaction per push). A store with `claimPushesForAccounts` lets it
// remember for minutes, because every push's claim reads the address's connections again in the
// same transaction: a second connection of the address made by ANOTHER instance (no
// `connection.live` event here) gets the very next push, and the memory is dropped.
import type { MetadataStore } from '@threadlink/core';
import { memoryStore } from '@threadlink/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { countingStore } from './support/counting-store.js';
import { connectedHarness, startedHarness } from './support/harness.js';
import { scriptedMailbox } from './support/scripted-provider.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

const push = (id: string): Request =>
  new Request('https://crm.example.test/threadlink/webhooks/gmail', { method: 'POST', body: JSON.stringify({ account: 'ana@acme.com', id }) });

/** The store without claimPushesForAccounts, as a third-party store written before it would be. */
function withoutAccountChecks(inner: MetadataStore): MetadataStore {
  return new Proxy(inner, {
    get: (target, property, receiver) => (property === 'claimPushesForAccounts' ? undefined : Reflect.get(target, property, receiver)),
  });
}

describe('remembered mailbox look-ups', () => {
  it('hands the next push to a connection of the address made by another instance, and looks the address up again after', async () => {
    const shared = memoryStore();
    const counting = countingStore(shared);
    const mailbox = scriptedMailbox();
    const here = await connectedHarness({ store: counting.store }, mailbox);
    stops.push(() => here.tl.stop());
    // A push remembers ana@acme.com's one connection.
    expect((await here.tl.handler(push('push-1'))).status).toBe(202);
    await here.tl.idle();

    // Another instance on the same store connects the same address for another tenant.
    const elsewhere = await startedHarness({ store: shared }, mailbox);
    stops.push(() => elsewhere.tl.stop());
    const { state } = await elsewhere.tl.connect.start({ provider: 'gmail', tenantId: 't2', userId: 'u2' });
    const second = await elsewhere.tl.connect.complete({ code: 'code-2', state }, { tenantId: 't2', userId: 'u2' });
    await elsewhere.tl.idle();
    await elsewhere.tl.stop();

    const arrived = mailbox.add({ subject: 'Change request – PRJ-1042' });
    counting.reset();
    expect((await here.tl.handler(push('push-2'))).status).toBe(202);
    await here.tl.idle();
    // What a user of the second tenant sees: the message, synced by this instance on that push.
    expect(await shared.getMessageByProviderId(second.id, arrived)).toMatchObject({ subject: 'Change request – PRJ-1042' });
    expect(await shared.getMessageByProviderId(here.connection.id, arrived)).toMatchObject({ subject: 'Change request – PRJ-1042' });
    // No look-up for the remembered address: its claim read the connections, and the second
    // connection's claim followed (also through claimPushesForAccounts: it takes its job's lease).
    expect(counting.counts().listConnections ?? 0).toBe(0);
    expect((counting.counts().claimPushesForAccounts ?? 0) + (counting.counts().claimPushes ?? 0)).toBe(2);

    // The memory was dropped: the next push looks the address up, and both connections get it.
    counting.reset();
    const next = mailbox.add({ subject: 'Follow-up – PRJ-1042' });
    expect((await here.tl.handler(push('push-3'))).status).toBe(202);
    await here.tl.idle();
    expect(counting.counts().listConnections).toBe(1);
    expect(await shared.getMessageByProviderId(second.id, next)).not.toBeNull();
  });

  it('costs a push to a remembered mailbox its claim only, for minutes, when the store checks accounts', async () => {
    const counting = countingStore(memoryStore());
    let now = Date.now();
    const { tl } = await connectedHarness({ store: counting.store, clock: { now: () => now, sleep: async () => undefined } });
    stops.push(() => tl.stop());
    await tl.handler(push('push-1'));
    await tl.idle();
    now += 5 * 60_000;
    counting.reset();
    await tl.handler(push('push-2'));
    await tl.idle();
    expect(counting.counts().listConnections ?? 0).toBe(0);
    expect(counting.counts().claimPushesForAccounts).toBe(1);
  });

  it('remembers for a burst only (2 s) with a store that cannot check accounts', async () => {
    const counting = countingStore(withoutAccountChecks(memoryStore()));
    let now = Date.now();
    const { tl } = await connectedHarness({ store: counting.store, clock: { now: () => now, sleep: async () => undefined } });
    stops.push(() => tl.stop());
    await tl.handler(push('push-1'));
    await tl.idle();
    now += 1_000;
    counting.reset();
    await tl.handler(push('push-2'));
    await tl.idle();
    expect(counting.counts().listConnections ?? 0).toBe(0);
    expect(counting.counts().claimPushes).toBe(1);
    now += 2_000;
    counting.reset();
    await tl.handler(push('push-3'));
    await tl.idle();
    expect(counting.counts().listConnections).toBe(1);
  });
});
