// users.getProfile, labels, messages.list/get (every format, fields masks),
// threads.get and attachments through the real @googleapis/gmail client.
import type { gmail_v1 } from '@googleapis/gmail';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGmailEmulator, type DeliveredMessages, type GmailEmulator } from '../src/gmail/index.js';
import { connect, decodeRaw, failure, GOOGLE } from './gmail-helpers.js';

let emulator: GmailEmulator;
let gmail: gmail_v1.Gmail;
let quote: DeliveredMessages;
let reply: DeliveredMessages;
let newsletter: DeliveredMessages;

const ANA = 'ana@acme.example';
const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);

beforeAll(async () => {
  emulator = await startGmailEmulator();
  emulator.addMailbox({ email: ANA, name: 'Ana Lima' });
  quote = await emulator.deliver({
    from: 'Client Person <client@bigco.example>',
    to: 'Ana Lima <ana@acme.example>',
    cc: 'Boss <boss@bigco.example>',
    subject: 'Quote for project PRJ-1042',
    text: 'Hello Ana, the CANARY-BODY text of the quote.',
    html: '<p>Hello Ana, the <b>CANARY-BODY</b> text of the quote.</p>',
    attachments: [
      { filename: 'PRJ-1042 proposal.pdf', content: Buffer.from('%PDF-1.4 fake'), contentType: 'application/pdf' },
      { filename: 'Résumé.txt', content: 'plain attachment' },
    ],
    date: new Date(T0),
  });
  reply = await emulator.deliver({
    from: ANA,
    to: 'client@bigco.example',
    subject: 'Re: Quote for project PRJ-1042',
    text: 'Thanks!',
    inReplyTo: quote.messageId,
    references: [quote.messageId],
    date: new Date(T0 + 3600_000),
  });
  newsletter = await emulator.deliver({
    from: 'news@letters.example',
    to: ANA,
    subject: 'Weekly news',
    html: '<h1>News</h1><p>Tom &amp; Jerry\'s "show"</p>',
    labelIds: ['INBOX', 'CATEGORY_PROMOTIONS'],
    date: new Date(T0 + 7200_000),
  });
  ({ gmail } = await connect(emulator, ANA, [`${GOOGLE}gmail.readonly`]));
});
afterAll(() => emulator.close());

describe('profile and labels', () => {
  it('answers getProfile with totals and the current historyId', async () => {
    const { data } = await gmail.users.getProfile({ userId: 'me' });
    expect(data).toEqual({ emailAddress: ANA, messagesTotal: 3, threadsTotal: 2, historyId: expect.stringMatching(/^\d+$/) });
    expect(Number(data.historyId)).toBeGreaterThanOrEqual(Number(newsletter.historyId));
  });

  it('accepts the account address as userId and refuses other users', async () => {
    expect((await gmail.users.getProfile({ userId: ANA })).data.emailAddress).toBe(ANA);
    const other = await failure(gmail.users.getProfile({ userId: 'someone@else.example' }));
    expect(other.status).toBe(403);
    expect(other.body.error).toMatchObject({ message: 'Delegation denied for someone@else.example', status: 'PERMISSION_DENIED' });
  });

  it('lists system labels and reports per-label counts', async () => {
    const { data } = await gmail.users.labels.list({ userId: 'me' });
    const ids = data.labels?.map((label) => label.id);
    expect(ids).toEqual(expect.arrayContaining(['INBOX', 'SENT', 'UNREAD', 'TRASH', 'SPAM', 'CATEGORY_PERSONAL']));
    expect(data.labels?.find((label) => label.id === 'INBOX')).toEqual({ id: 'INBOX', name: 'INBOX', type: 'system' });
    const inbox = await gmail.users.labels.get({ userId: 'me', id: 'INBOX' });
    expect(inbox.data).toMatchObject({ id: 'INBOX', messagesTotal: 2, threadsTotal: 2 });
  });
});

