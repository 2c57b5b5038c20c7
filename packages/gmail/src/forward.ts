// Forwarding, which the Gmail API has no call for: the original is fetched on demand
// (messages.get format=raw, as for the body), parsed by postal-mime, and a new message is built
// (mime.ts) with the original's text/HTML quoted under a "Forwarded message" header and every
// attachment of the original carried along (inline parts keep their Content-ID), plus the files
// the caller adds. It goes into the original's thread (threadId, In-Reply-To, References) and out
// through sendRaw: at most once. Memory: the original is held while the forward is built — up to
// Gmail's 25 MB attachment limit plus encoding — and dropped when the call returns; never stored.
import { sanitizeEmailHtml, ThreadlinkError, type ForwardContext, type Participant, type ProviderSession, type SentMessage } from '@threadlink/core/provider';
import PostalMime from 'postal-mime';
import { withGmail, type GmailContext } from './client.js';
import { buildMime } from './mime.js';
import { sendRaw } from './send.js';

function named(participant: Participant | null): string {
  if (!participant) return '';
  return participant.name ? `${participant.name} <${participant.address}>` : participant.address;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

export async function forward(context: GmailContext, session: ProviderSession, input: ForwardContext): Promise<SentMessage> {
  const { options, quota } = context;
  const { original, draft } = input;
  if (options.mode === 'metadata') {
    throw new ThreadlinkError('INSUFFICIENT_SCOPE', 'Forwarding reads the original message, which needs the full mode (gmail.readonly)', {
      details: { provider: 'gmail', mode: 'metadata' },
    });
  }
  const raw = await withGmail(options, session, quota.lane(session, 'live'), async (client) => {
    const message = await client.call('messages.get', (request) =>
      client.api.users.messages.get({ userId: 'me', id: original.providerMessageId, format: 'raw', fields: 'raw' }, request),
    );
    if (!message.raw) throw new ThreadlinkError('PROVIDER_ERROR', 'Gmail returned no raw message', { details: { provider: 'gmail' } });
    return message.raw;
  });
  const parsed = await PostalMime.parse(Buffer.from(raw, 'base64url'), { attachmentEncoding: 'arraybuffer' });
  const header = [
    '---------- Forwarded message ---------',
    `From: ${named(original.from)}`,
    ...(original.sentAt === null ? [] : [`Date: ${new Date(original.sentAt).toUTCString()}`]),
    `Subject: ${original.subject}`,
    `To: ${original.to.map(named).join(', ')}`,
    ...(original.cc.length > 0 ? [`Cc: ${original.cc.map(named).join(', ')}`] : []),
  ];
  const text = `${draft.text ?? ''}\n\n${header.join('\n')}\n\n${parsed.text ?? ''}`;
  const wantsHtml = draft.html !== undefined || Boolean(parsed.html);
  const html = wantsHtml
    ? `${draft.html ?? escapeHtml(draft.text ?? '').replace(/\n/g, '<br>')}<br><br><div>${header.map(escapeHtml).join('<br>')}</div><br>${
        // What goes out is sanitised as what comes in: no scripts or handlers ride along.
        parsed.html ? sanitizeEmailHtml(parsed.html, { allowRemoteImages: true }) : escapeHtml(parsed.text ?? '').replace(/\n/g, '<br>')
      }`
    : undefined;
  const subject = /^fwd?:/i.test(original.subject) ? original.subject : `Fwd: ${original.subject}`;
  const references = [...original.references, ...(original.internetMessageId ? [original.internetMessageId] : [])];
  const { mime, messageId } = await buildMime(session, {
    to: draft.to,
    cc: draft.cc,
    bcc: draft.bcc,
    subject,
    inReplyTo: original.internetMessageId,
    references,
    text,
    html,
    attachments: [
      ...parsed.attachments.map((attachment) => ({
        filename: attachment.filename ?? 'attachment',
        content: new Uint8Array(attachment.content as ArrayBuffer),
        contentType: attachment.mimeType,
        ...(attachment.contentId ? { cid: attachment.contentId.replace(/^<|>$/g, '') } : {}),
      })),
      ...(draft.attachments ?? []),
    ],
  });
  const shape = { internetMessageId: messageId, inReplyTo: original.internetMessageId, subject, to: draft.to.map((participant) => participant.address) };
  return sendRaw(context, session, { mime, threadId: original.providerThreadId, shape, what: 'forward' });
}
