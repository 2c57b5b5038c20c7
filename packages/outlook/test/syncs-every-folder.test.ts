// Every mail folder syncs (issue 18): through the facade — createThreadlink + memoryStore +
// outlookProvider with the real msal-node and Graph clients — against the Graph emulator.
import { afterEach, describe, expect, it } from 'vitest';
import { startFacade, type Facade } from './harness.js';

const ADMIN = { tenantId: 't1', as: 'admin' } as const;

async function rows(facade: Facade) {
  const dump = await facade.store.raw.dump();
  return (dump.messages ?? []) as Array<{ id: string; subject: string; providerMessageId: string; folder: string }>;
}

async function clientPanel(facade: Facade): Promise<Array<{ subject: string; folder: string }>> {
  const timeline = await facade.tl.timeline.forRecord({ type: 'client', id: 'c-acme' }, ADMIN);
  // What the panel shows: the folder's name (the message's labelRefs), not the normalised enum.
  return timeline.threads.flatMap((thread) =>
    thread.messages.map((message) => ({ subject: message.subject, folder: message.labelRefs.map((label) => label.name).join(', ') })),
  );
}

async function deliverFromClient(facade: Facade, subject: string) {
  const delivered = await facade.ms.deliver({ from: 'Carla <client@acme.com>', to: 'ana@contoso.com', subject, text: 'hello' });
  const copy = delivered.copies.find((entry) => entry.mailbox === 'ana@contoso.com');
  if (!copy) throw new Error('no copy in ana’s mailbox');
  return copy.immutableId;
}

