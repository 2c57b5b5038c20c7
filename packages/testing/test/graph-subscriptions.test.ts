import { GraphError, type Client } from '@microsoft/microsoft-graph-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGraphEmulator, type GraphEmulator } from '../src/graph/index.js';
import { connectMailbox, expiresIn, startWebhookReceiver, type WebhookReceiver } from './graph-clients.js';

let emulator: GraphEmulator;
let receiver: WebhookReceiver;

beforeAll(async () => {
  emulator = await startGraphEmulator({ validationTimeoutMs: 400, notificationTimeoutMs: 400, notificationRetryDelaysMs: [20, 40, 80] });
});
beforeEach(async () => {
  receiver = await startWebhookReceiver();
});
afterEach(async () => {
  await emulator.flushNotifications();
  Object.assign(emulator.faults, { dropNotifications: 0, duplicateNotifications: 0, reorderNotifications: false });
  await receiver.close();
});
afterAll(async () => {
  await emulator.close();
});

// No retries: these tests assert the status codes themselves.
const connect = (name: string) => connectMailbox(emulator, name, 0);

async function subscribe(client: Client, overrides: Record<string, unknown> = {}, prefer?: string): Promise<Record<string, unknown>> {
  let request = client.api('/subscriptions');
  if (prefer) request = request.header('Prefer', prefer);
  return (await request.post({
    changeType: 'created,updated,deleted',
    notificationUrl: receiver.url,
    lifecycleNotificationUrl: receiver.lifecycleUrl,
    resource: "/me/mailFolders('inbox')/messages",
    expirationDateTime: expiresIn(3 * 24 * 60),
    clientState: 'secret-client-state',
    ...overrides,
  })) as Record<string, unknown>;
}

function subscriptionsOf(email: string) {
  return emulator.subscriptions().filter((subscription) => subscription.mailbox === email);
}

function deliveriesToReceiver(kind: 'notification' | 'lifecycle') {
  return emulator.deliveries().filter((delivery) => delivery.kind === kind && delivery.url.startsWith(receiver.url));
}

function notificationItems(): Array<Record<string, unknown>> {
  return receiver.notifications.flatMap((notification) => notification.body.value);
}

describe('subscriptions', () => {
  it('creates a subscription only after both endpoints echo the validation token', async () => {
    const { email, client } = await connect('ann');
    const subscription = await subscribe(client);
    expect(subscription).toMatchObject({
      resource: "/me/mailFolders('inbox')/messages",
      changeType: 'created,updated,deleted',
      notificationUrl: receiver.url,
      lifecycleNotificationUrl: receiver.lifecycleUrl,
      clientState: 'secret-client-state',
      applicationId: emulator.providerOptions.clientId,
      creatorId: emulator.userId(email),
    });
    expect(receiver.validations).toHaveLength(2);
    // The receiver decoded the query string: the token is plain text with spaces and colons.
    expect(receiver.validations[0]).toMatch(/^Validation: Testing client application reachability for subscription Request-Id: [0-9a-f-]{36}$/);
    expect(subscriptionsOf(email)).toEqual([
      expect.objectContaining({ id: subscription.id, mailbox: email, clientState: 'secret-client-state', notificationUrl: receiver.url }),
    ]);
    const listed = (await client.api('/subscriptions').get()) as { value: Array<Record<string, unknown>> };
    expect(listed.value.map((item) => item.id)).toEqual([subscription.id]);
  });

  it('refuses endpoints that echo the token wrongly, too slowly, or as HTML', async () => {
    const { client } = await connect('bea');
    for (const mode of ['wrong', 'slow', 'html'] as const) {
      receiver.behaviour.validation = mode;
      const error = (await subscribe(client).catch((caught: unknown) => caught)) as GraphError;
      expect(error).toBeInstanceOf(GraphError);
      expect(error.statusCode).toBe(400);
      expect(error.message).toContain('Subscription validation request failed');
    }
    expect((await client.api('/subscriptions').get()).value).toEqual([]);
  });

  it('enforces the maximum lifetime and clientState length, renews with PATCH and deletes with DELETE', async () => {
    const { email, client } = await connect('cat');
    const tooLong = (await subscribe(client, { expirationDateTime: expiresIn(10_081) }).catch((caught: unknown) => caught)) as GraphError;
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.code).toBe('ExtensionError');
    expect(tooLong.message).toBe('Subscription expiration can only be 10080 minutes in the future.');
    const bigState = (await subscribe(client, { clientState: 'x'.repeat(129) }).catch((caught: unknown) => caught)) as GraphError;
    expect(bigState.statusCode).toBe(400);

    const subscription = await subscribe(client, { expirationDateTime: expiresIn(60) });
    const renewedUntil = expiresIn(10_000);
    const renewed = (await client.api(`/subscriptions/${String(subscription.id)}`).patch({ expirationDateTime: renewedUntil })) as Record<string, unknown>;
    expect(renewed.expirationDateTime).toBe(renewedUntil);
    const beyond = (await client
      .api(`/subscriptions/${String(subscription.id)}`)
      .patch({ expirationDateTime: expiresIn(20_000) })
      .catch((caught: unknown) => caught)) as GraphError;
    expect(beyond.statusCode).toBe(400);

    await client.api(`/subscriptions/${String(subscription.id)}`).delete();
    expect(emulator.log.entries.at(-1)).toMatchObject({ operation: 'subscriptions.delete', status: 204 });
    expect(subscriptionsOf(email)).toEqual([]);
    await emulator.deliver({ from: 'x@fabrikam.test', to: email, subject: 'Nobody listens' });
    await emulator.flushNotifications();
    expect(receiver.notifications).toEqual([]);
    const gone = (await client
      .api(`/subscriptions/${String(subscription.id)}`)
      .delete()
      .catch((caught: unknown) => caught)) as GraphError;
    expect(gone.statusCode).toBe(404);
  });
});

