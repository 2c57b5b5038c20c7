import { sha256Hex } from '@threadlink/core/provider';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './support.js';

describe('subscriptions: renew, recreate, unsubscribe', () => {
  let harness: Harness;
  afterEach(async () => harness?.close());

  it('renews every subscription by PATCHing its expiry, keeping ids and clientState', async () => {
    harness = await startHarness();
    const connected = await harness.connect('ana@contoso.com');
    const before = harness.ms.subscriptions();
    // Two days pass at Graph; the renewal pushes expiry back to ~7 days from then.
    harness.ms.advanceTime(2 * 24 * 3_600_000);
    const clock = { now: () => Date.now() + 2 * 24 * 3_600_000, sleep: async () => undefined };
    const { session } = harness.sessionFor(connected.connection, { clock });

    const { subscription } = await harness.provider.renew(session);
    const after = harness.ms.subscriptions();
    expect(after.map((entry) => entry.id).sort()).toEqual(before.map((entry) => entry.id).sort());
    for (const entry of after) {
      const previous = before.find((old) => old.id === entry.id)!;
      expect(Date.parse(entry.expirationDateTime)).toBeGreaterThan(Date.parse(previous.expirationDateTime) + 24 * 3_600_000);
      expect(subscription.items.find((item) => item.id === entry.id)?.expiresAt).toBe(Date.parse(entry.expirationDateTime));
    }
    expect(subscription.items.map((item) => item.clientStateHash)).toEqual(connected.connection.subscription!.items.map((item) => item.clientStateHash));
    expect(subscription.renewAt).toBeGreaterThan(clock.now());
    expect(subscription.renewAt).toBeLessThan(subscription.expiresAt);
  });

  it('recreates a subscription Graph dropped silently when renewing, with a fresh clientState', async () => {
    harness = await startHarness();
    const connected = await harness.connect('ana@contoso.com');
    const [dropped, kept] = connected.connection.subscription!.items;
    harness.ms.expireSubscription(dropped!.id);

    const { subscription } = await harness.provider.renew(connected.session);
    expect(subscription.items).toHaveLength(3);
    expect(subscription.items[1]?.id).toBe(kept!.id);
    const replacement = subscription.items[0]!;
    expect(replacement.id).not.toBe(dropped!.id);
    expect(replacement.resource).toBe(dropped!.resource);
    const live = harness.ms.subscriptions().find((entry) => entry.id === replacement.id);
    expect(live).toBeDefined();
    expect(replacement.clientStateHash).toBe(sha256Hex(live!.clientState ?? ''));
    expect(replacement.clientStateHash).not.toBe(dropped!.clientStateHash);
  });

  it('re-subscribing (a recreate hint) replaces the old subscriptions and keeps the stored cursor', async () => {
    harness = await startHarness();
    const connected = await harness.connect('ana@contoso.com');
    const oldIds = connected.connection.subscription!.items.map((item) => item.id);
    const storedCursor = connected.connection.cursor;

    const again = await harness.provider.subscribe(connected.session);
    // The same delta links: nothing that changed meanwhile is skipped (the folder listing is refreshed).
    expect(JSON.parse(again.cursor).links).toEqual(JSON.parse(storedCursor!).links);
    const liveIds = harness.ms.subscriptions().map((entry) => entry.id);
    expect(liveIds).toHaveLength(3);
    expect(liveIds.some((id) => oldIds.includes(id))).toBe(false);
    expect(again.subscription.items.map((item) => item.id).sort()).toEqual([...liveIds].sort());
  });

  it('unsubscribe deletes the subscriptions and tolerates ones already gone', async () => {
    harness = await startHarness();
    const connected = await harness.connect('ana@contoso.com');
    harness.ms.expireSubscription(connected.connection.subscription!.items[0]!.id);
    await harness.provider.unsubscribe(connected.session);
    expect(harness.ms.subscriptions()).toEqual([]);
    await harness.provider.unsubscribe(connected.session);
  });
});
