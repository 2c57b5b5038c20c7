// A reconciliation (the daily safety resync, or the resync after history expired) lists ids only
// and reads just the messages it does not store: on a business mailbox of 10,000–100,000 messages
// re-reading everything (5 units a message) would dominate the project's quota (issue 21).
import { internalsOf } from '@threadlink/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';

const ANA = 'ana@acme.test';
/** Enough ids that one 500-id messages.list page (5 units) is 0.02 units per message. */
const STORED = 250;
/** The emulator and the adapter both at a quota that never paces the seeding back-fill. */
const UNPACED = 1_000_000;

describe('a reconciliation costs ids, not messages', () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness({ emulator: { quotaUnitsPerSecond: UNPACED }, provider: { quotaUnitsPerSecond: UNPACED } });
  });
  afterEach(async () => {
    await harness.close();
  });

  async function seedAndConnect(): Promise<{ connectionId: string; ids: string[] }> {
    const ids: string[] = [];
    harness.google.addMailbox({ email: ANA });
    for (let index = 0; index < STORED; index += 1) {
      const delivered = await harness.google.deliver({
        to: ANA,
        from: 'client@bigco.test',
        subject: `Older mail ${index}`,
        date: new Date(Date.now() - (STORED - index) * 60_000),
      });
      ids.push(delivered.id);
    }
    const connection = await harness.connect(ANA);
    await harness.settle();
    expect((await harness.store.listProviderMessageIds(connection.id)).length).toBe(STORED);
    return { connectionId: connection.id, ids };
  }

  function entriesSince(mark: number) {
    return harness.google.log.entries.slice(mark).filter((entry) => entry.mailbox === ANA);
  }

  it('reads no message of a mailbox it already stores whole, for at most 0.02 units per message', async () => {
    const { connectionId } = await seedAndConnect();
    const mark = harness.google.log.entries.length;
    await internalsOf(harness.tl).engine.enqueue('resync', connectionId, 0, { reason: 'reconciliation' });
    await harness.settle();

    const entries = entriesSince(mark);
    expect(entries.filter((entry) => entry.operation === 'messages.get')).toEqual([]);
    const listing = entries.filter((entry) => entry.operation === 'messages.list');
    expect(listing).toHaveLength(1);
    const listingUnits = listing.reduce((sum, entry) => sum + entry.units, 0);
    expect(listingUnits / STORED).toBeLessThanOrEqual(0.02);
    // Besides the listing: the profile read for the new cursor (1 unit) and the pull after it (2 units).
    const total = entries.reduce((sum, entry) => sum + entry.units, 0);
    expect(total).toBeLessThanOrEqual(0.02 * STORED + 3);
    expect((await harness.store.getConnection(connectionId))?.health.lastFullSyncAt).toBeGreaterThan(0);
    // Nothing was missed, so push is not renewed as if it had gone silent (users.watch: 100 units; the log names it 'watch').
    expect(entries.filter((entry) => entry.operation === 'watch')).toEqual([]);
  });

  it('reads only the message it lacks, removes the one gone, and keeps manual links, when pushes were lost', async () => {
    const { connectionId, ids } = await seedAndConnect();
    const { google, store, tl } = harness;
    const kept = await store.getMessageByProviderId(connectionId, ids[0]!);
    await tl.matching.link(kept!.id, { type: 'deal', id: 'deal-7', label: 'Big deal' }, { tenantId: 't1', as: 'admin' });

    // While push is dead: one arrives, one is deleted.
    google.expireWatch(ANA);
    const arrived = await google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'Arrived while nobody pushed' });
    google.deleteMessage(ANA, ids[1]!);
    const mark = google.log.entries.length;
    await internalsOf(tl).engine.enqueue('resync', connectionId, 0, { reason: 'reconciliation' });
    await harness.settle();

    // The listing reads the one message not stored; the pull from the kept cursor that follows reads
    // it once more (its history names it): no other message is read.
    const reads = entriesSince(mark).filter((entry) => entry.operation === 'messages.get');
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.length).toBeLessThanOrEqual(2);
    for (const read of reads) expect(read.path).toContain(arrived.id);
    const stored = new Set(await store.listProviderMessageIds(connectionId));
    expect(stored.has(arrived.id)).toBe(true);
    expect(stored.has(ids[1]!)).toBe(false);
    expect(stored.size).toBe(STORED);
    const links = (await store.getMessageByProviderId(connectionId, ids[0]!))?.links.map((link) => `${link.record.type}:${link.record.id}`);
    expect(links).toContain('deal:deal-7');
    expect(links).toContain('client:c-bigco');
  });

  it('sees a label added in the gap after history expired, though no pull from a kept cursor follows', async () => {
    const { connectionId, ids } = await seedAndConnect();
    const { google, store } = harness;
    google.expireWatch(ANA);
    google.modifyLabels(ANA, ids[2]!, ['STARRED'], []);
    google.expireHistory(ANA);
    await internalsOf(harness.tl).engine.requestSync(connectionId, 'safety-net');
    await harness.settle();

    expect((await store.getMessageByProviderId(connectionId, ids[2]!))?.labels).toContain('STARRED');
  });
});
