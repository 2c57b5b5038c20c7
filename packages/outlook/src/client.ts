// The Graph client for one call: @microsoft/microsoft-graph-client with our own middleware
// chain (GETs, every request of a sync pull, go straight to fetch with the same gate, headers and
// error handling), every request marked `Prefer: IdType="ImmutableId"` (ids survive folder moves,
// https://learn.microsoft.com/graph/outlook-immutable-id), failures classified into
// ThreadlinkErrors, short throttling waits slept through with core's withRetry, and each request
// given a deadline of its own (requestTimeoutMs).
import {
  Client,
  GraphError,
  HTTPMessageHandler,
  ResponseType,
  type Context,
  type GraphRequest,
  type Middleware,
  type MiddlewareOptions,
} from '@microsoft/microsoft-graph-client';
import {
  chunk,
  deadlineMissed,
  linkedSignal,
  parseRetryAfter,
  ThreadlinkError,
  withRetry,
  type Clock,
  type Logger,
  type ProviderSession,
} from '@threadlink/core/provider';
import type { OutlookAuth, TokenSource } from './auth.js';
import { classifyGraphError } from './errors.js';
import type { ResolvedOutlookOptions } from './options.js';
import { mailboxPath } from './mailbox-path.js';
import { MAILBOX_CONCURRENCY, type MailboxGates } from './rate-limit.js';

/**
 * What every operation of one outlookProvider instance shares, built once by index.ts and passed
 * first to each operation (Gmail's GmailContext has the same place): the parsed options, the MSAL
 * token machinery and the per-mailbox concurrency gates.
 */
export interface OutlookContext {
  readonly options: ResolvedOutlookOptions;
  readonly auth: OutlookAuth;
  readonly gates: MailboxGates;
}

const IMMUTABLE_ID = 'IdType="ImmutableId"';
const GRAPH_VERSION = 'v1.0';
/** Graph JSON batching takes at most 20 requests per $batch (https://learn.microsoft.com/graph/json-batching). */
const BATCH_LIMIT = 20;

function requestUrl(context: Context): string {
  return typeof context.request === 'string' ? context.request : context.request.url;
}

/**
 * Refuses any request outside the configured Graph origin, so a link taken from a response can
 * never carry the bearer token elsewhere. (The stock AuthenticationHandler is not used: it
 * recognises https Graph hosts only, and errors thrown inside middleware reach the caller as a
 * status -1 GraphError with the original error lost — token failures must stay typed.)
 */
class OriginGuardMiddleware implements Middleware {
  private next: Middleware | undefined;

  constructor(private readonly origin: string) {}

  setNext(next: Middleware): void {
    this.next = next;
  }

  async execute(context: Context): Promise<void> {
    if (!this.next) throw new ThreadlinkError('INTERNAL', 'Graph middleware chain is incomplete');
    if (new URL(requestUrl(context)).origin !== this.origin) {
      throw new ThreadlinkError('PROVIDER_ERROR', 'Refusing to send a Graph request outside the configured Graph origin');
    }
    await this.next.execute(context);
  }
}

/** Per-request middleware option: how many of the mailbox's slots the request occupies at Graph. */
class MailboxSlots implements MiddlewareOptions {
  constructor(readonly count: number) {}
}

/** Holds the mailbox's concurrency slots for the duration of the HTTP exchange. */
class MailboxGateMiddleware implements Middleware {
  private next: Middleware | undefined;

  constructor(
    private readonly gates: MailboxGates,
    private readonly mailbox: string,
  ) {}

  setNext(next: Middleware): void {
    this.next = next;
  }

  async execute(context: Context): Promise<void> {
    const next = this.next;
    if (!next) throw new ThreadlinkError('INTERNAL', 'Graph middleware chain is incomplete');
    const slots = context.middlewareControl?.getMiddlewareOptions(MailboxSlots) as MailboxSlots | undefined;
    await this.gates.run(this.mailbox, slots?.count ?? 1, () => next.execute(context));
  }
}

export interface BatchRequest {
  id: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Relative to the version root, e.g. `/me/messages/{id}`. */
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
}

interface BatchResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

