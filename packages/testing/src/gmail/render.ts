// Gmail v1 JSON shapes for stored messages, threads and history records.
// int64 fields (historyId, internalDate, expiration) are JSON strings, as in the
// discovery document; empty collections are omitted, as Google's JSON does.
// Each function returns its gmail_v1 schema type, so a field the real API lacks fails the type-check.
import type { gmail_v1 } from '@googleapis/gmail';
import type { HistoryRecord, Mailbox, StoredMessage } from './mailbox.js';
import { toGmailPart, type GmailMessagePart } from './mime.js';

export type MessageFormat = 'minimal' | 'metadata' | 'full' | 'raw';

export const MESSAGE_FORMATS: readonly MessageFormat[] = ['minimal', 'metadata', 'full', 'raw'];

/** Opaque, stable attachment ids (Gmail's are long base64url strings starting "ANGjdJ"). */
function attachmentIdFor(messageId: string, partId: string): string {
  return `ANGjdJ${Buffer.from(`${messageId}:${partId}`).toString('base64url')}`;
}

export function parseAttachmentId(attachmentId: string): { messageId: string; partId: string } | undefined {
  if (!attachmentId.startsWith('ANGjdJ')) return undefined;
  const [messageId, partId] = Buffer.from(attachmentId.slice(6), 'base64url').toString('utf8').split(':');
  return messageId !== undefined && partId !== undefined ? { messageId, partId } : undefined;
}

export function renderMessage(message: StoredMessage, format: MessageFormat, metadataHeaders: readonly string[] = []): gmail_v1.Schema$Message {
  const result: gmail_v1.Schema$Message = { id: message.id, threadId: message.threadId };
  if (message.labelIds.length > 0) result.labelIds = [...message.labelIds];
  result.snippet = message.snippet;
  if (format === 'metadata') {
    const wanted = metadataHeaders.map((name) => name.toLowerCase());
    result.payload = {
      mimeType: message.mime.mimeType,
      headers: wanted.length === 0 ? message.headers : message.headers.filter((header) => wanted.includes(header.name.toLowerCase())),
    };
  } else if (format === 'full') {
    const payload: GmailMessagePart = toGmailPart(message.mime, '', (partId) => attachmentIdFor(message.id, partId));
    result.payload = payload;
  }
  result.sizeEstimate = message.raw.length;
  if (format === 'raw') result.raw = message.raw.toString('base64url');
  result.historyId = String(message.historyId);
  result.internalDate = String(message.internalDate);
  return result;
}

export function renderThread(
  mailbox: Mailbox,
  threadId: string,
  format: MessageFormat,
  metadataHeaders: readonly string[] = [],
): gmail_v1.Schema$Thread | undefined {
  const members = (mailbox.threads.get(threadId) ?? [])
    .map((id) => mailbox.messages.get(id))
    .filter((message): message is StoredMessage => message !== undefined)
    .sort((left, right) => left.internalDate - right.internalDate);
  if (members.length === 0) return undefined;
  return {
    id: threadId,
    historyId: String(Math.max(...members.map((message) => message.historyId))),
    messages: members.map((message) => renderMessage(message, format, metadataHeaders)),
  };
}

const HISTORY_FIELD: Record<HistoryRecord['kind'], 'messagesAdded' | 'messagesDeleted' | 'labelsAdded' | 'labelsRemoved'> = {
  messageAdded: 'messagesAdded',
  messageDeleted: 'messagesDeleted',
  labelAdded: 'labelsAdded',
  labelRemoved: 'labelsRemoved',
};

export function renderHistory(record: HistoryRecord): gmail_v1.Schema$History {
  const message: gmail_v1.Schema$Message = { id: record.message.id, threadId: record.message.threadId };
  if (record.message.labelIds.length > 0) message.labelIds = [...record.message.labelIds];
  const entry: gmail_v1.Schema$HistoryLabelAdded = { message };
  if (record.labelIds !== undefined) entry.labelIds = [...record.labelIds];
  return {
    id: String(record.id),
    messages: [{ id: record.message.id, threadId: record.message.threadId }],
    [HISTORY_FIELD[record.kind]]: [entry],
  };
}
