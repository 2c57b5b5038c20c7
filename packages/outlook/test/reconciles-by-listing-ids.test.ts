// A reconciliation (the periodic safety resync, or the resync after a 410 on the delta link) runs a
// delta round that selects `id` only, at Graph's largest message page, and reads just the
// messages it does not store: re-reading a business mailbox of 10,000–100,000 messages would cost
// a request per 20 messages and a throttling budget the live path needs (issue 21).
import { internalsOf } from '@threadlink/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startFacade, type Facade } from './harness.js';

const ANA = 'ana@contoso.com';
const STORED = 150;
/** The largest `Prefer: odata.maxpagesize` Graph honours for messages (packages/outlook/src/backfill.ts). */
const MAX_PAGE_SIZE = 1000;

describe('a reconciliation costs ids, not messages', () => {
  let facade: Facade;
  afterEach(async () => facade?.close());

  async function seedAndConnect(): Promise<{ connectionId: string; ids: string[] }> {
    facade = await startFacade();
    facade.ms.addMailbox({ email: ANA });
    const ids: string[] = [];
    for (let index = 0; index < STORED; index += 1) {
      const delivered = await facade.ms.deliver({ from: 'client@acme.com', to: ANA, subject: `Older mail ${index}`, text: 'x' });
      ids.push(delivered.id);
    }
    const connection = await facade.connect(ANA);
    await facade.settle();
    expect((await facade.store.listProviderMessageIds(connection.id)).length).toBe(STORED);
    return { connectionId: connection.id, ids };
  }

  function requestsSince(mark: number) {
    return facade.ms.log.entries.slice(mark).filter((entry) => entry.mailbox === undefined || entry.mailbox === ANA);
  }

  it('reads no message of a mailbox it already stores whole, in one id-only delta page per folder', async () => {
    const { connectionId } = await seedAndConnect();
    const mark = facade.ms.log.entries.length;
    await internalsOf(facade.tl).engine.enqueue('resync', connectionId, 0, { reason: 'reconciliation' });
    await facade.settle();

    const requests = requestsSince(mark);
    expect(requests.filter((entry) => entry.operation === 'messages.get' || entry.operation === 'attachments.list')).toEqual([]);
    const delta = requests.filter((entry) => entry.operation === 'delta');
    // The listing: ⌈N / page⌉ pages of the inbox + one (empty) page of each other synced folder (Sent
    // Items, Archive); then the pull after it (one page per folder). At the back-fill page size of 100
    // the inbox alone would take two.
    const folders = 3;
    expect(delta.length).toBeLessThanOrEqual(Math.ceil(STORED / MAX_PAGE_SIZE) + (folders - 1) + folders);
    // Everything else the resync sent: the folder ids and item counts, two $batch round trips.
    const other = requests.filter((entry) => entry.operation !== 'delta');
    expect(other.filter((entry) => entry.operation === '$batch').length).toBeLessThanOrEqual(2);
    expect((await facade.store.listProviderMessageIds(connectionId)).length).toBe(STORED);
  });

  it('reads only the message it lacks, removes the one gone, and keeps manual links, when notifications were lost', async () => {
    const { connectionId, ids } = await seedAndConnect();
    const { ms, store, tl } = facade;
    const kept = await store.getMessageByProviderId(connectionId, ids[0]!);
    await tl.matching.link(kept!.id, { type: 'deal', id: 'deal-7', label: 'Big deal' }, { tenantId: 't1', as: 'admin' });

    // While no subscription is alive: one arrives, one is deleted.
    for (const subscription of ms.subscriptions().filter((entry) => entry.mailbox === ANA)) ms.expireSubscription(subscription.id);
    const arrived = await ms.deliver({ from: 'client@acme.com', to: ANA, subject: 'Arrived while nobody pushed', text: 'x' });
    ms.deleteMessage(ANA, ids[1]!);
    const mark = ms.log.entries.length;
    await internalsOf(tl).engine.enqueue('resync', connectionId, 0, { reason: 'reconciliation' });
    await facade.settle();

    const requests = requestsSince(mark);
    // The id-only round's links are not adopted: the pull after it goes on from the kept delta links,
    // which deliver the message whole (no second read). The one other read is the check of the
    // removal (404: deleted for real, not moved; fetch-messages.ts resolveRemovals).
    const reads = requests.filter((entry) => entry.operation === 'messages.get').map((entry) => decodeURIComponent(entry.path));
    expect(reads).toHaveLength(2);
    expect(reads).toEqual(expect.arrayContaining([expect.stringContaining(arrived.id), expect.stringContaining(ids[1]!)]));
    const stored = new Set(await store.listProviderMessageIds(connectionId));
    expect(stored.has(arrived.id)).toBe(true);
    expect(stored.has(ids[1]!)).toBe(false);
    expect(stored.size).toBe(STORED);
    const links = (await store.getMessageByProviderId(connectionId, ids[0]!))?.links.map((link) => `${link.record.type}:${link.record.id}`);
    expect(links).toContain('deal:deal-7');
    expect(links).toContain('client:c-acme');
  });

  it('after a 410 lists ids only too, yet sees folder moves made in the gap: reads just what moved or arrived, keeps links, adopts new delta links', async () => {
    const { connectionId, ids } = await seedAndConnect();
    const { ms, store, tl } = facade;
    const kept = await store.getMessageByProviderId(connectionId, ids[0]!);
    await tl.matching.link(kept!.id, { type: 'deal', id: 'deal-7', label: 'Big deal' }, { tenantId: 't1', as: 'admin' });
    for (const subscription of ms.subscriptions().filter((entry) => entry.mailbox === ANA)) ms.expireSubscription(subscription.id);
    // While the delta links expire: one archived (it keeps its deal link), one moved to Junk (not
    // synced), one binned, one deleted, one arrives.
    ms.moveMessage(ANA, ids[0]!, 'archive');
    ms.moveMessage(ANA, ids[1]!, 'junkemail');
    ms.moveMessage(ANA, ids[2]!, 'deleteditems');
    ms.deleteMessage(ANA, ids[3]!);
    const arrived = await ms.deliver({ from: 'client@acme.com', to: ANA, subject: 'Arrived while the delta links expired', text: 'x' });
    ms.expireDeltaTokens(ANA);
    const cursorBefore = (await store.getConnection(connectionId))?.cursor;
    const mark = ms.log.entries.length;
    await internalsOf(tl).engine.requestSync(connectionId, 'safety-net');
    await facade.settle();

    const requests = requestsSince(mark);
    expect(requests.some((entry) => entry.operation === 'delta' && entry.status === 410)).toBe(true);
    // Read: the archived message and the new one; none of the 146 unchanged (nor the ones gone).
    const reads = requests.filter((entry) => entry.operation === 'messages.get').map((entry) => decodeURIComponent(entry.path));
    for (const id of ids.slice(1)) expect(reads.some((read) => read.includes(id))).toBe(false);
    expect(reads.some((read) => read.includes(ids[0]!))).toBe(true);
    expect(reads.some((read) => read.includes(arrived.id))).toBe(true);
    // The round selects ids only at Graph's largest page: one page per synced folder, then the pull.
    const folders = 3;
    expect(requests.filter((entry) => entry.operation === 'delta' && entry.status === 200).length).toBeLessThanOrEqual(
      Math.ceil(STORED / MAX_PAGE_SIZE) + (folders - 1) + folders,
    );

    // What the user sees: the mailbox as Graph has it, folders and links included.
    const stored = new Set(await store.listProviderMessageIds(connectionId));
    expect(stored.size).toBe(STORED - 3 + 1);
    for (const id of ids.slice(1, 4)) expect(stored.has(id)).toBe(false);
    expect(stored.has(arrived.id)).toBe(true);
    const moved = await store.getMessageByProviderId(connectionId, ids[0]!);
    expect(moved?.folder).toBe('archive');
    expect(moved?.labels).toEqual([ms.folderId(ANA, 'archive')]);
    expect(moved?.links.map((link) => link.record.id)).toContain('deal-7');
    expect((await store.getMessageByProviderId(connectionId, ids[4]!))?.labels).toEqual([ms.folderId(ANA, 'inbox')]);
    // The expired links were replaced; real time continues from the new ones.
    expect((await store.getConnection(connectionId))?.cursor).not.toBe(cursorBefore);
    const after = await ms.deliver({ from: 'client@acme.com', to: ANA, subject: 'After the resync', text: 'x' });
    await internalsOf(tl).engine.requestSync(connectionId, 'push');
    await facade.settle();
    expect(await store.getMessageByProviderId(connectionId, after.id)).not.toBeNull();
  });
});
