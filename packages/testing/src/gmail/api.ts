// Gmail REST v1 under /gmail/v1/users/:userId/… Each call runs the same pipeline
// Google applies: bearer token → userId (`me` or the token's own address) → scopes
// → injected faults → per-user quota → the method → `fields` partial response.
// The request log records the operation name and the units it was charged.
import type { EmulatorRequest, EmulatorResponse, RequestLog, Router } from '../common/server.js';
import {
  backendError,
  delegationDenied,
  googleError,
  insufficientScopes,
  invalidArgument,
  invalidCredentials,
  labelNameConflict,
  loginRequired,
  metadataScopeFormat,
  metadataScopeQuery,
  notFound,
  rateLimited,
} from './errors.js';
import { applyFieldMask, FieldMaskError, parseFieldMask, schemas, validateFieldMask, type FieldMask, type FieldSchema } from './fields.js';
import { isWellFormedId } from './ids.js';
import type { gmail_v1 } from '@googleapis/gmail';
import { Readable } from 'node:stream';
import type { LabelInfo, Mailbox, StoredMessage } from './mailbox.js';
import { findPart } from './mime.js';
import type { WatchNotifier } from './notifier.js';
import type { AccessTokenRecord, OAuthServer } from './oauth.js';
import { compileQuery } from './query.js';
import { QUOTA_UNITS, type QuotaWindow } from './quota.js';
import { MESSAGE_FORMATS, parseAttachmentId, renderHistory, renderMessage, renderThread, type MessageFormat } from './render.js';
import { isMetadataRestricted, METHOD_SCOPES } from './scopes.js';
import { SendError, type GmailService } from './service.js';
import { readSendBody } from './upload.js';
import { streamPartBody } from './attachment-stream.js';

export interface GmailFaults {
  latencyMs: number;
  jitterMs: number;
  errorRate: number;
  forced429: number;
  /** Shape of rate-limit refusals (forced or from quota): 429 RESOURCE_EXHAUSTED or the older 403 userRateLimitExceeded. */
  rateLimitStatus: 429 | 403;
  dropNotifications: number;
  duplicateNotifications: number;
  reorderNotifications: boolean;
}

export interface InjectedFailure {
  operation: string;
  status: number;
  remaining: number;
  reason?: string;
  message?: string;
  /** 'after': the call is carried out first, then answered with the failure (or not at all, with `drop`). */
  when?: 'before' | 'after';
  /** Close the connection instead of answering. */
  drop?: boolean;
}

export interface ApiEnvironment {
  service: GmailService;
  oauth: OAuthServer;
  quota: QuotaWindow;
  notifier: WatchNotifier;
  faults: GmailFaults;
  failures: InjectedFailure[];
  log: RequestLog;
  now: () => number;
  random: () => number;
  projectId: string;
  topicName: string;
}

interface ApiCall {
  request: EmulatorRequest;
  query: URLSearchParams;
  mailbox: Mailbox;
  token: AccessTokenRecord;
}

type ApiHandler = (call: ApiCall) => EmulatorResponse | Promise<EmulatorResponse>;

const RESPONSE_SCHEMAS: Record<string, FieldSchema | undefined> = {
  getProfile: schemas.profile,
  watch: schemas.watch,
  'history.list': schemas.listHistory,
  'labels.list': schemas.listLabels,
  'labels.get': schemas.label,
  'labels.create': schemas.label,
  'labels.patch': schemas.label,
  'labels.update': schemas.label,
  'messages.list': schemas.listMessages,
  'messages.get': schemas.message,
  'messages.send': schemas.message,
  'messages.modify': schemas.message,
  'messages.trash': schemas.message,
  'messages.untrash': schemas.message,
  'messages.attachments.get': schemas.messagePartBody,
  'threads.get': schemas.thread,
  'threads.list': schemas.listThreads,
};

