// Through the facade: createThreadlink + memoryStore + outlookProvider, the emulator delivering
// webhooks to the facade's real HTTP handler.
import { afterEach, describe, expect, it } from 'vitest';
import { startFacade, type Facade } from './harness.js';

async function messageRows(facade: Facade) {
  const dump = await facade.store.raw.dump();
  return (dump.messages ?? []) as Array<{ subject: string; providerMessageId: string; threadId: string }>;
}

describe('end to end: connect → live → notification → stored + matched', () => {
  let facade: Facade;
  afterEach(async () => facade?.close());

  it('connects, goes live, and stores and matches a notified message', async () => {
    facade = await startFacade();
    const connection = await facade.connect('ana@contoso.com');
    expect(connection).toMatchObject({ provider: 'outlook', accountEmail: 'ana@contoso.com' });
    expect(facade.eventsNamed('connection.live').map((event) => event.connection.id)).toContain(connection.id);
    const stored = await facade.tl.connections.get(connection.id, { tenantId: 't1', as: 'admin' });
    expect(stored.status).toBe('live');
    expect(stored.backfill.state).toBe('done');
    expect(facade.ms.subscriptions()).toHaveLength(3);
    expect(facade.ms.subscriptions().every((subscription) => subscription.notificationUrl === `${facade.publicUrl}/webhooks/outlook`)).toBe(true);

    facade.ms.addMailbox({ email: 'client@acme.com' });
    await facade.ms.deliver({ from: 'Carla <client@acme.com>', to: 'ana@contoso.com', subject: 'Change request PRJ-1042', text: 'please' });
    await facade.settle();

    const rows = await messageRows(facade);
    expect(rows.map((row) => row.subject)).toEqual(['Change request PRJ-1042']);
    const matched = facade.eventsNamed('message.matched');
    expect(matched).toHaveLength(1);
    expect(matched[0]?.links.map((link) => `${link.record.type}:${link.record.id}`).sort()).toEqual(['client:c-acme', 'project:p-1042']);

    const timeline = await facade.tl.timeline.forRecord({ type: 'project', id: 'p-1042' }, { tenantId: 't1', as: 'admin' });
    expect(timeline.threads.flatMap((thread) => thread.messages.map((message) => message.subject))).toEqual(['Change request PRJ-1042']);
  });

  it('stores one row when Graph delivers the same notification twice', async () => {
    facade = await startFacade();
    await facade.connect('ana@contoso.com');
    facade.ms.faults.duplicateNotifications = 2;
    await facade.ms.deliver({ from: 'client@acme.com', to: 'ana@contoso.com', subject: 'twice', text: 'x' });
    await facade.settle();

    const deliveries = facade.ms.deliveries().filter((delivery) => delivery.kind === 'notification');
    expect(deliveries).toHaveLength(2);
    expect(deliveries.every((delivery) => delivery.status === 202)).toBe(true);
    // The second copy was claimed already: accepted with no new work. (Earlier events are the
    // validation handshakes at subscribe, which carry no hints.)
    expect(
      facade
        .eventsNamed('notification.received')
        .map((event) => event.hints)
        .slice(-2),
    ).toEqual([1, 0]);
    expect((await messageRows(facade)).map((row) => row.subject)).toEqual(['twice']);
    expect(facade.eventsNamed('message.synced').filter((event) => event.created)).toHaveLength(1);
  });

  it('rejects a forged clientState with 401 and enqueues nothing', async () => {
    facade = await startFacade();
    const connection = await facade.connect('ana@contoso.com');
    const [subscription] = facade.ms.subscriptions();
    const before = facade.ms.log.entries.length;
    const response = await fetch(`${facade.publicUrl}/webhooks/outlook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        value: [{ subscriptionId: subscription!.id, clientState: 'forged', changeType: 'created', resource: 'Users/x/Messages/y', tenantId: 'tid' }],
      }),
    });
    expect(response.status).toBe(401);
    await facade.tl.idle();
    expect(facade.eventsNamed('notification.rejected')).toEqual([expect.objectContaining({ provider: 'outlook', code: 'WEBHOOK_UNAUTHORIZED' })]);
    // No pull followed: Graph saw no request at all.
    expect(facade.ms.log.entries.length).toBe(before);
    const stored = await facade.tl.connections.get(connection.id, { tenantId: 't1', as: 'admin' });
    expect(stored.health.lastPushAt).toBeNull();
  });

  it('resyncs after a 410 on the delta token and keeps syncing from the new cursor', async () => {
    facade = await startFacade();
    const connection = await facade.connect('ana@contoso.com');
    const before = await facade.tl.connections.get(connection.id, { tenantId: 't1', as: 'admin' });
    facade.ms.expireDeltaTokens('ana@contoso.com');
    await facade.ms.deliver({ from: 'client@acme.com', to: 'ana@contoso.com', subject: 'during expiry', text: 'x' });
    await facade.settle();

    expect(facade.eventsNamed('sync.error').map((event) => event.code)).toContain('CURSOR_EXPIRED');
    const after = await facade.tl.connections.get(connection.id, { tenantId: 't1', as: 'admin' });
    expect(after.cursor).not.toBe(before.cursor);
    expect(after.health.lastFullSyncAt).not.toBeNull();
    expect((await messageRows(facade)).map((row) => row.subject)).toEqual(['during expiry']);

    await facade.ms.deliver({ from: 'client@acme.com', to: 'ana@contoso.com', subject: 'after resync', text: 'x' });
    await facade.settle();
    expect((await messageRows(facade)).map((row) => row.subject).sort()).toEqual(['after resync', 'during expiry']);
  });

  it('honours Retry-After on a 429 and stores the message once Graph lets it through', async () => {
    facade = await startFacade({ provider: { maxInlineRetryMs: 0 } });
    await facade.connect('ana@contoso.com');
    facade.ms.faults.retryAfterSeconds = 1;
    facade.ms.faults.forced429 = 1;
    const before = facade.ms.log.entries.length;
    await facade.ms.deliver({ from: 'client@acme.com', to: 'ana@contoso.com', subject: 'throttled', text: 'x' });
    await facade.settle();

    const errors = facade.eventsNamed('sync.error');
    expect(errors.map((event) => event.code)).toEqual(['RATE_LIMITED']);
    const entries = facade.ms.log.entries.slice(before);
    // The throttled request (the other folder's delta may have gone through beside it) was
    // repeated no sooner than Retry-After allowed.
    const throttled = entries.find((entry) => entry.status === 429)!;
    const retried = entries.find((entry) => entry.at >= throttled.at && entry.path === throttled.path && entry.status === 200)!;
    expect(retried.at - throttled.at).toBeGreaterThanOrEqual(1_000);
    expect((await messageRows(facade)).map((row) => row.subject)).toEqual(['throttled']);
  });
});
