import type { Clock } from '@threadlink/core';
import { defaultEngineOptions } from '@threadlink/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';

const ANA = 'ana@acme.test';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** What start() runs maintain() at by default; the harness turns the timer off and ticks by hand. */
const MAINTAIN_EVERY_MS = MINUTE;
/** The bound the docs state: a dropped push is caught within safetyNetMaxPullMs plus one maintain() period. */
const DROPPED_PUSH_BOUND_MS = defaultEngineOptions.safetyNetMaxPullMs + MAINTAIN_EVERY_MS;

describe('idle mailboxes are pulled and reconciled as often as the evidence asks', () => {
  let harness: Harness;
  let offset = 0;
  const clock: Clock = { now: () => Date.now() + offset, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 5))) };
  afterEach(async () => {
    await harness.close();
    offset = 0;
  });

  /** Moves the SDK's clock and Google's together, as time passes for both, running maintain() as start() would. */
  async function pass(ms: number, every = MAINTAIN_EVERY_MS): Promise<void> {
    for (let elapsed = 0; elapsed < ms; elapsed += every) {
      offset += every;
      harness.google.advanceClock(every);
      await harness.tl.maintain();
      await harness.settle();
    }
  }

  /**
   * When Gmail answered each history.list (a pull) for the mailbox, on its own (shared) clock. A call
   * refused for an expired access token (401, no units) is retried at once and is not a second pull.
   */
  const pullTimes = (): number[] =>
    harness.google.log.entries.filter((entry) => entry.mailbox === ANA && entry.operation === 'history.list' && entry.status === 200).map((entry) => entry.at);
  const gaps = (times: number[]): number[] => times.slice(1).map((time, index) => time - times[index]!);

  it('spaces the safety net of a quiet mailbox up to its cap, and still catches a dropped push within the stated bound', async () => {
    harness = await startHarness({ clock });
    const connection = await harness.connect(ANA);
    const from = pullTimes().length;

    await pass(6 * HOUR);
    const quiet = pullTimes().slice(from);
    // 10, 20, then 30 minutes apart: 13 pulls in 6 hours where a fixed 10-minute safety net makes 36.
    expect(quiet.length).toBeLessThanOrEqual(14);
    expect(quiet.length).toBeGreaterThanOrEqual(11);
    for (const gap of gaps(quiet)) expect(gap).toBeLessThanOrEqual(DROPPED_PUSH_BOUND_MS);
    expect(Math.max(...gaps(quiet))).toBeGreaterThanOrEqual(defaultEngineOptions.safetyNetMaxPullMs);

    // Gmail drops the push of the next message: nothing tells the SDK about it but its safety net.
    harness.google.faults.dropNotifications = 1;
    const deliveredAt = clock.now();
    const lost = await harness.google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'Nobody told us' });
    await harness.settle();
    expect(await harness.store.getMessageByProviderId(connection.id, lost.id)).toBeNull();
    let caughtAt: number | undefined;
    while (caughtAt === undefined && clock.now() - deliveredAt <= DROPPED_PUSH_BOUND_MS + MAINTAIN_EVERY_MS) {
      await pass(MAINTAIN_EVERY_MS);
      if (await harness.store.getMessageByProviderId(connection.id, lost.id)) caughtAt = clock.now();
    }
    expect(caughtAt).toBeDefined();
    expect(caughtAt! - deliveredAt).toBeLessThanOrEqual(DROPPED_PUSH_BOUND_MS);

    // Push is now suspect (a pull found mail no push announced): back to the shortest cadence until a push arrives.
    const afterMiss = pullTimes().length;
    await pass(defaultEngineOptions.safetyNetPullMs * 3);
    const suspect = pullTimes().slice(afterMiss - 1);
    expect(suspect.length).toBeGreaterThanOrEqual(3);
    for (const gap of gaps(suspect)) expect(gap).toBeLessThanOrEqual(defaultEngineOptions.safetyNetPullMs + MAINTAIN_EVERY_MS);
  });

  it('reconciles a mailbox whose listings keep agreeing at doubling intervals, up to the cap', async () => {
    harness = await startHarness({ clock });
    await harness.connect(ANA);
    await harness.google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'Stored long ago' });
    await harness.settle();
    const connectedAt = clock.now();
    const listings = (): number[] =>
      harness.google.log.entries.filter((entry) => entry.mailbox === ANA && entry.operation === 'messages.list').map((entry) => entry.at);
    const from = listings().length;

    // Ten weeks, a maintain() every half hour (the safety net's cap, so nothing else is due between).
    await pass(70 * DAY, defaultEngineOptions.safetyNetMaxPullMs);
    const reconciliations = listings().slice(from);
    // Each found nothing to fix: 1 day after connecting, then 1, 2, 4, 8, 16 days later, then every 32 days
    // (each one runs at the first maintain() after it is due, so the days drift by less than one).
    expect(Math.round((reconciliations[0]! - connectedAt) / DAY)).toBe(1);
    expect(gaps(reconciliations).map((gap) => Math.round(gap / DAY))).toEqual([1, 2, 4, 8, 16, 32]);
    expect(Math.max(...gaps(reconciliations))).toBeLessThanOrEqual(defaultEngineOptions.fullResyncMaxIntervalMs + defaultEngineOptions.safetyNetMaxPullMs);
    // 3,360 maintain() passes: 80 s alone and over 120 s beside the other test files on a busy shared 2-core box.
  }, 300_000);
});
