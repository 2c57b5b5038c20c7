// Handlers for /me, mail folders, messages, attachments, $value, and sending
// (sendMail, reply/replyAll, createReply/createReplyAll, send, move).
import type { Attachment, Message, User } from '@microsoft/microsoft-graph-types';
import type { EmulatorResponse } from '../common/server.js';
import { fromGraphRecipients, type Recipient } from './addresses.js';
import type { GraphCall } from './context.js';
import type { DeltaService } from './delta.js';
import type { MailFlow, OutgoingMessage } from './mail-flow.js';
import { guessContentType } from './mail-flow.js';
import type { Mailbox, MailStore, StoredMessage } from './mail-store.js';
import { newAttachmentId, newInternetMessageId } from './ids.js';
import {
  ATTACHMENT_SELECTABLE,
  checkFilterProperties,
  matchesFilter,
  messageIdFor,
  renderAttachment,
  renderMessage,
  unknownSelectProperty,
} from './message-json.js';
import { buildMime } from './mime.js';
import { hasAnyScope, MAIL_READ_CONTENT } from './permissions.js';
import {
  FilterSyntaxError,
  graphError,
  graphJson,
  parseFilter,
  parseSelect,
  preferenceApplied,
  queryOption,
  type FilterClause,
  type GraphJson,
  type GraphPage,
  unknownSelected,
} from './odata.js';

/** Graph pages message lists 10 at a time; $top may ask for up to 1000. */
const DEFAULT_PAGE_SIZE = 10;
const MAX_PAGE_SIZE = 1000;

export interface MailHandlerDeps {
  store: MailStore;
  flow: MailFlow;
  delta: DeltaService;
}

function itemNotFound(): EmulatorResponse {
  return graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
}

function unknownProperty(property: string): EmulatorResponse {
  return graphError(400, 'RequestBroker--ParseUri', `Could not find a property named '${property}' on type 'microsoft.graph.message'.`);
}

function renderOptions(call: GraphCall, select: string[] | undefined) {
  return {
    ...(select === undefined ? {} : { select }),
    contentAllowed: hasAnyScope(call.scopes, MAIL_READ_CONTENT),
    immutableId: call.preferences.immutableId,
    ...(call.preferences.bodyContentType === undefined ? {} : { bodyContentType: call.preferences.bodyContentType }),
    webBase: call.origin,
  };
}

function messageContext(call: GraphCall, select: string[] | undefined, collection: boolean): string {
  const projection = select ? `(${select.join(',')})` : '';
  return `${call.origin}/v1.0/$metadata#users('${call.mailbox.userId}')/messages${projection}${collection ? '' : '/$entity'}`;
}

/** One message as its own entity (after a create, move or send), every default property. */
function messageEntity(call: GraphCall, message: StoredMessage): GraphJson<Message> {
  return { '@odata.context': messageContext(call, undefined, false), ...renderMessage(message, renderOptions(call, undefined)) };
}

// ---- user -----------------------------------------------------------------------------------

export function getMe(call: GraphCall): EmulatorResponse {
  const mailbox = call.mailbox;
  const [givenName = mailbox.name, ...rest] = mailbox.name.split(' ');
  const user: User = {
    businessPhones: [],
    displayName: mailbox.name,
    givenName,
    jobTitle: null,
    mail: mailbox.email,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: 'en-US',
    surname: rest.join(' ') || null,
    userPrincipalName: mailbox.email,
    id: mailbox.userId,
  };
  const select = parseSelect(queryOption(call.url, 'select'));
  const refused = unknownSelected(select, Object.keys(user), 'user');
  if (refused) return refused;
  const body: GraphJson<User> = { '@odata.context': `${call.origin}/v1.0/$metadata#users/$entity` };
  const picked = body as Record<string, unknown>;
  for (const [key, value] of Object.entries(user)) {
    if (select === undefined || key === 'id' || select.some((field) => field.toLowerCase() === key.toLowerCase())) picked[key] = value;
  }
  return graphJson(200, body);
}

// ---- message lists --------------------------------------------------------------------------

