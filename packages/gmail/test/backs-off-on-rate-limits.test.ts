import type { ThreadlinkError } from '@threadlink/core';
import type { GmailEmulator } from '@threadlink/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHarness } from './harness.js';
import { connect, providerFor, startGoogle, virtualClock, type TestSession } from './support.js';

const ANA = 'ana@acme.test';

describe('throttling and provider errors', () => {
  let google: GmailEmulator;
  let session: TestSession;
  let cursor: string;
  const clock = virtualClock();
  const provider = () => providerFor(google);

  beforeAll(async () => {
    // The per-second quota is not what these tests are about: only injected refusals should appear.
    google = await startGoogle({ quotaUnitsPerSecond: 100_000 });
    session = await connect(google, providerFor(google), ANA, { clock });
  });
  afterAll(async () => {
    await google.close();
  });
  beforeEach(async () => {
    cursor = (await provider().subscribe(session)).cursor;
    google.log.clear();
    clock.sleeps.length = 0;
  });

  const statuses = (operation: string) => google.log.entries.filter((entry) => entry.operation === operation).map((entry) => entry.status);

  it('backs off on 429 and then succeeds', async () => {
    const delivered = await google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'Throttled' });
    google.faults.forced429 = 3;
    const result = await provider().pullChanges(session, cursor);
    expect(statuses('history.list')).toEqual([429, 429, 429, 200]);
    expect(result.changes.map((change) => (change.type === 'upsert' ? change.message.providerMessageId : null))).toEqual([delivered.id]);
    // One wait per refusal, each at least the backoff base, honouring Gmail's "Retry after" when it names a time.
    expect(clock.sleeps).toHaveLength(3);
    expect(clock.sleeps.every((ms) => ms >= 5)).toBe(true);
  });

  it('treats 403 userRateLimitExceeded as throttling, not as a permission error', async () => {
    await google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'Throttled the old way' });
    google.faults.rateLimitStatus = 403;
    google.faults.forced429 = 2;
    try {
      const result = await provider().pullChanges(session, cursor);
      expect(statuses('history.list')).toEqual([403, 403, 200]);
      expect(result.changes).toHaveLength(1);
    } finally {
      google.faults.rateLimitStatus = 429;
    }
  });

  it('re-sends only the batch parts that were throttled inside a 200 batch', async () => {
    const delivered = [];
    for (let index = 0; index < 10; index += 1) delivered.push(await google.deliver({ to: ANA, from: 'client@bigco.test', subject: `Batch ${index}` }));
    google.failNext('messages.get', { status: 429, count: 4 });
    const result = await provider().pullChanges(session, cursor);
    expect(result.changes.map((change) => (change.type === 'upsert' ? change.message.providerMessageId : null)).sort()).toEqual(
      delivered.map((message) => message.id).sort(),
    );
    expect(google.log.count({ operation: 'batch' })).toBe(2);
    expect(statuses('messages.get').filter((status) => status === 429)).toHaveLength(4);
    expect(statuses('messages.get').filter((status) => status === 200)).toHaveLength(10);
  });

  it('retries a 503 and gives up on a genuine 403 at once', async () => {
    google.failNext('history.list', { status: 503 });
    await expect(provider().pullChanges(session, cursor)).resolves.toMatchObject({ hasMore: false });
    expect(statuses('history.list')).toEqual([503, 200]);

    google.log.clear();
    google.failNext('history.list', { status: 403, reason: 'insufficientPermissions', message: 'Insufficient Permission' });
    const error = (await provider()
      .pullChanges(session, cursor)
      .catch((caught: unknown) => caught)) as ThreadlinkError;
    expect(error.code).toBe('INSUFFICIENT_SCOPE');
    expect(error.retryable).toBe(false);
    expect(statuses('history.list')).toEqual([403]);
  });

  it('stops after the configured attempts with a retryable RATE_LIMITED for the engine to reschedule', async () => {
    google.faults.forced429 = 50;
    try {
      const error = (await providerFor(google, { retry: { attempts: 3, baseMs: 5, maxMs: 50 } })
        .pullChanges(session, cursor)
        .catch((caught: unknown) => caught)) as ThreadlinkError;
      expect(error.code).toBe('RATE_LIMITED');
      expect(error.retryable).toBe(true);
      expect(statuses('history.list')).toEqual([429, 429, 429]);
    } finally {
      google.faults.forced429 = 0;
    }
  });
});

describe('throttling through the engine', () => {
  it('stores a pushed message although Gmail throttled the first pulls', async () => {
    const harness = await startHarness();
    try {
      const connection = await harness.connect(ANA);
      harness.google.faults.forced429 = 2;
      const delivered = await harness.google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'Busy day' });
      await harness.settle();
      expect(await harness.store.getMessageByProviderId(connection.id, delivered.id)).not.toBeNull();
      expect(harness.google.log.entries.filter((entry) => entry.status === 429)).toHaveLength(2);
      expect(harness.eventsNamed('sync.error')).toEqual([]);
    } finally {
      await harness.close();
    }
  });
});
