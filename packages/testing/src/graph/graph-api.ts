// The Graph request pipeline: bearer-token check, per-mailbox concurrency
// (Outlook allows 4 concurrent requests per app per mailbox —
// learn.microsoft.com/graph/throttling-limits#outlook-service-limits), injected
// latency and faults, routing, the request log, and JSON batching ($batch,
// at most 20 requests — learn.microsoft.com/graph/json-batching).
import type { EmulatorRequest, EmulatorResponse, RequestLog } from '../common/server.js';
import { parseJsonBody, sleep } from '../common/server.js';
import type { GraphCall } from './context.js';
import type { DeltaService } from './delta.js';
import type { IdentityService } from './identity.js';
import { GRAPH_RESOURCE_APP_ID } from './identity.js';
import { ACCESS_POLICY_MESSAGE, rolesAsScopes } from './app-permissions.js';
import * as directory from './directory-handlers.js';
import { newGuid } from './ids.js';
import * as mail from './mail-handlers.js';
import * as folders from './folder-handlers.js';
import type { Mailbox, MailStore } from './mail-store.js';
import type { MailFlow } from './mail-flow.js';
import { graphError, parsePreferences, pathSegments, type GraphErrorBody } from './odata.js';
import { hasAnyScope, MAIL_READ_BASIC, MAIL_READ_CONTENT, MAIL_SEND, MAIL_WRITE, USER_READ } from './permissions.js';
import type { SubscriptionService } from './subscriptions.js';
import type { GraphFaults } from './types.js';
import { UploadSessions } from './upload-sessions.js';

export const MAILBOX_CONCURRENCY_LIMIT = 4;
export const MAX_BATCH_REQUESTS = 20;

type Handler = (call: GraphCall) => EmulatorResponse | Promise<EmulatorResponse>;

interface Route {
  method: string;
  pattern: string[];
  operation: string;
  /** Delegated permissions, any one of which allows the call (learn.microsoft.com/graph/permissions-reference). */
  scopes: readonly string[] | undefined;
  handler: Handler;
}

/** A failure queued by failNext / failAfter for the next calls of one operation ('*' = any). */
export interface InjectedGraphFailure {
  operation: string;
  /** HTTP status of the error answer (unused with `drop`). */
  status: number;
  /** Graph error code; by default the one Graph uses for the status. */
  code?: string;
  remaining: number;
  /** 'before': refused unprocessed. 'after': carried out, then answered with the error (or not at all). */
  when: 'before' | 'after';
  /** Close the connection instead of answering (top-level requests only; batched ones answer 500). */
  drop?: boolean;
  /** Never answer, the connection left open (top-level requests only; batched ones answer 500). */
  hang?: boolean;
}

const DEFAULT_ERROR_CODES: Record<number, string> = {
  400: 'BadRequest',
  404: 'ErrorItemNotFound',
  429: 'TooManyRequests',
  500: 'InternalServerError',
  502: 'BadGateway',
  503: 'serviceNotAvailable',
  504: 'GatewayTimeout',
};

export interface GraphApiDeps {
  store: MailStore;
  flow: MailFlow;
  delta: DeltaService;
  identity: IdentityService;
  subscriptions: SubscriptionService;
  faults: GraphFaults;
  failures: InjectedGraphFailure[];
  log: RequestLog;
  now: () => number;
  /** Rolls every random fault decision (jitter, errorRate), so a seeded run replays its failures. */
  random: () => number;
  identityUrl: () => string;
}

interface Caller {
  /** The signed-in user's mailbox; undefined for an app-only token (it names a mailbox per request: /users/{id}). */
  mailbox?: Mailbox;
  clientId: string;
  /** Delegated scopes, or for an app-only token the delegated equivalents of its roles (rolesAsScopes). */
  scopes: string[];
  /** App-only tokens: the `roles` claim. */
  roles?: string[];
}

