// Gmail message → ProviderMessage. Requests carry a `fields` mask so `snippet` (body-derived)
// and part bodies are never even transferred; mapping picks named fields only and the result is
// parsed by the strict ProviderMessage schema, so nothing body-like can reach the engine.
import type { gmail_v1 } from '@googleapis/gmail';
import {
  decodeMimeWords,
  mapMessageOrSkip,
  parseAddressList,
  parseMessageIdList,
  ProviderMessage,
  ThreadlinkError,
  type AttachmentMeta,
  type ProviderSession,
} from '@threadlink/core/provider';
import type { ResolvedGmailOptions } from './options.js';

/** The headers threadlink keeps (plus Content-Type, for the metadata-mode attachment flag). */
const KEPT_HEADERS = ['From', 'To', 'Cc', 'Bcc', 'Reply-To', 'Subject', 'Date', 'Message-ID', 'In-Reply-To', 'References', 'Content-Type'];

/** Attachments can nest (multipart/mixed › multipart/alternative › …); five levels covers real mail. */
function partsMask(depth: number): string {
  const own = 'partId,mimeType,filename,headers(name,value),body/size';
  return depth === 0 ? own : `${own},parts(${partsMask(depth - 1)})`;
}

/**
 * Per mode, how one message is read:
 * - metadata: format=metadata with only the kept headers (gmail.metadata refuses format=full).
 * - full: format=full masked to headers + part names/sizes: attachment names without body data, in
 *   the same 5-unit call (a second masked request per message would double the quota cost).
 * The masks never name `snippet`, `raw`, `payload.body.data` or `parts.body.data`.
 */
function messageGetParameters(mode: ResolvedGmailOptions['mode']): { format: string; metadataHeaders?: string[]; fields: string } {
  if (mode === 'metadata') {
    return { format: 'metadata', metadataHeaders: KEPT_HEADERS, fields: 'id,threadId,labelIds,internalDate,payload(mimeType,headers(name,value))' };
  }
  return { format: 'full', fields: `id,threadId,labelIds,internalDate,payload(headers(name,value),${partsMask(5)})` };
}

const messageGetQueries = new Map<ResolvedGmailOptions['mode'], string>();

/** The same parameters as a query string (single gets and batch parts), encoded once per mode. */
export function messageGetQuery(mode: ResolvedGmailOptions['mode']): string {
  let encoded = messageGetQueries.get(mode);
  if (encoded === undefined) {
    const parameters = messageGetParameters(mode);
    const query = new URLSearchParams({ format: parameters.format });
    for (const header of parameters.metadataHeaders ?? []) query.append('metadataHeaders', header);
    query.set('fields', parameters.fields);
    encoded = query.toString();
    messageGetQueries.set(mode, encoded);
  }
  return encoded;
}

export type Disposition = 'keep' | 'deleted' | 'skip';

/**
 * Trash counts as deleted (a CRM timeline should not show what the user binned); drafts are
 * not mail yet and chats are not mail at all, so neither is synced.
 */
export function dispositionOf(labelIds: readonly string[] | null | undefined): Disposition {
  const labels = labelIds ?? [];
  if (labels.includes('TRASH')) return 'deleted';
  if (labels.includes('DRAFT') || labels.includes('CHAT')) return 'skip';
  return 'keep';
}

function folderOf(labelIds: readonly string[]): ProviderMessage['folder'] {
  if (labelIds.includes('TRASH')) return 'trash';
  if (labelIds.includes('SPAM')) return 'spam';
  if (labelIds.includes('DRAFT')) return 'drafts';
  if (labelIds.includes('INBOX')) return 'inbox';
  if (labelIds.includes('SENT')) return 'sent';
  return 'archive';
}