export function listMessages(deps: MailHandlerDeps, call: GraphCall, folderReference: string | undefined): EmulatorResponse {
  let messages: StoredMessage[];
  if (folderReference === undefined) {
    messages = [...call.mailbox.messages.values()];
  } else {
    const folder = deps.store.resolveFolder(call.mailbox, folderReference);
    if (!folder) return itemNotFound();
    messages = deps.store.messagesInFolder(call.mailbox, folder.id);
  }
  const select = parseSelect(queryOption(call.url, 'select'));
  const unknown = unknownSelectProperty(select);
  if (unknown !== undefined) return unknownProperty(unknown);

  const filter = queryOption(call.url, 'filter');
  if (filter !== null) {
    let clauses: FilterClause[];
    try {
      clauses = parseFilter(filter);
      checkFilterProperties(clauses);
      messages = messages.filter((message) => matchesFilter(message, clauses));
    } catch (error) {
      if (error instanceof FilterSyntaxError) return graphError(400, 'BadRequest', error.message);
      throw error;
    }
  }

  const orderBy = (queryOption(call.url, 'orderby') ?? 'receivedDateTime desc').trim();
  const order = /^(receivedDateTime|sentDateTime|createdDateTime|lastModifiedDateTime)(\s+(asc|desc))?$/i.exec(orderBy);
  if (!order) return graphError(400, 'BadRequest', `The $orderby expression '${orderBy}' is not supported by the emulator.`);
  const key = (order[1] ?? 'receivedDateTime').toLowerCase();
  const descending = (order[3] ?? 'asc').toLowerCase() === 'desc';
  const timeOf = (message: StoredMessage): number =>
    key === 'sentdatetime'
      ? message.sentAt
      : key === 'createddatetime'
        ? message.createdAt
        : key === 'lastmodifieddatetime'
          ? message.lastModifiedAt
          : message.receivedAt;
  messages.sort((left, right) => (descending ? timeOf(right) - timeOf(left) : timeOf(left) - timeOf(right)));

  const topOption = queryOption(call.url, 'top');
  const top = topOption === null ? (call.preferences.maxPageSize ?? DEFAULT_PAGE_SIZE) : Number.parseInt(topOption, 10);
  if (!Number.isFinite(top) || top < 1) return graphError(400, 'BadRequest', 'Invalid $top value.');
  const pageSize = Math.min(top, MAX_PAGE_SIZE);
  const skip = Number.parseInt(queryOption(call.url, 'skip') ?? '0', 10) || 0;
  const page = messages.slice(skip, skip + pageSize);

  const body: GraphPage<GraphJson<Message>> = {
    '@odata.context': messageContext(call, select, true),
    ...((queryOption(call.url, 'count') ?? '').toLowerCase() === 'true' ? { '@odata.count': messages.length } : {}),
    value: page.map((message) => renderMessage(message, renderOptions(call, select))),
  };
  if (skip + pageSize < messages.length) {
    const next = new URL(call.url.toString());
    next.searchParams.delete('skip');
    next.searchParams.delete('top');
    next.searchParams.set('$top', String(pageSize));
    next.searchParams.set('$skip', String(skip + pageSize));
    body['@odata.nextLink'] = `${call.origin}${next.pathname}?${decodeURIComponent(next.searchParams.toString())}`;
  }
  return graphJson(200, body, preferenceApplied(call.preferences, topOption === null && call.preferences.maxPageSize !== undefined));
}

// ---- single messages ------------------------------------------------------------------------

function findMessage(deps: MailHandlerDeps, call: GraphCall, id: string): StoredMessage | undefined {
  return deps.store.findMessage(call.mailbox, id);
}

export function getMessage(deps: MailHandlerDeps, call: GraphCall, id: string): EmulatorResponse {
  const message = findMessage(deps, call, id);
  if (!message) return itemNotFound();
  const select = parseSelect(queryOption(call.url, 'select'));
  const unknown = unknownSelectProperty(select);
  if (unknown !== undefined) return unknownProperty(unknown);
  const body: GraphJson<Message> = {
    '@odata.context': messageContext(call, select, false),
    ...renderMessage(message, renderOptions(call, select)),
  };
  const expand = queryOption(call.url, 'expand');
  if (expand !== null) {
    const match = /^attachments(?:\(\$select=([^)]*)\))?$/i.exec(expand.trim());
    if (!match) return graphError(400, 'BadRequest', `Parsing OData Select and Expand failed: Could not find a property named '${expand}'.`);
    const attachmentSelect = parseSelect(match[1] ?? null);
    const refused = unknownSelected(attachmentSelect, ATTACHMENT_SELECTABLE, 'attachment');
    if (refused) return refused;
    body.attachments = message.attachments.map((attachment) => renderAttachment(attachment, attachmentSelect));
  }
  return graphJson(200, body, preferenceApplied(call.preferences, false));
}

