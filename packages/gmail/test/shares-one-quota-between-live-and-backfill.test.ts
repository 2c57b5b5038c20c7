// Live pulls and back-fill of one mailbox draw on one quota budget: together they stay inside
// Gmail's per-user quota with no refusal, live calls go ahead of back-fill, and a refusal seen by
// either holds both. The emulator enforces the quota (units per sliding second) on real time.
import type { Clock } from '@threadlink/core';
import type { RequestLogEntry } from '@threadlink/testing';
import { describe, expect, it } from 'vitest';
import { startHarness } from './harness.js';
import { busiestSecond, connect, providerFor, realClock, seedHistory, startGoogle } from './support.js';

const ANA = 'ana@acme.test';

const refusals = (entries: RequestLogEntry[]) => entries.filter((entry) => entry.status === 429 || entry.status === 403);

/**
 * The real clock, and a promise that settles when the adapter first starts a wait `isTheWait` picks
 * out: the quota and Retry-After waits happen inside the adapter, and its clock is where they show.
 */
function clockShowingWhen(isTheWait: (ms: number) => boolean): { clock: Clock; waiting: Promise<void> } {
  let began!: () => void;
  const waiting = new Promise<void>((resolve) => (began = resolve));
  const clock: Clock = {
    now: () => realClock.now(),
    sleep: (ms, signal) => {
      if (isTheWait(ms)) began();
      return realClock.sleep(ms, signal);
    },
  };
  return { clock, waiting };
}

/** Wall-clock times in ms. */
interface Span {
  startedAt: number;
  finishedAt: number;
}

const duration = (span: Span) => span.finishedAt - span.startedAt;

describe('one quota budget per mailbox', () => {
  it('back-fills while bursts of live mail are pulled: no refusal, within the quota, live pulls not queued behind pages', async () => {
    // Twice Gmail's 250 units/s on both sides keeps the test short; the budget's rules are the same.
    const quota = 500;
    const google = await startGoogle({ quotaUnitsPerSecond: quota });
    try {
      const provider = providerFor(google, { quotaUnitsPerSecond: quota });
      const session = await connect(google, provider, ANA);
      await seedHistory(google, ANA, 400);
      google.log.clear();
      // The watch (100 units) is charged to the same budget the back-fill starts on right after.
      let cursor = (await provider.subscribe(session)).cursor;

      const pages: (Span & { listed: number })[] = [];
      const backfilled = new Set<string>();
      const backfill = (async () => {
        let resume: string | null = null;
        do {
          const startedAt = Date.now();
          const page = await provider.fullSync(session, resume, { pageSize: 100 });
          pages.push({ startedAt, finishedAt: Date.now(), listed: page.messages.length });
          for (const message of page.messages) backfilled.add(message.providerMessageId);
          resume = page.next;
        } while (resume);
      })();

      // Bursts of 10 new messages while the back-fill runs, each pulled at once (history.list 2 +
      // one batch of 10 gets = 52 units, a tenth of the quota) as a push would have it. The 150 ms
      // between bursts is the traffic being modelled (mail arriving during a back-fill), not a wait.
      const pulls: (Span & { ids: string[] })[] = [];
      let finished = false;
      void backfill.finally(() => {
        finished = true;
      });
      while (!finished && pulls.length < 6) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        const delivered: string[] = [];
        for (let index = 0; index < 10; index += 1) {
          delivered.push((await google.deliver({ to: ANA, from: 'client@bigco.test', subject: `Live ${pulls.length}.${index}` })).id);
        }
        const startedAt = Date.now();
        const result = await provider.pullChanges(session, cursor);
        pulls.push({ startedAt, finishedAt: Date.now(), ids: delivered });
        cursor = result.nextCursor;
        expect(result.changes.map((change) => (change.type === 'upsert' ? change.message.providerMessageId : null)).sort()).toEqual([...delivered].sort());
      }
      await backfill;

      expect(pages.length).toBeGreaterThanOrEqual(4);
      expect([...backfilled].filter((id) => !pulls.some((pull) => pull.ids.includes(id)))).toHaveLength(400);
      // The back-fill outlasted several live bursts, so both really competed for the quota.
      expect(pulls.length).toBeGreaterThanOrEqual(3);

      const entries = google.log.entries.filter((entry) => entry.mailbox === ANA);
      expect(refusals(entries)).toEqual([]);
      expect(busiestSecond(entries)).toBeLessThanOrEqual(quota);

      // A live pull waits for room in the quota, not for the back-fill page it interrupted: each one
      // took well under half of the quickest full page, so it cannot have queued behind one.
      const quickestPage = Math.min(...pages.filter((page) => page.listed === 100).map(duration));
      for (const pull of pulls) expect(duration(pull)).toBeLessThan(quickestPage / 2);
    } finally {
      await google.close();
    }
  }, 30_000);

  it('holds back-fill when a live call is refused, until the Retry-After Gmail named', async () => {
    // A quota too large to pace anything: the only wait left is the refusal's.
    const google = await startGoogle({ quotaUnitsPerSecond: 100_000 });
    try {
      const provider = providerFor(google, { quotaUnitsPerSecond: 100_000 });
      // The refused pull's wait for Retry-After (about a second; test retries otherwise wait ≤ 50 ms).
      const { clock, waiting: pullHoldsForRetryAfter } = clockShowingWhen((ms) => ms >= 500);
      const session = await connect(google, provider, ANA, { clock });
      await seedHistory(google, ANA, 60);
      const cursor = (await provider.subscribe(session)).cursor;
      const live = await google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'Arrives while another app burns the quota' });
      google.log.clear();

      // Gmail refuses the live pull's first call, saying "Retry after" one second from now.
      google.failNext('history.list', { status: 429 });
      const pull = provider.pullChanges(session, cursor);
      await pullHoldsForRetryAfter;
      const page = await provider.fullSync(session, null, { pageSize: 100 });
      const pulled = await pull;

      expect(pulled.changes.map((change) => (change.type === 'upsert' ? change.message.providerMessageId : null))).toEqual([live.id]);
      expect(page.messages).toHaveLength(61);
      const entries = google.log.entries.filter((entry) => entry.mailbox === ANA);
      const [refusal, ...others] = refusals(entries);
      expect(others).toEqual([]);
      const retryAt = refusal!.at + 1_000;
      // Nothing of the mailbox reached Gmail before the moment it named: not the retried pull, not
      // the back-fill that started meanwhile on its own lane.
      const sentTooEarly = entries.filter((entry) => entry !== refusal && entry.at < retryAt - 5);
      expect(sentTooEarly).toEqual([]);
      expect(entries.filter((entry) => entry.operation === 'messages.list')).toHaveLength(1);
    } finally {
      await google.close();
    }
  });
});

