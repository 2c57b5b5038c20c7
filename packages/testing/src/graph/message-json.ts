// Renders stored messages as Graph `message` / `fileAttachment` JSON, honouring
// `$select`, `Prefer: IdType` and `Prefer: outlook.body-content-type`
// (learn.microsoft.com/graph/api/resources/message).
import { toGraphRecipient } from './addresses.js';
import type { Mailbox, StoredAttachment, StoredMessage } from './mail-store.js';
import { compareFilterValue, type FilterClause, FilterSyntaxError } from './odata.js';

/**
 * What Graph returns for a message without `$select`. internetMessageHeaders and
 * uniqueBody are not in it: they must be selected explicitly.
 */
const DEFAULT_PROPERTIES = [
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

export function renderMessage(message: StoredMessage, options: RenderOptions): Record<string, unknown> {
  const properties = options.select ?? DEFAULT_PROPERTIES;
  const output: Record<string, unknown> = { '@odata.etag': etag(message.changeKey) };
  for (const property of properties) {
    const key = canonicalProperty(property);
    if (key === undefined || key === 'id') continue;
    if (!options.contentAllowed && CONTENT_PROPERTIES.has(key)) continue;
    const value = propertyValue(message, key, options);
    if (value !== OMIT) output[key] = value;
  }
  output.id = messageIdFor(message, options.immutableId);
  return output;
}

const OMIT = Symbol('omit');

const CONTENT_PROPERTIES = new Set(['body', 'bodyPreview', 'uniqueBody']);

const ALL_PROPERTIES = new Set([...DEFAULT_PROPERTIES, 'id', 'internetMessageHeaders', 'uniqueBody']);
const PROPERTY_BY_LOWERCASE = new Map([...ALL_PROPERTIES].map((name) => [name.toLowerCase(), name]));

function canonicalProperty(property: string): string | undefined {
  return PROPERTY_BY_LOWERCASE.get(property.toLowerCase());
}

/** Unknown `$select` properties are a 400 in Graph ("Could not find a property named …"). */
export function unknownSelectProperty(select: string[] | undefined): string | undefined {
  return select?.find((property) => canonicalProperty(property) === undefined);
}

function propertyValue(message: StoredMessage, key: string, options: RenderOptions): unknown {
  switch (key) {
    case 'createdDateTime':
      return isoSeconds(message.createdAt);
    case 'lastModifiedDateTime':
      return isoSeconds(message.lastModifiedAt);
    case 'changeKey':
      return message.changeKey;
    case 'categories':
      return [...message.categories];
    case 'receivedDateTime':
      return isoSeconds(message.receivedAt);
    case 'sentDateTime':
      return isoSeconds(message.sentAt);
    case 'hasAttachments':
      return message.attachments.some((attachment) => !attachment.isInline);
    case 'internetMessageId':
      return message.internetMessageId;
    case 'subject':
      return message.subject;
    case 'bodyPreview':
      return bodyPreview(message);
    case 'importance':
      return 'normal';
    case 'parentFolderId':
      return message.folderId;
    case 'conversationId':
      return message.conversationId;
    case 'conversationIndex':
      return Buffer.from(message.conversationId).subarray(0, 22).toString('base64');
    case 'isDeliveryReceiptRequested':
    case 'isReadReceiptRequested':
      return false;
    case 'isRead':
      return message.isRead;
    case 'isDraft':
      return message.isDraft;
    case 'webLink':
      return `${options.webBase}/owa/?ItemID=${encodeURIComponent(message.restId)}&exvsurl=1&viewmodel=ReadMessageItem`;
    case 'inferenceClassification':
      return 'focused';
    case 'body':
    case 'uniqueBody':
      return convertBody(message.body, options.bodyContentType);
    case 'sender':
      return message.sender ? toGraphRecipient(message.sender) : null;
    case 'from':
      return message.from ? toGraphRecipient(message.from) : null;
    case 'toRecipients':
      return message.to.map(toGraphRecipient);
    case 'ccRecipients':
      return message.cc.map(toGraphRecipient);
    case 'bccRecipients':
      return message.bcc.map(toGraphRecipient);
    case 'replyTo':
      return message.replyTo.map(toGraphRecipient);
    case 'flag':
      return { flagStatus: 'notFlagged' };
    case 'internetMessageHeaders':
      return message.transportHeaders ? message.transportHeaders.map((header) => ({ ...header })) : OMIT;
    default:
      return OMIT;
  }
}

export function isoSeconds(time: number): string {
  return new Date(Math.floor(time / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Graph's bodyPreview: the first 255 characters of the text body, whitespace collapsed. */
function bodyPreview(message: StoredMessage): string {
  const text = message.body.contentType === 'html' ? htmlToText(message.body.content) : message.body.content;
  return text.replace(/\s+/g, ' ').trim().slice(0, 255);
}

function convertBody(body: StoredMessage['body'], wanted: 'text' | 'html' | undefined): { contentType: 'text' | 'html'; content: string } {
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

const ATTACHMENT_PROPERTIES = ['lastModifiedDateTime', 'name', 'contentType', 'size', 'isInline', 'contentId', 'contentLocation', 'contentBytes'];

export function renderAttachment(attachment: StoredAttachment, select: string[] | undefined): Record<string, unknown> {
  const output: Record<string, unknown> = {
    '@odata.type':
      attachment.kind === 'item'
        ? '#microsoft.graph.itemAttachment'
        : attachment.kind === 'reference'
          ? '#microsoft.graph.referenceAttachment'
          : '#microsoft.graph.fileAttachment',
    ...(attachment.kind === undefined ? { '@odata.mediaContentType': attachment.contentType } : {}),
  };
  const wanted = select ? select.map((property) => property.toLowerCase()) : ATTACHMENT_PROPERTIES.map((property) => property.toLowerCase());
  output.id = attachment.id;
  for (const property of ATTACHMENT_PROPERTIES) {
    if (!wanted.includes(property.toLowerCase())) continue;
    switch (property) {
      case 'lastModifiedDateTime':
        output[property] = isoSeconds(attachment.lastModifiedAt);
        break;
      case 'name':
        output[property] = attachment.name;
        break;
      case 'contentType':
        output[property] = attachment.contentType;
        break;
      case 'size':
        // Graph's size counts the MIME-encoded attachment, a little more than the raw bytes.
        output[property] = attachment.content.length + 160 + attachment.name.length * 2;
        break;
      case 'isInline':
        output[property] = attachment.isInline;
        break;
      case 'contentId':
      case 'contentLocation':
        output[property] = null;
        break;
      case 'contentBytes':
        // A fileAttachment property: item and reference attachments have none.
        if (attachment.kind === undefined) output[property] = attachment.content.toString('base64');
        break;
    }
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
