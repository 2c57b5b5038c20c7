// Outlook folders are the label directory (issue 18, contract LabelRef): listLabels names every
// folder, a message's label is its folder id, and a pull says when folders changed.
import type { ProviderMessage } from '@threadlink/core';
import { afterEach, describe, expect, it } from 'vitest';
import { pullAll, startHarness, type Harness } from './support.js';

const ANA = 'ana@contoso.com';

describe('Outlook folders as labels', () => {
  let harness: Harness;
  afterEach(async () => harness?.close());

  it('lists every folder with its display name: well-known ones as system with stable names, the rest as user', async () => {
    harness = await startHarness();
    const connected = await harness.connect(ANA);
    const projects = harness.ms.createFolder(ANA, 'Projects');
    const acme = harness.ms.createFolder(ANA, 'Acme', projects);

    const labels = await harness.provider.listLabels!(connected.session);
    const byId = new Map(labels.map((label) => [label.id, label]));
    for (const [name, display] of [
      ['inbox', 'Inbox'],
      ['sentitems', 'Sent Items'],
      ['archive', 'Archive'],
      ['drafts', 'Drafts'],
      ['deleteditems', 'Deleted Items'],
      ['junkemail', 'Junk Email'],
    ] as const) {
      expect(byId.get(harness.ms.folderId(ANA, name))).toEqual({ id: harness.ms.folderId(ANA, name), name: display, kind: 'system' });
    }
    expect(byId.get(projects)).toEqual({ id: projects, name: 'Projects', kind: 'user' });
    expect(byId.get(acme)).toEqual({ id: acme, name: 'Acme', kind: 'user' });
  });

  it('labels a message with its folder id, which follows a move, and reports folder changes', async () => {
    harness = await startHarness();
    const connected = await harness.connect(ANA);
    harness.ms.addMailbox({ email: 'client@acme.com' });
    const delivered = await harness.ms.deliver({ from: 'client@acme.com', to: ANA, subject: 'filed', text: 'x' });
    const id = delivered.copies.find((copy) => copy.mailbox === ANA)!.immutableId;
    const upserted = (changes: Awaited<ReturnType<typeof pullAll>>): ProviderMessage[] =>
      changes.flatMap((change) => (change.type === 'upsert' ? [change.message] : []));
    expect(upserted(await pullAll(harness.provider, connected)).map((message) => message.labels)).toEqual([[harness.ms.folderId(ANA, 'inbox')]]);

    // A folder created after connect: the move into it is seen by a push to Inbox's subscription.
    const clients = harness.ms.createFolder(ANA, 'Clients');
    harness.ms.moveMessage(ANA, id, clients);
    const moved = await harness.provider.pullChanges(connected.session, connected.connection.cursor!, { scope: [harness.ms.folderId(ANA, 'inbox')] });
    expect(upserted(moved.changes)).toMatchObject([{ providerMessageId: id, folder: 'archive', labels: [clients] }]);
    expect(moved.changes.filter((change) => change.type === 'delete')).toEqual([]);
    expect(moved.labelsChanged).toBe(true);
    connected.connection.cursor = moved.nextCursor;
    await pullAll(harness.provider, connected);

    // A rename shows at the next folder listing (every 10 minutes; forced here by ageing the cursor's).
    const aged = (cursor: string) => JSON.stringify({ ...JSON.parse(cursor), listedAt: 0 });
    const unchanged = await harness.provider.pullChanges(connected.session, aged(connected.connection.cursor!));
    expect(unchanged.labelsChanged).toBeUndefined();
    harness.ms.renameFolder(ANA, clients, 'Key clients');
    const renamed = await harness.provider.pullChanges(connected.session, aged(unchanged.nextCursor));
    expect(renamed.labelsChanged).toBe(true);
    expect((await harness.provider.listLabels!(connected.session)).find((label) => label.id === clients)?.name).toBe('Key clients');
  });
});
