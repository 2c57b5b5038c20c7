import { memoryStore } from '@threadlink/storage-memory';
import { internalsOf } from '@threadlink/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { countingStore } from './support/counting-store.js';
import { connectedHarness } from './support/harness.js';
import { scriptedMailbox } from './support/scripted-provider.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

const push = (id: string): Request =>
  new Request('https://crm.example.test/threadlink/webhooks/gmail', { method: 'POST', body: JSON.stringify({ account: 'ana@acme.com', id }) });

describe('store round trips per synced message', () => {
  it('a push into a quiet mailbox costs two store calls in all, its claim taking the lease of the job it starts here, whatever the number of threads in the page', async () => {
    const counting = countingStore(memoryStore());
    const { tl, mailbox, store, connection } = await connectedHarness({ store: counting.store });
    stops.push(() => tl.stop());
    mailbox.add({ subject: 'Change request – PRJ-1042', threadId: 'shared' });
    expect((await tl.handler(push('push-1'))).status).toBe(202);
    await tl.idle();

    counting.reset();
    // A page of three messages in two threads; the reply carries no reference and inherits the
    // project from the stored message of its thread.
    const reply = mailbox.add({ subject: 'Re: the change', threadId: 'shared' });
    mailbox.add({ subject: 'Unrelated', threadId: 'other' });
    mailbox.add({ subject: 'Also unrelated', threadId: 'third' });
    expect((await tl.handler(push('push-2'))).status).toBe(202);
    await tl.idle();

    expect(counting.counts()).toEqual({
      // The webhook: the redelivery claim and lastPushAt in one write (shared with pushes arriving
      // together), which also reads the mailbox's connections: the provider's look-up of the
      // mailbox is remembered from push-1 (webhooks/account-lookups.ts) and checked by that read.
      // The job it queues starts here at once, so the same write takes its lease with the
      // connection and its ingestion policy (never cached across jobs: another instance may have
      // just tightened it).
      claimPushesForAccounts: 1,
      // The sync job: the one atomic write, which reads every thread of the page inside it,
      // records the sync's success in health and releases the lease.
      applySync: 1,
    });
    const inherited = await store.getMessageByProviderId(connection.id, reply);
    expect(inherited?.links.find((link) => link.record.id === 'p-1042')?.rule).toBe('thread');
    const health = (await store.getConnection(connection.id))!.health;
    expect(health.lastSyncAt).toBeGreaterThanOrEqual(health.lastPushAt!);
    expect(health.consecutiveErrors).toBe(0);
  });

  it('a redelivered push costs its claim only', async () => {
    const counting = countingStore(memoryStore());
    const { tl } = await connectedHarness({ store: counting.store });
    stops.push(() => tl.stop());
    await tl.handler(push('push-1'));
    await tl.idle();
    counting.reset();
    await tl.handler(push('push-1'));
    await tl.idle();
    expect(counting.counts()).toEqual({ claimPushesForAccounts: 1 });
  });

  it("keeps a push's lastPushAt that the webhook wrote while a sync job was running", async () => {
    const mailbox = scriptedMailbox();
    // The provider reports the newest change's time, so every commit writes health.
    const pull = mailbox.provider.pullChanges.bind(mailbox.provider);
    mailbox.provider.pullChanges = async (session, cursor) => ({ ...(await pull(session, cursor)), newestChangeAt: 1_700_000_000_000 });
    const { tl, store, connection } = await connectedHarness({}, mailbox);
    stops.push(() => tl.stop());
    let release!: () => void;
    mailbox.gate = new Promise<void>((resolve) => (release = resolve));
    mailbox.add({ subject: 'first' });
    const pullsBefore = mailbox.calls.pull;
    // The job reads the connection before the push below is recorded, then pulls (held open).
    await internalsOf(tl).engine.requestSync(connection.id, 'push');
    await vi.waitFor(() => expect(mailbox.calls.pull).toBe(pullsBefore + 1), { timeout: 5_000, interval: 2 });
    const pushedAt = Date.now();
    await tl.handler(push('during-the-pull'));
    expect((await store.getConnection(connection.id))!.health.lastPushAt).toBeGreaterThanOrEqual(pushedAt);
    release();
    mailbox.gate = null;
    await tl.idle();
    const health = (await store.getConnection(connection.id))!.health;
    expect(health.lastPushAt).toBeGreaterThanOrEqual(pushedAt);
    expect(health.newestChangeAt).toBe(1_700_000_000_000);
  });
});