interface RequestOptions {
  headers?: Record<string, string>;
  /** Mailbox slots the request occupies at Graph (default 1; a $batch runs up to 4 inner requests at once). */
  slots?: number;
  /**
   * 'throttling': retry 429s only — Graph refuses a throttled request unprocessed — and leave any
   * other failure to the caller. For requests that must not run twice (adding an attachment);
   * requests that send mail always get it (isSendRequest).
   */
  retry?: 'all' | 'throttling';
}

/** /reply, /replyAll, /forward, /send, /sendMail: each request sends mail, so none may be repeated blindly. */
const SEND_ACTION = /\/(reply|replyall|forward|send|sendmail)$/i;

function isSendRequest(method: string, path: string): boolean {
  return method.toUpperCase() === 'POST' && SEND_ACTION.test(path.split('?')[0] ?? '');
}

export interface GraphSession {
  /** The mailbox's path: `/me` for a user's own connection, `/users/{id}` for an org mailbox (mailbox-path.ts). */
  readonly mailboxPath: string;
  get<T>(path: string, options?: RequestOptions): Promise<T>;
  post<T>(path: string, body: unknown, options?: RequestOptions): Promise<T>;
  patch<T>(path: string, body: unknown, options?: RequestOptions): Promise<T>;
  delete(path: string, options?: RequestOptions): Promise<void>;
  /**
   * A GET whose body is handed over unread (`$value` downloads): the 2xx Response, its body a web
   * stream. Failures (read whole: they are small JSON errors) are classified like any other call.
   * The mailbox's slot is held until the headers arrive, not while the body streams.
   */
  getStream(path: string, options?: RequestOptions & { signal?: AbortSignal }): Promise<Response>;
  /** Runs requests through $batch (20 per POST); inner throttling is retried like outer. */
  batch(requests: BatchRequest[]): Promise<Map<string, BatchResponse>>;
  /** A nextLink/deltaLink turned into a path for this client; links to other origins are refused. */
  pathOf(link: string): string;
}

export interface GraphSessionOptions {
  graphBaseUrl: string;
  tokens: TokenSource;
  gates: MailboxGates;
  /** The key of the mailbox's concurrency gate (the connection id). */
  mailbox: string;
  clock: Clock;
  logger: Logger;
  maxInlineRetryMs: number;
  /**
   * Each attempt's deadline, from asking for the request (its mailbox slot included) to the end of
   * its answer (to its headers for a stream): past it the attempt
   * is abandoned (a retryable transport failure, retried like one). Graph's client sets none, so a
   * request to a stalled backend or through a black-holing proxy would otherwise hold its job, its
   * mailbox's lease and a worker slot for as long as the socket lives.
   */
  requestTimeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Default `/me`. */
  mailboxPath?: string;
}

function lowerCaseKeys(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers && typeof headers === 'object') {
    for (const [name, value] of Object.entries(headers)) if (typeof value === 'string') out[name.toLowerCase()] = value;
  }
  return out;
}

/** The Graph client for one call on behalf of `session`: its tokens, its mailbox's gate, its clock and signal. */
export function graphFor(context: OutlookContext, session: ProviderSession): GraphSession {
  return createGraphSession({
    graphBaseUrl: context.options.graphBaseUrl,
    tokens: context.auth.tokenSource(session),
    gates: context.gates,
    mailbox: session.connection.id,
    mailboxPath: mailboxPath(session),
    clock: session.clock,
    logger: session.logger,
    maxInlineRetryMs: context.options.maxInlineRetryMs,
    requestTimeoutMs: context.options.requestTimeoutMs,
    signal: session.signal,
  });
}

/** Aborted when either is, with its reason (AbortSignal.any needs Node 20.3; engines say 20). */
function eitherSignal(first: AbortSignal, second: AbortSignal): AbortSignal {
  const controller = new AbortController();
  for (const signal of [first, second]) {
    if (signal.aborted) controller.abort(signal.reason);
    else signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  }
  return controller.signal;
}