describe('a call waiting for quota', () => {
  it('gives up with SHUTTING_DOWN when its session is aborted, without reaching Gmail', async () => {
    // 10 units/s: the listing fits, the first get (5 more) must wait a second for the window.
    const google = await startGoogle({ quotaUnitsPerSecond: 10 });
    try {
      const provider = providerFor(google, { quotaUnitsPerSecond: 10 });
      // The gets' wait for quota: the first wait once the listing has reached Gmail.
      const { clock, waiting: getsWaitForQuota } = clockShowingWhen(() => google.log.count({ operation: 'messages.list' }) > 0);
      const connected = await connect(google, provider, ANA, { clock });
      await seedHistory(google, ANA, 5);
      google.log.clear();
      const stopping = new AbortController();
      const session = { ...connected, signal: stopping.signal };

      const page = provider.fullSync(session, null, { pageSize: 100 }).catch((error: unknown) => error);
      // The listing's answer is back and the gets wait for about a second of quota: abort in that wait.
      await getsWaitForQuota;
      stopping.abort();

      expect(await page).toMatchObject({ code: 'SHUTTING_DOWN' });
      expect(google.log.count({ operation: 'messages.get' })).toBe(0);
    } finally {
      await google.close();
    }
  });
});

describe('one quota budget through the engine', () => {
  it('connects and back-fills while live mail arrives without a refusal: watch, pulls and pages share the quota', async () => {
    const quota = 500;
    const harness = await startHarness({ emulator: { quotaUnitsPerSecond: quota }, provider: { quotaUnitsPerSecond: quota } });
    try {
      const { google, store, tl } = harness;
      google.addMailbox({ email: ANA });
      await seedHistory(google, ANA, 300);
      google.log.clear();
      const live: Promise<string>[] = [];
      tl.on('backfill.progress', () => {
        if (live.length > 0) return;
        for (let index = 0; index < 10; index += 1) {
          live.push(google.deliver({ to: ANA, from: 'client@bigco.test', subject: `Arrived during the back-fill ${index}` }).then((message) => message.id));
        }
      });

      const connection = await harness.connect(ANA);
      const liveIds = await Promise.all(live);
      await harness.settle();

      expect(liveIds).toHaveLength(10);
      expect(await store.listProviderMessageIds(connection.id)).toHaveLength(310);
      // Every live message was synced by a push before the back-fill finished.
      const order = harness.events.map((event) =>
        event.name === 'message.synced' && liveIds.includes(event.payload.message.providerMessageId) ? 'live' : event.name,
      );
      expect(order.filter((name) => name === 'live')).toHaveLength(10);
      expect(order.lastIndexOf('live')).toBeLessThan(order.indexOf('backfill.done'));

      const entries = google.log.entries.filter((entry) => entry.mailbox === ANA);
      expect(entries.filter((entry) => entry.operation === 'watch')).toHaveLength(1);
      expect(refusals(entries)).toEqual([]);
      expect(busiestSecond(entries)).toBeLessThanOrEqual(quota);
    } finally {
      await harness.close();
    }
  }, 30_000);
});