describe('messages.list', () => {
  it('lists newest first with a size estimate and threads', async () => {
    const { data } = await gmail.users.messages.list({ userId: 'me' });
    expect(data.messages).toEqual([
      { id: newsletter.id, threadId: newsletter.threadId },
      { id: reply.id, threadId: quote.threadId },
      { id: quote.id, threadId: quote.threadId },
    ]);
    expect(data.resultSizeEstimate).toBe(3);
    expect(data.nextPageToken).toBeUndefined();
    expect(quote.id).toMatch(/^[0-9a-f]{16}$/);
  });

  it('pages with maxResults and pageToken', async () => {
    const first = await gmail.users.messages.list({ userId: 'me', maxResults: 2 });
    expect(first.data.messages?.map((message) => message.id)).toEqual([newsletter.id, reply.id]);
    expect(first.data.nextPageToken).toBeTruthy();
    const second = await gmail.users.messages.list({ userId: 'me', maxResults: 2, pageToken: first.data.nextPageToken ?? '' });
    expect(second.data.messages?.map((message) => message.id)).toEqual([quote.id]);
    expect(second.data.nextPageToken).toBeUndefined();
  });

  it('filters by labelIds (all must match) and by q after:/before:', async () => {
    const sent = await gmail.users.messages.list({ userId: 'me', labelIds: ['SENT'] });
    expect(sent.data.messages?.map((message) => message.id)).toEqual([reply.id]);
    const promotions = await gmail.users.messages.list({ userId: 'me', labelIds: ['INBOX', 'CATEGORY_PROMOTIONS'] });
    expect(promotions.data.messages?.map((message) => message.id)).toEqual([newsletter.id]);
    const window = await gmail.users.messages.list({ userId: 'me', q: `after:${T0 / 1000 + 1} before:${T0 / 1000 + 7200}` });
    expect(window.data.messages?.map((message) => message.id)).toEqual([reply.id]);
    const empty = await gmail.users.messages.list({ userId: 'me', q: 'before:2000/01/01' });
    expect(empty.data).toEqual({ resultSizeEstimate: 0 });
  });
});

