// A change notification names its subscription, and each subscription watches one folder: the
// pull it triggers reads that folder's delta only, and nothing in the other folders is missed.
import { ChangeHint, type Change } from '@threadlink/core/provider';
import { afterEach, describe, expect, it } from 'vitest';
import { STALE_FOLDER_MS } from '../src/sync.js';
import { startFacade, type Facade } from './harness.js';
import { startHarness, type Harness } from './support.js';

const ANA = 'ana@contoso.com';

async function subjects(facade: Facade): Promise<string[]> {
  const dump = await facade.store.raw.dump();
  return ((dump.messages ?? []) as Array<{ subject: string }>).map((row) => row.subject).sort();
}

/** Delta requests Graph received for Ana's mailbox since `from` (an index into the request log). */
function deltaRequests(facade: Facade, from: number): number {
  return facade.ms.log.entries.slice(from).filter((entry) => entry.mailbox === ANA && entry.operation === 'delta').length;
}

describe('push-triggered pulls read only the notified folders', () => {
  let facade: Facade | undefined;
  let harness: Harness | undefined;
  afterEach(async () => {
    await facade?.close();
    await harness?.close();
    facade = undefined;
    harness = undefined;
  });

  it('pulls only the Inbox delta for a notification of the Inbox subscription', async () => {
    facade = await startFacade();
    await facade.connect(ANA);
    facade.ms.addMailbox({ email: 'client@acme.com' });
    const before = facade.ms.log.entries.length;
    await facade.ms.deliver({ from: 'client@acme.com', to: ANA, subject: 'inbound PRJ-1042', text: 'x' });
    await facade.settle();
    expect(await subjects(facade)).toEqual(['inbound PRJ-1042']);
    expect(deltaRequests(facade, before)).toBe(1);
  });

  it('still syncs mail that reaches Sent Items while an Inbox-scoped job runs', async () => {
    facade = await startFacade();
    await facade.connect(ANA);
    facade.ms.addMailbox({ email: 'client@acme.com' });
    const before = facade.ms.log.entries.length;
    let sent = false;
    // Emitted by the Inbox job's commit, before it lets go of the mailbox.
    facade.tl.on('message.synced', () => {
      if (sent) return;
      sent = true;
      void facade!.ms.deliver({ from: ANA, to: 'client@acme.com', subject: 'outbound reply', text: 'y' });
    });
    await facade.ms.deliver({ from: 'client@acme.com', to: ANA, subject: 'inbound first', text: 'x' });
    await facade.settle();
    await facade.settle();
    expect(sent).toBe(true);
    expect(await subjects(facade)).toEqual(['inbound first', 'outbound reply']);
    // One delta of the Inbox for the first notification, one of Sent Items for the second.
    expect(deltaRequests(facade, before)).toBe(2);
  });

  it('syncs both folders when notifications of both arrive together', async () => {
    facade = await startFacade();
    await facade.connect(ANA);
    facade.ms.addMailbox({ email: 'client@acme.com' });
    const before = facade.ms.log.entries.length;
    await facade.ms.deliver({ from: 'client@acme.com', to: ANA, subject: 'inbound', text: 'x' });
    await facade.ms.deliver({ from: ANA, to: 'client@acme.com', subject: 'outbound', text: 'y' });
    await facade.ms.deliver({ from: 'client@acme.com', to: ANA, subject: 'inbound again', text: 'z' });
    await facade.settle();
    expect(await subjects(facade)).toEqual(['inbound', 'inbound again', 'outbound']);
    // Each folder read once per job that needed it: never more than a full pull per notification.
    expect(deltaRequests(facade, before)).toBeLessThanOrEqual(3);
  });
});