describe('every Outlook folder is synced; a move is an update, not a delete', () => {
  let facade: Facade;
  afterEach(async () => facade?.close());

  it('back-fills mail that lives only in Archive and user folders (and their children) at connect time, but not excluded folders', async () => {
    facade = await startFacade();
    facade.ms.addMailbox({ email: 'ana@contoso.com' });
    facade.ms.addMailbox({ email: 'client@acme.com' });
    const projects = facade.ms.createFolder('ana@contoso.com', 'Projects');
    const acme = facade.ms.createFolder('ana@contoso.com', 'Acme', projects);
    const archived = await deliverFromClient(facade, 'archived long ago');
    const filed = await deliverFromClient(facade, 'filed under Projects/Acme');
    const junk = await deliverFromClient(facade, 'caught as junk');
    facade.ms.moveMessage('ana@contoso.com', archived, 'archive');
    facade.ms.moveMessage('ana@contoso.com', filed, acme);
    facade.ms.moveMessage('ana@contoso.com', junk, 'junkemail');

    await facade.connect('ana@contoso.com');
    const stored = await rows(facade);
    expect(stored.map((row) => row.subject).sort()).toEqual(['archived long ago', 'filed under Projects/Acme']);
    expect(stored.every((row) => row.folder === 'archive')).toBe(true);
    // On the client's panel, by folder name.
    expect((await clientPanel(facade)).sort((a, b) => a.subject.localeCompare(b.subject))).toEqual([
      { subject: 'archived long ago', folder: 'Archive' },
      { subject: 'filed under Projects/Acme', folder: 'Acme' },
    ]);
    // One subscription per synced folder: Inbox, Sent Items, Archive, Projects, Projects/Acme.
    expect(facade.ms.subscriptions()).toHaveLength(5);
  });

  it('keeps a client message archived in Outlook on the client panel, with folder "Archive"', async () => {
    facade = await startFacade();
    await facade.connect('ana@contoso.com');
    facade.ms.addMailbox({ email: 'client@acme.com' });
    const id = await deliverFromClient(facade, 'Quote for PRJ-1042');
    await facade.settle();
    expect(await clientPanel(facade)).toEqual([{ subject: 'Quote for PRJ-1042', folder: 'Inbox' }]);

    facade.ms.moveMessage('ana@contoso.com', id, 'archive');
    await facade.settle();
    expect(await clientPanel(facade)).toEqual([{ subject: 'Quote for PRJ-1042', folder: 'Archive' }]);
    expect((await rows(facade)).map((row) => row.providerMessageId)).toEqual([id]);
  });

  it('keeps record links, a manual one included, when a message moves to a user folder and back', async () => {
    facade = await startFacade();
    await facade.connect('ana@contoso.com');
    facade.ms.addMailbox({ email: 'client@acme.com' });
    const folder = facade.ms.createFolder('ana@contoso.com', 'Clients');
    await facade.settle();
    const id = await deliverFromClient(facade, 'Signed contract');
    await facade.settle();
    const [row] = await rows(facade);
    if (!row) throw new Error('not stored');
    await facade.tl.matching.link(row.id, { type: 'deal', id: 'd-7' }, { tenantId: 't1', userId: 'u1' });
    const linksBefore = (await facade.tl.matching.explain(row.id, ADMIN)).map((link) => `${link.record.type}:${link.record.id}`).sort();
    expect(linksBefore).toEqual(['client:c-acme', 'deal:d-7']);

    facade.ms.moveMessage('ana@contoso.com', id, folder);
    await facade.settle();
    expect((await rows(facade)).map((entry) => [entry.id, entry.folder])).toEqual([[row.id, 'archive']]);
    expect(await clientPanel(facade)).toEqual([{ subject: 'Signed contract', folder: 'Clients' }]);
    facade.ms.moveMessage('ana@contoso.com', id, 'inbox');
    await facade.settle();
    expect((await rows(facade)).map((entry) => [entry.id, entry.folder])).toEqual([[row.id, 'inbox']]);
    const linksAfter = (await facade.tl.matching.explain(row.id, ADMIN)).map((link) => `${link.record.type}:${link.record.id}`).sort();
    expect(linksAfter).toEqual(linksBefore);
    expect(facade.eventsNamed('message.deleted')).toHaveLength(0);
  });

  it('syncs, by push, a folder created after connect: the move that finds it subscribes it at once', async () => {
    facade = await startFacade();
    await facade.connect('ana@contoso.com');
    facade.ms.addMailbox({ email: 'client@acme.com' });
    const subscribedAtConnect = facade.ms.subscriptions().length;
    const id = await deliverFromClient(facade, 'to be filed');
    await facade.settle();
    const created = facade.ms.createFolder('ana@contoso.com', 'Filed later');
    // Moved there in Outlook: Inbox's subscription fires (the item leaves it); the pull reads the
    // message by immutable id, meets a folder it does not know, lists the tree and subscribes it.
    facade.ms.moveMessage('ana@contoso.com', id, created);
    await facade.settle();
    expect(await clientPanel(facade)).toEqual([{ subject: 'to be filed', folder: 'Filed later' }]);
    expect(facade.ms.subscriptions()).toHaveLength(subscribedAtConnect + 1);

    // Mail a server-side rule files straight into the new folder touches no other folder: only
    // the new folder's own subscription can announce it (no maintain() runs in this test).
    await facade.ms.deliver({
      from: 'Carla <client@acme.com>',
      to: 'ana@contoso.com',
      subject: 'filed by a rule',
      text: 'hi',
      mailbox: 'ana@contoso.com',
      folder: created,
    });
    await facade.settle();
    expect((await clientPanel(facade)).map((entry) => entry.subject).sort()).toEqual(['filed by a rule', 'to be filed']);
    expect((await clientPanel(facade)).every((entry) => entry.folder === 'Filed later')).toBe(true);
  });

  it('keeps a folder out by its name in the policy ("Archive", "Clients"), still after the user folder is renamed', async () => {
    facade = await startFacade();
    const connection = await facade.connect('ana@contoso.com');
    facade.ms.addMailbox({ email: 'client@acme.com' });
    const clients = facade.ms.createFolder('ana@contoso.com', 'Clients');
    const archived = await deliverFromClient(facade, 'archived');
    const filed = await deliverFromClient(facade, 'filed');
    await deliverFromClient(facade, 'in the inbox');
    await facade.settle();
    facade.ms.moveMessage('ana@contoso.com', archived, 'archive');
    facade.ms.moveMessage('ana@contoso.com', filed, clients);
    await facade.settle();
    expect((await clientPanel(facade)).map((entry) => entry.folder).sort()).toEqual(['Archive', 'Clients', 'Inbox']);

    const target = { tenantId: 't1', userId: 'u1', connectionId: connection.id };
    const report = await facade.tl.policy.set({ labels: { exclude: ['archive', 'Clients'] } }, target);
    expect(report.policy.labels.exclude).toEqual([facade.ms.folderId('ana@contoso.com', 'archive'), clients]);
    expect(report.purged.messages).toBe(2);
    expect(await clientPanel(facade)).toEqual([{ subject: 'in the inbox', folder: 'Inbox' }]);

    // Renamed in Outlook: the rule follows the folder, so what is filed there later stays out.
    facade.ms.renameFolder('ana@contoso.com', clients, 'Key clients');
    const later = await deliverFromClient(facade, 'filed after the rename');
    facade.ms.moveMessage('ana@contoso.com', later, clients);
    await facade.settle();
    expect(await clientPanel(facade)).toEqual([{ subject: 'in the inbox', folder: 'Inbox' }]);
  });

  it('still deletes a message deleted for real, or moved into Deleted Items or Junk Email', async () => {
    facade = await startFacade();
    await facade.connect('ana@contoso.com');
    facade.ms.addMailbox({ email: 'client@acme.com' });
    const gone = await deliverFromClient(facade, 'deleted for good');
    const binned = await deliverFromClient(facade, 'moved to the bin');
    const junk = await deliverFromClient(facade, 'marked as junk');
    const kept = await deliverFromClient(facade, 'kept');
    await facade.settle();
    expect(await rows(facade)).toHaveLength(4);

    facade.ms.deleteMessage('ana@contoso.com', gone);
    facade.ms.moveMessage('ana@contoso.com', binned, 'deleteditems');
    facade.ms.moveMessage('ana@contoso.com', junk, 'junkemail');
    await facade.settle();
    expect((await rows(facade)).map((row) => row.providerMessageId)).toEqual([kept]);
  });

  it('leaves out the folders a host excludes, by display name, with their children', async () => {
    facade = await startFacade({ provider: { excludeFolders: ['deleteditems', 'junkemail', 'drafts', 'outbox', 'Personal'] } });
    facade.ms.addMailbox({ email: 'ana@contoso.com' });
    facade.ms.addMailbox({ email: 'client@acme.com' });
    const personal = facade.ms.createFolder('ana@contoso.com', 'Personal');
    const family = facade.ms.createFolder('ana@contoso.com', 'Family', personal);
    const hidden = await deliverFromClient(facade, 'private');
    facade.ms.moveMessage('ana@contoso.com', hidden, family);
    await facade.connect('ana@contoso.com');
    expect(await rows(facade)).toEqual([]);

    const shown = await deliverFromClient(facade, 'work');
    await facade.settle();
    expect((await rows(facade)).map((row) => row.subject)).toEqual(['work']);
    facade.ms.moveMessage('ana@contoso.com', shown, personal);
    await facade.settle();
    expect(await rows(facade)).toEqual([]);
  });
});
