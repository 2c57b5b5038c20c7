// A tiny HTTP(S) server on 127.0.0.1 for the emulators: routing, JSON helpers,
// injected latency/faults and a request log with quota units, so tests and
// benchmarks can assert what a provider would have seen and charged.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface EmulatorRequest {
  method: string;
  url: URL;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  params: Record<string, string>;
  /** Parsed JSON body (undefined when the body is empty or not JSON). */
  json<T = unknown>(): T | undefined;
  /** Parsed application/x-www-form-urlencoded body. */
  form(): URLSearchParams;
}

export interface EmulatorResponse {
  status: number;
  headers?: Record<string, string>;
  /** A Readable is written as it produces (large answers the emulator does not build in memory). */
  body?: string | Buffer | Readable | object | null;
  /**
   * Close the connection instead of answering: the request was handled but its response is lost
   * on the way back, as a reset or a proxy timeout loses it. `status` is only what the log records.
   */
  drop?: boolean;
  /**
   * Never answer: the connection stays open with nothing sent back, as a black-holing proxy or a
   * stalled backend leaves it, until the client gives up or the emulator closes. `status` is only
   * what the log records.
   */
  hang?: boolean;
}

export type RouteHandler = (request: EmulatorRequest) => EmulatorResponse | Promise<EmulatorResponse>;

export interface RequestLogEntry {
  at: number;
  method: string;
  path: string;
  status: number;
  /** The mailbox the call was charged to, when known. */
  mailbox?: string;
  /** A stable name for the API method, e.g. `history.list`. */
  operation?: string;
  units: number;
}

export interface FaultKnobs {
  /** Added latency per request in ms (models the provider round trip). */
  latencyMs: number;
  /** Random extra latency in ms, uniformly added on top of latencyMs. */
  jitterMs: number;
  /** Probability (0..1) that a request answers 503. */
  errorRate: number;
  /** The next N requests answer 429 (or the provider's throttling shape). */
  forced429: number;
}

export function defaultFaults(): FaultKnobs {
  return { latencyMs: 0, jitterMs: 0, errorRate: 0, forced429: 0 };
}

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: RouteHandler;
}

