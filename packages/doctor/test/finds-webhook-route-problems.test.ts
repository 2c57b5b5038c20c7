// The Gmail webhook route must be threadlink's own: it refuses a push without a token. A 404
// (handler not mounted, or gmailProvider not registered), a stub that accepts anything, or a
// redirect all mean real pushes are lost.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createThreadlink, generateSealingKey } from '@threadlink/core';
import { outlookProvider } from '@threadlink/outlook';
import { memoryStore } from '@threadlink/storage-memory';
import { serveWebHandler, startGraphEmulator } from '@threadlink/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../src/index.js';
import { resultOf } from './support/deployment.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function routeCheck(publicUrl: string) {
  return resultOf(await runDoctor({ publicUrl, google: {} }), 'google.webhook-route');
}

async function stub(status: number, headers: Record<string, string>, body: string): Promise<string> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(status, headers);
      response.end(body);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  cleanups.push(() => new Promise<void>((done) => server.close(() => done())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const MOUNT =
  'Mount toNodeHandler(tl.handler) at the path of THREADLINK_PUBLIC_URL (e.g. app.use("/threadlink", …) for …/threadlink) and pass gmailProvider to createThreadlink.';

describe('Gmail webhook route', () => {
  it('fails a threadlink that has no Gmail provider, and one mounted at another path', async () => {
    const microsoft = await startGraphEmulator();
    let handler: ((request: Request) => Promise<Response>) | undefined;
    const served = await serveWebHandler((request) => handler!(request));
    const tl = createThreadlink({
      store: memoryStore(),
      providers: [outlookProvider({ ...microsoft.providerOptions })],
      resolver: { contactsByEmail: async () => [] },
      sealingKeys: [{ id: 'k1', key: generateSealingKey() }],
      publicUrl: `${served.url}/threadlink`,
      maintenanceIntervalMs: 0,
    });
    handler = tl.handler;
    cleanups.push(async () => {
      await tl.stop();
      await served.close();
      await microsoft.close();
    });

    const noProvider = await routeCheck(`${served.url}/threadlink`);
    expect(noProvider).toMatchObject({
      status: 'fail',
      detail: `${served.url}/threadlink/webhooks/gmail answered 404 ({"error":{"code":"NOT_FOUND","message":"No provider \\"gmail\\""}}).`,
      fix: MOUNT,
    });
    const elsewhere = await routeCheck(`${served.url}/crm`);
    expect(elsewhere.detail).toBe(`${served.url}/crm/webhooks/gmail answered 404 ({"error":{"code":"NOT_FOUND","message":"Not found"}}).`);
  });

  it('fails a stub that accepts pushes without a token', async () => {
    const origin = await stub(204, {}, '');
    expect(await routeCheck(`${origin}/threadlink`)).toMatchObject({
      status: 'fail',
      detail: `${origin}/threadlink/webhooks/gmail accepted a push without a token (204): something in front of threadlink answers for it.`,
      fix: 'Route {publicUrl}/webhooks/gmail straight to tl.handler, with no stub, queue or body parser in front.',
    });
  });

  it('fails a redirect, which Pub/Sub does not follow', async () => {
    const origin = await stub(308, { location: 'https://crm.acme.example/threadlink/webhooks/gmail' }, '');
    expect(await routeCheck(`${origin}/threadlink`)).toMatchObject({
      status: 'fail',
      detail: `${origin}/threadlink/webhooks/gmail redirects (308 → https://crm.acme.example/threadlink/webhooks/gmail); Pub/Sub does not follow redirects.`,
    });
  });
});