function headerLookup(headers: gmail_v1.Schema$MessagePartHeader[] | undefined): (name: string) => string | null {
  const map = new Map<string, string>();
  for (const header of headers ?? []) {
    const key = header.name?.toLowerCase();
    if (key && !map.has(key) && typeof header.value === 'string') map.set(key, header.value);
  }
  return (name) => map.get(name.toLowerCase()) ?? null;
}

function attachmentsOf(part: gmail_v1.Schema$MessagePart | undefined, out: AttachmentMeta[] = []): AttachmentMeta[] {
  if (!part) return out;
  if (part.filename) {
    const disposition = headerLookup(part.headers)('Content-Disposition');
    out.push({
      ...(part.partId ? { id: part.partId } : {}),
      name: decodeMimeWords(part.filename).slice(0, 1024),
      mimeType: part.mimeType ? part.mimeType.slice(0, 255) : null,
      size: typeof part.body?.size === 'number' ? part.body.size : null,
      // Inline parts (a signature logo) say so; a part without the header is offered as a file.
      inline: disposition !== null && /^\s*inline\b/i.test(disposition),
    });
  }
  for (const child of part.parts ?? []) attachmentsOf(child, out);
  return out;
}

function epoch(value: string | null | undefined): number | null {
  if (!value) return null;
  const parsed = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  return Number.isFinite(parsed) && parsed >= 0 ? Math.trunc(parsed) : null;
}

/** RFC 5322 caps a line at 998 characters; a longer "Message-ID" is junk, not an id to thread on. */
function messageIds(value: string | null): string[] {
  return parseMessageIdList(value).filter((id) => id.length <= 998);
}

/** Maps a masked messages.get answer to the strict ProviderMessage. */
export function toProviderMessage(message: gmail_v1.Schema$Message, accountEmail: string): ProviderMessage {
  if (!message.id || !message.threadId) {
    throw new ThreadlinkError('PROVIDER_ERROR', 'Gmail returned a message without id or threadId', { details: { provider: 'gmail' } });
  }
  const header = headerLookup(message.payload?.headers);
  const labels = (message.labelIds ?? []).filter((label) => label.length > 0 && label.length <= 255);
  const from = parseAddressList(header('From'))[0] ?? null;
  const sentAt = epoch(header('Date'));
  const attachments = attachmentsOf(message.payload);
  const account = accountEmail.toLowerCase();
  return ProviderMessage.parse({
    providerMessageId: message.id,
    providerThreadId: message.threadId,
    internetMessageId: messageIds(header('Message-ID'))[0] ?? null,
    inReplyTo: messageIds(header('In-Reply-To'))[0] ?? null,
    references: messageIds(header('References')),
    subject: decodeMimeWords(header('Subject') ?? '').slice(0, 4096),
    from,
    to: parseAddressList(header('To')),
    cc: parseAddressList(header('Cc')),
    bcc: parseAddressList(header('Bcc')),
    replyTo: parseAddressList(header('Reply-To')),
    sentAt,
    // internalDate is when Gmail accepted the message: more reliable than the sender's Date header.
    receivedAt: epoch(message.internalDate) ?? sentAt ?? 0,
    // SENT is only ever set on mail the user sent, so it also covers send-as aliases.
    direction: from?.address === account || labels.includes('SENT') ? 'outbound' : 'inbound',
    folder: folderOf(labels),
    labels,
    attachments,
    // Metadata mode cannot see parts; multipart/mixed is how clients wrap attachments, so it is the flag.
    hasAttachments:
      attachments.length > 0 || (message.payload?.parts == null && /^multipart\/mixed/i.test(header('Content-Type') ?? message.payload?.mimeType ?? '')),
  });
}

/** Like toProviderMessage, but a message that does not fit the schema is skipped and reported (core's mapMessageOrSkip). */
export function toProviderMessageOrSkip(message: gmail_v1.Schema$Message, session: ProviderSession): ProviderMessage | null {
  return mapMessageOrSkip(session, 'gmail', message.id, () => toProviderMessage(message, session.connection.accountEmail));
}
