import type { Clock } from '@threadlink/core';
import { defaultEngineOptions } from '@threadlink/core/testing';
import { describe, expect, it } from 'vitest';
import { startHarness } from './harness.js';
import { connect, providerFor, sessionFor, startGoogle, virtualClock } from './support.js';

const ANA = 'ana@acme.test';
/** Successful users.watch calls (a watch costs 100 units, so back-to-back ones may meet a 429 first). */
const watches = (google: { log: { entries: { operation?: string; status: number }[] } }) =>
  google.log.entries.filter((entry) => entry.operation === 'watch' && entry.status === 200).length;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('watch renewal', () => {
  it('renews daily, never later than an hour before the 7-day expiry, and stops on unsubscribe', async () => {
    const google = await startGoogle();
    try {
      const provider = providerFor(google);
      const session = await connect(google, provider, ANA);
      const before = Date.now();
      const { subscription } = await provider.subscribe(session);
      expect(subscription.expiresAt - google.now()).toBeGreaterThan(7 * DAY - HOUR);
      expect(subscription.renewAt).toBeGreaterThanOrEqual(before + DAY);
      expect(subscription.renewAt).toBeLessThanOrEqual(Date.now() + DAY);
      expect(subscription.items).toEqual([{ id: ANA, resource: google.providerOptions.pubsubTopic, expiresAt: subscription.expiresAt }]);

      // Seen from a clock 6.5 days on (the engine was down), the daily rule would overshoot the expiry.
      const late = sessionFor(session.connection, session.tokens(), { clock: virtualClock(google.now() + 6.5 * DAY) });
      const renewedLate = await provider.renew(late);
      expect(renewedLate.subscription.renewAt).toBe(renewedLate.subscription.expiresAt - HOUR);

      // Each renewal re-calls users.watch, which pushes the expiry out again.
      google.advanceClock(DAY);
      const renewed = await provider.renew(session);
      expect(renewed.subscription.expiresAt).toBeGreaterThan(subscription.expiresAt);
      expect(google.watchOf(ANA)?.expiration).toBe(renewed.subscription.expiresAt);
      expect(watches(google)).toBe(3);

      await provider.unsubscribe(session);
      expect(google.watchOf(ANA)).toBeNull();
      expect(google.log.count({ operation: 'stop' })).toBe(1);
    } finally {
      await google.close();
    }
  });

  it('is renewed by the engine a day before expiry while push works, at renewAt once push is suspect, and recreated when the watch lapsed', async () => {
    let offset = 0;
    const clock: Clock = { now: () => Date.now() + offset, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };
    const harness = await startHarness({ clock });
    const moveTo = (at: number): void => {
      const step = at - clock.now();
      offset += step;
      harness.google.advanceClock(step);
    };
    try {
      const connection = await harness.connect(ANA);
      const first = (await harness.store.getConnection(connection.id))!.subscription!;
      const watchesBefore = watches(harness.google);
      // Past Gmail's recommended daily renewal, push showing no sign of failure: no users.watch (100 units).
      moveTo(first.renewAt + 1_000);
      await harness.tl.maintain();
      await harness.settle();
      expect(watches(harness.google)).toBe(watchesBefore);
      // As late as safe: one renewal margin before the 7-day expiry.
      moveTo(first.expiresAt - defaultEngineOptions.renewalMarginMs + 1_000);
      await harness.tl.maintain();
      await harness.settle();
      expect(watches(harness.google)).toBe(watchesBefore + 1);
      const second = (await harness.store.getConnection(connection.id))!.subscription!;
      expect(second.renewAt).toBeGreaterThan(first.renewAt);
      expect(second.expiresAt).toBeGreaterThan(first.expiresAt);

      // Push suspect (a pull failed since): the provider's renewAt applies again.
      await harness.store.patchConnection(connection.id, { health: { consecutiveErrors: 1 } });
      moveTo(second.renewAt + 1_000);
      await harness.tl.maintain();
      await harness.settle();
      expect(watches(harness.google)).toBe(watchesBefore + 2);
      const third = (await harness.store.getConnection(connection.id))!.subscription!;

      // Google dropped the watch (expired without renewal): pushes stop until a new watch exists.
      harness.google.expireWatch(ANA);
      moveTo(third.expiresAt + 1_000);
      await harness.tl.maintain();
      await harness.settle();
      expect(harness.google.watchOf(ANA)).not.toBeNull();
      const delivered = await harness.google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'After the new watch' });
      await harness.settle();
      expect(await harness.store.getMessageByProviderId(connection.id, delivered.id)).not.toBeNull();
    } finally {
      await harness.close();
    }
  });
});
