// RFC 5322 views of a stored message: the header list Graph exposes as
// internetMessageHeaders on received copies, and the MIME served at /$value
// (which carries the threading headers for every copy, Sent Items included).
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { formatAddress, type Recipient } from './addresses.js';
import type { StoredMessage } from './mail-store.js';

export function rfc2822Date(time: number): string {
  return new Date(time).toUTCString().replace('GMT', '+0000');
}

/**
 * The headers Graph returns for a message that came in over transport. Graph
 * leaves the address headers out (structured from/toRecipients carry them;
 * microsoft-graph-docs issue 3066) but keeps the threading ones.
 */
export function transportHeaders(input: {
  internetMessageId: string;
  inReplyTo?: string;
  references: string[];
  subject: string;
  sentAt: number;
  from: Recipient | null;
  hasAttachments: boolean;
  contentType: 'text' | 'html';
  receivingHost: string;
}): Array<{ name: string; value: string }> {
  const headers: Array<{ name: string; value: string }> = [
    {
      name: 'Received',
      value: `from ${input.from?.address.split('@')[1] ?? 'unknown'} (127.0.0.1) by ${input.receivingHost} with Microsoft SMTP Server; ${rfc2822Date(input.sentAt)}`,
    },
    { name: 'Subject', value: input.subject },
    { name: 'Thread-Topic', value: input.subject.replace(/^(re|fw|fwd):\s*/i, '') },
    { name: 'Date', value: rfc2822Date(input.sentAt) },
    { name: 'Message-ID', value: input.internetMessageId },
  ];
  if (input.inReplyTo) headers.push({ name: 'In-Reply-To', value: input.inReplyTo });
  if (input.references.length > 0) headers.push({ name: 'References', value: input.references.join(' ') });
  headers.push({ name: 'MIME-Version', value: '1.0' });
  headers.push({
    name: 'Content-Type',
    value: input.hasAttachments ? 'multipart/mixed' : input.contentType === 'html' ? 'text/html; charset="utf-8"' : 'text/plain; charset="utf-8"',
  });
  headers.push({ name: 'X-MS-Exchange-Organization-AuthSource', value: input.receivingHost });
  return headers;
}

/** The message as RFC 5322 MIME, what `GET /me/messages/{id}/$value` returns. */
export async function buildMime(message: StoredMessage, includeBcc: boolean): Promise<Buffer> {
  const composer = new MailComposer({
    from: message.from ? formatAddress(message.from) : undefined,
    to: message.to.map(formatAddress),
    cc: message.cc.map(formatAddress),
    bcc: includeBcc ? message.bcc.map(formatAddress) : undefined,
    replyTo: message.replyTo.length > 0 ? message.replyTo.map(formatAddress) : undefined,
    subject: message.subject,
    messageId: message.internetMessageId,
    inReplyTo: message.inReplyTo,
    references: message.references.length > 0 ? message.references : undefined,
    date: new Date(message.sentAt),
    ...(message.body.contentType === 'html' ? { html: message.body.content } : { text: message.body.content }),
    attachments: message.attachments.map((attachment) => ({
      filename: attachment.name,
      content: attachment.content,
      contentType: attachment.contentType,
    })),
    headers: message.mimeHeaders.map((header) => ({ key: header.name, value: header.value })),
  });
  const node = composer.compile();
  node.keepBcc = includeBcc;
  return node.build();
}
