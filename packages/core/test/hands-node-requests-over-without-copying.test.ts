import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { toNodeHandler, type WebHandler } from '../src/http/node.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  while (stops.length) await stops.pop()!();
});

/** A node:http server on 127.0.0.1 running `handler` through toNodeHandler; its origin. */
async function serve(handler: WebHandler): Promise<string> {
  const server = createServer(toNodeHandler(handler));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stops.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** What the test client sends. */
type Sent = { method: string; contentType?: string; body?: Uint8Array<ArrayBuffer> | string };

/** Runs `steps` on a request, each step's result or the name of the error it threw. */
async function outcomes(request: Request, steps: Array<(request: Request) => unknown>): Promise<unknown[]> {
  const seen: unknown[] = [];
  for (const step of steps) {
    try {
      const value = await step(request);
      seen.push(value instanceof ArrayBuffer || value instanceof Uint8Array ? [...new Uint8Array(value)] : value);
    } catch (error) {
      seen.push(`threw ${(error as Error).name}`);
    }
  }
  return seen;
}

/**
 * What the handler behind the glue sees for `steps`, and what a Request made by `new Request` of the
 * same method, content type and body gives for the same steps.
 */
async function throughGlueAndDirect(init: Sent, steps: Array<(request: Request) => unknown>): Promise<{ glue: unknown[]; direct: unknown[] }> {
  let glue: unknown[] = [];
  const origin = await serve(async (request) => {
    glue = await outcomes(request, steps);
    return new Response(null, { status: 202 });
  });
  const headers = init.contentType ? { 'content-type': init.contentType } : undefined;
  const body = init.body ?? null;
  const answer = await fetch(`${origin}/hook?x=1`, { method: init.method, ...(headers ? { headers } : {}), body });
  expect(answer.status).toBe(202);
  const direct = await outcomes(new Request(`${origin}/hook?x=1`, { method: init.method, ...(headers ? { headers } : {}), body }), steps);
  return { glue, direct };
}

const pushBody = JSON.stringify({
  message: { data: 'eyJlbWFpbEFkZHJlc3MiOiJhbmFAYWNtZS50ZXN0In0=', messageId: '7' },
  subscription: 'projects/p/subscriptions/s',
});

describe('toNodeHandler', () => {
  it('hands a push to the handler without building a web Request, and answers an empty 202 without reading a body', async () => {
    // Every Request built for the hook path is counted: the glue itself must build none when the
    // handler reads only what a provider reads of a push.
    const built: string[] = [];
    const WebRequest = globalThis.Request;
    vi.stubGlobal(
      'Request',
      class CountedRequest extends WebRequest {
        constructor(input: RequestInfo | URL, init?: RequestInit) {
          super(input, init);
          if (new URL(this.url).pathname === '/hook') built.push(this.url);
        }
      },
    );
    const arrayBuffer = vi.spyOn(Response.prototype, 'arrayBuffer');
    const seen: unknown[] = [];
    const origin = await serve(async (request) => {
      // Returned from an async function on its way in (as the core handler does), it is asked for \`then\`.
      const handedOn = await (async () => request)();
      seen.push(handedOn === request, request instanceof WebRequest, request.method, request.url, request.headers.get('authorization'), request.bodyUsed);
      seen.push(JSON.parse(await request.text()), request.bodyUsed);
      return new Response(null, { status: 202 });
    });
    const answer = await fetch(`${origin}/hook`, {
      method: 'POST',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      body: pushBody,
    });
    expect(answer.status).toBe(202);
    expect(await answer.text()).toBe('');
    expect(seen).toEqual([true, true, 'POST', `${origin}/hook`, 'Bearer t', false, JSON.parse(pushBody), true]);
    expect(built).toEqual([]);
    expect(arrayBuffer).not.toHaveBeenCalled();
  });

  it('gives the body as a Request does: once, as text without a byte order mark, JSON or bytes; none as empty', async () => {
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"a":"é"}')]);
    const cases: Array<[Sent, Array<(request: Request) => unknown>]> = [
      [{ method: 'POST', body: bom }, [(r) => r.text(), (r) => r.bodyUsed, (r) => r.text(), (r) => r.json()]],
      [{ method: 'POST', body: bom }, [(r) => r.json(), (r) => r.arrayBuffer(), (r) => r.clone()]],
      [{ method: 'POST', body: 'not json' }, [(r) => r.json(), (r) => r.bodyUsed]],
      [{ method: 'POST', body: 'bytes' }, [(r) => r.arrayBuffer(), (r) => r.bytes(), (r) => r.bodyUsed]],
      [{ method: 'POST', body: 'bytes' }, [(r) => r.bytes(), (r) => r.body?.locked, (r) => r.bodyUsed]],
      [{ method: 'GET' }, [(r) => r.text(), (r) => r.bodyUsed, (r) => r.text(), (r) => r.arrayBuffer(), (r) => r.body]],
    ];
    for (const [init, steps] of cases) {
      const { glue, direct } = await throughGlueAndDirect(init, steps);
      expect(glue).toEqual(direct);
    }
  });

  it('serves the rest of the Request API as any Request does, also after part of it was read', async () => {
    const form = 'a=1&b=two';
    const cases: Array<[Sent, Array<(request: Request) => unknown>]> = [
      [{ method: 'POST', body: pushBody }, [(r) => r.clone().text(), (r) => r.text(), (r) => r.bodyUsed, (r) => r.text()]],
      [{ method: 'POST', body: pushBody }, [(r) => new Response(r.body).text(), (r) => r.bodyUsed, (r) => r.text()]],
      [{ method: 'POST', body: pushBody }, [(r) => new Request(r).text(), (r) => r.bodyUsed]],
      [{ method: 'PUT', body: pushBody }, [(r) => new Request(r, { method: 'POST' }).method, (r) => r.text()]],
      [{ method: 'POST', contentType: 'application/x-www-form-urlencoded', body: form }, [(r) => r.formData().then((data) => [...data])]],
      [{ method: 'POST', body: pushBody }, [(r) => r.text(), (r) => r.clone(), (r) => r.body?.locked, (r) => r.bodyUsed, (r) => r.text()]],
      [{ method: 'POST', body: pushBody }, [(r) => r.headers.get('content-type'), (r) => r.signal.aborted, (r) => r.text(), (r) => r.bodyUsed]],
      [
        { method: 'POST', body: pushBody },
        [
          (r) => new URL(r.url).search,
          (r) => Object.prototype.toString.call(r),
          (r) => r instanceof Request,
          (r) => r.constructor === Request,
          (r) => typeof (r as Request & { then?: unknown }).then,
          (r) => {
            (r as Request & { user?: string }).user = 'u1';
            return (r as Request & { user?: string }).user;
          },
          (r) => 'user' in r,
          (r) => r.text(),
        ],
      ],
    ];
    for (const [init, steps] of cases) {
      const { glue, direct } = await throughGlueAndDirect(init, steps);
      expect(glue).toEqual(direct);
    }
  });

  it('hands over every header node received, repeated ones as a Request keeps them', async () => {
    let headers: Array<[string, string]> = [];
    let cookies: string[] = [];
    const origin = await serve(async (request) => {
      headers = [...request.headers];
      cookies = request.headers.getSetCookie();
      return new Response('{"ok":true}', { status: 200, headers: { 'content-type': 'application/json', 'set-cookie': 'a=1' } });
    });
    // node:http joins a repeated x-* header with ", " and keeps set-cookie as a list.
    const answer = await new Promise<{ status: number; cookies: string[]; body: string }>((resolve, reject) => {
      import('node:http').then(({ request }) => {
        const req = request(`${origin}/hook`, { method: 'POST', headers: { 'x-one': ['a', 'b'], 'set-cookie': ['c=1', 'd=2'] } }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, cookies: res.headers['set-cookie'] ?? [], body }));
        });
        req.on('error', reject);
        req.end('x');
      }, reject);
    });
    expect(answer).toEqual({ status: 200, cookies: ['a=1'], body: '{"ok":true}' });
    expect(headers).toContainEqual(['x-one', 'a, b']);
    expect(cookies).toEqual(['c=1', 'd=2']);
    expect(headers.map(([name]) => name)).toEqual(expect.arrayContaining(['host', 'content-length', 'x-one', 'set-cookie']));
  });
});
