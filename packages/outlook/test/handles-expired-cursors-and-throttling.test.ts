import type { ProviderMessage } from '@threadlink/core';
import { afterEach, describe, expect, it } from 'vitest';
import { expectThreadlinkError, pullAll, recordingClock, startHarness, type Harness } from './support.js';

describe('410 SyncStateNotFound and 429 Retry-After', () => {
  let harness: Harness;
  afterEach(async () => harness?.close());

  it('turns a 410 on the delta link into CURSOR_EXPIRED, and a full resync yields a cursor that works again', async () => {
    harness = await startHarness();
    const connected = await harness.connect('ana@contoso.com');
    await harness.ms.deliver({ from: 'x@acme.com', to: 'ana@contoso.com', subject: 'before', text: 'x' });
    harness.ms.expireDeltaTokens('ana@contoso.com');

    const error = await expectThreadlinkError(harness.provider.pullChanges(connected.session, connected.connection.cursor!), 'CURSOR_EXPIRED');
    expect(error.retryable).toBe(false);

    const listed: ProviderMessage[] = [];
    let resume: string | null = null;
    let cursor: string | undefined;
    do {
      const page = await harness.provider.fullSync(connected.session, resume, { pageSize: 50 });
      listed.push(...page.messages);
      resume = page.next;
      cursor = page.cursor ?? cursor;
    } while (resume);
    expect(listed.map((message) => message.subject)).toEqual(['before']);
    expect(cursor).toBeDefined();

    connected.connection.cursor = cursor!;
    expect(await pullAll(harness.provider, connected)).toEqual([]);
    await harness.ms.deliver({ from: 'x@acme.com', to: 'ana@contoso.com', subject: 'after', text: 'x' });
    const changes = await pullAll(harness.provider, connected);
    expect(changes.map((change) => (change.type === 'upsert' ? change.message.subject : change.type))).toEqual(['after']);
  });

  it('treats an unreadable cursor as expired', async () => {
    harness = await startHarness();
    const connected = await harness.connect('ana@contoso.com');
    await expectThreadlinkError(harness.provider.pullChanges(connected.session, '12345'), 'CURSOR_EXPIRED');
    await expectThreadlinkError(
      harness.provider.pullChanges(connected.session, JSON.stringify({ v: 1, links: { inbox: '/x' }, folderIds: {} })),
      'CURSOR_EXPIRED',
    );
    // Links are only followed on the configured Graph origin (the token never goes elsewhere).
    const foreign = JSON.stringify({
      v: 1,
      links: { inbox: 'https://graph.example.org/v1.0/me/mailfolders/x/messages/delta?$deltatoken=1', sentitems: 'https://graph.example.org/v1.0/y' },
      folderIds: {},
    });
    await expectThreadlinkError(harness.provider.pullChanges(connected.session, foreign), 'CURSOR_EXPIRED');
  });

  it('sleeps through a short Retry-After on its injected clock and then succeeds', async () => {
    harness = await startHarness();
    const clock = recordingClock();
    const connected = await harness.connect('ana@contoso.com', { clock });
    await harness.ms.deliver({ from: 'x@acme.com', to: 'ana@contoso.com', subject: 'throttled', text: 'x' });
    harness.ms.faults.retryAfterSeconds = 2;
    harness.ms.faults.forced429 = 1;
    const before = harness.ms.log.entries.length;

    const changes = await pullAll(harness.provider, connected);
    expect(changes).toHaveLength(1);
    const statuses = harness.ms.log.entries.slice(before).map((entry) => entry.status);
    expect(statuses.filter((status) => status === 429)).toHaveLength(1);
    expect(statuses.filter((status) => status !== 429).every((status) => status < 400)).toBe(true);
    // The wait honoured Retry-After (2 s), not just the backoff.
    expect(clock.sleeps).toHaveLength(1);
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(2_000);
  });

  it('hands a long Retry-After to the engine as RATE_LIMITED with retryAfterMs, without sleeping', async () => {
    harness = await startHarness();
    const clock = recordingClock();
    const connected = await harness.connect('ana@contoso.com', { clock });
    harness.ms.faults.retryAfterSeconds = 30;
    harness.ms.faults.forced429 = 1;
    const error = await expectThreadlinkError(harness.provider.pullChanges(connected.session, connected.connection.cursor!), 'RATE_LIMITED');
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBe(30_000);
    expect(clock.sleeps).toEqual([]);
  });

  it('retries 503s with backoff and surfaces PROVIDER_UNAVAILABLE when they persist', async () => {
    harness = await startHarness();
    const clock = recordingClock();
    const connected = await harness.connect('ana@contoso.com', { clock });
    harness.ms.faults.retryAfterSeconds = 1;
    harness.ms.faults.errorRate = 1;
    const error = await expectThreadlinkError(harness.provider.pullChanges(connected.session, connected.connection.cursor!), 'PROVIDER_UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect(clock.sleeps.length).toBeGreaterThanOrEqual(3);
    expect(clock.sleeps.every((ms) => ms >= 1_000)).toBe(true);
  });

  it('keeps at most 4 requests in flight per mailbox, so Graph never answers MailboxConcurrency', async () => {
    harness = await startHarness({ provider: { pageSize: 5 } });
    const connected = await harness.connect('ana@contoso.com');
    harness.ms.faults.latencyMs = 30;
    for (let index = 0; index < 30; index += 1) {
      await harness.ms.deliver({ from: 'x@acme.com', to: 'ana@contoso.com', subject: `c${index}`, text: 'x' });
    }
    const before = harness.ms.log.entries.length;
    // Several calls of the same mailbox at once, as a host with several workers might make.
    await Promise.all([
      pullAll(harness.provider, harness.sessionFor(connected.connection)),
      pullAll(harness.provider, harness.sessionFor(connected.connection)),
      harness.provider.fullSync(harness.sessionFor(connected.connection).session, null, { pageSize: 10 }),
      harness.provider.fullSync(harness.sessionFor(connected.connection).session, null, { pageSize: 10 }),
    ]);
    const throttled = harness.ms.log.entries.slice(before).filter((entry) => entry.status === 429);
    expect(throttled).toEqual([]);
  });
});
