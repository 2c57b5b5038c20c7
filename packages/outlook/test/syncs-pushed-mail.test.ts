import type { ProviderMessage } from '@threadlink/core';
import type { Change } from '@threadlink/core/provider';
import { afterEach, describe, expect, it } from 'vitest';
import { pullAll, startHarness, type Harness } from './support.js';

const CANARY = 'CANARY-7f3a-body-never-synced';

function upserts(changes: Change[]): ProviderMessage[] {
  return changes.flatMap((change) => (change.type === 'upsert' ? [change.message] : []));
}

describe('notification → delta pull → metadata', () => {
  let harness: Harness;
  afterEach(async () => harness?.close());

  it('turns a change notification into one hint and pulls the new message with metadata only', async () => {
    harness = await startHarness();
    const connected = await harness.connect('ana@contoso.com');
    harness.ms.addMailbox({ email: 'client@acme.com' });

    const delivered = await harness.ms.deliver({
      from: 'Carla Client <client@acme.com>',
      to: 'Ana <ana@contoso.com>',
      cc: 'boss@acme.com',
      subject: 'Quote for PRJ-1042',
      html: `<p>Hello ${CANARY}</p>`,
      attachments: [{ filename: 'PRJ-1042 signed proposal.pdf', content: Buffer.from('%PDF-1.4 fake'), contentType: 'application/pdf' }],
    });
    await harness.ms.flushNotifications();

    const anaCopy = delivered.copies.find((copy) => copy.mailbox === 'ana@contoso.com');
    expect(harness.hints).toHaveLength(1);
    expect(harness.hints[0]).toMatchObject({ connectionId: connected.connection.id, kind: 'changes' });
    expect(harness.webhookAnswers.at(-1)).toEqual({ route: '', status: 202 });

    const changes = await pullAll(harness.provider, connected);
    const [message] = upserts(changes);
    expect(upserts(changes)).toHaveLength(1);
    expect(message).toMatchObject({
      providerMessageId: anaCopy?.immutableId,
      providerThreadId: delivered.conversationId,
      internetMessageId: delivered.internetMessageId,
      subject: 'Quote for PRJ-1042',
      from: { address: 'client@acme.com', name: 'Carla Client' },
      to: [{ address: 'ana@contoso.com', name: 'Ana' }],
      cc: [{ address: 'boss@acme.com' }],
      direction: 'inbound',
      folder: 'inbox',
      hasAttachments: true,
      attachments: [{ name: 'PRJ-1042 signed proposal.pdf', mimeType: 'application/pdf' }],
    });
    expect(message?.receivedAt).toBeGreaterThan(Date.now() - 60_000);
    expect(JSON.stringify(changes)).not.toContain(CANARY);
    expect(JSON.stringify(harness.logs)).not.toContain(CANARY);

    // Nothing new: the stored cursor yields nothing.
    expect(await pullAll(harness.provider, connected)).toEqual([]);
  });

  it('threads a reply by conversationId and In-Reply-To/References, and marks the sent copy outbound', async () => {
    harness = await startHarness();
    const connected = await harness.connect('ana@contoso.com');
    harness.ms.addMailbox({ email: 'client@acme.com' });

    const first = await harness.ms.deliver({ from: 'client@acme.com', to: 'ana@contoso.com', subject: 'Change request', text: 'v1' });
    const answer = await harness.ms.deliver({
      from: 'ana@contoso.com',
      to: 'client@acme.com',
      subject: 'RE: Change request',
      text: 'ok',
      inReplyTo: first.internetMessageId,
    });
    const followUp = await harness.ms.deliver({
      from: 'client@acme.com',
      to: 'ana@contoso.com',
      subject: 'RE: Change request',
      text: 'thanks',
      inReplyTo: answer.internetMessageId,
    });
    const messages = upserts(await pullAll(harness.provider, connected));
    expect(messages).toHaveLength(3);
    const byId = new Map(messages.map((message) => [message.internetMessageId, message]));
    const sent = byId.get(answer.internetMessageId);
    expect(sent).toMatchObject({ folder: 'sent', direction: 'outbound', from: { address: 'ana@contoso.com' } });
    const received = byId.get(followUp.internetMessageId);
    expect(received).toMatchObject({ folder: 'inbox', direction: 'inbound', inReplyTo: answer.internetMessageId });
    expect(received?.references).toContain(first.internetMessageId);
    expect(new Set(messages.map((message) => message.providerThreadId)).size).toBe(1);
  });

  it('reports deletes and moves to Deleted Items as deletions, a move to Archive and updates as upserts', async () => {
    harness = await startHarness();
    const connected = await harness.connect('ana@contoso.com');
    const ids: string[] = [];
    for (let index = 0; index < 4; index += 1) {
      const delivered = await harness.ms.deliver({ from: 'x@acme.com', to: 'ana@contoso.com', subject: `m${index}`, text: 'x' });
      ids.push(delivered.copies.find((copy) => copy.mailbox === 'ana@contoso.com')!.immutableId);
    }
    expect(upserts(await pullAll(harness.provider, connected))).toHaveLength(4);

    harness.ms.deleteMessage('ana@contoso.com', ids[0]!);
    harness.ms.moveMessage('ana@contoso.com', ids[1]!, 'deleteditems');
    harness.ms.moveMessage('ana@contoso.com', ids[2]!, 'archive');
    harness.ms.updateMessage('ana@contoso.com', ids[3]!, { isRead: true, categories: ['Clients'] });

    const changes = await pullAll(harness.provider, connected);
    const deleted = changes.flatMap((change) => (change.type === 'delete' ? [change.providerMessageId] : [])).sort();
    expect(deleted).toEqual([ids[0], ids[1]].sort());
    const updated = upserts(changes);
    expect(updated.find((message) => message.providerMessageId === ids[2])?.folder).toBe('archive');
    expect(updated).toHaveLength(2);
    // A message's one label is its folder's id (categories are colour tags, not labels).
    expect(updated.find((message) => message.providerMessageId === ids[3])).toMatchObject({
      providerMessageId: ids[3],
      subject: 'm3',
      labels: [harness.ms.folderId('ana@contoso.com', 'inbox')],
      folder: 'inbox',
    });
  });

  it('follows nextLinks across pages and hands back hasMore beyond its page budget', async () => {
    harness = await startHarness({ provider: { pageSize: 2 } });
    const connected = await harness.connect('ana@contoso.com');
    for (let index = 0; index < 25; index += 1) {
      await harness.ms.deliver({ from: 'x@acme.com', to: 'ana@contoso.com', subject: `bulk ${index}`, text: 'x' });
    }
    const first = await harness.provider.pullChanges(connected.session, connected.connection.cursor!);
    // 10 pages of 2 per call, then the round continues from the stored nextLink.
    expect(first.changes).toHaveLength(20);
    expect(first.hasMore).toBe(true);
    const second = await harness.provider.pullChanges(connected.session, first.nextCursor);
    expect(second.changes).toHaveLength(5);
    expect(second.hasMore).toBe(false);
    const subjects = new Set([...first.changes, ...second.changes].map((change) => (change.type === 'upsert' ? change.message.subject : '')));
    expect(subjects.size).toBe(25);
  });
});
