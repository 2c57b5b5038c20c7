import { GraphError, type Client } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGraphEmulator, type GraphEmulator } from '../src/graph/index.js';
import { connectMailbox, relativeLink } from './graph-clients.js';

interface DeltaPage {
  value: Array<Record<string, unknown>>;
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

let emulator: GraphEmulator;

beforeAll(async () => {
  emulator = await startGraphEmulator();
});
afterAll(async () => {
  await emulator.close();
});

const connect = (name: string) => connectMailbox(emulator, name);

/** Follows nextLinks to the deltaLink, as a sync engine would. */
async function deltaRound(
  client: Client,
  first: string,
  headers: Record<string, string> = {},
): Promise<{ pages: DeltaPage[]; items: Array<Record<string, unknown>>; deltaLink: string }> {
  const pages: DeltaPage[] = [];
  let link = first;
  for (;;) {
    let request = client.api(relativeLink(emulator, link));
    for (const [name, value] of Object.entries(headers)) request = request.header(name, value);
    const page = (await request.get()) as DeltaPage;
    pages.push(page);
    if (page['@odata.deltaLink']) return { pages, items: pages.flatMap((each) => each.value), deltaLink: page['@odata.deltaLink'] };
    const next = page['@odata.nextLink'];
    if (!next) throw new Error('delta page without nextLink or deltaLink');
    link = next;
  }
}

describe('message delta', () => {
  it('pages a folder to a deltaLink, then returns only created, updated and removed messages', async () => {
    const { email, client } = await connect('dana');
    const seeded = [];
    for (let index = 0; index < 5; index += 1) {
      seeded.push(await emulator.deliver({ from: `client${index}@fabrikam.test`, to: email, subject: `Quote ${index}`, text: `secret body ${index}` }));
    }
    await emulator.deliver({ from: email, to: 'someone@fabrikam.test', subject: 'Outbound' });

    const first = await deltaRound(client, "/me/mailFolders('inbox')/messages/delta?$select=subject,from,receivedDateTime,conversationId", {
      Prefer: 'odata.maxpagesize=2',
    });
    expect(first.pages).toHaveLength(3);
    expect(first.pages.map((page) => page.value.length)).toEqual([2, 2, 1]);
    expect(first.items.map((item) => item.id).sort()).toEqual(seeded.map((message) => message.id).sort());
    for (const item of first.items) {
      expect(item['@odata.type']).toBe('#microsoft.graph.message');
      expect(Object.keys(item).sort()).toEqual(['@odata.etag', '@odata.type', 'conversationId', 'from', 'id', 'receivedDateTime', 'subject']);
    }
    // $select is carried inside the opaque tokens.
    expect(first.deltaLink).not.toContain('select');
    expect(first.deltaLink).toMatch(/\/v1\.0\/me\/mailfolders\('[^']+'\)\/messages\/delta\?\$deltatoken=/);

    const [gone, read, moved] = seeded;
    if (!gone || !read || !moved) throw new Error('seed failed');
    emulator.deleteMessage(email, gone.id);
    emulator.updateMessage(email, read.id, { isRead: true });
    emulator.moveMessage(email, moved.id, 'archive');
    const added = await emulator.deliver({ from: 'new@fabrikam.test', to: email, subject: 'New lead' });

    const second = await deltaRound(client, first.deltaLink);
    const byId = new Map(second.items.map((item) => [String(item.id), item]));
    expect(byId.get(gone.id)).toEqual({ '@odata.type': '#microsoft.graph.message', id: gone.id, '@removed': { reason: 'deleted' } });
    expect(byId.get(moved.id)).toEqual({ '@odata.type': '#microsoft.graph.message', id: moved.id, '@removed': { reason: 'deleted' } });
    expect(byId.get(read.id)).toMatchObject({ subject: 'Quote 1' });
    expect(byId.get(added.id)).toMatchObject({ subject: 'New lead', from: { emailAddress: { address: 'new@fabrikam.test', name: 'new@fabrikam.test' } } });
    expect(second.items).toHaveLength(4);

    // Nothing changed since: an empty page that still carries a deltaLink.
    const third = await deltaRound(client, second.deltaLink);
    expect(third.items).toEqual([]);

    // The moved message shows up in its new folder's delta.
    const archive = await deltaRound(client, '/me/mailFolders/archive/messages/delta?$select=subject');
    expect(archive.items.map((item) => item.subject)).toEqual(['Quote 2']);
  });

  it('answers an expired delta token with 410 SyncStateNotFound', async () => {
    const { email, client } = await connect('erin');
    await emulator.deliver({ from: 'a@fabrikam.test', to: email, subject: 'One' });
    const round = await deltaRound(client, '/me/mailFolders/inbox/messages/delta?$select=subject');
    emulator.expireDeltaTokens(email);
    const error = (await client
      .api(relativeLink(emulator, round.deltaLink))
      .get()
      .catch((caught: unknown) => caught)) as GraphError;
    expect(error).toBeInstanceOf(GraphError);
    expect(error.statusCode).toBe(410);
    expect(error.code).toBe('SyncStateNotFound');

    const unknown = (await client
      .api('/me/mailFolders/inbox/messages/delta?$deltatoken=not-a-token')
      .get()
      .catch((caught: unknown) => caught)) as GraphError;
    expect(unknown.statusCode).toBe(410);

    // A fresh round starts over.
    const restart = await deltaRound(client, '/me/mailFolders/inbox/messages/delta?$select=subject');
    expect(restart.items.map((item) => item.subject)).toEqual(['One']);
  });

  it('returns bodyPreview and body only when selected, and immutable ids that survive moves', async () => {
    const { email, client } = await connect('fay');
    const delivered = await emulator.deliver({ from: 'b@fabrikam.test', to: email, subject: 'Hello', html: '<p>Canary <b>body</b> text</p>' });

    const lean = await deltaRound(client, '/me/mailFolders/inbox/messages/delta?$select=subject,internetMessageHeaders');
    expect(lean.items[0]).not.toHaveProperty('bodyPreview');
    expect(lean.items[0]).not.toHaveProperty('body');
    expect(lean.items[0]?.internetMessageHeaders).toEqual(expect.arrayContaining([{ name: 'Message-ID', value: delivered.internetMessageId }]));

    const full = await deltaRound(client, '/me/mailFolders/inbox/messages/delta');
    expect(full.items[0]).toMatchObject({ bodyPreview: 'Canary body text', body: { contentType: 'html' } });

    const immutable = { Prefer: 'IdType="ImmutableId"' };
    const round = await deltaRound(client, '/me/mailFolders/inbox/messages/delta?$select=subject', immutable);
    const before = round.items[0]?.id;
    emulator.moveMessage(email, delivered.id, 'archive');
    const archived = (await client.api('/me/mailFolders/archive/messages').select('subject').get()) as DeltaPage;
    const archivedRestId = String(archived.value[0]?.id);
    emulator.moveMessage(email, delivered.id, 'inbox');
    const after = await deltaRound(client, round.deltaLink, immutable);
    expect(after.items.map((item) => item.id)).toEqual([before]);
    expect(after.items[0]).toMatchObject({ subject: 'Hello' });
    // Without the preference the REST id changes with every move, and a stale one is gone.
    expect(archivedRestId).not.toBe(before);
    const rest = (await client.api('/me/mailFolders/inbox/messages').select('subject').get()) as DeltaPage;
    expect(rest.value[0]?.id).not.toBe(archivedRestId);
    const stale = (await client
      .api(`/me/messages/${archivedRestId}`)
      .get()
      .catch((caught: unknown) => caught)) as GraphError;
    expect(stale.statusCode).toBe(404);
    expect(stale.code).toBe('ErrorItemNotFound');
    const byImmutable = (await client
      .api(`/me/messages/${String(before)}`)
      .select('subject')
      .get()) as Record<string, unknown>;
    expect(byImmutable.subject).toBe('Hello');
  });

  it('filters delta by receivedDateTime', async () => {
    const { email, client } = await connect('gil');
    await emulator.deliver({ from: 'c@fabrikam.test', to: email, subject: 'Old', date: new Date('2024-01-01T00:00:00Z') });
    await emulator.deliver({ from: 'c@fabrikam.test', to: email, subject: 'Recent', date: new Date('2024-06-01T00:00:00Z') });
    const round = await deltaRound(client, '/me/mailFolders/inbox/messages/delta?$select=subject&$filter=receivedDateTime ge 2024-03-01T00:00:00Z');
    expect(round.items.map((item) => item.subject)).toEqual(['Recent']);
  });
});

describe('reading messages', () => {
  it('lists a folder with $top, $skip, nextLink, $orderby, $count and $select', async () => {
    const { email, client } = await connect('hal');
    for (let index = 0; index < 5; index += 1) {
      await emulator.deliver({ from: 'd@fabrikam.test', to: email, subject: `M${index}`, date: new Date(Date.UTC(2024, 0, index + 1)) });
    }
    const first = (await client
      .api('/me/mailFolders/inbox/messages')
      .select(['subject', 'receivedDateTime'])
      .orderby('receivedDateTime desc')
      .top(2)
      .count(true)
      .get()) as DeltaPage & { '@odata.count': number };
    expect(first['@odata.count']).toBe(5);
    expect(first.value.map((message) => message.subject)).toEqual(['M4', 'M3']);
    expect(first.value[0]).not.toHaveProperty('bodyPreview');
    const next = first['@odata.nextLink'];
    if (!next) throw new Error('expected a nextLink');
    const second = (await client.api(relativeLink(emulator, next)).get()) as DeltaPage;
    expect(second.value.map((message) => message.subject)).toEqual(['M2', 'M1']);
    expect(second.value[0]).not.toHaveProperty('bodyPreview');

    const ascending = (await client.api('/me/messages').orderby('receivedDateTime asc').select('subject').top(1).get()) as DeltaPage;
    expect(ascending.value.map((message) => message.subject)).toEqual(['M0']);

    const filtered = (await client.api('/me/messages').filter("subject eq 'M3'").select('subject').get()) as DeltaPage;
    expect(filtered.value.map((message) => message.subject)).toEqual(['M3']);
  });

  it('gets one message with $select, converts the body on Prefer, and lists attachments with $select', async () => {
    const { email, client } = await connect('ida');
    const delivered = await emulator.deliver({
      from: 'Eve Client <eve@fabrikam.test>',
      to: email,
      cc: 'boss@contoso.test',
      subject: 'Signed proposal 2024-117',
      html: '<div>Please find <i>attached</i>.</div>',
      attachments: [{ filename: 'proposal-2024-117.pdf', content: Buffer.from('%PDF-1.4 fake') }],
    });
    const meta = (await client
      .api(`/me/messages/${delivered.id}`)
      .select(['subject', 'from', 'ccRecipients', 'hasAttachments', 'conversationId'])
      .get()) as Record<string, unknown>;
    expect(meta).toMatchObject({
      id: delivered.id,
      subject: 'Signed proposal 2024-117',
      from: { emailAddress: { name: 'Eve Client', address: 'eve@fabrikam.test' } },
      ccRecipients: [{ emailAddress: { name: 'boss@contoso.test', address: 'boss@contoso.test' } }],
      hasAttachments: true,
      conversationId: delivered.conversationId,
    });
    expect(meta).not.toHaveProperty('body');
    expect(meta).not.toHaveProperty('bodyPreview');

    const text = (await client.api(`/me/messages/${delivered.id}`).select('body').header('Prefer', 'outlook.body-content-type="text"').get()) as {
      body: { contentType: string; content: string };
    };
    expect(text.body).toEqual({ contentType: 'text', content: 'Please find attached.' });
    const html = (await client.api(`/me/messages/${delivered.id}`).select('body').get()) as { body: { contentType: string; content: string } };
    expect(html.body.contentType).toBe('html');

    const attachments = (await client.api(`/me/messages/${delivered.id}/attachments`).select(['name', 'size', 'contentType']).get()) as DeltaPage;
    expect(attachments.value).toHaveLength(1);
    expect(attachments.value[0]).toMatchObject({ name: 'proposal-2024-117.pdf', contentType: 'application/pdf' });
    expect(attachments.value[0]?.size).toBeGreaterThan(0);
    expect(attachments.value[0]).not.toHaveProperty('contentBytes');

    const unknown = (await client
      .api(`/me/messages/${delivered.id}`)
      .select('nonsense')
      .get()
      .catch((caught: unknown) => caught)) as GraphError;
    expect(unknown.statusCode).toBe(400);
  });
});
