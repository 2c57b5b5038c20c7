// Graph's validation handshake against endpoints that get it wrong, served by a tiny local
// server whose answer each test chooses; the happy path runs against real threadlink in
// healthy-deployment-passes.test.ts.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor, type DoctorConfig } from '../src/index.js';
import { resultOf } from './support/deployment.js';

type Responder = (request: IncomingMessage, response: ServerResponse, token: string | null) => void;

let respond: Responder = (_request, response) => response.end();
let origin: string;
const server = createServer((request, response) => {
  const token = new URL(request.url ?? '/', 'http://127.0.0.1').searchParams.get('validationToken');
  request.resume();
  request.on('end', () => respond(request, response, token));
});

beforeAll(async () => {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(
  () =>
    new Promise<void>((done) => {
      server.closeAllConnections();
      server.close(() => done());
    }),
);

const MICROSOFT = { clientId: '6731de76-14a6-49ae-97bc-6eba6914391e', clientSecret: 'p8Q8Q~g2k4R9xYz.Nw1sT0vUa3bC5dE7fG9hJ' };

function config(overrides: Partial<DoctorConfig> = {}): DoctorConfig {
  return { publicUrl: `${origin}/threadlink`, microsoft: { ...MICROSOFT }, ...overrides };
}

async function notificationCheck(overrides: Partial<DoctorConfig> = {}) {
  return resultOf(await runDoctor(config(overrides)), 'microsoft.notification-url');
}

const echoAs =
  (contentType: string, body: (token: string) => string): Responder =>
  (_request, response, token) => {
    response.writeHead(200, { 'content-type': contentType });
    response.end(body(token ?? ''));
  };

describe('validation handshake', () => {
  it('passes an endpoint that echoes the decoded token as text/plain', async () => {
    respond = echoAs('text/plain; charset=utf-8', (token) => token);
    const report = await runDoctor(config());
    expect(resultOf(report, 'microsoft.notification-url').status).toBe('pass');
    expect(resultOf(report, 'microsoft.lifecycle-url').status).toBe('pass');
  });

  it('fails an endpoint that echoes the token inside HTML', async () => {
    respond = echoAs('text/html; charset=utf-8', (token) => `<!doctype html><html><body><p>${token}</p></body></html>`);
    const check = await notificationCheck();
    expect(check).toMatchObject({
      status: 'fail',
      detail: `${origin}/threadlink/webhooks/outlook answered the validation request with Content-Type text/html; charset=utf-8 (the token wrapped in markup); Graph requires text/plain.`,
      fix: 'Return the decoded token as the whole body with Content-Type: text/plain (no HTML, no JSON); tl.handler does this when nothing in front rewrites its response.',
    });
  });

  it('fails the exact token sent with a JSON content type', async () => {
    respond = echoAs('application/json', (token) => token);
    const check = await notificationCheck();
    expect(check.status).toBe('fail');
    expect(check.detail).toContain('with Content-Type application/json (the right token, the wrong type); Graph requires text/plain.');
  });

  it('fails an endpoint that does not answer within the limit', async () => {
    respond = () => undefined; // never answers
    const check = await notificationCheck({ timeouts: { validationMs: 300 } });
    expect(check).toMatchObject({
      status: 'fail',
      detail: `${origin}/threadlink/webhooks/outlook did not answer the validation request within 0.3 s (Graph's limit), so Graph refuses to create or renew the subscription.`,
      fix: 'Answer validation requests before any auth middleware, body parser or slow start-up work: route {publicUrl}/webhooks/outlook straight to tl.handler and keep the app warm.',
    });
  });

  it('fails a token echoed without URL-decoding', async () => {
    respond = (request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end(/validationToken=([^&]*)/.exec(request.url ?? '')?.[1] ?? '');
    };
    const check = await notificationCheck();
    expect(check.detail).toBe(
      `${origin}/threadlink/webhooks/outlook answered 200 text/plain with the token still URL-encoded; Graph requires exactly the decoded validationToken.`,
    );
  });

  it('blames auth middleware for a 401', async () => {
    respond = (_request, response) => {
      response.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
      response.end('{"error":"unauthorized"}');
    };
    const check = await notificationCheck();
    expect(check).toMatchObject({
      status: 'fail',
      detail: `${origin}/threadlink/webhooks/outlook answered the validation request with 401 ({"error":"unauthorized"}); Graph needs 200.`,
      fix: 'Something in front of threadlink demands authentication; Graph sends none on validation, so exempt this path from auth middleware.',
    });
  });

  it('checks the lifecycle URL on its own', async () => {
    respond = (request, response, token) => {
      if (request.url?.includes('/lifecycle')) {
        response.writeHead(404, { 'content-type': 'text/plain' });
        response.end('Cannot POST');
        return;
      }
      echoAs('text/plain', (value) => value)(request, response, token);
    };
    const report = await runDoctor(config());
    expect(resultOf(report, 'microsoft.notification-url').status).toBe('pass');
    expect(resultOf(report, 'microsoft.lifecycle-url')).toMatchObject({
      status: 'fail',
      detail: `${origin}/threadlink/webhooks/outlook/lifecycle answered the validation request with 404 (Cannot POST); Graph needs 200.`,
      fix: 'Mount toNodeHandler(tl.handler) at the path of THREADLINK_PUBLIC_URL and pass outlookProvider to createThreadlink.',
    });
  });

  it('reports an endpoint nothing listens on', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((done) => closed.close(() => done()));
    const check = await notificationCheck({ publicUrl: `http://127.0.0.1:${port}/threadlink` });
    expect(check.status).toBe('fail');
    expect(check.detail).toBe(`http://127.0.0.1:${port}/threadlink/webhooks/outlook is unreachable: connect ECONNREFUSED 127.0.0.1:${port}.`);
  });
});
