// Thin glue from node:http (and Express, Fastify via their raw req/res) to the web-standard
// handler. The body is read with a hard size limit before anything parses it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bodiesRead, DEFAULT_MAX_BODY_BYTES } from './handler.js';
import { nodeRequest } from './node-request.js';

/** A web-standard handler; `tl.handler` also says its body limit, which the Node glue then shares. */
export type WebHandler = ((request: Request) => Promise<Response>) & { readonly maxBodyBytes?: number };

export interface NodeHandlerOptions {
  /** Bytes; a larger body is answered 413 without being buffered (default: the handler's own limit, else 1 MiB). */
  maxBodyBytes?: number;
}

export function toNodeHandler(handler: WebHandler, options: NodeHandlerOptions = {}) {
  const limit = options.maxBodyBytes ?? handler.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return (req: IncomingMessage & { originalUrl?: string; body?: unknown }, res: ServerResponse, next?: (error?: unknown) => void): void => {
    void (async () => {
      try {
        const host = req.headers.host ?? '127.0.0.1';
        const protocol = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
        const url = new URL(req.originalUrl ?? req.url ?? '/', `${protocol}://${host}`);
        const declared = Number(req.headers['content-length'] ?? '0');
        if (declared > limit) {
          res
            .writeHead(413, { 'content-type': 'application/json' })
            .end(JSON.stringify({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'Request body too large' } }));
          req.resume();
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        let tooLarge = false;
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          for await (const chunk of req) {
            size += (chunk as Buffer).length;
            if (size > limit) {
              tooLarge = true;
              break;
            }
            chunks.push(chunk as Buffer);
          }
        }
        if (tooLarge) {
          res
            .writeHead(413, { 'content-type': 'application/json', connection: 'close' })
            .end(JSON.stringify({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'Request body too large' } }));
          req.destroy();
          return;
        }
        const request = nodeRequest({
          method: req.method ?? 'GET',
          url: url.href,
          headers: req.headers,
          body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
        });
        bodiesRead.set(request, size);
        const response = await handler(request);
        const outHeaders: Record<string, string | string[]> = {};
        response.headers.forEach((value, key) => {
          outHeaders[key] = value;
        });
        const setCookie = response.headers.getSetCookie?.();
        if (setCookie && setCookie.length > 0) outHeaders['set-cookie'] = setCookie;
        res.writeHead(response.status, outHeaders);
        // Most answers to a push have no body (202): nothing to read out of a stream.
        if (response.body === null) res.end();
        else res.end(Buffer.from(await response.arrayBuffer()));
      } catch (error) {
        if (next) next(error);
        else if (!res.headersSent)
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'INTERNAL', message: 'Internal error' } }));
      }
    })();
  };
}