describe('messages.get', () => {
  it('minimal: ids, labels, snippet, size, historyId, internalDate', async () => {
    const { data } = await gmail.users.messages.get({ userId: 'me', id: quote.id, format: 'minimal' });
    expect(data).toEqual({
      id: quote.id,
      threadId: quote.threadId,
      labelIds: ['UNREAD', 'CATEGORY_PERSONAL', 'INBOX'],
      snippet: 'Hello Ana, the CANARY-BODY text of the quote.',
      sizeEstimate: expect.any(Number),
      historyId: quote.historyId,
      internalDate: String(T0),
    });
    expect(data.payload).toBeUndefined();
  });

  it('metadata: headers, filtered by repeated metadataHeaders, and still a snippet', async () => {
    const { data } = await gmail.users.messages.get({ userId: 'me', id: quote.id, format: 'metadata', metadataHeaders: ['From', 'subject', 'Message-ID'] });
    expect(data.payload).toEqual({
      mimeType: 'multipart/mixed',
      headers: [
        { name: 'From', value: 'Client Person <client@bigco.example>' },
        { name: 'Subject', value: 'Quote for project PRJ-1042' },
        { name: 'Message-ID', value: quote.messageId },
      ],
    });
    expect(data.snippet).toContain('CANARY-BODY');
    const everything = await gmail.users.messages.get({ userId: 'me', id: quote.id, format: 'metadata' });
    const names = everything.data.payload?.headers?.map((header) => header.name);
    expect(names).toEqual(expect.arrayContaining(['Delivered-To', 'From', 'To', 'Cc', 'Subject', 'Message-ID', 'Date', 'MIME-Version', 'Content-Type']));
    expect(names).not.toContain('Bcc');
  });

  it('full: the MIME tree with partIds, inline text data and attachment ids', async () => {
    const { data } = await gmail.users.messages.get({ userId: 'me', id: quote.id });
    const payload = data.payload;
    expect(payload).toMatchObject({ partId: '', mimeType: 'multipart/mixed', filename: '', body: { size: 0 } });
    const [alternative, pdf, text] = payload?.parts ?? [];
    expect(alternative).toMatchObject({ partId: '0', mimeType: 'multipart/alternative' });
    const plain = alternative?.parts?.[0];
    expect(plain).toMatchObject({ partId: '0.0', mimeType: 'text/plain', filename: '' });
    expect(Buffer.from(plain?.body?.data ?? '', 'base64url').toString('utf8')).toBe('Hello Ana, the CANARY-BODY text of the quote.');
    expect(pdf).toMatchObject({
      partId: '1',
      mimeType: 'application/pdf',
      filename: 'PRJ-1042 proposal.pdf',
      body: { size: 13, attachmentId: expect.any(String) },
    });
    expect(pdf?.body?.data).toBeUndefined();
    expect(text).toMatchObject({ partId: '2', filename: 'Résumé.txt' });
    expect(text?.body?.attachmentId).toBeTruthy();

    const attachment = await gmail.users.messages.attachments.get({ userId: 'me', messageId: quote.id, id: pdf?.body?.attachmentId ?? '' });
    expect(Buffer.from(attachment.data.data ?? '', 'base64url').toString('utf8')).toBe('%PDF-1.4 fake');
    expect(attachment.data.size).toBe(13);
  });

  it('raw: the RFC 2822 message as base64url', async () => {
    const { data } = await gmail.users.messages.get({ userId: 'me', id: reply.id, format: 'raw' });
    const raw = decodeRaw(data.raw ?? '');
    expect(raw).toContain(`In-Reply-To: ${quote.messageId}`);
    expect(raw).toContain(`References: ${quote.messageId}`);
    expect(raw).toContain('Subject: Re: Quote for project PRJ-1042');
    expect(data.payload).toBeUndefined();
    expect(data.labelIds).toEqual(['SENT']);
  });

  it('escapes HTML in snippets like Gmail', async () => {
    const { data } = await gmail.users.messages.get({ userId: 'me', id: newsletter.id, format: 'minimal' });
    expect(data.snippet).toBe('News Tom &amp; Jerry&#39;s &quot;show&quot;');
  });

  it('honours fields masks: top-level, nested paths and sub-selections; snippet absent when masked', async () => {
    const masked = await gmail.users.messages.get({
      userId: 'me',
      id: quote.id,
      format: 'full',
      fields: 'id,threadId,labelIds,internalDate,payload/headers,payload/parts/filename',
    });
    expect(Object.keys(masked.data).sort()).toEqual(['id', 'internalDate', 'labelIds', 'payload', 'threadId']);
    expect(masked.data.snippet).toBeUndefined();
    expect(Object.keys(masked.data.payload ?? {}).sort()).toEqual(['headers', 'parts']);
    expect(masked.data.payload?.parts).toEqual([{ filename: '' }, { filename: 'PRJ-1042 proposal.pdf' }, { filename: 'Résumé.txt' }]);
    expect(JSON.stringify(masked.data)).not.toContain('CANARY');

    const metadata = await gmail.users.messages.get({
      userId: 'me',
      id: quote.id,
      format: 'metadata',
      metadataHeaders: ['Subject'],
      fields: 'id,historyId,payload(headers(value))',
    });
    expect(metadata.data).toEqual({ id: quote.id, historyId: quote.historyId, payload: { headers: [{ value: 'Quote for project PRJ-1042' }] } });
  });

  it('refuses an unknown field in the mask with 400, like Google', async () => {
    const result = await failure(gmail.users.messages.get({ userId: 'me', id: quote.id, fields: 'id,payload/header' }));
    expect(result.status).toBe(400);
    expect(result.body.error).toMatchObject({ message: 'Invalid field selection payload/header', errors: [{ reason: 'invalidParameter' }] });
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    const missing = await failure(gmail.users.messages.get({ userId: 'me', id: 'ffffffffffffffff' }, { retry: false }));
    expect(missing.status).toBe(404);
    expect(missing.body.error).toEqual({
      code: 404,
      message: 'Requested entity was not found.',
      errors: [{ message: 'Requested entity was not found.', domain: 'global', reason: 'notFound' }],
      status: 'NOT_FOUND',
    });
    const malformed = await failure(gmail.users.messages.get({ userId: 'me', id: 'not-an-id!' }));
    expect(malformed.status).toBe(400);
  });
});

describe('threads.get', () => {
  it('returns the thread in chronological order in the requested format', async () => {
    const { data } = await gmail.users.threads.get({ userId: 'me', id: quote.threadId, format: 'metadata', metadataHeaders: ['Subject'] });
    expect(data.id).toBe(quote.threadId);
    expect(data.messages?.map((message) => message.id)).toEqual([quote.id, reply.id]);
    expect(data.messages?.[1]?.payload?.headers).toEqual([{ name: 'Subject', value: 'Re: Quote for project PRJ-1042' }]);
    expect(data.historyId).toBe(reply.historyId);
  });

  it('lists threads newest first', async () => {
    const { data } = await gmail.users.threads.list({ userId: 'me' });
    expect(data.threads?.map((thread) => thread.id)).toEqual([newsletter.threadId, quote.threadId]);
  });
});

describe('ground truth helpers', () => {
  it('messages() exposes labels, headers and raw for assertions', () => {
    const [stored] = emulator.messages(ANA).filter((message) => message.id === quote.id);
    expect(stored?.attachmentNames).toEqual(['PRJ-1042 proposal.pdf', 'Résumé.txt']);
    expect(stored?.raw).toContain('Delivered-To: ana@acme.example');
    expect(stored?.internalDate).toBe(T0);
  });
});