export function createGraphSession(options: GraphSessionOptions): GraphSession {
  const base = options.graphBaseUrl.replace(/\/+$/, '');
  const origin = new URL(base).origin;
  const versionRoot = `${base}/${GRAPH_VERSION}`;
  // Built on first use: a sync pull makes GETs only (plainGet), and the client with its chain is
  // then never needed.
  let client: Client | undefined;
  const graphClient = (): Client => {
    if (client) return client;
    const guard = new OriginGuardMiddleware(origin);
    const gate = new MailboxGateMiddleware(options.gates, options.mailbox);
    // No RetryHandler: throttling is handled below, where a long Retry-After can be handed to the
    // engine's scheduler instead of blocking this worker.
    guard.setNext(gate);
    gate.setNext(new HTTPMessageHandler());
    client = Client.initWithMiddleware({ baseUrl: base, defaultVersion: GRAPH_VERSION, middleware: guard });
    return client;
  };

  /**
   * Retries throttling and 5xx inline while the wait is short; longer waits surface with
   * retryAfterMs. With `throttlingOnly`, 5xx and transport failures surface at once.
   */
  const run = async <T>(task: () => Promise<T>, throttlingOnly = false): Promise<T> => {
    const deferred = new WeakSet<ThreadlinkError>();
    try {
      return await withRetry(task, {
        attempts: 4,
        baseMs: 500,
        maxMs: Math.max(500, options.maxInlineRetryMs),
        clock: options.clock,
        ...(options.signal ? { signal: options.signal } : {}),
        classify: (raw) => {
          const error = classifyGraphError(raw, options.clock.now());
          if (error.retryable && (error.retryAfterMs ?? 0) > options.maxInlineRetryMs) {
            const stop = new ThreadlinkError(error.code, error.message, { retryable: false, cause: error });
            deferred.add(stop);
            return stop;
          }
          return error;
        },
        ...(throttlingOnly ? { retryWhen: (error: ThreadlinkError) => error.code === 'RATE_LIMITED' } : {}),
        onRetry: (error, attempt, delayMs) =>
          options.logger.debug('outlook call retried', { code: error.code, attempt, delayMs, status: error.details.status ?? null }),
      });
    } catch (error) {
      if (error instanceof ThreadlinkError && deferred.has(error)) throw error.cause as ThreadlinkError;
      throw error;
    }
  };

  const preferWith = (headers: Record<string, string> | undefined): Record<string, string> => {
    const prefer = [IMMUTABLE_ID, headers?.Prefer].filter(Boolean).join(', ');
    return { ...(headers ?? {}), Prefer: prefer };
  };

  /**
   * One authenticated exchange. A 401 gets one retry with a forced refresh: a token revoked
   * server-side before its expiry (continuous access evaluation, password reset) or a clock skew.
   * Each request sent has its own deadline and follows the session's abort (`attempt`).
   */
  const authenticated = async <T>(send: (authorization: string, signal: AbortSignal) => Promise<T>): Promise<T> => {
    let rejected: string | undefined;
    for (;;) {
      const token = await options.tokens.accessToken(rejected === undefined ? {} : { rejected });
      try {
        return await attempt((signal) => send(`Bearer ${token}`, signal));
      } catch (error) {
        if (rejected === undefined && error instanceof GraphError && error.statusCode === 401) {
          rejected = token;
          continue;
        }
        throw error;
      }
    }
  };

  /**
   * One request's deadline (`requestTimeoutMs`) and the session's abort in one signal, let go as soon
   * as the answer is read: the timer is cleared and the session's signal forgets it (core's linkedSignal).
   */
  const attempt = async <T>(send: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const deadline = linkedSignal(options.signal, { ms: options.requestTimeoutMs, reason: deadlineMissed });
    try {
      return await send(deadline.signal);
    } finally {
      deadline.release();
    }
  };

  const call = <T>(send: (request: GraphRequest, signal: AbortSignal) => Promise<T>, path: string, requestOptions: RequestOptions): Promise<T> =>
    authenticated((authorization, signal) => {
      const request = graphClient()
        .api(path)
        .headers({ ...preferWith(requestOptions.headers), Authorization: authorization })
        .option('signal', signal);
      if (requestOptions.slots !== undefined) request.middlewareOptions([new MailboxSlots(requestOptions.slots)]);
      return send(request, signal);
    });

  /**
   * A GET of a path under the version root, sent with fetch as the client's chain would send it
   * (the same URL, headers and mailbox gate) without building a GraphRequest and its middleware
   * context: every request of a sync pull is one of these (issue 21). Only a path relative to the
   * version root can be the same origin by construction; anything else goes through the client
   * and its origin guard.
   */
  const plainGet = <T>(path: string, requestOptions: RequestOptions): Promise<T> =>
    authenticated(
      (authorization, signal) =>
        getJson(
          `${versionRoot}${path}`,
          { ...preferWith(requestOptions.headers), Authorization: authorization },
          (send) => options.gates.run(options.mailbox, requestOptions.slots ?? 1, send),
          signal,
        ) as Promise<T>,
    );

  const session: GraphSession = {
    mailboxPath: options.mailboxPath ?? '/me',
    get: (path, requestOptions = {}) =>
      run(() => (path.startsWith('/') ? plainGet(path, requestOptions) : call((request) => request.get(), path, requestOptions))),
    post: (path, body, requestOptions = {}) =>
      run(() => call((request) => request.post(body), path, requestOptions), requestOptions.retry === 'throttling' || isSendRequest('POST', path)),
    patch: (path, body, requestOptions = {}) => run(() => call((request) => request.patch(body), path, requestOptions)),
    delete: async (path, requestOptions = {}) => {
      await run(() => call((request) => request.delete(), path, requestOptions));
    },

    getStream: (path, requestOptions = {}) =>
      run(() =>
        call(
          async (request, deadline) => {
            // The deadline covers the answer's headers (it is let go once they are in); the caller's
            // signal, if any, also covers the body it streams.
            if (requestOptions.signal) request.option('signal', eitherSignal(deadline, requestOptions.signal));
            const response = (await request.responseType(ResponseType.RAW).get()) as Response;
            if (response.ok) return response;
            throw await graphErrorOf(response);
          },
          path,
          requestOptions,
        ),
      ),

    pathOf(link) {
      if (link.startsWith('/')) return link;
      if (link.startsWith(`${versionRoot}/`)) return link.slice(versionRoot.length);
      // A stored link from another base URL (the configuration changed) cannot be followed; a
      // fresh listing under the current base is the way back, so this is an expired cursor.
      throw new ThreadlinkError('CURSOR_EXPIRED', 'A delta link points outside the configured Graph base URL', { details: { provider: 'outlook' } });
    },

    async batch(requests) {
      const results = new Map<string, BatchResponse>();
      // One batch at a time per call: its inner requests already fill the mailbox's slots.
      for (const group of chunk(requests, BATCH_LIMIT)) {
        let pending = group.map((item) => ({ ...item, headers: preferWith(item.headers) }));
        for (let round = 1; pending.length > 0; round += 1) {
          const answer = await session.post<{ responses?: unknown[] }>(
            '/$batch',
            { requests: pending.map(({ id, method, url, headers, body }) => ({ id, method, url, headers, ...(body === undefined ? {} : { body }) })) },
            // Outlook runs up to 4 requests of a batch at once, each counting against the mailbox limit.
            // A batch that carries a send is not repeated whole after a 5xx either.
            {
              slots: Math.min(MAILBOX_CONCURRENCY, pending.length),
              ...(pending.some((item) => isSendRequest(item.method, item.url)) ? { retry: 'throttling' as const } : {}),
            },
          );
          const throttled: typeof pending = [];
          let waitMs = 0;
          for (const raw of answer.responses ?? []) {
            const response = raw as { id?: unknown; status?: unknown; headers?: unknown; body?: unknown };
            const id = String(response.id);
            const status = typeof response.status === 'number' ? response.status : 0;
            const headers = lowerCaseKeys(response.headers);
            const original = pending.find((item) => item.id === id);
            // A batch answers 200 overall; each inner response carries its own 429/503 + Retry-After.
            // A 503/504 may have been carried out: repeated for reads, never for a request that sends.
            const repeatable =
              status === 429 || ((status === 503 || status === 504) && original !== undefined && !isSendRequest(original.method, original.url));
            if (repeatable && original) {
              throttled.push(original);
              waitMs = Math.max(waitMs, parseRetryAfter(headers['retry-after'], options.clock.now()) ?? 0);
              continue;
            }
            results.set(id, { id, status, headers, body: response.body });
          }
          if (throttled.length === 0) break;
          const retryAfterMs = Math.max(waitMs, 1_000);
          if (round >= 4 || retryAfterMs > options.maxInlineRetryMs) {
            throw new ThreadlinkError('RATE_LIMITED', `Graph throttled ${throttled.length} batched request(s)`, {
              retryAfterMs,
              details: { provider: 'outlook' },
            });
          }
          await options.clock.sleep(retryAfterMs, options.signal);
          pending = throttled;
        }
      }
      return results;
    },
  };
  return session;
}