const METHOD_NAMES: Record<string, string> = {
  getProfile: 'GetProfile',
  watch: 'Watch',
  stop: 'Stop',
  'history.list': 'ListHistory',
  'labels.list': 'ListLabels',
  'labels.get': 'GetLabel',
  'labels.create': 'CreateLabel',
  'labels.patch': 'PatchLabel',
  'labels.update': 'UpdateLabel',
  'labels.delete': 'DeleteLabel',
  'messages.list': 'ListMessages',
  'messages.get': 'GetMessage',
  'messages.send': 'SendMessage',
  'messages.modify': 'ModifyMessage',
  'messages.trash': 'TrashMessage',
  'messages.untrash': 'UntrashMessage',
  'messages.delete': 'DeleteMessage',
  'messages.attachments.get': 'GetAttachment',
  'threads.get': 'GetThread',
  'threads.list': 'ListThreads',
};

/** A JSON answer; name its gmail_v1 schema (`json<gmail_v1.Schema$Label>(…)`) so a field the real API lacks fails the type-check. */
const json = <Body extends object>(body: Body, status = 200): EmulatorResponse => ({
  status,
  headers: { 'content-type': 'application/json; charset=UTF-8' },
  body: body as object,
});

const SEVEN_DAYS_MS = 7 * 24 * 3600_000;

/** A body the field mask applies to: a JSON object, not bytes or a stream. */
const isJsonObject = (body: EmulatorResponse['body']): body is object =>
  typeof body === 'object' && body !== null && !Buffer.isBuffer(body) && !(body instanceof Readable);

function clampMaxResults(value: string | null, fallback: number): number | EmulatorResponse {
  if (value === null || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) return invalidArgument(`Invalid maxResults: ${value}`);
  return Math.min(Math.max(parsed, 1), 500);
}

