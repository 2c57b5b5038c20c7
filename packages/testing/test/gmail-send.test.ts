// users.messages.send: raw RFC 2822 in, the sent copy (SENT, history) in the
// sender's mailbox, threading rules, and inbound copies for emulated recipients.
import { Readable } from 'node:stream';
import type { gmail_v1 } from '@googleapis/gmail';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import PostalMime from 'postal-mime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGmailEmulator, type DeliveredMessages, type GmailEmulator } from '../src/gmail/index.js';
import { connect, encodeRaw, failure, GOOGLE } from './gmail-helpers.js';

let emulator: GmailEmulator;
let gmail: gmail_v1.Gmail;
let incoming: DeliveredMessages;
const ANA = 'ana@acme.example';
const BRUNO = 'bruno@acme.example';

beforeAll(async () => {
  emulator = await startGmailEmulator({ quotaUnitsPerSecond: 100_000 });
  emulator.addMailbox({ email: ANA, name: 'Ana Lima' });
  emulator.addMailbox({ email: BRUNO, name: 'Bruno Reis' });
  // Bruno writes to Ana: both mailboxes get a copy (his SENT, her INBOX).
  incoming = await emulator.deliver({ from: 'Bruno Reis <bruno@acme.example>', to: ANA, subject: 'Site visit PRJ-7', text: 'Can we meet?' });
  ({ gmail } = await connect(emulator, ANA, [`${GOOGLE}gmail.readonly`, `${GOOGLE}gmail.send`]));
});
afterAll(() => emulator.close());

/** Builds raw RFC 2822 as a mail client would, keeping Bcc (Gmail strips it on delivery). */
async function compose(mail: ConstructorParameters<typeof MailComposer>[0]): Promise<string> {
  const node = new MailComposer(mail).compile();
  (node as unknown as { keepBcc: boolean }).keepBcc = true;
  return (await node.build()).toString('utf8');
}

