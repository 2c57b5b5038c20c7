// Graph sometimes answers a delta round with only the changed properties of a message (e.g.
// {id, isRead, parentFolderId} after a read-flag flip — microsoft-graph-docs issue 7776). Such
// items are re-read by id in one $batch. The emulator always sends full items, so the partial
// listing is handed to the sync step directly; the re-reads go over HTTP to the emulator.
import { silentLogger } from '@threadlink/core';
import { systemClock } from '@threadlink/core/provider';
import { afterEach, describe, expect, it } from 'vitest';
import { createOutlookAuth } from '../src/auth.js';
import { createGraphSession } from '../src/client.js';
import { OutlookProviderOptions } from '../src/options.js';
import { materialize } from '../src/fetch-messages.js';
import { loadFolderIds } from '../src/folders.js';
import { MailboxGates } from '../src/rate-limit.js';
import { startHarness, type Connected, type Harness } from './support.js';

function graphFor(harness: Harness, connected: Connected) {
  const config = OutlookProviderOptions.parse(harness.ms.providerOptions);
  return createGraphSession({
    graphBaseUrl: config.graphBaseUrl,
    tokens: createOutlookAuth(config).tokenSource(connected.session),
    gates: new MailboxGates(),
    mailbox: connected.connection.id,
    clock: systemClock,
    logger: silentLogger,
    maxInlineRetryMs: 0,
    requestTimeoutMs: config.requestTimeoutMs,
  });
}

describe('partial and malformed delta items', () => {
  let harness: Harness;
  afterEach(async () => harness?.close());

  it('re-reads partial items by id in one $batch, and turns vanished or trashed ones into deletions', async () => {
    harness = await startHarness();
    const connected = await harness.connect('ana@contoso.com');
    const ids: string[] = [];
    for (const subject of ['kept', 'deleted', 'trashed']) {
      const delivered = await harness.ms.deliver({
        from: 'client@acme.com',
        to: 'ana@contoso.com',
        subject,
        text: 'x',
        attachments: subject === 'kept' ? [{ filename: 'plan.pdf', content: Buffer.from('pdf') }] : [],
      });
      ids.push(delivered.copies.find((copy) => copy.mailbox === 'ana@contoso.com')!.immutableId);
    }
    harness.ms.deleteMessage('ana@contoso.com', ids[1]!);
    harness.ms.moveMessage('ana@contoso.com', ids[2]!, 'deleteditems');

    const graph = graphFor(harness, connected);
    const folderIds = await loadFolderIds(graph);
    expect(folderIds.inbox).toBeDefined();
    expect(folderIds.deleteditems).toBeDefined();

    const before = harness.ms.log.entries.length;
    const { changes } = await materialize({
      graph,
      session: connected.session,
      folderIds,
      withAttachments: true,
      listed: ids.map((id) => ({ folder: 'inbox' as const, item: { id, isRead: true, parentFolderId: folderIds.inbox } as never })),
    });
    const batches = harness.ms.log.entries.slice(before).filter((entry) => entry.operation === '$batch');
    expect(batches).toHaveLength(1);

    expect(changes).toHaveLength(3);
    const kept = changes.find((change) => change.type === 'upsert');
    expect(kept?.type === 'upsert' && kept.message).toMatchObject({
      providerMessageId: ids[0],
      subject: 'kept',
      folder: 'inbox',
      from: { address: 'client@acme.com' },
      attachments: [expect.objectContaining({ name: 'plan.pdf' })],
    });
    const deletions = changes.flatMap((change) => (change.type === 'delete' ? [change.providerMessageId] : [])).sort();
    expect(deletions).toEqual([ids[1], ids[2]].sort());
  });

  it('skips and reports a message whose metadata cannot fit the schema, without failing the pull', async () => {
    harness = await startHarness();
    const connected = await harness.connect('ana@contoso.com');
    const wellFormed = {
      conversationId: 'AAQkAD-conv',
      internetMessageId: '<ok@acme.com>',
      subject: 'fine',
      from: { emailAddress: { address: 'client@acme.com' } },
      toRecipients: [{ emailAddress: { address: 'ana@contoso.com' } }],
      receivedDateTime: '2026-01-01T00:00:00Z',
    };
    const { changes } = await materialize({
      graph: graphFor(harness, connected),
      session: connected.session,
      folderIds: {},
      withAttachments: false,
      listed: [
        { folder: 'inbox', item: { id: 'x'.repeat(2_000), ...wellFormed } },
        { folder: 'inbox', item: { id: 'AAkALg-ok', ...wellFormed } },
      ],
    });
    expect(changes.map((change) => (change.type === 'upsert' ? change.message.providerMessageId : change.type))).toEqual(['AAkALg-ok']);
    const warning = harness.logs.find((record) => record.message.includes('skipped'));
    expect(warning?.fields).toMatchObject({ connectionId: connected.connection.id, issues: 'providerMessageId' });
    expect(JSON.stringify(warning)).not.toContain('fine');
  });
});
