import type { DeliveredMessages } from '@threadlink/testing';
import { describe, expect, it } from 'vitest';
import { startHarness } from './harness.js';
import { busiestSecond, connect, providerFor, seedHistory, startGoogle, virtualClock } from './support.js';

const ANA = 'ana@acme.test';

describe('back-fill pacing', () => {
  it('holds ~95 % of the 250 units/s per-user quota and never exceeds it (virtual time)', async () => {
    // One clock for the emulator's quota window and the adapter's quota budget: time passes only
    // when the adapter sleeps, so the pacing is measured exactly and the test takes seconds. Alone
    // on the mailbox, back-fill keeps the budget's pace: 250 units per second plus a round trip,
    // which virtual time makes zero (rate-limit.ts).
    const clock = virtualClock();
    const google = await startGoogle({ now: clock.now });
    try {
      const provider = providerFor(google, { backfillConcurrency: 1 });
      const session = await connect(google, provider, ANA, { clock });
      await seedHistory(google, ANA, 1_500);
      google.log.clear();

      const seen = new Set<string>();
      let resume: string | null = null;
      let cursor: string | undefined;
      let estimatedTotal: number | undefined;
      let pages = 0;
      do {
        const page = await provider.fullSync(session, resume, { pageSize: 100 });
        if (pages === 0) cursor = page.cursor;
        else expect(page.cursor).toBeUndefined();
        estimatedTotal ??= page.estimatedTotal;
        for (const message of page.messages) seen.add(message.providerMessageId);
        resume = page.next;
        pages += 1;
      } while (resume);

      expect(seen.size).toBe(1_500);
      expect(estimatedTotal).toBe(1_500);
      expect(cursor).toMatch(/^\d+$/);
      const entries = google.log.entries.filter((entry) => entry.mailbox === ANA);
      expect(entries.filter((entry) => entry.status === 429)).toEqual([]);
      const units = entries.reduce((sum, entry) => sum + entry.units, 0);
      expect(units).toBe(1 + 15 * 5 + 1_500 * 5); // getProfile + 15 lists + 1,500 gets
      expect(busiestSecond(entries)).toBeLessThanOrEqual(250);
      const seconds = (entries.at(-1)!.at - entries[0]!.at) / 1_000;
      const rate = units / seconds;
      expect(rate).toBeGreaterThanOrEqual(0.93 * 250);
      expect(rate).toBeLessThanOrEqual(250);
    } finally {
      await google.close();
    }
    // Virtual time keeps the pacing exact; 1,500 reads over HTTP still take over 30 s of wall time on a busy shared box.
  }, 90_000);
});

describe('back-fill through the engine', () => {
  it('loads 5,000 messages with progress, within the quota, while real-time mail still lands', async () => {
    // A raised quota on both sides keeps this test short; the pacing rules are the same.
    const quotaUnitsPerSecond = 5_000;
    const harness = await startHarness({ emulator: { quotaUnitsPerSecond }, provider: { quotaUnitsPerSecond }, engine: { backfillPageSize: 250 } });
    try {
      const { google, store, tl } = harness;
      google.addMailbox({ email: ANA });
      await seedHistory(google, ANA, 5_000);
      google.log.clear();
      let live: Promise<DeliveredMessages> | undefined;
      tl.on('backfill.progress', () => {
        live ??= google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'Arrived during the back-fill' });
      });

      const connection = await harness.connect(ANA);
      const fresh = await live!;
      await harness.settle();

      const progress = harness.eventsNamed('backfill.progress');
      expect(progress.length).toBeGreaterThanOrEqual(20);
      expect(progress.map((event) => event.done)).toEqual([...progress.map((event) => event.done)].sort((left, right) => left - right));
      expect(progress[0]!.estimatedTotal).toBeGreaterThanOrEqual(5_000);
      expect(progress.at(-1)).toMatchObject({ done: 5_000, progress: { state: 'done' } });
      expect(progress.at(-1)!.progress.rate).toBeGreaterThan(0);
      expect(harness.eventsNamed('backfill.done')).toEqual([{ connectionId: connection.id, tenantId: 't1', total: 5_000 }]);
      expect(await store.listProviderMessageIds(connection.id)).toHaveLength(5_001);

      // The mail that arrived mid-way was synced by a push before the back-fill finished.
      const order = harness.events.map((event) =>
        event.name === 'message.synced' && event.payload.message.providerMessageId === fresh.id ? 'live' : event.name,
      );
      expect(order.indexOf('live')).toBeGreaterThan(-1);
      expect(order.indexOf('live')).toBeLessThan(order.indexOf('backfill.done'));

      const entries = google.log.entries.filter((entry) => entry.mailbox === ANA);
      expect(entries.filter((entry) => entry.status === 429)).toEqual([]);
      expect(busiestSecond(entries)).toBeLessThanOrEqual(quotaUnitsPerSecond);
      expect((await store.getConnection(connection.id))?.status).toBe('live');
    } finally {
      await harness.close();
    }
  }, 60_000);
});