describe('change notifications', () => {
  it("delivers Graph's payload, batched per endpoint, and retries after a 500", async () => {
    const { email, client } = await connect('dan');
    const subscription = await subscribe(client);
    receiver.behaviour.failNext = 1;
    const [first, second] = await Promise.all([
      emulator.deliver({ from: 'a@fabrikam.test', to: email, subject: 'One' }),
      emulator.deliver({ from: 'b@fabrikam.test', to: email, subject: 'Two' }),
    ]);
    await emulator.flushNotifications();

    expect(receiver.notifications).toHaveLength(1);
    const items = notificationItems();
    expect(items).toHaveLength(2);
    const userId = emulator.userId(email);
    expect(items[0]).toEqual({
      id: expect.any(String),
      subscriptionId: subscription.id,
      subscriptionExpirationDateTime: subscription.expirationDateTime,
      changeType: 'created',
      resource: `Users/${userId}/Messages/${first?.id}`,
      resourceData: {
        '@odata.type': '#Microsoft.Graph.Message',
        '@odata.id': `Users/${userId}/Messages/${first?.id}`,
        '@odata.etag': expect.stringMatching(/^W\/"/),
        id: first?.id,
      },
      clientState: 'secret-client-state',
      tenantId: emulator.tenantId,
    });
    expect(items[1]?.resourceData).toMatchObject({ id: second?.id });
    expect(deliveriesToReceiver('notification').map((delivery) => [delivery.attempt, delivery.status])).toEqual([
      [1, 500],
      [2, 202],
    ]);

    // The resource path in the notification is directly readable.
    const message = (await client
      .api(`/${String(items[0]?.resource)}`)
      .select('subject')
      .get()) as Record<string, unknown>;
    expect(message.subject).toBe('One');
  });

  it('counts a response slower than the timeout as a failure and delivers again', async () => {
    const { email, client } = await connect('dee');
    await subscribe(client);
    receiver.behaviour.slowNext = 1;
    const delivered = await emulator.deliver({ from: 'a@fabrikam.test', to: email, subject: 'Slow endpoint' });
    await emulator.flushNotifications();
    expect(deliveriesToReceiver('notification').map((delivery) => [delivery.attempt, delivery.status])).toEqual([
      [1, 0],
      [2, 202],
    ]);
    // At-least-once: the slow first POST may still be processed by the app.
    expect(notificationItems().map((item) => (item.resourceData as { id: string }).id)).toContain(delivered.id);
  });

  it('notifies updates, deletions and messages moved out of the folder', async () => {
    const { email, client } = await connect('eve');
    await subscribe(client, { changeType: 'updated,deleted' });
    const [read, removed, moved] = await Promise.all(
      ['Read me', 'Delete me', 'Move me'].map((subject) => emulator.deliver({ from: 'a@fabrikam.test', to: email, subject })),
    );
    if (!read || !removed || !moved) throw new Error('seed failed');
    await emulator.flushNotifications();
    expect(receiver.notifications).toEqual([]);

    emulator.updateMessage(email, read.id, { isRead: true });
    emulator.deleteMessage(email, removed.id);
    emulator.moveMessage(email, moved.id, 'archive');
    await emulator.flushNotifications();
    expect(notificationItems().map((item) => [item.changeType, (item.resourceData as { id: string }).id])).toEqual([
      ['updated', read.id],
      ['deleted', removed.id],
      ['deleted', moved.id],
    ]);
  });

  it('keeps immutable ids in notifications for a mailbox-wide subscription created with the preference', async () => {
    const { email, client } = await connect('fox');
    await subscribe(client, { resource: '/me/messages' }, 'IdType="ImmutableId"');
    const delivered = await emulator.deliver({ from: 'a@fabrikam.test', to: email, subject: 'Stable' });
    emulator.moveMessage(email, delivered.id, 'archive');
    await emulator.flushNotifications();
    expect(notificationItems().map((item) => [item.changeType, (item.resourceData as { id: string }).id])).toEqual([
      ['created', delivered.immutableId],
      ['updated', delivered.immutableId],
    ]);
  });

  it('sends lifecycle notifications, and a missed event when notifications cannot be delivered', async () => {
    const { email, client } = await connect('gus');
    const subscription = await subscribe(client);
    const id = String(subscription.id);
    await emulator.sendLifecycle(id, 'reauthorizationRequired');
    expect(receiver.lifecycle[0]?.body.value).toEqual([
      {
        subscriptionId: id,
        subscriptionExpirationDateTime: subscription.expirationDateTime,
        tenantId: emulator.tenantId,
        clientState: 'secret-client-state',
        lifecycleEvent: 'reauthorizationRequired',
      },
    ]);

    receiver.behaviour.failNext = 100;
    await emulator.deliver({ from: 'a@fabrikam.test', to: email, subject: 'Lost' });
    await emulator.flushNotifications();
    expect(deliveriesToReceiver('notification')).toHaveLength(4);
    expect(receiver.lifecycle.map((notification) => notification.body.value[0]?.lifecycleEvent)).toEqual(['reauthorizationRequired', 'missed']);

    receiver.behaviour.failNext = 0;
    await emulator.sendLifecycle(id, 'subscriptionRemoved');
    expect(receiver.lifecycle.at(-1)?.body.value[0]?.lifecycleEvent).toBe('subscriptionRemoved');
    expect(subscriptionsOf(email)).toEqual([]);
    await emulator.deliver({ from: 'a@fabrikam.test', to: email, subject: 'After removal' });
    await emulator.flushNotifications();
    expect(receiver.notifications).toEqual([]);
  });
});

describe('notification faults', () => {
  it('drops, duplicates and reorders notifications on request', async () => {
    const { email, client } = await connect('hal');
    await subscribe(client, { changeType: 'created' });
    emulator.faults.dropNotifications = 1;
    await emulator.deliver({ from: 'a@fabrikam.test', to: email, subject: 'Dropped' });
    await emulator.flushNotifications();
    expect(receiver.notifications).toEqual([]);

    emulator.faults.duplicateNotifications = 1;
    const twice = await emulator.deliver({ from: 'a@fabrikam.test', to: email, subject: 'Twice' });
    await emulator.flushNotifications();
    expect(receiver.notifications.map((notification) => notification.body.value.map((item) => (item.resourceData as { id: string }).id))).toEqual([
      [twice.id],
      [twice.id],
    ]);

    receiver.notifications.length = 0;
    emulator.faults.reorderNotifications = true;
    const [early, late] = await Promise.all([
      emulator.deliver({ from: 'a@fabrikam.test', to: email, subject: 'Early' }),
      emulator.deliver({ from: 'a@fabrikam.test', to: email, subject: 'Late' }),
    ]);
    await emulator.flushNotifications();
    expect(notificationItems().map((item) => (item.resourceData as { id: string }).id)).toEqual([late?.id, early?.id]);
    expect(receiver.notifications).toHaveLength(2);
  });

  it('stops notifying silently when a subscription expires', async () => {
    const { email, client } = await connect('ivy');
    const first = await subscribe(client);
    emulator.expireSubscription(String(first.id));
    await emulator.deliver({ from: 'a@fabrikam.test', to: email, subject: 'Silence' });
    await emulator.flushNotifications();
    expect(receiver.notifications).toEqual([]);
    expect(receiver.lifecycle).toEqual([]);

    await subscribe(client, { expirationDateTime: expiresIn(30) });
    emulator.advanceTime(31 * 60_000);
    await emulator.deliver({ from: 'a@fabrikam.test', to: email, subject: 'Past expiry' });
    await emulator.flushNotifications();
    expect(receiver.notifications).toEqual([]);
    expect(subscriptionsOf(email)).toEqual([]);
    emulator.advanceTime(-31 * 60_000);
  });
});