export async function getMessageMime(deps: MailHandlerDeps, call: GraphCall, id: string): Promise<EmulatorResponse> {
  const message = findMessage(deps, call, id);
  if (!message) return itemNotFound();
  const mime = await buildMime(message, message.transportHeaders === null);
  return { status: 200, headers: { 'content-type': 'text/plain' }, body: mime };
}

export function listAttachments(deps: MailHandlerDeps, call: GraphCall, id: string): EmulatorResponse {
  const message = findMessage(deps, call, id);
  if (!message) return itemNotFound();
  const select = parseSelect(queryOption(call.url, 'select'));
  const refused = unknownSelected(select, ATTACHMENT_SELECTABLE, 'attachment');
  if (refused) return refused;
  const body: GraphPage<GraphJson<Attachment>> = {
    '@odata.context': `${call.origin}/v1.0/$metadata#users('${call.mailbox.userId}')/messages('${messageIdFor(message, call.preferences.immutableId)}')/attachments`,
    value: message.attachments.map((attachment) => renderAttachment(attachment, select)),
  };
  return graphJson(200, body);
}

export function getAttachment(deps: MailHandlerDeps, call: GraphCall, id: string, attachmentId: string): EmulatorResponse {
  const message = findMessage(deps, call, id);
  const attachment = message?.attachments.find((candidate) => candidate.id === attachmentId);
  if (!message || !attachment) return itemNotFound();
  const select = parseSelect(queryOption(call.url, 'select'));
  const refused = unknownSelected(select, ATTACHMENT_SELECTABLE, 'attachment');
  if (refused) return refused;
  return graphJson(200, {
    '@odata.context': `${call.origin}/v1.0/$metadata#users('${call.mailbox.userId}')/messages('${messageIdFor(message, call.preferences.immutableId)}')/attachments/$entity`,
    ...renderAttachment(attachment, select),
  });
}

/**
 * `/attachments/{id}/$value`: a file attachment's raw bytes under its own content type
 * (learn.microsoft.com/graph/api/attachment-get, example 6). The emulator holds file attachments
 * only; Graph answers 405 for a reference attachment's $value and MIME for an item attachment's.
 */
export function getAttachmentValue(deps: MailHandlerDeps, call: GraphCall, id: string, attachmentId: string): EmulatorResponse {
  const message = findMessage(deps, call, id);
  const attachment = message?.attachments.find((candidate) => candidate.id === attachmentId);
  if (!message || !attachment) return itemNotFound();
  if (attachment.kind === 'reference') return graphError(405, 'ErrorInvalidRequest', 'The $value of a reference attachment cannot be read.');
  // An attached item's raw contents are its MIME (attachment-get: "Item attachment type … message: MIME format").
  if (attachment.kind === 'item') return { status: 200, headers: { 'content-type': 'message/rfc822' }, body: attachment.content };
  return { status: 200, headers: { 'content-type': attachment.contentType, 'content-length': String(attachment.content.length) }, body: attachment.content };
}

export function updateMessage(deps: MailHandlerDeps, call: GraphCall, id: string): EmulatorResponse {
  const message = findMessage(deps, call, id);
  if (!message) return itemNotFound();
  const json = call.json<Record<string, unknown>>();
  if (!json || typeof json !== 'object') return graphError(400, 'BadRequest', 'Empty Payload. JSON content expected.');
  const fields = readMessageFields(json);
  if ('status' in fields) return fields;
  const patch: Parameters<MailStore['update']>[2] = {};
  if (typeof json.isRead === 'boolean') patch.isRead = json.isRead;
  if (Array.isArray(json.categories)) patch.categories = json.categories.filter((value): value is string => typeof value === 'string');
  if (fields.subject !== undefined) patch.subject = fields.subject;
  if (fields.body !== undefined) patch.body = fields.body;
  if (fields.to !== undefined) patch.to = fields.to;
  if (fields.cc !== undefined) patch.cc = fields.cc;
  if (fields.bcc !== undefined) patch.bcc = fields.bcc;
  if (fields.replyTo !== undefined) patch.replyTo = fields.replyTo;
  deps.store.update(call.mailbox, message, patch);
  return graphJson(200, messageEntity(call, message));
}