/** A failed raw answer as the GraphError the client throws for parsed ones, so classification is the same. */
async function graphErrorOf(response: Response): Promise<GraphError> {
  let body: { error?: { code?: unknown; message?: unknown } } | undefined;
  try {
    body = (await response.json()) as typeof body;
  } catch {
    body = undefined;
  }
  const message = typeof body?.error?.message === 'string' ? body.error.message : response.statusText;
  const error = new GraphError(response.status, message);
  if (typeof body?.error?.code === 'string') error.code = body.error.code;
  error.headers = response.headers;
  return error;
}

/**
 * A GET with the Graph client's answer handling (its GraphResponseHandler and GraphErrorHandler,
 * which it does not export), so callers see the same values and the same GraphErrors: a transport
 * failure is status -1, a body that does not parse carries the answer's status, and a failed
 * answer's JSON error sets the message and code. `gated` holds the mailbox's slot while the
 * headers are awaited, as the client's chain does; the body is read after it is released.
 */
async function getJson(
  url: string,
  headers: Record<string, string>,
  gated: (send: () => Promise<Response>) => Promise<Response>,
  signal: AbortSignal,
): Promise<unknown> {
  let response: Response;
  try {
    response = await gated(() => fetch(url, { method: 'GET', headers, signal }));
  } catch (error) {
    throw graphErrorFrom(error, -1, undefined);
  }
  let value: unknown;
  try {
    value = await answerOf(response);
  } catch (error) {
    throw graphErrorFrom(error, response.status, response);
  }
  if (!response.ok) throw graphErrorFrom(value, response.status, response);
  return value;
}

