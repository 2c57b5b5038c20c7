// threadlink's web-standard HTTP surface: provider webhooks and the OAuth callbacks, nothing
// else. Bounded bodies (413), wrong method (405), unknown route (404), broken input (400),
// forged input (401). Nothing throws out of the handler.
import { ThreadlinkError, toThreadlinkError } from '../errors.js';
import type { Logger } from '../logger.js';

export interface HandlerRoutes {
  webhook(provider: string, route: string, request: Request): Promise<Response>;
  /** The whole request: the callback reads the connect cookie from its headers. */
  oauthCallback(request: Request): Promise<Response>;
  /** An organization's admin consent coming back (org/connect.ts). */
  orgCallback(request: Request): Promise<Response>;
  isProvider(provider: string): boolean;
}

/** The webhook body limit unless `maxBodyBytes` says otherwise: Graph batches and Pub/Sub pushes are far smaller. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface HandlerOptions {
  /** The path prefix the handler is mounted under (from publicUrl), e.g. '/threadlink'. */
  basePath: string;
  maxBodyBytes: number;
  logger: Logger;
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });
}

export function errorResponse(error: ThreadlinkError): Response {
  return jsonResponse(error.status, { error: { code: error.code, message: error.message } });
}

/**
 * Requests whose whole body the Node glue (`toNodeHandler`) already read within a limit, with the
 * body's size: `bounded` hands them on as they are instead of reading and copying the body into a
 * second Request (each one a stream, an AbortSignal and a copy: a measurable part of a push's cost).
 */
export const bodiesRead = new WeakMap<Request, number>();

/** Reads the body with a size limit, returning a fresh Request the provider can consume. */
async function bounded(request: Request, limit: number): Promise<Request> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > limit) throw new ThreadlinkError('PAYLOAD_TOO_LARGE', 'Request body too large');
  const read = bodiesRead.get(request);
  if (read !== undefined && read <= limit && !request.bodyUsed) return request;
  if (!request.body) return request;
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new ThreadlinkError('PAYLOAD_TOO_LARGE', 'Request body too large');
    }
    chunks.push(value);
  }
  return new Request(request.url, { method: request.method, headers: request.headers, body: Buffer.concat(chunks) });
}

export function createHandler(routes: HandlerRoutes, options: HandlerOptions): (request: Request) => Promise<Response> {
  const base = options.basePath.replace(/\/+$/, '');
  return async (request) => {
    try {
      const url = new URL(request.url);
      let path = url.pathname;
      // Only under publicUrl's path: the prefix is not optional, so a handler mounted at the site
      // root (or reached through another route) does not also answer /webhooks/* beside the app's
      // own routes, and what is reachable is exactly what publicUrl says.
      if (base) {
        if (path !== base && !path.startsWith(`${base}/`)) return jsonResponse(404, { error: { code: 'NOT_FOUND', message: 'Not found' } });
        path = path.slice(base.length) || '/';
      }
      // The provider segment is a ProviderId slug (any configured provider, not only the built-in two).
      const webhook = /^\/webhooks\/([a-z][a-z0-9-]{1,31})(?:\/([a-z]+))?\/?$/.exec(path);
      if (webhook) {
        const provider = webhook[1]!;
        if (!routes.isProvider(provider)) return jsonResponse(404, { error: { code: 'NOT_FOUND', message: `No provider "${provider}"` } });
        if (request.method !== 'POST') return jsonResponse(405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'Use POST' } }, { allow: 'POST' });
        return await routes.webhook(provider, webhook[2] ?? '', await bounded(request, options.maxBodyBytes));
      }
      if (/^\/oauth\/callback\/?$/.test(path)) {
        if (request.method !== 'GET') return jsonResponse(405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'Use GET' } }, { allow: 'GET' });
        return await routes.oauthCallback(request);
      }
      if (/^\/connect\/org\/callback\/?$/.test(path)) {
        if (request.method !== 'GET') return jsonResponse(405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'Use GET' } }, { allow: 'GET' });
        return await routes.orgCallback(request);
      }
      return jsonResponse(404, { error: { code: 'NOT_FOUND', message: 'Not found' } });
    } catch (raw) {
      const error = toThreadlinkError(raw);
      if (error.code === 'INTERNAL') {
        options.logger.error('http handler failed', { error });
        return jsonResponse(500, { error: { code: 'INTERNAL', message: 'Internal error' } });
      }
      return errorResponse(error);
    }
  };
}
