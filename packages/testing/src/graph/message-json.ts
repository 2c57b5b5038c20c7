// Renders stored messages as Graph `message` / `fileAttachment` JSON, honouring
// `$select`, `Prefer: IdType` and `Prefer: outlook.body-content-type`
// (learn.microsoft.com/graph/api/resources/message).
import type { FileAttachment, ItemAttachment, ItemBody, Message, ReferenceAttachment } from '@microsoft/microsoft-graph-types';
import { toGraphRecipient } from './addresses.js';
import type { Mailbox, StoredAttachment, StoredMessage } from './mail-store.js';
import { compareFilterValue, type FilterClause, FilterSyntaxError, type GraphJson } from './odata.js';

type MessageProperty = keyof Message & string;

/**
 * What Graph returns for a message without `$select`. internetMessageHeaders and
 * uniqueBody are not in it: they must be selected explicitly.
 */
const DEFAULT_PROPERTIES: readonly MessageProperty[] = [
  'createdDateTime',
  'lastModifiedDateTime',
  'changeKey',
  'categories',
  'receivedDateTime',
  'sentDateTime',
  'hasAttachments',
  'internetMessageId',
  'subject',
  'bodyPreview',
  'importance',
  'parentFolderId',
  'conversationId',
  'conversationIndex',
  'isDeliveryReceiptRequested',
  'isReadReceiptRequested',
  'isRead',
  'isDraft',
  'webLink',
  'inferenceClassification',
  'body',
  'sender',
  'from',
  'toRecipients',
  'ccRecipients',
  'bccRecipients',
  'replyTo',
  'flag',
];

export interface RenderOptions {
  select?: string[];
  /** False for Mail.ReadBasic-only tokens: body, bodyPreview and uniqueBody are withheld. */
  contentAllowed: boolean;
  immutableId: boolean;
  bodyContentType?: 'text' | 'html';
  webBase: string;
}

export function messageIdFor(message: StoredMessage, immutableId: boolean): string {
  return immutableId ? message.immutableId : message.restId;
}

export function etag(changeKey: string): string {
  return `W/"${changeKey}"`;
}

/** A message as Graph's `message` resource, typed with the generated Message: `$select` picks from it. */
export function renderMessage(message: StoredMessage, options: RenderOptions): GraphJson<Message> {
  const properties = options.select ?? DEFAULT_PROPERTIES;
  const full = messageResource(message, options);
  const output: GraphJson<Message> = { '@odata.etag': etag(message.changeKey) };
  const picked = output as Record<MessageProperty, unknown>;
  for (const property of properties) {
    const key = canonicalProperty(property);
    if (key === undefined || key === 'id') continue;
    if (!options.contentAllowed && CONTENT_PROPERTIES.has(key)) continue;
    const value = full[key];
    if (value !== undefined) picked[key] = value;
  }
  output.id = messageIdFor(message, options.immutableId);
  return output;
}

const CONTENT_PROPERTIES = new Set<MessageProperty>(['body', 'bodyPreview', 'uniqueBody']);

const ALL_PROPERTIES = new Set<MessageProperty>([...DEFAULT_PROPERTIES, 'id', 'internetMessageHeaders', 'uniqueBody']);
const PROPERTY_BY_LOWERCASE = new Map([...ALL_PROPERTIES].map((name) => [name.toLowerCase(), name]));

function canonicalProperty(property: string): MessageProperty | undefined {
  return PROPERTY_BY_LOWERCASE.get(property.toLowerCase());
}

/** Unknown `$select` properties are a 400 in Graph ("Could not find a property named …"). */
export function unknownSelectProperty(select: string[] | undefined): string | undefined {
  return select?.find((property) => canonicalProperty(property) === undefined);
}