/** The client's default (no responseType) conversion: 204 → undefined, JSON, plain text, an image as a Blob, anything else the body stream. */
async function answerOf(response: Response): Promise<unknown> {
  if (response.status === 204) return undefined;
  const contentType = response.headers.get('Content-type');
  if (contentType === null) return response.body;
  const mimeType = contentType.split(';')[0] as string;
  // No DOMParser in Node: the client hands XML and HTML over as the body stream too.
  if (/^(text\/(html|xml))|(application\/(xml|xhtml\+xml))$/.test(mimeType)) return response.body;
  if (/^image\/.+/.test(mimeType)) return response.blob();
  if (mimeType === 'text/plain') return response.text();
  if (mimeType === 'application/json') return response.json();
  return response.body;
}

/** GraphErrorHandler.getError: a Graph error body, an Error (kept as the cause), or any other value as the body. */
function graphErrorFrom(thrown: unknown, statusCode: number, response: Response | undefined): GraphError {
  const body = thrown as { error?: { message?: string; code?: string; innerError?: { 'request-id'?: string; date?: string } } } | null | undefined;
  if (body?.error) {
    const error = new GraphError(statusCode, body.error.message);
    error.code = body.error.code as string;
    if (body.error.innerError !== undefined) {
      error.requestId = body.error.innerError['request-id'] as string;
      error.date = new Date(body.error.innerError.date as string);
    }
    error.body = JSON.stringify(body.error);
    if (response) error.headers = response.headers;
    return error;
  }
  if (thrown instanceof Error) {
    const error = new GraphError(statusCode, '', thrown);
    if (thrown.name !== undefined) error.code = thrown.name;
    error.body = thrown.toString();
    error.date = new Date();
    if (response) error.headers = response.headers;
    return error;
  }
  const error = new GraphError(statusCode);
  error.body = thrown;
  return error;
}
