import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@threadlink/core';
import { afterEach, describe, expect, it } from 'vitest';
import { connectedHarness } from './support/harness.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

const base = 'https://crm.example.test/threadlink';

/** The callback as the browser that started the flow sends it: with the connect cookie. */
const callback = (query: string, cookie: { name: string; value: string }) =>
  new Request(`${base}/oauth/callback?${query}`, { headers: { cookie: `${cookie.name}=${cookie.value}` } });

/** `tl.handler` behind node:http through toNodeHandler with the glue's own body limit; the Gmail webhook URL. */
async function serveGmailWebhookOverNode(tl: { handler: Parameters<typeof toNodeHandler>[0] }, maxBodyBytes: number): Promise<string> {
  const server = createServer(toNodeHandler(tl.handler, { maxBodyBytes }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stops.push(() => new Promise((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/threadlink/webhooks/gmail`;
}

describe('HTTP handler', () => {
  it('accepts a webhook, enqueues one pull, and ignores an exact redelivery', async () => {
    const { tl, mailbox, connection, store } = await connectedHarness();
    stops.push(() => tl.stop());
    mailbox.add({ subject: 'pushed' });
    const pullsBefore = mailbox.calls.pull;
    const post = () => tl.handler(new Request(`${base}/webhooks/gmail`, { method: 'POST', body: JSON.stringify({ account: 'ana@acme.com', id: 'n-1' }) }));
    expect((await post()).status).toBe(202);
    await tl.idle();
    expect((await post()).status).toBe(202);
    await tl.idle();
    expect(mailbox.calls.pull - pullsBefore).toBe(1);
    expect(await store.listProviderMessageIds(connection.id)).toEqual(mailbox.ids());
    expect((await store.getConnection(connection.id))!.health.lastPushAt).not.toBeNull();
  });

  it("answers only under publicUrl's path: the same route outside it is 404 and pulls nothing", async () => {
    const { tl, mailbox } = await connectedHarness();
    stops.push(() => tl.stop());
    const pullsBefore = mailbox.calls.pull;
    const body = JSON.stringify({ account: 'ana@acme.com', id: 'outside-1' });
    for (const path of ['/webhooks/gmail', '/elsewhere/webhooks/gmail', '/threadlinkx/webhooks/gmail', '/oauth/callback']) {
      const response = await tl.handler(
        new Request(`https://crm.example.test${path}`, { method: path.startsWith('/oauth') ? 'GET' : 'POST', body: path.startsWith('/oauth') ? null : body }),
      );
      expect(response.status).toBe(404);
    }
    await tl.idle();
    expect(mailbox.calls.pull).toBe(pullsBefore);
    expect((await tl.handler(new Request(`${base}/webhooks/gmail`, { method: 'POST', body }))).status).toBe(202);
  });

  it('answers 404, 405, 413 and 400 without throwing', async () => {
    const { tl } = await connectedHarness({ maxBodyBytes: 1024 });
    stops.push(() => tl.stop());
    expect((await tl.handler(new Request(`${base}/nope`))).status).toBe(404);
    expect((await tl.handler(new Request(`${base}/webhooks/outlook`, { method: 'POST', body: '{}' }))).status).toBe(404);
    expect((await tl.handler(new Request(`${base}/webhooks/gmail`))).status).toBe(405);
    expect((await tl.handler(new Request(`${base}/webhooks/gmail`, { method: 'POST', body: 'x'.repeat(5000) }))).status).toBe(413);
    const malformed = await tl.handler(new Request(`${base}/webhooks/gmail`, { method: 'POST', body: '{not json' }));
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { code: 'WEBHOOK_MALFORMED' } });
    expect((await tl.handler(new Request(`${base}/oauth/callback`, { method: 'POST' }))).status).toBe(405);
  });

  it('refuses tampered, replayed and missing OAuth state', async () => {
    const { tl } = await connectedHarness();
    stops.push(() => tl.stop());
    const { state, cookie } = await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1' });
    const tampered = `${state.slice(0, -4)}AAAA`;
    const bad = await tl.handler(callback(`code=c&state=${encodeURIComponent(tampered)}`, cookie));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'OAUTH_STATE_INVALID' } });
    const ok = await tl.handler(callback(`code=c&state=${encodeURIComponent(state)}`, cookie));
    expect(ok.status).toBe(200);
    const replay = await tl.handler(callback(`code=c&state=${encodeURIComponent(state)}`, cookie));
    expect(replay.status).toBe(400);
    expect((await tl.handler(new Request(`${base}/oauth/callback?code=c`))).status).toBe(400);
  });

  it('redirects to a same-origin returnTo only', async () => {
    const { tl } = await connectedHarness();
    stops.push(() => tl.stop());
    const { state, cookie } = await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1', returnTo: '/settings/mail' });
    const response = await tl.handler(callback(`code=c&state=${encodeURIComponent(state)}`, cookie));
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toMatch(/^https:\/\/crm\.example\.test\/settings\/mail\?connected=/);
    await expect(tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1', returnTo: 'https://evil.test/x' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });

  it('serves through node:http with toNodeHandler, including the body limit', async () => {
    const { tl } = await connectedHarness({ publicUrl: 'http://127.0.0.1/threadlink' });
    stops.push(() => tl.stop());
    const url = await serveGmailWebhookOverNode(tl, 2048);
    const ok = await fetch(url, { method: 'POST', body: JSON.stringify({ account: 'nobody@x.io', id: 'n' }) });
    expect(ok.status).toBe(202);
    const big = await fetch(url, { method: 'POST', body: 'x'.repeat(10_000) });
    expect(big.status).toBe(413);
  });

  it("keeps the handler's own body limit when the Node glue read the body under a larger one", async () => {
    // The glue's request is handed to the provider without a second copy: only when it fits the handler's limit too.
    const { tl } = await connectedHarness({ publicUrl: 'http://127.0.0.1/threadlink', maxBodyBytes: 1024 });
    stops.push(() => tl.stop());
    const url = await serveGmailWebhookOverNode(tl, 8192);
    const ok = await fetch(url, { method: 'POST', body: JSON.stringify({ account: 'nobody@x.io', id: 'n' }) });
    expect(ok.status).toBe(202);
    const between = JSON.stringify({ account: 'nobody@x.io', id: 'n', padding: 'x'.repeat(4_000) });
    expect((await fetch(url, { method: 'POST', body: between })).status).toBe(413);
    // Chunked, so no Content-Length announces it: the size the glue read is what is checked.
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(between));
        controller.close();
      },
    });
    expect((await fetch(url, { method: 'POST', body: chunked, duplex: 'half' } as RequestInit)).status).toBe(413);
  });
});