describe('messages.send', () => {
  it('threads a reply that carries threadId, In-Reply-To/References and the same subject', async () => {
    const anaCopy = emulator.messages(ANA).find((message) => message.messageId === incoming.messageId);
    const brunoCopy = emulator.messages(BRUNO).find((message) => message.messageId === incoming.messageId);
    expect(anaCopy?.labelIds).toEqual(['UNREAD', 'CATEGORY_PERSONAL', 'INBOX']);
    expect(brunoCopy?.labelIds).toEqual(['SENT']);
    const start = (await gmail.users.getProfile({ userId: 'me' })).data.historyId ?? '';

    const raw = await compose({
      from: 'Ana Lima <ana@acme.example>',
      to: 'Bruno Reis <bruno@acme.example>',
      bcc: 'audit@acme.example',
      subject: 'Re: Site visit PRJ-7',
      text: 'Tuesday works.',
      inReplyTo: incoming.messageId,
      references: [incoming.messageId],
    });
    const { data } = await gmail.users.messages.send({ userId: 'me', requestBody: { raw: encodeRaw(raw), threadId: anaCopy?.threadId ?? '' } });
    expect(data).toEqual({ id: expect.stringMatching(/^[0-9a-f]{16}$/), threadId: anaCopy?.threadId, labelIds: ['SENT'] });

    // The raw as received, for assertions on what the adapter built.
    const [sentRaw] = emulator.sentRaw(ANA);
    const parsed = await PostalMime.parse(sentRaw ?? '');
    expect(parsed.inReplyTo).toBe(incoming.messageId);
    expect(parsed.subject).toBe('Re: Site visit PRJ-7');
    expect(parsed.bcc?.[0]).toMatchObject({ address: 'audit@acme.example' });

    // The sent copy appears in SENT and in history.
    const sent = await gmail.users.messages.list({ userId: 'me', labelIds: ['SENT'] });
    expect(sent.data.messages?.[0]).toEqual({ id: data.id, threadId: anaCopy?.threadId });
    const history = await gmail.users.history.list({ userId: 'me', startHistoryId: start, historyTypes: ['messageAdded'] });
    expect(history.data.history?.map((record) => record.messagesAdded?.[0]?.message)).toEqual([
      { id: data.id, threadId: anaCopy?.threadId, labelIds: ['SENT'] },
    ]);

    // Bruno, an emulated recipient, gets an inbound copy in his own thread, without the Bcc header.
    const brunoReply = emulator.messages(BRUNO).find((message) => message.subject === 'Re: Site visit PRJ-7');
    expect(brunoReply?.labelIds).toEqual(['UNREAD', 'CATEGORY_PERSONAL', 'INBOX']);
    expect(brunoReply?.threadId).toBe(brunoCopy?.threadId);
    expect(brunoReply?.raw).not.toMatch(/^Bcc:/im);
    expect(brunoReply?.raw).toMatch(/^Delivered-To: bruno@acme.example/m);
    const stored = emulator.messages(ANA).find((message) => message.id === data.id);
    expect(stored?.raw).toMatch(/^Bcc: audit@acme.example/m);
  });

  it('starts a new thread when the subject does not match, even with threadId', async () => {
    const raw = await compose({
      from: ANA,
      to: 'client@bigco.example',
      subject: 'Something else',
      text: 'x',
      inReplyTo: incoming.messageId,
      references: [incoming.messageId],
    });
    const anaThread = emulator.messages(ANA).find((message) => message.messageId === incoming.messageId)?.threadId ?? '';
    const { data } = await gmail.users.messages.send({ userId: 'me', requestBody: { raw: encodeRaw(raw), threadId: anaThread } });
    expect(data.threadId).not.toBe(anaThread);
    expect(data.threadId).toBe(data.id);
  });

  it('starts a new thread without threadId, even for a proper reply', async () => {
    const raw = await compose({
      from: ANA,
      to: BRUNO,
      subject: 'Re: Site visit PRJ-7',
      text: 'x',
      inReplyTo: incoming.messageId,
      references: [incoming.messageId],
    });
    const { data } = await gmail.users.messages.send({ userId: 'me', requestBody: { raw: encodeRaw(raw) } });
    expect(data.threadId).toBe(data.id);
  });

  it('rewrites a foreign From to the account and adds Message-ID and Date when missing', async () => {
    const raw = 'From: Someone <someone@elsewhere.example>\r\nTo: client@bigco.example\r\nSubject: Hand made\r\n\r\nBody\r\n';
    const { data } = await gmail.users.messages.send({ userId: 'me', requestBody: { raw: encodeRaw(raw) } });
    const full = await gmail.users.messages.get({ userId: 'me', id: data.id ?? '', format: 'metadata' });
    const headers = Object.fromEntries((full.data.payload?.headers ?? []).map((header) => [header.name, header.value]));
    expect(headers['From']).toBe('Someone <ana@acme.example>');
    expect(headers['Message-ID']).toMatch(/^<CA\+[0-9a-f]+@mail\.gmail\.com>$/);
    expect(headers['Date']).toMatch(/\+0000$/);
    expect(emulator.sentRaw(ANA).at(-1)).toBe(raw);
  });

  it('takes large messages through /upload only, as message/*, up to 35 MB', async () => {
    // The generated client builds the /upload URL from the per-call rootUrl, not the client's.
    const media = { rootUrl: emulator.url };
    const raw = await compose({ from: ANA, to: BRUNO, subject: 'Uploaded', text: 'via /upload' });
    const sent = await gmail.users.messages.send(
      { userId: 'me', requestBody: { threadId: incoming.threadId }, media: { mimeType: 'message/rfc822', body: Readable.from([raw]) } },
      media,
    );
    expect(sent.data.labelIds).toEqual(['SENT']);
    expect(emulator.messages(BRUNO).some((message) => message.subject === 'Uploaded')).toBe(true);

    const wrongType = await failure(
      gmail.users.messages.send({ userId: 'me', requestBody: {}, media: { mimeType: 'application/pdf', body: Readable.from([raw]) } }, media),
    );
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.message).toContain('message/*');
    // The plain JSON form refuses a message of a few MB: 413, as Google's front end does.
    const big = await compose({
      from: ANA,
      to: BRUNO,
      subject: 'Big',
      text: 'x',
      attachments: [{ filename: 'a.bin', content: Buffer.alloc(4 * 1024 * 1024) }],
    });
    const json = await failure(gmail.users.messages.send({ userId: 'me', requestBody: { raw: encodeRaw(big) } }));
    expect(json.status).toBe(413);
    const upload = await gmail.users.messages.send({ userId: 'me', requestBody: {}, media: { mimeType: 'message/rfc822', body: Readable.from([big]) } }, media);
    expect(upload.data.labelIds).toEqual(['SENT']);
  });

  it('refuses a message without recipients', async () => {
    const result = await failure(gmail.users.messages.send({ userId: 'me', requestBody: { raw: encodeRaw('Subject: nobody\r\n\r\nx') } }));
    expect(result.status).toBe(400);
    expect(result.body.error.message).toBe('Recipient address required');
  });

  it('refuses send for a token without a send scope', async () => {
    const { gmail: readOnly } = await connect(emulator, BRUNO, [`${GOOGLE}gmail.readonly`]);
    const raw = await compose({ from: BRUNO, to: ANA, subject: 'x', text: 'x' });
    const result = await failure(readOnly.users.messages.send({ userId: 'me', requestBody: { raw: encodeRaw(raw) } }));
    expect(result.status).toBe(403);
    expect(result.body.error).toMatchObject({
      message: 'Request had insufficient authentication scopes.',
      status: 'PERMISSION_DENIED',
      errors: [{ reason: 'insufficientPermissions' }],
    });
  });

  it('failAfter sends, then answers 500 — or drops the connection — so the client cannot tell it went out', async () => {
    const sentBefore = emulator.messages(BRUNO).filter((message) => message.subject === 'Lost answer').length;
    const raw = await compose({ from: ANA, to: BRUNO, subject: 'Lost answer', text: 'x' });
    emulator.failAfter('messages.send');
    const answered = await failure(gmail.users.messages.send({ userId: 'me', requestBody: { raw: encodeRaw(raw) } }, { retry: false }));
    expect(answered).toMatchObject({ status: 500, body: { error: { errors: [{ reason: 'backendError' }] } } });
    emulator.failAfter('messages.send', { status: 'drop' });
    const dropped = await gmail.users.messages.send({ userId: 'me', requestBody: { raw: encodeRaw(raw) } }, { retry: false }).then(
      () => 'answered',
      (error: { response?: unknown; code?: string }) => (error.response === undefined ? 'no answer' : 'answered'),
    );
    expect(dropped).toBe('no answer');
    // Both went out, and both were charged; the log shows the lost answer as status 0.
    expect(emulator.messages(BRUNO).filter((message) => message.subject === 'Lost answer').length - sentBefore).toBe(2);
    expect(
      emulator.log.entries
        .filter((entry) => entry.operation === 'messages.send')
        .slice(-2)
        .map((entry) => [entry.status, entry.units]),
    ).toEqual([
      [500, 100],
      [0, 100],
    ]);
    // failNext, by contrast, refuses before anything happens: with a status, or with no answer at all.
    emulator.failNext('messages.send', { status: 503 });
    expect((await failure(gmail.users.messages.send({ userId: 'me', requestBody: { raw: encodeRaw(raw) } }, { retry: false }))).status).toBe(503);
    emulator.failNext('messages.send', { status: 'drop' });
    await expect(gmail.users.messages.send({ userId: 'me', requestBody: { raw: encodeRaw(raw) } }, { retry: false })).rejects.toMatchObject({
      response: undefined,
    });
    expect(emulator.messages(BRUNO).filter((message) => message.subject === 'Lost answer').length - sentBefore).toBe(2);
    expect(
      emulator.log.entries
        .filter((entry) => entry.operation === 'messages.send')
        .slice(-2)
        .map((entry) => [entry.status, entry.units]),
    ).toEqual([
      [503, 0],
      [0, 0],
    ]);
  });

  it('replaces the client’s Message-ID when started with sentMessageIds: replace', async () => {
    const replacing = await startGmailEmulator({ sentMessageIds: 'replace' });
    try {
      replacing.addMailbox({ email: ANA });
      const { gmail: client } = await connect(replacing, ANA, [`${GOOGLE}gmail.readonly`, `${GOOGLE}gmail.send`]);
      const raw = await compose({ from: ANA, to: BRUNO, subject: 'Own id', text: 'x', messageId: '<mine-1@acme.example>' });
      const { data } = await client.users.messages.send({ userId: 'me', requestBody: { raw: encodeRaw(raw) } });
      const copy = replacing.messages(ANA).find((message) => message.id === data.id);
      expect(copy?.messageId).toMatch(/^<CA\+[0-9a-f]+@mail\.gmail\.com>$/);
      expect(copy?.raw).not.toContain('mine-1@acme.example');
    } finally {
      await replacing.close();
    }
  });
});