/** DELETE moves the item to Deleted Items; deleting from Deleted Items removes it for good. */
export function deleteMessage(deps: MailHandlerDeps, call: GraphCall, id: string): EmulatorResponse {
  const message = findMessage(deps, call, id);
  if (!message) return itemNotFound();
  const deletedItems = deps.store.requireFolder(call.mailbox, 'deleteditems');
  if (message.folderId === deletedItems.id) deps.store.remove(call.mailbox, message);
  else deps.store.move(call.mailbox, message, deletedItems.id);
  return { status: 204, body: null };
}

export function moveMessage(deps: MailHandlerDeps, call: GraphCall, id: string): EmulatorResponse {
  const message = findMessage(deps, call, id);
  if (!message) return itemNotFound();
  const destinationId = call.json<{ destinationId?: unknown }>()?.destinationId;
  if (typeof destinationId !== 'string') return graphError(400, 'ErrorInvalidIdMalformed', 'Id is malformed.');
  const folder = deps.store.resolveFolder(call.mailbox, destinationId);
  if (!folder) return graphError(404, 'ErrorItemNotFound', 'The specified folder could not be found in the store.');
  deps.store.move(call.mailbox, message, folder.id);
  return graphJson(201, messageEntity(call, message));
}

// ---- composing and sending ------------------------------------------------------------------

interface MessageFields {
  subject?: string;
  body?: { contentType: 'text' | 'html'; content: string };
  to?: Recipient[];
  cc?: Recipient[];
  bcc?: Recipient[];
  replyTo?: Recipient[];
  attachments?: OutgoingMessage['attachments'];
  customHeaders?: OutgoingMessage['customHeaders'];
}

/** Reads a Graph `message` resource from a request body. */
function readMessageFields(json: Record<string, unknown>): MessageFields | EmulatorResponse {
  const fields: MessageFields = {};
  if (typeof json.subject === 'string') fields.subject = json.subject;
  const body = json.body as { contentType?: unknown; content?: unknown } | undefined;
  if (body && typeof body === 'object') {
    const contentType = String(body.contentType ?? 'text').toLowerCase();
    if (contentType !== 'text' && contentType !== 'html') return graphError(400, 'BadRequest', `Invalid body contentType '${contentType}'.`);
    fields.body = { contentType, content: typeof body.content === 'string' ? body.content : '' };
  }
  if (json.toRecipients !== undefined) fields.to = fromGraphRecipients(json.toRecipients);
  if (json.ccRecipients !== undefined) fields.cc = fromGraphRecipients(json.ccRecipients);
  if (json.bccRecipients !== undefined) fields.bcc = fromGraphRecipients(json.bccRecipients);
  if (json.replyTo !== undefined) fields.replyTo = fromGraphRecipients(json.replyTo);
  if (json.attachments !== undefined) {
    if (!Array.isArray(json.attachments)) return graphError(400, 'BadRequest', 'attachments must be a collection.');
    const attachments: OutgoingMessage['attachments'] = [];
    for (const item of json.attachments as Array<Record<string, unknown>>) {
      if (item['@odata.type'] !== '#microsoft.graph.fileAttachment' && item['@odata.type'] !== '#Microsoft.Graph.FileAttachment') {
        return graphError(400, 'BadRequest', 'The emulator supports only #microsoft.graph.fileAttachment attachments.');
      }
      const name = typeof item.name === 'string' ? item.name : 'attachment';
      attachments.push({
        name,
        contentType: typeof item.contentType === 'string' ? item.contentType : guessContentType(name),
        content: Buffer.from(typeof item.contentBytes === 'string' ? item.contentBytes : '', 'base64'),
        isInline: item.isInline === true,
      });
    }
    fields.attachments = attachments;
  }
  if (json.internetMessageHeaders !== undefined) {
    if (!Array.isArray(json.internetMessageHeaders)) return graphError(400, 'BadRequest', 'internetMessageHeaders must be a collection.');
    const headers: OutgoingMessage['customHeaders'] = [];
    for (const header of json.internetMessageHeaders as Array<{ name?: unknown; value?: unknown }>) {
      const name = typeof header.name === 'string' ? header.name : '';
      // Graph only accepts custom headers on outgoing mail; threading headers cannot be set this way.
      if (!/^x-/i.test(name)) {
        return graphError(400, 'InvalidInternetMessageHeader', `The internet message header name '${name}' should start with 'x-' or 'X-'.`);
      }
      headers.push({ name, value: typeof header.value === 'string' ? header.value : '' });
    }
    fields.customHeaders = headers;
  }
  return fields;
}