describe('a scoped pull', () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  const upserted = (changes: Change[]) => changes.flatMap((change) => (change.type === 'upsert' ? [change.message] : []));

  it('names the notified folder in a scope core accepts (folder ids are too long for it), and reads that folder only', async () => {
    harness = await startHarness();
    const connected = await harness.connect(ANA);
    harness.ms.addMailbox({ email: 'client@acme.com' });
    await harness.ms.deliver({ from: 'client@acme.com', to: ANA, subject: 'inbound', text: 'x' });
    await harness.ms.flushNotifications();
    const [hint] = harness.hints;
    expect(ChangeHint.parse(hint).scope).toHaveLength(1);
    const before = harness.ms.log.entries.length;
    const result = await harness.provider.pullChanges(connected.session, connected.connection.cursor!, { scope: hint!.scope! });
    expect(upserted(result.changes).map((message) => message.subject)).toEqual(['inbound']);
    expect(harness.ms.log.entries.slice(before).filter((entry) => entry.operation === 'delta')).toHaveLength(1);
  });

  it('keeps the other folders’ delta links, whose changes the next pull of them still finds', async () => {
    harness = await startHarness();
    const connected = await harness.connect(ANA);
    harness.ms.addMailbox({ email: 'client@acme.com' });
    await harness.ms.deliver({ from: ANA, to: 'client@acme.com', subject: 'outbound', text: 'y' });
    await harness.ms.deliver({ from: 'client@acme.com', to: ANA, subject: 'inbound', text: 'x' });
    const start = JSON.parse(connected.connection.cursor!) as { links: Record<string, string> };

    const inboxOnly = await harness.provider.pullChanges(connected.session, connected.connection.cursor!, { scope: ['inbox'] });
    expect(upserted(inboxOnly.changes).map((message) => message.subject)).toEqual(['inbound']);
    const after = JSON.parse(inboxOnly.nextCursor) as { links: Record<string, string> };
    const sentItems = harness.ms.folderId(ANA, 'sentitems');
    const inbox = harness.ms.folderId(ANA, 'inbox');
    expect(after.links[sentItems]).toBe(start.links[sentItems]);
    expect(after.links[inbox]).not.toBe(start.links[inbox]);

    const rest = await harness.provider.pullChanges(connected.session, inboxOnly.nextCursor);
    expect(upserted(rest.changes).map((message) => message.subject)).toEqual(['outbound']);
  });

  it('checks a removal by reading the message: a move between synced folders is not a delete', async () => {
    harness = await startHarness();
    const connected = await harness.connect(ANA);
    const delivered = await harness.ms.deliver({ from: 'client@acme.com', to: ANA, subject: 'filed', text: 'x' });
    const id = delivered.copies.find((copy) => copy.mailbox === ANA)!.immutableId;
    const first = await harness.provider.pullChanges(connected.session, connected.connection.cursor!);
    harness.ms.moveMessage(ANA, id, 'sentitems');

    const moved = await harness.provider.pullChanges(connected.session, first.nextCursor, { scope: ['inbox'] });
    expect(moved.changes.filter((change) => change.type === 'delete')).toEqual([]);
    expect(upserted(moved.changes)).toMatchObject([{ providerMessageId: id, folder: 'sent' }]);
  });

  it('reads a folder not read for a while along with the notified one (its subscription may be dead)', async () => {
    harness = await startHarness();
    const connected = await harness.connect(ANA);
    harness.ms.addMailbox({ email: 'client@acme.com' });
    await harness.ms.deliver({ from: ANA, to: 'client@acme.com', subject: 'outbound', text: 'y' });
    const cursor = JSON.parse(connected.connection.cursor!) as { pulledAt: Record<string, number> };
    const sentItems = harness.ms.folderId(ANA, 'sentitems');
    cursor.pulledAt[sentItems] = Date.now() - STALE_FOLDER_MS - 1;

    const result = await harness.provider.pullChanges(connected.session, JSON.stringify(cursor), { scope: ['inbox'] });
    expect(upserted(result.changes).map((message) => message.subject)).toEqual(['outbound']);
    expect((JSON.parse(result.nextCursor) as { pulledAt: Record<string, number> }).pulledAt[sentItems]).toBeGreaterThan(Date.now() - 60_000);
  });
});