/** Every property the emulator models (internetMessageHeaders only for mail that came over SMTP). */
function messageResource(message: StoredMessage, options: RenderOptions): Message {
  return {
    createdDateTime: isoSeconds(message.createdAt),
    lastModifiedDateTime: isoSeconds(message.lastModifiedAt),
    changeKey: message.changeKey,
    categories: [...message.categories],
    receivedDateTime: isoSeconds(message.receivedAt),
    sentDateTime: isoSeconds(message.sentAt),
    hasAttachments: message.attachments.some((attachment) => !attachment.isInline),
    internetMessageId: message.internetMessageId,
    subject: message.subject,
    bodyPreview: bodyPreview(message),
    importance: 'normal',
    parentFolderId: message.folderId,
    conversationId: message.conversationId,
    conversationIndex: Buffer.from(message.conversationId).subarray(0, 22).toString('base64'),
    isDeliveryReceiptRequested: false,
    isReadReceiptRequested: false,
    isRead: message.isRead,
    isDraft: message.isDraft,
    webLink: `${options.webBase}/owa/?ItemID=${encodeURIComponent(message.restId)}&exvsurl=1&viewmodel=ReadMessageItem`,
    inferenceClassification: 'focused',
    body: convertBody(message.body, options.bodyContentType),
    uniqueBody: convertBody(message.body, options.bodyContentType),
    sender: message.sender ? toGraphRecipient(message.sender) : null,
    from: message.from ? toGraphRecipient(message.from) : null,
    toRecipients: message.to.map(toGraphRecipient),
    ccRecipients: message.cc.map(toGraphRecipient),
    bccRecipients: message.bcc.map(toGraphRecipient),
    replyTo: message.replyTo.map(toGraphRecipient),
    flag: { flagStatus: 'notFlagged' },
    ...(message.transportHeaders ? { internetMessageHeaders: message.transportHeaders.map((header) => ({ ...header })) } : {}),
  };
}