interface InnerRequest {
  method: string;
  url: URL;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export class GraphApi {
  private readonly routes: Route[] = [];
  private readonly inFlight = new Map<Mailbox, number>();
  private readonly uploads: UploadSessions;

  constructor(private readonly deps: GraphApiDeps) {
    this.uploads = new UploadSessions(deps.store, deps.now);
    this.defineRoutes();
  }

  private defineRoutes(): void {
    const deps = { store: this.deps.store, flow: this.deps.flow, delta: this.deps.delta };
    const subscriptions = this.deps.subscriptions;
    let scopes: readonly string[] | undefined;
    const add = (method: string, path: string, operation: string, handler: Handler): void => {
      this.routes.push({ method, pattern: path.split('/'), operation, scopes, handler });
    };
    scopes = USER_READ;
    add('GET', 'me', 'me.get', (call) => mail.getMe(call));
    scopes = MAIL_READ_BASIC;
    add('GET', 'me/mailfolders', 'mailFolders.list', (call) => folders.listFolders(deps.store, call));
    add('GET', 'me/mailfolders/:folder', 'mailFolders.get', (call) => folders.getFolder(deps.store, call, call.params.folder ?? ''));
    add('GET', 'me/mailfolders/:folder/childfolders', 'mailFolders.listChildren', (call) =>
      folders.listChildFolders(deps.store, call, call.params.folder ?? ''),
    );
    add('GET', 'me/mailfolders/:folder/messages/delta', 'delta', (call) => deps.delta.handle(call, call.params.folder ?? ''));
    add('GET', 'me/mailfolders/:folder/messages', 'messages.list', (call) => mail.listMessages(deps, call, call.params.folder));
    add('GET', 'me/messages', 'messages.list', (call) => mail.listMessages(deps, call, undefined));
    add('GET', 'me/messages/:id', 'messages.get', (call) => mail.getMessage(deps, call, call.params.id ?? ''));
    add('POST', 'subscriptions', 'subscriptions.create', (call) => subscriptions.create(call));
    scopes = MAIL_READ_CONTENT;
    add('GET', 'me/messages/:id/$value', 'messages.getMime', (call) => mail.getMessageMime(deps, call, call.params.id ?? ''));
    add('GET', 'me/messages/:id/attachments', 'attachments.list', (call) => mail.listAttachments(deps, call, call.params.id ?? ''));
    add('GET', 'me/messages/:id/attachments/:attachment', 'attachments.get', (call) =>
      mail.getAttachment(deps, call, call.params.id ?? '', call.params.attachment ?? ''),
    );
    add('GET', 'me/messages/:id/attachments/:attachment/$value', 'attachments.getValue', (call) =>
      mail.getAttachmentValue(deps, call, call.params.id ?? '', call.params.attachment ?? ''),
    );
    scopes = MAIL_WRITE;
    add('POST', 'me/mailfolders', 'mailFolders.create', (call) => folders.createFolder(deps.store, call, undefined));
    add('POST', 'me/mailfolders/:folder/childfolders', 'mailFolders.create', (call) => folders.createFolder(deps.store, call, call.params.folder ?? ''));
    add('PATCH', 'me/mailfolders/:folder', 'mailFolders.update', (call) => folders.updateFolder(deps.store, call, call.params.folder ?? ''));
    add('POST', 'me/mailfolders/:folder/move', 'mailFolders.move', (call) => folders.moveFolder(deps.store, call, call.params.folder ?? ''));
    add('DELETE', 'me/mailfolders/:folder', 'mailFolders.delete', (call) => folders.deleteFolder(deps.store, call, call.params.folder ?? ''));
    add('POST', 'me/messages', 'messages.create', (call) => mail.createDraft(deps, call));
    add('PATCH', 'me/messages/:id', 'messages.update', (call) => mail.updateMessage(deps, call, call.params.id ?? ''));
    add('DELETE', 'me/messages/:id', 'messages.delete', (call) => mail.deleteMessage(deps, call, call.params.id ?? ''));
    add('POST', 'me/messages/:id/attachments', 'attachments.create', (call) => mail.attachToDraft(deps, call, call.params.id ?? ''));
    add('POST', 'me/messages/:id/attachments/createuploadsession', 'attachments.createUploadSession', (call) =>
      this.uploads.create(call, call.params.id ?? ''),
    );
    add('POST', 'me/messages/:id/move', 'messages.move', (call) => mail.moveMessage(deps, call, call.params.id ?? ''));
    add('POST', 'me/messages/:id/createreply', 'messages.createReply', (call) => mail.createReply(deps, call, call.params.id ?? '', false));
    add('POST', 'me/messages/:id/createreplyall', 'messages.createReplyAll', (call) => mail.createReply(deps, call, call.params.id ?? '', true));
    add('POST', 'me/messages/:id/createforward', 'messages.createForward', (call) => mail.createForward(deps, call, call.params.id ?? ''));
    scopes = MAIL_SEND;
    add('POST', 'me/messages/:id/reply', 'messages.reply', (call) => mail.reply(deps, call, call.params.id ?? '', false));
    add('POST', 'me/messages/:id/replyall', 'messages.replyAll', (call) => mail.reply(deps, call, call.params.id ?? '', true));
    add('POST', 'me/messages/:id/forward', 'messages.forward', (call) => mail.forward(deps, call, call.params.id ?? ''));
    add('POST', 'me/messages/:id/send', 'messages.send', (call) => mail.sendDraft(deps, call, call.params.id ?? ''));
    add('POST', 'me/sendmail', 'sendMail', (call) => mail.sendMail(deps, call));
    // Managing an existing subscription needs no resource permission of its own.
    scopes = undefined;
    add('GET', 'subscriptions', 'subscriptions.list', (call) => subscriptions.listFor(call));
    add('GET', 'subscriptions/:id', 'subscriptions.get', (call) => subscriptions.get(call, call.params.id ?? ''));
    add('PATCH', 'subscriptions/:id', 'subscriptions.update', (call) => subscriptions.update(call, call.params.id ?? ''));
    add('DELETE', 'subscriptions/:id', 'subscriptions.delete', (call) => subscriptions.remove(call, call.params.id ?? ''));
    add('POST', 'subscriptions/:id/reauthorize', 'subscriptions.reauthorize', (call) => subscriptions.reauthorize(call, call.params.id ?? ''));
  }

  /** Entry point for the HTTP and HTTPS listeners. */
  async handle(request: EmulatorRequest, origin: string): Promise<EmulatorResponse> {
    const requestId = newGuid();
    const clientRequestId = header(request.headers, 'client-request-id') ?? requestId;
    let answered: { operation: string; response: EmulatorResponse; mailbox?: Mailbox | undefined };
    try {
      answered = await this.answer(request, origin);
    } catch (error) {
      answered = { operation: 'unknown', response: graphError(500, 'InternalServerError', (error as Error).message) };
    }
    const finished = decorate(answered.response, requestId, clientRequestId, this.deps.now());
    this.deps.log.record({
      at: this.deps.now(),
      method: request.method,
      path: request.path,
      status: finished.status,
      ...(answered.mailbox ? { mailbox: answered.mailbox.email } : {}),
      operation: answered.operation,
      units: answered.operation === '$batch' ? 0 : 1,
    });
    return finished;
  }

  private async answer(request: EmulatorRequest, origin: string): Promise<{ operation: string; response: EmulatorResponse; mailbox?: Mailbox | undefined }> {
    // The pre-authenticated upload URLs of attachment upload sessions carry no bearer token.
    if (UploadSessions.handles(request.path)) return { operation: 'attachments.upload', response: this.uploads.put(request) };
    const versioned = /^\/(v1\.0|beta)(\/.*)?$/i.exec(request.path);
    if (!versioned) return { operation: 'unknown', response: graphError(400, 'BadRequest', 'Invalid version: the request URL must start with /v1.0.') };
    const caller = await this.authenticate(request.headers);
    if ('status' in caller) return { operation: 'unknown', response: caller };
    const mailbox = caller.mailbox;
    const segments = pathSegments(versioned[2] ?? '');
    if (segments.length === 1 && segments[0] === '$batch') {
      if (request.method !== 'POST') return { operation: '$batch', mailbox, response: graphError(405, 'BadRequest', 'The $batch endpoint only accepts POST.') };
      await this.latency();
      return { operation: '$batch', mailbox, response: await this.batch(request, caller, origin) };
    }
    const result = await this.execute({ method: request.method, url: request.url, headers: request.headers, body: request.body }, caller, origin, true);
    return { ...result, mailbox };
  }

  private async latency(): Promise<void> {
    const faults = this.deps.faults;
    await sleep(faults.latencyMs + (faults.jitterMs > 0 ? this.deps.random() * faults.jitterMs : 0));
  }

  private async authenticate(headers: EmulatorRequest['headers']): Promise<Caller | EmulatorResponse> {
    const checked = await this.deps.identity.checkAccessToken(header(headers, 'authorization'));
    if (checked.ok && 'app' in checked) return { clientId: checked.clientId, scopes: rolesAsScopes(checked.roles), roles: checked.roles };
    if (checked.ok) return { mailbox: checked.mailbox, clientId: checked.clientId, scopes: checked.scopes };
    return graphError(401, 'InvalidAuthenticationToken', checked.message, {
      'www-authenticate': `Bearer realm="", authorization_uri="${this.deps.identityUrl()}/common/oauth2/authorize", client_id="${GRAPH_RESOURCE_APP_ID}"`,
    });
  }

  /** Routes one (top-level or batched) request through throttling, faults and the handler. */
  private async execute(request: InnerRequest, caller: Caller, origin: string, topLevel: boolean): Promise<{ operation: string; response: EmulatorResponse }> {
    const path = request.url.pathname.replace(/^\/(v1\.0|beta)/i, '');
    let segments = pathSegments(path);
    if (caller.roles) {
      const directoryAnswer = this.directory(request, segments, caller, origin);
      if (directoryAnswer) return directoryAnswer;
    }
    const target = caller.mailbox ? this.foldUser(segments, caller.mailbox) : this.appTarget(request, segments);
    if ('status' in target) return { operation: 'unknown', response: target };
    segments = target.segments;
    const mailbox = target.mailbox;
    // /me/mailFolders/{f}/messages/{id}/… addresses the same message as /me/messages/{id}/….
    if (segments.length >= 5 && segments[0] === 'me' && segments[1] === 'mailfolders' && segments[3] === 'messages' && segments[4] !== 'delta') {
      segments = ['me', ...segments.slice(3)];
    }
    const matched = this.match(request.method, segments);
    if (!matched) {
      return { operation: 'unknown', response: graphError(400, 'BadRequest', `Resource not found for the segment '${segments.at(-1) ?? ''}'.`) };
    }
    if (matched === 'method') {
      return { operation: 'unknown', response: graphError(405, 'BadRequest', `The HTTP method '${request.method}' is not allowed on this resource.`) };
    }
    const { route, params } = matched;
    if (route.scopes && !hasAnyScope(caller.scopes, route.scopes)) {
      return {
        operation: route.operation,
        response:
          route.scopes === USER_READ
            ? graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.')
            : graphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.'),
      };
    }
    const faults = this.deps.faults;
    const retryAfter = { 'retry-after': String(faults.retryAfterSeconds) };
    if (!this.tryAcquire(mailbox)) {
      return {
        operation: route.operation,
        response: graphError(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', retryAfter),
      };
    }
    try {
      if (topLevel) await this.latency();
      const injected = this.injected(route.operation, 'before');
      if (injected?.drop && topLevel) return { operation: route.operation, response: { status: 0, drop: true } };
      if (injected?.hang && topLevel) return { operation: route.operation, response: { status: 0, hang: true } };
      if (injected) return { operation: route.operation, response: this.injectedError(injected) };
      if (faults.forced429 > 0) {
        faults.forced429 -= 1;
        // Graph's generic throttling body (learn.microsoft.com/graph/throttling).
        const response = graphError(429, 'TooManyRequests', 'Please retry again later.', retryAfter);
        (response.body as GraphErrorBody).error.innerError = { code: '429', message: 'Please retry after', status: '429' };
        return { operation: route.operation, response };
      }
      if (faults.errorRate > 0 && this.deps.random() < faults.errorRate) {
        return {
          operation: route.operation,
          response: graphError(503, 'serviceNotAvailable', 'The service is temporarily unavailable. Try again after a delay.', retryAfter),
        };
      }
      const call: GraphCall = {
        method: request.method,
        url: request.url,
        segments,
        headers: request.headers,
        body: request.body,
        json<T>() {
          return parseJsonBody<T>(request.body);
        },
        mailbox,
        clientId: caller.clientId,
        scopes: caller.scopes,
        preferences: parsePreferences(request.headers.prefer),
        params,
        origin,
      };
      if (['POST', 'PATCH', 'PUT'].includes(request.method) && request.body.length > 0 && call.json() === undefined) {
        return {
          operation: route.operation,
          response: graphError(
            400,
            'BadRequest',
            'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
          ),
        };
      }
      const response = await route.handler(call);
      // The work is done; only the answer fails: an error after the fact, or none at all.
      const afterwards = response.status < 400 ? this.injected(route.operation, 'after') : undefined;
      if (!afterwards) return { operation: route.operation, response };
      if (afterwards.drop && topLevel) return { operation: route.operation, response: { status: 0, drop: true } };
      if (afterwards.hang && topLevel) return { operation: route.operation, response: { status: 0, hang: true } };
      return { operation: route.operation, response: this.injectedError(afterwards) };
    } finally {
      this.release(mailbox);
    }
  }

  /** Takes one use of the first queued failure for this operation and moment, if any. */
  private injected(operation: string, when: 'before' | 'after'): InjectedGraphFailure | undefined {
    const found = this.deps.failures.find(
      (failure) => failure.remaining > 0 && failure.when === when && (failure.operation === operation || failure.operation === '*'),
    );
    if (found) found.remaining -= 1;
    return found;
  }

  private injectedError(failure: InjectedGraphFailure): EmulatorResponse {
    const status = failure.drop || failure.hang ? 500 : failure.status;
    const headers = status === 429 || status === 503 ? { 'retry-after': String(this.deps.faults.retryAfterSeconds) } : undefined;
    return graphError(status, failure.code ?? DEFAULT_ERROR_CODES[status] ?? 'UnknownError', 'Injected failure.', headers);
  }

  /** `users/{id or UPN}` of the caller is the same mailbox as `me`; others are off limits for delegated tokens. */
  private foldUser(segments: string[], mailbox: Mailbox): { segments: string[]; mailbox: Mailbox } | EmulatorResponse {
    if (segments[0] !== 'users') return { segments, mailbox };
    const user = (segments[1] ?? '').toLowerCase();
    if (user === mailbox.userId || user === mailbox.email.toLowerCase()) return { segments: ['me', ...segments.slice(2)], mailbox };
    const other = this.deps.store.mailboxByUserId(segments[1] ?? '') ?? this.deps.store.mailbox(segments[1] ?? '');
    if (other) return graphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
    return graphError(404, 'ErrorInvalidUser', `The requested user '${segments[1] ?? ''}' is invalid.`);
  }

  /**
   * The mailbox an app-only request acts on: `/users/{id | UPN}/…` (folded into `me/…`), the
   * resource of a new subscription, or the owner of an existing one. `/me` has no meaning without
   * a signed-in user. A mailbox outside the application access policy is refused as Exchange does.
   */
  private appTarget(request: InnerRequest, segments: string[]): { segments: string[]; mailbox: Mailbox } | EmulatorResponse {
    if (segments[0] === 'me') return graphError(400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
    let reference: string | undefined;
    if (segments[0] === 'users' && segments.length > 2) reference = segments[1];
    else if (segments[0] === 'subscriptions' && segments.length === 1 && request.method === 'POST') {
      const resource = parseJsonBody<{ resource?: unknown }>(request.body)?.resource;
      const resourceSegments = pathSegments(typeof resource === 'string' ? resource.replace(/^\/?(v1\.0|beta)\//i, '/') : '');
      if (resourceSegments[0] !== 'users' || resourceSegments[1] === undefined) {
        return graphError(
          400,
          'ExtensionError',
          'Operation: Create; Exception: [Status Code: BadRequest; Reason: An app-only subscription must name a mailbox: /users/{id}/….]',
        );
      }
      reference = resourceSegments[1];
    } else if (segments[0] === 'subscriptions' && segments[1] !== undefined) {
      const owner = this.deps.subscriptions.ownerOf(segments[1]);
      if (!owner) return graphError(404, 'ResourceNotFound', `The object was not found.`);
      return { segments, mailbox: owner };
    }
    if (reference === undefined)
      return graphError(400, 'BadRequest', 'The emulator serves app-only requests on /users/{id}/…, /users, /groups and /subscriptions.');
    const mailbox = directory.findUser(this.deps.store, reference);
    if (!mailbox) return graphError(404, 'ErrorInvalidUser', `The requested user '${reference}' is invalid.`);
    if (!this.deps.identity.apps.mayReach(mailbox)) return graphError(403, 'ErrorAccessDenied', ACCESS_POLICY_MESSAGE);
    return { segments: segments[0] === 'users' ? ['me', ...segments.slice(2)] : segments, mailbox };
  }

  /** Directory reads of an app-only caller (no mailbox involved): /users, /users/{id}, a group's transitive user members. */
  private directory(request: InnerRequest, segments: string[], caller: Caller, origin: string): { operation: string; response: EmulatorResponse } | undefined {
    const apps = this.deps.identity.apps;
    const store = this.deps.store;
    const lower = segments.map((segment) => segment.toLowerCase());
    const denied = (): EmulatorResponse => graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    if (request.method !== 'GET') return undefined;
    if (lower[0] === 'users' && segments.length <= 2) {
      const operation = segments.length === 1 ? 'users.list' : 'users.get';
      if (!hasAnyScope(caller.roles ?? [], directory.DIRECTORY_USERS)) return { operation, response: denied() };
      const response =
        segments.length === 1 ? directory.listUsers(store, apps, request.url, origin) : directory.getUser(store, apps, segments[1] ?? '', request.url, origin);
      return { operation, response };
    }
    if (lower[0] === 'groups' && lower[2] === 'transitivemembers' && lower[3] === 'microsoft.graph.user' && segments.length === 4) {
      const operation = 'groups.transitiveMembers';
      if (!hasAnyScope(caller.roles ?? [], directory.DIRECTORY_GROUPS)) return { operation, response: denied() };
      return { operation, response: directory.listGroupUsers(apps, segments[1] ?? '', request.url, origin) };
    }
    return undefined;
  }

  private match(method: string, segments: string[]): { route: Route; params: Record<string, string> } | 'method' | null {
    let pathMatched = false;
    for (const route of this.routes) {
      if (route.pattern.length !== segments.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let index = 0; index < segments.length; index += 1) {
        const expected = route.pattern[index] ?? '';
        const actual = segments[index] ?? '';
        if (expected.startsWith(':')) params[expected.slice(1)] = actual;
        else if (expected !== actual) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      pathMatched = true;
      if (route.method === method) return { route, params };
    }
    return pathMatched ? 'method' : null;
  }

  private tryAcquire(mailbox: Mailbox): boolean {
    const current = this.inFlight.get(mailbox) ?? 0;
    if (current >= MAILBOX_CONCURRENCY_LIMIT) return false;
    this.inFlight.set(mailbox, current + 1);
    return true;
  }

  private release(mailbox: Mailbox): void {
    this.inFlight.set(mailbox, Math.max(0, (this.inFlight.get(mailbox) ?? 1) - 1));
  }

  // ---- $batch ---------------------------------------------------------------------------------

  private async batch(request: EmulatorRequest, caller: Caller, origin: string): Promise<EmulatorResponse> {
    const payload = request.json<{ requests?: unknown }>();
    if (!payload || !Array.isArray(payload.requests)) return graphError(400, 'BadRequest', 'Invalid batch payload format.');
    const requests = payload.requests as Array<Record<string, unknown>>;
    if (requests.length > MAX_BATCH_REQUESTS) return graphError(400, 'BadRequest', 'Number of requests inside batch exceeds the limit.');
    const ids = new Set<string>();
    for (const item of requests) {
      const id = typeof item.id === 'string' ? item.id : typeof item.id === 'number' ? String(item.id) : '';
      if (!id) return graphError(400, 'BadRequest', 'Each batch request must have an id.');
      if (ids.has(id)) return graphError(400, 'BadRequest', `Batch request id '${id}' is duplicated.`);
      ids.add(id);
    }

    const results = new Map<string, Promise<Record<string, unknown>>>();
    // Outlook runs at most 4 requests of a batch at once for a mailbox.
    let running = 0;
    const waiting: Array<() => void> = [];
    const slot = async (): Promise<void> => {
      if (running < MAILBOX_CONCURRENCY_LIMIT) {
        running += 1;
        return;
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    };
    const freeSlot = (): void => {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    };

    for (const item of requests) {
      const id = String(item.id);
      const dependsOn = Array.isArray(item.dependsOn) ? item.dependsOn.map(String) : [];
      const run = async (): Promise<Record<string, unknown>> => {
        for (const dependency of dependsOn) {
          const result = await results.get(dependency);
          if (!result || (result.status as number) >= 400) {
            return { id, status: 424, body: { error: { code: 'FailedDependency', message: 'The dependent request failed.' } } satisfies GraphErrorBody };
          }
        }
        await slot();
        try {
          return await this.executeInner(id, item, caller, origin);
        } finally {
          freeSlot();
        }
      };
      results.set(id, run());
    }
    const responses = await Promise.all([...results.values()]);
    return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: { responses } };
  }

  private async executeInner(id: string, item: Record<string, unknown>, caller: Caller, origin: string): Promise<Record<string, unknown>> {
    const method = typeof item.method === 'string' ? item.method.toUpperCase() : '';
    const url = typeof item.url === 'string' ? item.url : '';
    if (!method || !url) return innerError(id, 400, 'BadRequest', 'Each batch request needs a method and a url.');
    if (/^https?:\/\//i.test(url)) return innerError(id, 400, 'BadRequest', 'Batch request URLs must be relative to the service root.');
    const headers: Record<string, string> = {};
    if (item.headers && typeof item.headers === 'object') {
      for (const [name, value] of Object.entries(item.headers as Record<string, unknown>)) headers[name.toLowerCase()] = String(value);
    }
    let body = Buffer.alloc(0);
    if (item.body !== undefined && item.body !== null) {
      if (!headers['content-type']) {
        return innerError(id, 400, 'BadRequest', `Write request id : ${id} does not contain Content-Type header or body.`);
      }
      body = Buffer.from(typeof item.body === 'string' ? item.body : JSON.stringify(item.body), 'utf8');
    }
    // The JS SDK's BatchRequestContent keeps the version segment ("/v1.0/me"); Graph tolerates it.
    const target = new URL(`${origin}/v1.0/${url.replace(/^\/?(v1\.0|beta)\//i, '').replace(/^\//, '')}`);
    const executed = await this.execute({ method, url: target, headers, body }, caller, origin, false);
    const operation = executed.operation;
    const response = decorate(executed.response, newGuid(), newGuid(), this.deps.now());
    this.deps.log.record({
      at: this.deps.now(),
      method,
      path: target.pathname,
      status: response.status,
      ...(caller.mailbox ? { mailbox: caller.mailbox.email } : {}),
      operation,
      units: 1,
    });
    // Inner responses spell header names the way Graph does ("Content-Type"); the SDK's BatchResponseContent relies on it.
    const responseHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers ?? {})) responseHeaders[canonicalHeaderName(name)] = value;
    const result: Record<string, unknown> = { id, status: response.status, headers: responseHeaders };
    if (response.body !== null && response.body !== undefined) {
      if (Buffer.isBuffer(response.body)) result.body = response.body.toString('base64');
      else result.body = response.body;
    }
    return result;
  }
}

function innerError(id: string, status: number, code: string, message: string): Record<string, unknown> {
  return { id, status, headers: { 'Content-Type': 'application/json' }, body: { error: { code, message } } satisfies GraphErrorBody };
}

function canonicalHeaderName(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('-');
}

function header(headers: EmulatorRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Adds Graph's request-id headers, and the innerError block every Graph error carries. */
function decorate(response: EmulatorResponse, requestId: string, clientRequestId: string, now: number): EmulatorResponse {
  const headers = { ...(response.headers ?? {}), 'request-id': requestId, 'client-request-id': clientRequestId };
  const body = response.body as Partial<GraphErrorBody> | null | undefined;
  if (body && typeof body === 'object' && !Buffer.isBuffer(body) && body.error && typeof body.error === 'object') {
    body.error.innerError = {
      ...(body.error.innerError ?? {}),
      date: new Date(now).toISOString().replace(/\.\d+Z$/, ''),
      'request-id': requestId,
      'client-request-id': clientRequestId,
    };
  }
  return { ...response, headers };
}