/** A minimal router: `/users/:userId/messages/:id` style patterns, first match wins. */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, path: string, handler: RouteHandler): this {
    const keys: string[] = [];
    const source = path
      .split('/')
      .map((segment) => {
        if (segment.startsWith(':')) {
          keys.push(segment.slice(1));
          return '([^/]+)';
        }
        return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    this.routes.push({ method: method.toUpperCase(), pattern: new RegExp(`^${source}/?$`), keys, handler });
    return this;
  }

  match(method: string, path: string): { handler: RouteHandler; params: Record<string, string> } | 'method' | null {
    let pathMatched = false;
    for (const route of this.routes) {
      const found = route.pattern.exec(path);
      if (!found) continue;
      pathMatched = true;
      if (route.method !== method && route.method !== '*') continue;
      const params: Record<string, string> = {};
      route.keys.forEach((key, index) => {
        params[key] = decodeURIComponent(found[index + 1] ?? '');
      });
      return { handler: route.handler, params };
    }
    return pathMatched ? 'method' : null;
  }
}

export interface StartedServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface ServeOptions {
  router: Router;
  /** Runs before routing; may answer on its own (faults, auth). */
  before?: (request: EmulatorRequest) => EmulatorResponse | undefined | Promise<EmulatorResponse | undefined>;
  /** Called after each answered request. */
  after?: (request: EmulatorRequest, response: EmulatorResponse) => void;
  tls?: { key: string; cert: string };
  port?: number;
  /** Max request body in bytes (default 35 MB, Gmail's raw send limit). */
  maxBodyBytes?: number;
}

export function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

function encode(response: EmulatorResponse): { body: Buffer; headers: Record<string, string> } {
  const headers: Record<string, string> = { ...(response.headers ?? {}) };
  const payload = response.body;
  if (payload === undefined || payload === null) return { body: Buffer.alloc(0), headers };
  if (Buffer.isBuffer(payload)) return { body: payload, headers };
  if (typeof payload === 'string') {
    headers['content-type'] ??= 'text/plain; charset=utf-8';
    return { body: Buffer.from(payload, 'utf8'), headers };
  }
  headers['content-type'] ??= 'application/json; charset=utf-8';
  return { body: Buffer.from(JSON.stringify(payload), 'utf8'), headers };
}

/** A request body as JSON; undefined when it is empty or not JSON (each API answers that in its own words). */
export function parseJsonBody<T = unknown>(body: Buffer): T | undefined {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Serves a router on 127.0.0.1 (a free port unless one is given). */
export async function serve(options: ServeOptions): Promise<StartedServer> {
  const maxBody = options.maxBodyBytes ?? 35 * 1024 * 1024;
  const listener = (incoming: IncomingMessage, outgoing: ServerResponse): void => {
    const chunks: Buffer[] = [];
    let size = 0;
    incoming.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBody) chunks.push(chunk);
    });
    incoming.on('end', () => {
      void (async () => {
        const url = new URL(incoming.url ?? '/', `http://${incoming.headers.host ?? '127.0.0.1'}`);
        const body = Buffer.concat(chunks);
        const request: EmulatorRequest = {
          method: (incoming.method ?? 'GET').toUpperCase(),
          url,
          path: url.pathname,
          headers: incoming.headers,
          body,
          params: {},
          json<T>() {
            return parseJsonBody<T>(body);
          },
          form() {
            return new URLSearchParams(body.toString('utf8'));
          },
        };
        let response: EmulatorResponse;
        try {
          if (size > maxBody) {
            response = { status: 413, body: { error: { code: 413, message: 'Request entity too large' } } };
          } else {
            response = (await options.before?.(request)) ?? (await route(options.router, request));
          }
        } catch (error) {
          response = { status: 500, body: { error: { code: 500, message: (error as Error).message } } };
        }
        options.after?.(request, response);
        if (response.drop) {
          outgoing.destroy();
          return;
        }
        if (response.hang) return;
        if (response.body instanceof Readable) {
          outgoing.writeHead(response.status, response.headers ?? {});
          await pipeline(response.body, outgoing).catch(() => outgoing.destroy());
          return;
        }
        const encoded = encode(response);
        if (!outgoing.headersSent) {
          outgoing.writeHead(response.status, encoded.headers);
          outgoing.end(encoded.body);
        }
      })();
    });
  };
  const server = options.tls ? createHttpsServer(options.tls, listener) : createHttpServer(listener);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

async function route(router: Router, request: EmulatorRequest): Promise<EmulatorResponse> {
  const found = router.match(request.method, request.path);
  if (found === null) return { status: 404, body: { error: { code: 404, message: `No route for ${request.path}` } } };
  if (found === 'method') return { status: 405, body: { error: { code: 405, message: 'Method not allowed' } } };
  request.params = found.params;
  return found.handler(request);
}

/** Keeps every answered request with its quota units, for cost assertions. */
export class RequestLog {
  readonly entries: RequestLogEntry[] = [];

  record(entry: RequestLogEntry): void {
    this.entries.push(entry);
  }

  clear(): void {
    this.entries.length = 0;
  }

  count(filter: { mailbox?: string; operation?: string } = {}): number {
    return this.select(filter).length;
  }

  units(filter: { mailbox?: string; operation?: string } = {}): number {
    return this.select(filter).reduce((sum, entry) => sum + entry.units, 0);
  }

  private select(filter: { mailbox?: string; operation?: string }): RequestLogEntry[] {
    return this.entries.filter(
      (entry) => (filter.mailbox === undefined || entry.mailbox === filter.mailbox) && (filter.operation === undefined || entry.operation === filter.operation),
    );
  }
}
