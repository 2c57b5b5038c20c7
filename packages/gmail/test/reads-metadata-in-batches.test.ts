import type { ProviderMessage } from '@threadlink/core';
import type { Change } from '@threadlink/core/provider';
import type { GmailEmulator } from '@threadlink/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, providerFor, startGoogle, type TestSession } from './support.js';

const upserted = (changes: Change[]): ProviderMessage[] => changes.flatMap((change) => (change.type === 'upsert' ? [change.message] : []));

describe('metadata reads', () => {
  let google: GmailEmulator;
  beforeAll(async () => {
    // Quota is not the subject here; batching and masks are.
    google = await startGoogle({ quotaUnitsPerSecond: 1_000_000 });
  });
  afterAll(async () => {
    await google.close();
  });

  async function fresh(
    email: string,
    mode: 'full' | 'metadata' = 'full',
  ): Promise<{ session: TestSession; cursor: string; provider: ReturnType<typeof providerFor> }> {
    const provider = providerFor(google, { mode });
    const session = await connect(google, provider, email);
    const { cursor } = await provider.subscribe(session);
    google.log.clear();
    return { session, cursor, provider };
  }

  it('uses single gets for a few ids and ⌈n/50⌉ batch requests for many', async () => {
    const { session, cursor, provider } = await fresh('few-many@acme.test');
    for (let index = 0; index < 2; index += 1) await google.deliver({ to: 'few-many@acme.test', from: 'client@bigco.test', subject: `Few ${index}` });
    const few = await provider.pullChanges(session, cursor);
    expect(upserted(few.changes)).toHaveLength(2);
    expect(google.log.count({ operation: 'batch' })).toBe(0);
    expect(google.log.count({ operation: 'messages.get' })).toBe(2);

    google.log.clear();
    for (let index = 0; index < 120; index += 1) await google.deliver({ to: 'few-many@acme.test', from: 'client@bigco.test', subject: `Many ${index}` });
    const many = await provider.pullChanges(session, few.nextCursor);
    expect(upserted(many.changes)).toHaveLength(120);
    expect(google.log.count({ operation: 'batch' })).toBe(3);
    expect(google.log.count({ operation: 'messages.get' })).toBe(120);
  });

  it('names the listed messages and their threads to onListed after history.list and before messages.get, deleted ones left out', async () => {
    const { session, cursor, provider } = await fresh('listed@acme.test');
    const first = await google.deliver({ to: 'listed@acme.test', from: 'client@bigco.test', subject: 'First' });
    const reply = await google.deliver({ to: 'listed@acme.test', from: 'client@bigco.test', subject: 'Re: First', threadId: first.threadId });
    const gone = await google.deliver({ to: 'listed@acme.test', from: 'client@bigco.test', subject: 'Gone' });
    google.deleteMessage('listed@acme.test', gone.id);
    const seen: Array<{ listed: unknown; historyLists: number; gets: number }> = [];
    const pulled = await provider.pullChanges(session, cursor, {
      onListed: (listed) =>
        seen.push({ listed, historyLists: google.log.count({ operation: 'history.list' }), gets: google.log.count({ operation: 'messages.get' }) }),
    });
    expect(seen).toEqual([
      {
        listed: [
          { providerMessageId: first.id, providerThreadId: first.threadId },
          { providerMessageId: reply.id, providerThreadId: first.threadId },
        ],
        historyLists: 1,
        gets: 0,
      },
    ]);
    expect(upserted(pulled.changes).map((message) => message.providerThreadId)).toEqual([first.threadId, first.threadId]);
    // Nothing new: no listing to name, no call.
    seen.length = 0;
    await provider.pullChanges(session, pulled.nextCursor, { onListed: (listed) => seen.push({ listed, historyLists: 0, gets: 0 }) });
    expect(seen).toEqual([]);
  });

  it('pages a long history in bounded pulls that resume from the last record read', async () => {
    const { session, cursor, provider } = await fresh('long@acme.test');
    const delivered = [];
    for (let index = 0; index < 620; index += 1)
      delivered.push((await google.deliver({ to: 'long@acme.test', from: 'client@bigco.test', subject: `Long ${index}` })).id);
    const first = await provider.pullChanges(session, cursor);
    expect(first.hasMore).toBe(true);
    const second = await provider.pullChanges(session, first.nextCursor);
    expect(second.hasMore).toBe(false);
    const ids = [...upserted(first.changes), ...upserted(second.changes)].map((message) => message.providerMessageId);
    expect(ids.sort()).toEqual(delivered.sort());
    expect(Number(second.nextCursor)).toBeGreaterThan(Number(first.nextCursor));
  });

  it('in metadata mode reads only the kept headers and flags attachments without listing them', async () => {
    const { session, cursor, provider } = await fresh('meta@acme.test', 'metadata');
    const withFile = await google.deliver({
      to: 'meta@acme.test',
      from: 'client@bigco.test',
      subject: 'With file',
      text: 'x',
      attachments: [{ filename: 'a.pdf', content: 'pdf' }],
    });
    const plain = await google.deliver({ to: 'meta@acme.test', from: 'Other <other@example.test>', subject: 'Plain', text: 'y' });
    const messages = upserted((await provider.pullChanges(session, cursor)).changes);
    expect(messages.find((message) => message.providerMessageId === withFile.id)).toMatchObject({
      attachments: [],
      hasAttachments: true,
      subject: 'With file',
    });
    expect(messages.find((message) => message.providerMessageId === plain.id)).toMatchObject({
      hasAttachments: false,
      from: { address: 'other@example.test', name: 'Other' },
    });
    // Gmail refuses format=full/raw and `q` under gmail.metadata: nothing here may have been refused.
    expect(google.log.entries.filter((entry) => entry.status === 403)).toEqual([]);
  });

  it('syncs hostile headers within the schema limits instead of failing the pull', async () => {
    const { session, cursor, provider } = await fresh('hostile@acme.test');
    const hostile = await google.deliver({
      to: 'hostile@acme.test',
      from: 'client@bigco.test',
      subject: `Long ${'x'.repeat(5_000)}`,
      messageId: `<${'a'.repeat(1_200)}@bigco.test>`,
      references: [`<${'b'.repeat(1_200)}@bigco.test>`, '<fine@bigco.test>'],
    });
    const normal = await google.deliver({ to: 'hostile@acme.test', from: 'client@bigco.test', subject: 'Normal' });
    const messages = upserted((await provider.pullChanges(session, cursor)).changes);
    expect(messages.map((message) => message.providerMessageId).sort()).toEqual([hostile.id, normal.id].sort());
    const kept = messages.find((message) => message.providerMessageId === hostile.id)!;
    expect(kept.subject).toHaveLength(4_096);
    expect(kept.internetMessageId).toBeNull();
    expect(kept.references).toEqual(['<fine@bigco.test>']);
  });

  it('applies the back-fill window newest first, with `q` in full mode and by date in metadata mode', async () => {
    for (const mode of ['full', 'metadata'] as const) {
      const email = `window-${mode}@acme.test`;
      const { session, provider } = await fresh(email, mode);
      const now = google.now();
      await google.deliver({ to: email, from: 'client@bigco.test', subject: 'Old', date: new Date(now - 40 * 86_400_000), mailbox: email });
      const recent = await google.deliver({ to: email, from: 'client@bigco.test', subject: 'Recent', mailbox: email });
      const page = await provider.fullSync(session, null, { since: now - 30 * 86_400_000, pageSize: 10 });
      expect(page.messages.map((message) => message.providerMessageId)).toEqual([recent.id]);
      expect(page.next).toBeNull();
      expect(google.log.entries.filter((entry) => entry.status >= 400)).toEqual([]);
    }
  });
});