export function isoSeconds(time: number): string {
  return new Date(Math.floor(time / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Graph's bodyPreview: the first 255 characters of the text body, whitespace collapsed. */
function bodyPreview(message: StoredMessage): string {
  const text = message.body.contentType === 'html' ? htmlToText(message.body.content) : message.body.content;
  return text.replace(/\s+/g, ' ').trim().slice(0, 255);
}

function convertBody(body: StoredMessage['body'], wanted: 'text' | 'html' | undefined): ItemBody {
  if (wanted === undefined || wanted === body.contentType) return { ...body };
  if (wanted === 'text') return { contentType: 'text', content: htmlToText(body.content) };
  return { contentType: 'html', content: textToHtml(body.content) };
}

function htmlToText(html: string): string {
  return decodeEntities(
    html
      .replace(/<(script|style|head)[\s\S]*?<\/\1>/gi, '')
      .replace(/<br\s*\/?>/gi, '\r\n')
      .replace(/<\/(p|div|li|tr|h[1-6])>/gi, '\r\n')
      .replace(/<[^>]+>/g, ''),
  )
    .replace(/[ \t]+\r?\n/g, '\r\n')
    .trim();
}

export function textToHtml(text: string): string {
  const escaped = escapeHtml(text).replace(/\r?\n/g, '<br>\r\n');
  return `<html><head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\r\n</head>\r\n<body>\r\n<div>${escaped}</div>\r\n</body>\r\n</html>\r\n`;
}

export function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function decodeEntities(value: string): string {
  return value
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#(\d+);/g, (_match, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&amp;/g, '&');
}

type AnyAttachment = FileAttachment | ItemAttachment | ReferenceAttachment;
type AttachmentProperty = keyof FileAttachment & string;
const ATTACHMENT_PROPERTIES: readonly AttachmentProperty[] = [
  'lastModifiedDateTime',
  'name',
  'contentType',
  'size',
  'isInline',
  'contentId',
  'contentLocation',
  'contentBytes',
];

/** What `$select` may name on an attachment. */
export const ATTACHMENT_SELECTABLE: readonly string[] = ['id', ...ATTACHMENT_PROPERTIES];

/** An attachment as Graph's fileAttachment / itemAttachment / referenceAttachment, `$select` applied. */
export function renderAttachment(attachment: StoredAttachment, select: string[] | undefined): GraphJson<AnyAttachment> {
  const kind = attachment.kind;
  const full: FileAttachment = {
    lastModifiedDateTime: isoSeconds(attachment.lastModifiedAt),
    name: attachment.name,
    contentType: attachment.contentType,
    // Graph's size counts the MIME-encoded attachment, a little more than the raw bytes.
    size: attachment.content.length + 160 + attachment.name.length * 2,
    isInline: attachment.isInline,
    contentId: null,
    contentLocation: null,
    // A fileAttachment property: item and reference attachments have none.
    ...(kind === undefined ? { contentBytes: attachment.content.toString('base64') } : {}),
  };
  const output: GraphJson<AnyAttachment> = {
    '@odata.type':
      kind === 'item' ? '#microsoft.graph.itemAttachment' : kind === 'reference' ? '#microsoft.graph.referenceAttachment' : '#microsoft.graph.fileAttachment',
    ...(kind === undefined ? { '@odata.mediaContentType': attachment.contentType } : {}),
    id: attachment.id,
  };
  const wanted = (select ?? ATTACHMENT_PROPERTIES).map((property) => property.toLowerCase());
  const picked = output as Record<AttachmentProperty, unknown>;
  for (const property of ATTACHMENT_PROPERTIES) {
    if (wanted.includes(property.toLowerCase()) && full[property] !== undefined) picked[property] = full[property];
  }
  return output;
}

const FILTERABLE = new Set([
  'receiveddatetime',
  'sentdatetime',
  'createddatetime',
  'lastmodifieddatetime',
  'isread',
  'isdraft',
  'hasattachments',
  'conversationid',
  'internetmessageid',
  'subject',
  'parentfolderid',
  'from/emailaddress/address',
  'sender/emailaddress/address',
]);

/** Rejects clauses on properties the emulator cannot filter, before any message is looked at. */
export function checkFilterProperties(clauses: FilterClause[]): void {
  for (const clause of clauses) {
    if (!FILTERABLE.has(clause.property.toLowerCase())) {
      throw new FilterSyntaxError(`Could not find a property named '${clause.property}' on type 'microsoft.graph.message'.`);
    }
  }
}

/** Evaluates parsed `$filter` clauses against a message. */
export function matchesFilter(message: StoredMessage, clauses: FilterClause[]): boolean {
  return clauses.every((clause) => compareFilterValue(filterProperty(message, clause.property), clause));
}

function filterProperty(message: StoredMessage, property: string): unknown {
  switch (property.toLowerCase()) {
    case 'receiveddatetime':
      return message.receivedAt;
    case 'sentdatetime':
      return message.sentAt;
    case 'createddatetime':
      return message.createdAt;
    case 'lastmodifieddatetime':
      return message.lastModifiedAt;
    case 'isread':
      return message.isRead;
    case 'isdraft':
      return message.isDraft;
    case 'hasattachments':
      return message.attachments.length > 0;
    case 'conversationid':
      return message.conversationId;
    case 'internetmessageid':
      return message.internetMessageId;
    case 'subject':
      return message.subject;
    case 'parentfolderid':
      return message.folderId;
    case 'from/emailaddress/address':
      return message.from?.address ?? null;
    case 'sender/emailaddress/address':
      return message.sender?.address ?? null;
    default:
      throw new FilterSyntaxError(`Could not find a property named '${property}' on type 'microsoft.graph.message'.`);
  }
}

/** Ground-truth view for the harness (never sent over the wire). */
export function folderLabel(mailbox: Mailbox, folderId: string): string {
  return mailbox.folders.find((folder) => folder.id === folderId)?.wellKnownName ?? folderId;
}