function outgoingFrom(mailbox: Mailbox, fields: MessageFields): OutgoingMessage {
  return {
    from: { name: mailbox.name, address: mailbox.email },
    subject: fields.subject ?? '',
    body: fields.body ?? { contentType: 'text', content: '' },
    to: fields.to ?? [],
    cc: fields.cc ?? [],
    bcc: fields.bcc ?? [],
    replyTo: fields.replyTo ?? [],
    attachments: fields.attachments ?? [],
    internetMessageId: newInternetMessageId(),
    references: [],
    customHeaders: fields.customHeaders ?? [],
  };
}

function noRecipients(): EmulatorResponse {
  return graphError(400, 'ErrorInvalidRecipients', 'At least one recipient is required, but none were found.');
}

export function sendMail(deps: MailHandlerDeps, call: GraphCall): EmulatorResponse {
  const json = call.json<{ message?: Record<string, unknown>; saveToSentItems?: unknown }>();
  if (!json?.message || typeof json.message !== 'object') return graphError(400, 'ErrorInvalidParameter', "The value of the parameter 'Message' is empty.");
  const fields = readMessageFields(json.message);
  if ('status' in fields) return fields;
  const outgoing = outgoingFrom(call.mailbox, fields);
  if (outgoing.to.length + outgoing.cc.length + outgoing.bcc.length === 0) return noRecipients();
  deps.flow.send(call.mailbox, outgoing, { saveToSentItems: json.saveToSentItems !== false && json.saveToSentItems !== 'false' });
  return { status: 202, body: null };
}

export function createDraft(deps: MailHandlerDeps, call: GraphCall): EmulatorResponse {
  const json = call.json<Record<string, unknown>>() ?? {};
  const fields = readMessageFields(json);
  if ('status' in fields) return fields;
  const draft = deps.flow.saveDraft(call.mailbox, outgoingFrom(call.mailbox, fields), undefined);
  return graphJson(201, messageEntity(call, draft));
}

function replyInput(call: GraphCall): { comment?: string; message?: Partial<OutgoingMessage> } | EmulatorResponse {
  const json = call.json<{ comment?: unknown; message?: Record<string, unknown> }>() ?? {};
  const input: { comment?: string; message?: Partial<OutgoingMessage> } = {};
  if (typeof json.comment === 'string') input.comment = json.comment;
  if (json.message && typeof json.message === 'object') {
    const fields = readMessageFields(json.message);
    if ('status' in fields) return fields;
    // The reply docs: specifying both comment and message.body is an error.
    if (fields.body && input.comment !== undefined) {
      return graphError(400, 'ErrorInvalidArgument', "Cannot specify both 'comment' and the 'body' property of 'message'.");
    }
    input.message = {
      ...(fields.subject === undefined ? {} : { subject: fields.subject }),
      ...(fields.body === undefined ? {} : { body: fields.body }),
      ...(fields.to === undefined ? {} : { to: fields.to }),
      ...(fields.cc === undefined ? {} : { cc: fields.cc }),
      ...(fields.bcc === undefined ? {} : { bcc: fields.bcc }),
      ...(fields.replyTo === undefined ? {} : { replyTo: fields.replyTo }),
      ...(fields.attachments === undefined ? {} : { attachments: fields.attachments }),
      ...(fields.customHeaders === undefined ? {} : { customHeaders: fields.customHeaders }),
    };
  }
  return input;
}

/** POST /me/messages/{id}/reply|replyAll → 202; the reply lands in Sent Items in the same conversation. */
export function reply(deps: MailHandlerDeps, call: GraphCall, id: string, all: boolean): EmulatorResponse {
  const original = findMessage(deps, call, id);
  if (!original) return itemNotFound();
  const input = replyInput(call);
  if ('status' in input) return input;
  const outgoing = deps.flow.composeReply(call.mailbox, original, { ...input, all });
  if (outgoing.to.length + outgoing.cc.length + outgoing.bcc.length === 0) return noRecipients();
  deps.flow.send(call.mailbox, outgoing, { saveToSentItems: true, conversationId: original.conversationId });
  return { status: 202, body: null };
}

