import { silentLogger, type Connection } from '@threadlink/core';
import { systemClock, type WebhookContext } from '@threadlink/core/provider';
import { afterEach, describe, expect, it } from 'vitest';
import { expectThreadlinkError, startHarness, type Harness } from './support.js';

function notification(subscriptionId: string, clientState: string | null, extra: Record<string, unknown> = {}) {
  return {
    subscriptionId,
    subscriptionExpirationDateTime: new Date(Date.now() + 3_600_000).toISOString(),
    changeType: 'created',
    resource: `Users/abc/Messages/AAkALg${subscriptionId.slice(0, 6)}`,
    resourceData: { '@odata.type': '#Microsoft.Graph.Message', '@odata.etag': 'W/"CQAAABYAAAD"', id: 'AAkALg1' },
    clientState,
    tenantId: 'tid',
    ...extra,
  };
}

describe('webhook: validation handshake, clientState verification, dedupe ids', () => {
  let harness: Harness;
  afterEach(async () => harness?.close());

  it('echoes the URL-decoded validationToken as text/plain with 200 on both routes, and nothing else', async () => {
    harness = await startHarness();
    const token = 'Validation: Testing client application reachability for subscription Request-Id: 1a2b <&> "x"';
    for (const route of ['', '/lifecycle']) {
      const response = await fetch(`${harness.webhookUrl}${route}?validationToken=${encodeURIComponent(token)}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await response.text()).toBe(token);
    }
    expect(harness.hints).toEqual([]);
  });

  it('accepts the genuine notification and rejects a forged clientState with 401 and no hint', async () => {
    harness = await startHarness();
    const { connection } = await harness.connect('ana@contoso.com');
    const [genuine] = harness.ms.subscriptions();

    const forged = await harness.post('', { value: [notification(genuine!.id, 'guessed-secret')] });
    expect(forged.status).toBe(401);
    const missing = await harness.post('', { value: [notification(genuine!.id, null)] });
    expect(missing.status).toBe(401);
    // One bad item poisons the whole batch: nothing from it is enqueued.
    const mixed = await harness.post('', { value: [notification(genuine!.id, genuine!.clientState ?? ''), notification(genuine!.id, 'nope')] });
    expect(mixed.status).toBe(401);
    expect(harness.hints).toEqual([]);

    const ok = await harness.post('', { value: [notification(genuine!.id, genuine!.clientState ?? '')] });
    expect(ok.status).toBe(202);
    expect(harness.hints).toEqual([expect.objectContaining({ connectionId: connection.id, kind: 'changes' })]);
  });

  it('ignores notifications for unknown subscriptions with 202, and answers 400 to a malformed body', async () => {
    harness = await startHarness();
    const unknown = await harness.post('', { value: [notification('00000000-dead-beef-0000-000000000000', 'whatever')] });
    expect(unknown.status).toBe(202);
    expect(harness.hints).toEqual([]);

    const malformed = await fetch(harness.webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"value": "nope"' });
    expect(malformed.status).toBe(400);
    const wrongShape = await harness.post('', { items: [] });
    expect(wrongShape.status).toBe(400);
  });

  it('gives a redelivered notification the same notificationId and a new change a new one', async () => {
    harness = await startHarness();
    await harness.connect('ana@contoso.com');
    harness.ms.faults.duplicateNotifications = 1;
    await harness.ms.deliver({ from: 'x@acme.com', to: 'ana@contoso.com', subject: 'one', text: 'x' });
    await harness.ms.flushNotifications();
    expect(harness.hints).toHaveLength(2);
    expect(harness.hints[0]?.notificationId).toBeDefined();
    expect(harness.hints[1]?.notificationId).toBe(harness.hints[0]?.notificationId);

    await harness.ms.deliver({ from: 'x@acme.com', to: 'ana@contoso.com', subject: 'two', text: 'x' });
    await harness.ms.flushNotifications();
    expect(harness.hints).toHaveLength(3);
    expect(harness.hints[2]?.notificationId).not.toBe(harness.hints[0]?.notificationId);
  });

  it('folds a batch covering several subscriptions of one mailbox into one hint per connection', async () => {
    harness = await startHarness();
    const ana = await harness.connect('ana@contoso.com');
    const bob = await harness.connect('bob@contoso.com');
    // Ana writes to Bob: Ana's Sent Items and Bob's Inbox change in the same tick.
    await harness.ms.deliver({ from: 'ana@contoso.com', to: 'bob@contoso.com', subject: 'hi', text: 'x' });
    await harness.ms.deliver({ from: 'bob@contoso.com', to: 'ana@contoso.com', subject: 'hi back', text: 'x' });
    await harness.ms.flushNotifications();
    const perConnection = new Map<string, number>();
    for (const hint of harness.hints) perConnection.set(hint.connectionId, (perConnection.get(hint.connectionId) ?? 0) + 1);
    expect([...perConnection.keys()].sort()).toEqual([ana.connection.id, bob.connection.id].sort());
  });

  it('maps lifecycle events to renew, recreate and resync hints after checking clientState', async () => {
    harness = await startHarness();
    const { connection } = await harness.connect('ana@contoso.com');
    const [subscription] = harness.ms.subscriptions();
    // subscriptionRemoved goes last: Graph deletes the subscription with it.
    for (const event of ['reauthorizationRequired', 'missed', 'subscriptionRemoved'] as const) {
      await harness.ms.sendLifecycle(subscription!.id, event);
    }
    expect(harness.hints.map((hint) => [hint.connectionId, hint.kind])).toEqual([
      [connection.id, 'renew'],
      [connection.id, 'resync'],
      [connection.id, 'recreate'],
    ]);
    const lifecycleDeliveries = harness.ms.deliveries().filter((delivery) => delivery.kind === 'lifecycle');
    expect(lifecycleDeliveries.map((delivery) => delivery.status)).toEqual([202, 202, 202]);

    const forged = await harness.post('lifecycle', { value: [{ subscriptionId: subscription!.id, clientState: 'x', lifecycleEvent: 'subscriptionRemoved' }] });
    expect(forged.status).toBe(401);
    expect(harness.hints).toHaveLength(3);
  });

  it('identifies a lifecycle notification by its own id only, so a second genuine missed the same day is a new hint', async () => {
    harness = await startHarness();
    const { connection } = await harness.connect('ana@contoso.com');
    const [subscription] = harness.ms.subscriptions();
    // As Graph documents them, lifecycle notifications carry no `id`: each is its own notification.
    await harness.ms.sendLifecycle(subscription!.id, 'missed');
    await harness.ms.sendLifecycle(subscription!.id, 'missed');
    expect(harness.hints.map((hint) => [hint.connectionId, hint.kind, hint.notificationId])).toEqual([
      [connection.id, 'resync', undefined],
      [connection.id, 'resync', undefined],
    ]);
    // With an id, a redelivery carries the same one, and a new notification a new one.
    const missed = (id: string) => ({
      id,
      subscriptionId: subscription!.id,
      clientState: subscription!.clientState,
      lifecycleEvent: 'missed',
      subscriptionExpirationDateTime: subscription!.expirationDateTime,
    });
    await harness.post('lifecycle', { value: [missed('n-1')] });
    await harness.post('lifecycle', { value: [missed('n-1')] });
    await harness.post('lifecycle', { value: [missed('n-2')] });
    const ids = harness.hints.slice(2).map((hint) => hint.notificationId);
    expect(ids[0]).toBeDefined();
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  it('ignores and logs lifecycle event names that are Object.prototype members', async () => {
    harness = await startHarness();
    await harness.connect('ana@contoso.com');
    const [subscription] = harness.ms.subscriptions();
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];
    const response = await harness.post('lifecycle', {
      value: names.map((lifecycleEvent) => ({ subscriptionId: subscription!.id, clientState: subscription!.clientState, lifecycleEvent })),
    });
    expect(response.status).toBe(202);
    expect(harness.hints).toEqual([]);
    expect(harness.logs.filter((record) => record.message === 'outlook lifecycle event ignored')).toHaveLength(names.length);
  });

  it('checks a whole batch with one look-up and refuses more than 100 distinct subscription ids', async () => {
    harness = await startHarness();
    await harness.connect('ana@contoso.com');
    const [subscription] = harness.ms.subscriptions();
    const lookups: string[][] = [];
    const context: WebhookContext = {
      connectionsByAccount: async () => [],
      connectionsBySubscriptions: async (_provider, ids) => {
        lookups.push([...ids]);
        return [];
      },
      clock: systemClock,
      logger: silentLogger,
      maxBodyBytes: 1024 * 1024,
    };
    const batch = (count: number) =>
      new Request('http://127.0.0.1/webhooks/outlook', {
        method: 'POST',
        body: JSON.stringify({
          value: Array.from({ length: count }, (_, index) => notification(`${subscription!.id.slice(0, 24)}${String(index).padStart(12, '0')}`, 'x')),
        }),
      });
    const answered = await harness.provider.handleWebhook(batch(100), '', context);
    expect(answered.hints).toEqual([]);
    expect(lookups).toHaveLength(1);
    expect(lookups[0]).toHaveLength(100);
    await expectThreadlinkError(harness.provider.handleWebhook(batch(101), '', context), 'WEBHOOK_MALFORMED');
    expect(lookups).toHaveLength(1);
  });

  it('answers the validation echo with nosniff and refuses a token over 1,024 characters', async () => {
    harness = await startHarness();
    const echo = await fetch(`${harness.webhookUrl}?validationToken=${encodeURIComponent('A'.repeat(1_024))}`, { method: 'POST' });
    expect(echo.status).toBe(200);
    expect(echo.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await echo.text()).toBe('A'.repeat(1_024));
    const long = await fetch(`${harness.webhookUrl}?validationToken=${encodeURIComponent('A'.repeat(1_025))}`, { method: 'POST' });
    expect(long.status).toBe(400);
    expect(await long.text()).not.toContain('A'.repeat(1_025));
  });

  it('throws WEBHOOK_UNAUTHORIZED from handleWebhook itself, before any hint exists', async () => {
    harness = await startHarness();
    const { connection } = await harness.connect('ana@contoso.com');
    const context: WebhookContext = {
      connectionsByAccount: async () => [],
      connectionsBySubscriptions: async (): Promise<Connection[]> => [connection],
      clock: systemClock,
      logger: silentLogger,
      maxBodyBytes: 1024 * 1024,
    };
    const request = new Request('http://127.0.0.1/webhooks/outlook', {
      method: 'POST',
      body: JSON.stringify({ value: [notification(connection.subscription!.items[0]!.id, 'forged')] }),
    });
    await expectThreadlinkError(harness.provider.handleWebhook(request, '', context), 'WEBHOOK_UNAUTHORIZED');
  });
});