function encodePageToken(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodePageToken<T>(token: string | null): T | undefined | 'invalid' {
  if (token === null || token === '') return undefined;
  try {
    return JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as T;
  } catch {
    return 'invalid';
  }
}

const invalidPageToken = (): EmulatorResponse => invalidArgument('Invalid pageToken');

export class GmailApi {
  constructor(private readonly environment: ApiEnvironment) {}

  register(router: Router): void {
    const base = '/gmail/v1/users/:userId';
    const add = (method: string, path: string, operation: string, handler: ApiHandler): void => {
      router.add(method, path, (request) => this.call(operation, request, handler));
    };
    add('GET', `${base}/profile`, 'getProfile', (call) => this.getProfile(call));
    add('POST', `${base}/watch`, 'watch', (call) => this.watch(call));
    add('POST', `${base}/stop`, 'stop', (call) => this.stop(call));
    add('GET', `${base}/history`, 'history.list', (call) => this.listHistory(call));
    add('GET', `${base}/labels`, 'labels.list', (call) => json<gmail_v1.Schema$ListLabelsResponse>({ labels: call.mailbox.labels() }));
    add('GET', `${base}/labels/:id`, 'labels.get', (call) => this.getLabel(call));
    add('POST', `${base}/labels`, 'labels.create', (call) => this.createLabel(call));
    add('PATCH', `${base}/labels/:id`, 'labels.patch', (call) => this.updateLabel(call, 'patch'));
    add('PUT', `${base}/labels/:id`, 'labels.update', (call) => this.updateLabel(call, 'update'));
    add('DELETE', `${base}/labels/:id`, 'labels.delete', (call) => this.deleteLabel(call));
    add('GET', `${base}/messages`, 'messages.list', (call) => this.listMessages(call));
    add('POST', `${base}/messages/send`, 'messages.send', (call) => this.send(call));
    add('POST', '/upload/gmail/v1/users/:userId/messages/send', 'messages.send', (call) => this.send(call));
    add('GET', `${base}/messages/:id`, 'messages.get', (call) => this.getMessage(call));
    add('DELETE', `${base}/messages/:id`, 'messages.delete', (call) => this.deleteMessage(call));
    add('POST', `${base}/messages/:id/modify`, 'messages.modify', (call) => this.modifyMessage(call));
    add('POST', `${base}/messages/:id/trash`, 'messages.trash', (call) => this.trash(call, true));
    add('POST', `${base}/messages/:id/untrash`, 'messages.untrash', (call) => this.trash(call, false));
    add('GET', `${base}/messages/:messageId/attachments/:id`, 'messages.attachments.get', (call) => this.getAttachment(call));
    add('GET', `${base}/threads`, 'threads.list', (call) => this.listThreads(call));
    add('GET', `${base}/threads/:id`, 'threads.get', (call) => this.getThread(call));
  }

  /** The per-call pipeline; batch parts go through it one by one. */
  async call(operation: string, request: EmulatorRequest, handler: ApiHandler): Promise<EmulatorResponse> {
    const environment = this.environment;
    const units = QUOTA_UNITS[operation] ?? 1;
    let mailboxEmail: string | undefined;
    const finish = (response: EmulatorResponse, charged: number): EmulatorResponse => {
      environment.log.record({
        at: environment.now(),
        method: request.method,
        path: request.path,
        status: response.status,
        ...(mailboxEmail !== undefined ? { mailbox: mailboxEmail } : {}),
        operation,
        units: charged,
      });
      return response;
    };
    const check = environment.oauth.check(request.headers.authorization);
    if (!check.ok) {
      mailboxEmail = check.email;
      return finish(check.reason === 'missing' ? loginRequired() : invalidCredentials(), 0);
    }
    const token = check.record;
    const userId = request.params['userId'] ?? 'me';
    if (userId !== 'me' && userId.toLowerCase() !== token.grant.email) return finish(delegationDenied(userId), 0);
    const mailbox = environment.service.mailbox(token.grant.email);
    if (!mailbox) return finish(invalidCredentials(), 0);
    mailboxEmail = mailbox.email;
    const allowed = METHOD_SCOPES[operation] ?? [];
    if (!allowed.some((scope) => token.scopes.includes(scope))) return finish(insufficientScopes(METHOD_NAMES[operation] ?? operation, allowed), 0);

    const injectedFor = (when: 'before' | 'after'): InjectedFailure | undefined =>
      environment.failures.find(
        (failure) => failure.remaining > 0 && (failure.when ?? 'before') === when && (failure.operation === operation || failure.operation === '*'),
      );
    const injected = injectedFor('before');
    if (injected) {
      injected.remaining--;
      if (injected.drop) return finish({ status: 0, drop: true }, 0);
      if (injected.status === 429 || (injected.status === 403 && injected.reason === 'userRateLimitExceeded')) {
        return finish(rateLimited(injected.status, new Date(environment.now() + 1_000)), 0);
      }
      return finish(
        googleError(
          injected.status,
          injected.message ?? 'Injected failure',
          injected.reason ?? (injected.status >= 500 ? 'backendError' : 'failedPrecondition'),
        ),
        0,
      );
    }
    if (environment.faults.forced429 > 0) {
      environment.faults.forced429--;
      return finish(rateLimited(environment.faults.rateLimitStatus, new Date(environment.now() + 1_000)), 0);
    }
    if (environment.faults.errorRate > 0 && environment.random() < environment.faults.errorRate) return finish(backendError(), 0);

    const fields = request.url.searchParams.get('fields');
    let mask: FieldMask | undefined;
    if (fields !== null && fields !== '') {
      try {
        mask = parseFieldMask(fields);
        const schema = RESPONSE_SCHEMAS[operation];
        if (schema) validateFieldMask(mask, schema);
      } catch (error) {
        if (!(error instanceof FieldMaskError)) throw error;
        return finish(googleError(400, error.message, 'invalidParameter', { location: 'fields', locationType: 'parameter' }), 0);
      }
    }

    const charge = environment.quota.charge(mailbox.email, units);
    if (!charge.ok) return finish(rateLimited(environment.faults.rateLimitStatus, charge.retryAfter), 0);

    let response = await handler({ request, query: request.url.searchParams, mailbox, token });
    if (isJsonObject(response.body) && mask && response.status >= 200 && response.status < 300) {
      response = { ...response, body: applyFieldMask(response.body, mask) as object };
    }
    // The work is done (and charged); only the answer fails: a 5xx after the fact, or none at all.
    const afterwards = response.status < 400 ? injectedFor('after') : undefined;
    if (afterwards) {
      afterwards.remaining--;
      if (afterwards.drop) return finish({ status: 0, drop: true }, units);
      return finish(googleError(afterwards.status, afterwards.message ?? 'Injected failure', afterwards.reason ?? 'backendError'), units);
    }
    return finish(response, units);
  }

  private getProfile({ mailbox }: ApiCall): EmulatorResponse {
    return json<gmail_v1.Schema$Profile>({
      emailAddress: mailbox.email,
      messagesTotal: mailbox.messages.size,
      threadsTotal: mailbox.threads.size,
      historyId: String(mailbox.historyId),
    });
  }

  private watch({ request, mailbox }: ApiCall): EmulatorResponse {
    const { projectId, topicName } = this.environment;
    const body = request.json<{ topicName?: string; labelIds?: string[]; labelFilterBehavior?: string; labelFilterAction?: string }>() ?? {};
    const requested = body.topicName ?? '';
    const match = /^projects\/([^/]+)\/topics\/([^/]+)$/.exec(requested);
    if (!match) return invalidArgument(`Invalid topicName does not match projects/${projectId}/topics/*`);
    if (match[1] !== projectId) {
      // Gmail publishes a test message first; a topic in a project that did not grant
      // gmail-api-push@system.gserviceaccount.com publish rights fails like this.
      return googleError(403, `Error sending test message to Cloud PubSub ${requested} : User not authorized to perform this action.`, 'forbidden');
    }
    if (requested !== topicName) return googleError(404, `Resource not found (resource=${match[2]}).`, 'notFound');
    const behavior = (body.labelFilterBehavior ?? body.labelFilterAction ?? 'include').toLowerCase();
    if (behavior !== 'include' && behavior !== 'exclude') return invalidArgument(`Invalid labelFilterBehavior: ${behavior}`);
    for (const label of body.labelIds ?? []) if (!mailbox.hasLabel(label)) return invalidArgument(`Invalid label: ${label}`);
    const expiration = this.environment.now() + SEVEN_DAYS_MS;
    this.environment.notifier.start(mailbox, {
      topicName: requested,
      labelIds: body.labelIds ?? [],
      labelFilterBehavior: behavior,
      expiration,
      historyId: mailbox.historyId,
    });
    return json<gmail_v1.Schema$WatchResponse>({ historyId: String(mailbox.historyId), expiration: String(expiration) });
  }

  private stop({ mailbox }: ApiCall): EmulatorResponse {
    this.environment.notifier.stop(mailbox.email);
    return { status: 204 };
  }

  private listHistory({ query, mailbox }: ApiCall): EmulatorResponse {
    const start = query.get('startHistoryId');
    if (start === null || !/^\d+$/.test(start)) return invalidArgument('Missing/invalid parameter: startHistoryId');
    const startId = Number(start);
    if (startId <= mailbox.historyFloor) return notFound();
    const maxResults = clampMaxResults(query.get('maxResults'), 100);
    if (typeof maxResults !== 'number') return maxResults;
    const types = query.getAll('historyTypes');
    for (const type of types) {
      if (!['messageAdded', 'messageDeleted', 'labelAdded', 'labelRemoved'].includes(type)) return invalidArgument(`Invalid value for historyTypes: ${type}`);
    }
    const labelId = query.get('labelId');
    const cursor = decodePageToken<{ after: number; start: number }>(query.get('pageToken'));
    if (cursor === 'invalid' || (cursor !== undefined && (cursor.start !== startId || typeof cursor.after !== 'number'))) return invalidPageToken();
    const after = cursor?.after ?? startId;
    const matching = mailbox.history.filter(
      (record) =>
        record.id > after &&
        (types.length === 0 || types.includes(record.kind)) &&
        (labelId === null || record.message.labelIds.includes(labelId) || (record.labelIds ?? []).includes(labelId)),
    );
    const page = matching.slice(0, maxResults);
    const body: gmail_v1.Schema$ListHistoryResponse = {};
    if (page.length > 0) body.history = page.map(renderHistory);
    const last = page[page.length - 1];
    if (matching.length > page.length && last) body.nextPageToken = encodePageToken({ after: last.id, start: startId });
    body.historyId = String(mailbox.historyId);
    return json(body);
  }

  private getLabel({ request, mailbox }: ApiCall): EmulatorResponse {
    const id = request.params['id'] ?? '';
    const label = mailbox.labels().find((candidate) => candidate.id === id);
    if (!label) return notFound();
    const messages = [...mailbox.messages.values()].filter((message) => message.labelIds.includes(id));
    const unread = messages.filter((message) => message.labelIds.includes('UNREAD'));
    return json<gmail_v1.Schema$Label>({
      ...label,
      messagesTotal: messages.length,
      messagesUnread: unread.length,
      threadsTotal: new Set(messages.map((message) => message.threadId)).size,
      threadsUnread: new Set(unread.map((message) => message.threadId)).size,
    });
  }

  private createLabel({ request, mailbox }: ApiCall): EmulatorResponse {
    const body = readLabelBody(request);
    if ('status' in body) return body;
    if (body.name === undefined) return invalidArgument('Invalid label name');
    if (mailbox.nameConflicts(body.name)) return labelNameConflict();
    return json<gmail_v1.Schema$Label>(mailbox.createLabel({ ...body, name: body.name }));
  }

  /** PUT replaces the label (a name is required), PATCH changes only the fields given. System labels are immutable. */
  private updateLabel({ request, mailbox }: ApiCall, mode: 'patch' | 'update'): EmulatorResponse {
    const id = request.params['id'] ?? '';
    if (!mailbox.hasLabel(id)) return notFound();
    if (mailbox.isSystemLabel(id)) return invalidArgument('Invalid update request');
    const body = readLabelBody(request);
    if ('status' in body) return body;
    if (body.id !== undefined && body.id !== id) return invalidArgument('Label id in the body does not match the path');
    if (mode === 'update' && body.name === undefined) return invalidArgument('Invalid label name');
    if (body.name !== undefined && mailbox.nameConflicts(body.name, id)) return labelNameConflict();
    const { id: _id, ...changes } = body;
    const updated = mailbox.updateLabel(id, changes);
    return updated ? json<gmail_v1.Schema$Label>(updated) : notFound();
  }

  private deleteLabel({ request, mailbox }: ApiCall): EmulatorResponse {
    const id = request.params['id'] ?? '';
    if (!mailbox.hasLabel(id)) return notFound();
    if (mailbox.isSystemLabel(id)) return invalidArgument('Invalid delete request');
    mailbox.deleteLabel(id);
    return { status: 204 };
  }

  private selectMessages(call: ApiCall): StoredMessage[] | EmulatorResponse {
    const { query, mailbox, token } = call;
    const q = query.get('q');
    if (q !== null && q !== '' && isMetadataRestricted(token.scopes)) return metadataScopeQuery();
    const labelIds = query.getAll('labelIds');
    const includeSpamTrash = query.get('includeSpamTrash') === 'true';
    const predicate = q ? compileQuery(q, this.environment.now()) : () => true;
    return mailbox
      .ordered()
      .filter(
        (message) =>
          (includeSpamTrash ||
            labelIds.includes('SPAM') ||
            labelIds.includes('TRASH') ||
            !message.labelIds.some((label) => label === 'SPAM' || label === 'TRASH')) &&
          labelIds.every((label) => message.labelIds.includes(label)) &&
          predicate(message),
      );
  }

  private listMessages(call: ApiCall): EmulatorResponse {
    const selected = this.selectMessages(call);
    if (!Array.isArray(selected)) return selected;
    const maxResults = clampMaxResults(call.query.get('maxResults'), 100);
    if (typeof maxResults !== 'number') return maxResults;
    const cursor = decodePageToken<{ date: number; id: string }>(call.query.get('pageToken'));
    if (cursor === 'invalid') return invalidPageToken();
    // Continue strictly after the last message of the previous page (newest-first order).
    const remaining = cursor
      ? selected.filter((message) => message.internalDate < cursor.date || (message.internalDate === cursor.date && message.id < cursor.id))
      : selected;
    const page = remaining.slice(0, maxResults);
    const body: gmail_v1.Schema$ListMessagesResponse = {};
    if (page.length > 0) body.messages = page.map((message) => ({ id: message.id, threadId: message.threadId }));
    const last = page[page.length - 1];
    if (remaining.length > page.length && last) body.nextPageToken = encodePageToken({ date: last.internalDate, id: last.id });
    body.resultSizeEstimate = selected.length;
    return json(body);
  }

  private listThreads(call: ApiCall): EmulatorResponse {
    const selected = this.selectMessages(call);
    if (!Array.isArray(selected)) return selected;
    const maxResults = clampMaxResults(call.query.get('maxResults'), 100);
    if (typeof maxResults !== 'number') return maxResults;
    const threadIds = [...new Set(selected.map((message) => message.threadId))];
    const cursor = decodePageToken<{ offset: number }>(call.query.get('pageToken'));
    if (cursor === 'invalid') return invalidPageToken();
    const offset = cursor?.offset ?? 0;
    const page = threadIds.slice(offset, offset + maxResults);
    const body: gmail_v1.Schema$ListThreadsResponse = {};
    if (page.length > 0) {
      body.threads = page.map((threadId): gmail_v1.Schema$Thread => {
        const members = (call.mailbox.threads.get(threadId) ?? [])
          .map((id) => call.mailbox.messages.get(id))
          .filter((message): message is StoredMessage => message !== undefined);
        const latest = members.reduce((newest, message) => (message.internalDate >= newest.internalDate ? message : newest));
        return { id: threadId, snippet: latest.snippet, historyId: String(Math.max(...members.map((message) => message.historyId))) };
      });
    }
    if (offset + page.length < threadIds.length) body.nextPageToken = encodePageToken({ offset: offset + page.length });
    body.resultSizeEstimate = threadIds.length;
    return json(body);
  }

  private format(call: ApiCall): MessageFormat | EmulatorResponse {
    const format = (call.query.get('format') ?? 'full').toLowerCase() as MessageFormat;
    if (!MESSAGE_FORMATS.includes(format)) return invalidArgument(`Invalid value for format: ${format}`);
    if ((format === 'full' || format === 'raw') && isMetadataRestricted(call.token.scopes)) return metadataScopeFormat(format);
    return format;
  }

  private findMessage(call: ApiCall, id: string): StoredMessage | EmulatorResponse {
    if (!isWellFormedId(id)) return invalidArgument('Invalid id value');
    return call.mailbox.messages.get(id) ?? notFound();
  }

  private getMessage(call: ApiCall): EmulatorResponse {
    const format = this.format(call);
    if (typeof format !== 'string') return format;
    const message = this.findMessage(call, call.request.params['id'] ?? '');
    if ('status' in message) return message;
    return json(renderMessage(message, format, call.query.getAll('metadataHeaders')));
  }

  private getThread(call: ApiCall): EmulatorResponse {
    const format = this.format(call);
    if (typeof format !== 'string') return format;
    // threads.get has no raw format (discovery: full | metadata | minimal).
    if (format === 'raw') return invalidArgument('Invalid value for format: raw');
    const id = call.request.params['id'] ?? '';
    if (!isWellFormedId(id)) return invalidArgument('Invalid id value');
    const thread = renderThread(call.mailbox, id, format, call.query.getAll('metadataHeaders'));
    return thread ? json(thread) : notFound();
  }

  private getAttachment(call: ApiCall): EmulatorResponse {
    const message = this.findMessage(call, call.request.params['messageId'] ?? '');
    if ('status' in message) return message;
    const reference = parseAttachmentId(call.request.params['id'] ?? '');
    const part = reference && reference.messageId === message.id ? findPart(message.mime, reference.partId) : undefined;
    if (!part || part.children.length > 0) return invalidArgument('Invalid attachment token');
    // `fields` was validated by the pipeline; the stream applies it itself.
    const fields = call.query.get('fields');
    return {
      status: 200,
      headers: { 'content-type': 'application/json; charset=UTF-8' },
      body: streamPartBody(part.body, fields ? parseFieldMask(fields) : undefined),
    };
  }

  private async send(call: ApiCall): Promise<EmulatorResponse> {
    const { request, mailbox } = call;
    const body = readSendBody(request);
    if ('status' in body) return body;
    const { raw, threadId } = body;
    try {
      const message = await this.environment.service.send(mailbox, raw, threadId);
      return json<gmail_v1.Schema$Message>({ id: message.id, threadId: message.threadId, labelIds: [...message.labelIds] });
    } catch (error) {
      if (error instanceof SendError) return invalidArgument(error.message);
      throw error;
    }
  }

  private modifyMessage(call: ApiCall): EmulatorResponse {
    const message = this.findMessage(call, call.request.params['id'] ?? '');
    if ('status' in message) return message;
    const body = call.request.json<{ addLabelIds?: string[]; removeLabelIds?: string[] }>() ?? {};
    for (const label of [...(body.addLabelIds ?? []), ...(body.removeLabelIds ?? [])]) {
      if (!call.mailbox.hasLabel(label)) return invalidArgument(`Invalid label: ${label}`);
    }
    const updated = call.mailbox.modify(message.id, body.addLabelIds ?? [], body.removeLabelIds ?? []);
    return updated ? json(renderMessage(updated, 'minimal')) : notFound();
  }

  private trash(call: ApiCall, toTrash: boolean): EmulatorResponse {
    const message = this.findMessage(call, call.request.params['id'] ?? '');
    if ('status' in message) return message;
    const updated = toTrash ? call.mailbox.modify(message.id, ['TRASH'], []) : call.mailbox.modify(message.id, [], ['TRASH']);
    return updated ? json(renderMessage(updated, 'minimal')) : notFound();
  }

  private deleteMessage(call: ApiCall): EmulatorResponse {
    const message = this.findMessage(call, call.request.params['id'] ?? '');
    if ('status' in message) return message;
    call.mailbox.remove(message.id);
    return { status: 204 };
  }
}

const hasControlCharacter = (value: string): boolean => [...value].some((character) => (character.codePointAt(0) ?? 0) < 0x20);

type LabelBody = Partial<Pick<LabelInfo, 'id' | 'name' | 'messageListVisibility' | 'labelListVisibility'>>;

const MESSAGE_LIST_VISIBILITY = new Set(['show', 'hide']);
const LABEL_LIST_VISIBILITY = new Set(['labelShow', 'labelShowIfUnread', 'labelHide']);

/** A Label resource as labels.create/patch/update take it; read-only or unknown values are refused. */
function readLabelBody(request: EmulatorRequest): LabelBody | EmulatorResponse {
  const body = request.json<gmail_v1.Schema$Label>() ?? {};
  if (typeof body !== 'object' || Array.isArray(body)) return invalidArgument('Invalid JSON payload received.');
  const result: LabelBody = {};
  if (body.id !== undefined && body.id !== null) result.id = String(body.id);
  if (body.name !== undefined && body.name !== null) {
    // Gmail refuses empty names and names with leading/trailing slashes or control characters.
    if (
      typeof body.name !== 'string' ||
      body.name.trim() === '' ||
      body.name.length > 225 ||
      /^\/|\/$/.test(body.name.trim()) ||
      hasControlCharacter(body.name)
    ) {
      return invalidArgument('Invalid label name');
    }
    result.name = body.name;
  }
  if (body.messageListVisibility != null) {
    if (!MESSAGE_LIST_VISIBILITY.has(body.messageListVisibility))
      return invalidArgument(`Invalid value for messageListVisibility: ${body.messageListVisibility}`);
    result.messageListVisibility = body.messageListVisibility as NonNullable<LabelInfo['messageListVisibility']>;
  }
  if (body.labelListVisibility != null) {
    if (!LABEL_LIST_VISIBILITY.has(body.labelListVisibility)) return invalidArgument(`Invalid value for labelListVisibility: ${body.labelListVisibility}`);
    result.labelListVisibility = body.labelListVisibility as NonNullable<LabelInfo['labelListVisibility']>;
  }
  if (body.type != null && body.type !== 'user') return invalidArgument('Invalid label type');
  return result;
}