/** The body of /forward and /createForward: recipients at the top level or in `message`, never neither. */
function forwardInput(call: GraphCall): { comment?: string; message?: Partial<OutgoingMessage>; to: Recipient[] } | EmulatorResponse {
  const json = call.json<{ toRecipients?: unknown }>() ?? {};
  const input = replyInput(call);
  if ('status' in input) return input;
  let to: Recipient[] = input.message?.to ?? [];
  if (Array.isArray(json.toRecipients)) {
    const fields = readMessageFields({ toRecipients: json.toRecipients });
    if ('status' in fields) return fields;
    to = fields.to ?? [];
  }
  return { ...input, to };
}

/** POST /me/messages/{id}/forward → 202; the forward lands in Sent Items with the original's attachments. */
export function forward(deps: MailHandlerDeps, call: GraphCall, id: string): EmulatorResponse {
  const original = findMessage(deps, call, id);
  if (!original) return itemNotFound();
  const input = forwardInput(call);
  if ('status' in input) return input;
  if (input.to.length === 0) return graphError(400, 'ErrorInvalidRecipients', 'At least one recipient is required.');
  const outgoing = deps.flow.composeForward(call.mailbox, original, input);
  deps.flow.send(call.mailbox, outgoing, { saveToSentItems: true, conversationId: original.conversationId });
  return { status: 202, body: null };
}

/** POST /me/messages/{id}/createForward → 201 with the draft, the original's attachments on it (Mail.ReadWrite). */
export function createForward(deps: MailHandlerDeps, call: GraphCall, id: string): EmulatorResponse {
  const original = findMessage(deps, call, id);
  if (!original) return itemNotFound();
  const input = forwardInput(call);
  if ('status' in input) return input;
  const outgoing = deps.flow.composeForward(call.mailbox, original, input);
  const draft = deps.flow.saveDraft(call.mailbox, outgoing, original.conversationId);
  return graphJson(201, messageEntity(call, draft));
}

/** POST /me/messages/{id}/createReply|createReplyAll → 201 with the draft (Mail.ReadWrite). */
export function createReply(deps: MailHandlerDeps, call: GraphCall, id: string, all: boolean): EmulatorResponse {
  const original = findMessage(deps, call, id);
  if (!original) return itemNotFound();
  const input = replyInput(call);
  if ('status' in input) return input;
  const outgoing = deps.flow.composeReply(call.mailbox, original, { ...input, all });
  const draft = deps.flow.saveDraft(call.mailbox, outgoing, original.conversationId);
  return graphJson(201, messageEntity(call, draft));
}

/** POST /me/messages/{id}/send → 202; only drafts can be sent. */
export function sendDraft(deps: MailHandlerDeps, call: GraphCall, id: string): EmulatorResponse {
  const draft = findMessage(deps, call, id);
  if (!draft) return itemNotFound();
  if (!draft.isDraft) return graphError(400, 'ErrorInvalidOperation', 'Only draft messages can be sent.');
  const outgoing: OutgoingMessage = {
    from: draft.from ?? { name: call.mailbox.name, address: call.mailbox.email },
    subject: draft.subject,
    body: { ...draft.body },
    to: draft.to,
    cc: draft.cc,
    bcc: draft.bcc,
    replyTo: draft.replyTo,
    attachments: draft.attachments.map((attachment) => ({
      name: attachment.name,
      contentType: attachment.contentType,
      content: attachment.content,
      isInline: attachment.isInline,
      ...(attachment.kind === undefined ? {} : { kind: attachment.kind }),
    })),
    internetMessageId: draft.internetMessageId,
    ...(draft.inReplyTo ? { inReplyTo: draft.inReplyTo } : {}),
    references: draft.references,
    customHeaders: draft.mimeHeaders,
  };
  if (outgoing.to.length + outgoing.cc.length + outgoing.bcc.length === 0) return noRecipients();
  deps.flow.send(call.mailbox, outgoing, { saveToSentItems: true, draft });
  return { status: 202, body: null };
}

export function attachToDraft(deps: MailHandlerDeps, call: GraphCall, id: string): EmulatorResponse {
  const draft = findMessage(deps, call, id);
  if (!draft) return itemNotFound();
  const json = call.json<Record<string, unknown>>() ?? {};
  const fields = readMessageFields({ attachments: [json] });
  if ('status' in fields) return fields;
  const [input] = fields.attachments ?? [];
  if (!input) return graphError(400, 'BadRequest', 'Invalid attachment.');
  const attachment = { id: newAttachmentId(), ...input, lastModifiedAt: draft.lastModifiedAt };
  deps.store.update(call.mailbox, draft, { attachments: [...draft.attachments, attachment] });
  return graphJson(201, renderAttachment(attachment, undefined));
}
