// A Graph subscription can vanish without a lifecycle notification. The safety-net pull notices
// ("changes no push announced") only if it is the one that finds the changes; when a full
// reconciliation absorbs them first, that signal is gone. Found by the reliability suite's chaos
// run (seed 3, about one run in four): the mailbox stayed without push after healing. The same
// seed found a second way (on a faster machine, every run): a pull recovering a push whose job died
// with its process ran instead of the due safety net, and absorbed the changes under another name.
import { afterEach, describe, expect, it } from 'vitest';
import { startFacade, type Facade } from './harness.js';

const MAILBOX = 'cleo@contoso.com';

async function subjects(facade: Facade): Promise<string[]> {
  const dump = await facade.store.raw.dump();
  return ((dump.messages ?? []) as Array<{ subject: string }>).map((row) => row.subject).sort();
}

describe('silently dropped Graph subscriptions', () => {
  let facade: Facade;
  afterEach(async () => facade?.close());

  it('a full reconciliation that absorbed the missed changes still brings push back', async () => {
    // Every maintain() is due for a safety-net pull.
    facade = await startFacade({ engine: { safetyNetPullMs: 0 } });
    const connection = await facade.connect(MAILBOX);
    const dropped = connection.subscription!.items.map((item) => item.id);
    for (const id of dropped) facade.ms.expireSubscription(id);
    // Mail arrives while nothing is subscribed: no notification goes out.
    await facade.ms.deliver({ from: 'client@acme.com', to: MAILBOX, subject: 'while push was dead', text: 'x' });
    // …and the delta token expires too, so the safety-net pull turns into a full reconciliation that
    // stores the message itself: the pull that follows it finds nothing new.
    facade.ms.expireDeltaTokens(MAILBOX);
    const deliveriesBefore = facade.ms.deliveries().length;
    await facade.settle();
    expect(facade.ms.deliveries()).toHaveLength(deliveriesBefore);

    await facade.tl.maintain();
    await facade.settle();

    expect(await subjects(facade)).toEqual(['while push was dead']);
    expect(facade.eventsNamed('sync.error').map((event) => event.code)).toContain('CURSOR_EXPIRED');
    const live = facade.ms.subscriptions().filter((subscription) => subscription.mailbox === MAILBOX);
    expect(live).toHaveLength(3);
    expect(live.some((subscription) => dropped.includes(subscription.id))).toBe(false);
    const stored = await facade.tl.connections.get(connection.id, { tenantId: 't1', as: 'admin' });
    expect(stored.subscription!.items.map((item) => item.id).sort()).toEqual(live.map((subscription) => subscription.id).sort());

    // Push works again: the next message arrives by notification, with no maintain() in between.
    await facade.ms.deliver({ from: 'client@acme.com', to: MAILBOX, subject: 'after recovery', text: 'x' });
    await facade.settle();
    expect(facade.ms.deliveries().length).toBeGreaterThan(deliveriesBefore);
    expect(await subjects(facade)).toEqual(['after recovery', 'while push was dead']);
  });
  it('a pull that recovers lost work while the safety net is due still brings push back', async () => {
    // Every maintain() is due for a safety-net pull, and a push older than its last sync counts as lost at once.
    facade = await startFacade({ engine: { safetyNetPullMs: 0, pendingPushPullMs: 0 } });
    const connection = await facade.connect(MAILBOX);
    const dropped = connection.subscription!.items.map((item) => item.id);
    for (const id of dropped) facade.ms.expireSubscription(id);
    await facade.ms.deliver({ from: 'client@acme.com', to: MAILBOX, subject: 'while push was dead', text: 'x' });
    // A push was taken and its job died with the process that held it (as after a crash).
    await facade.store.patchConnection(connection.id, { health: { lastPushAt: Date.now() } });
    const deliveriesBefore = facade.ms.deliveries().length;

    await facade.tl.maintain();
    await facade.settle();

    expect(await subjects(facade)).toEqual(['while push was dead']);
    const live = facade.ms.subscriptions().filter((subscription) => subscription.mailbox === MAILBOX);
    expect(live).toHaveLength(3);
    expect(live.some((subscription) => dropped.includes(subscription.id))).toBe(false);

    await facade.ms.deliver({ from: 'client@acme.com', to: MAILBOX, subject: 'after recovery', text: 'x' });
    await facade.settle();
    expect(facade.ms.deliveries().length).toBeGreaterThan(deliveriesBefore);
    expect(await subjects(facade)).toEqual(['after recovery', 'while push was dead']);
  });
});
