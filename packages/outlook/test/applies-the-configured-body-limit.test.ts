// One webhook body limit: `maxBodyBytes` set in createThreadlink's config is what the web handler,
// the Node glue (with no option of its own) and the Outlook notification parser all enforce.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createThreadlink, generateSealingKey, toNodeHandler, type MailProvider, type Threadlink } from '@threadlink/core';
import type { WebhookContext } from '@threadlink/core/provider';
import { memoryStore } from '@threadlink/storage-memory';
import { startGraphEmulator, type GraphEmulator } from '@threadlink/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { outlookProvider } from '../src/index.js';
import { resolver } from './harness.js';

const LIMIT = 4096;
const PUBLIC_URL = 'https://crm.example.test/threadlink';

/** A Graph notification for a subscription no mailbox owns (accepted, no work), padded with JSON whitespace to exactly `bytes`. */
function notificationBody(bytes: number): string {
  const head = '{"value":[{"subscriptionId":"sub-of-nobody","clientState":"x","changeType":"created"}]';
  return `${head}${' '.repeat(bytes - head.length - 1)}}`;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function facade(ms: GraphEmulator, maxBodyBytes?: number): Promise<{ tl: Threadlink; contexts: WebhookContext[]; provider: MailProvider }> {
  const provider = outlookProvider(ms.providerOptions);
  const contexts: WebhookContext[] = [];
  // The real provider, observed: which context threadlink hands its parser.
  const observed: MailProvider = {
    ...provider,
    handleWebhook: (request, route, context) => {
      contexts.push(context);
      return provider.handleWebhook(request, route, context);
    },
  };
  const tl = createThreadlink({
    store: memoryStore(),
    providers: [observed],
    resolver,
    sealingKeys: [{ id: 'k1', key: generateSealingKey() }],
    publicUrl: PUBLIC_URL,
    logger: 'silent',
    maintenanceIntervalMs: 0,
    ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }),
  });
  return { tl, contexts, provider };
}

async function serveNode(tl: Threadlink): Promise<string> {
  const server: Server = createServer(toNodeHandler(tl.handler));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/threadlink/webhooks/outlook`;
}

const post = (url: string, body: string): Request => new Request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('the configured webhook body limit', () => {
  it('answers 413 from the web handler above the configured limit and hands the parser the same limit below it', async () => {
    const ms = await startGraphEmulator();
    cleanups.push(() => ms.close());
    const { tl, contexts } = await facade(ms, LIMIT);
    expect(tl.limits.maxBodyBytes).toBe(LIMIT);
    expect(tl.handler.maxBodyBytes).toBe(LIMIT);

    const over = await tl.handler(post(`${PUBLIC_URL}/webhooks/outlook`, notificationBody(LIMIT + 1)));
    expect(over.status).toBe(413);
    expect(contexts).toHaveLength(0);

    const under = await tl.handler(post(`${PUBLIC_URL}/webhooks/outlook`, notificationBody(LIMIT)));
    expect(under.status).toBe(202);
    expect(contexts.map((context) => context.maxBodyBytes)).toEqual([LIMIT]);
  });

  it('makes toNodeHandler(tl.handler) enforce the configured limit without an option of its own', async () => {
    const ms = await startGraphEmulator();
    cleanups.push(() => ms.close());
    const small = await serveNode((await facade(ms, LIMIT)).tl);
    expect((await fetch(small, { method: 'POST', body: notificationBody(LIMIT + 1) })).status).toBe(413);
    expect((await fetch(small, { method: 'POST', body: notificationBody(LIMIT) })).status).toBe(202);

    // The same body under the default (1 MiB) limit passes: the 413 above came from the config.
    const roomy = await serveNode((await facade(ms)).tl);
    expect((await fetch(roomy, { method: 'POST', body: notificationBody(LIMIT + 1) })).status).toBe(202);
  });

  it('makes the Outlook notification parser refuse a body above the limit its context carries', async () => {
    const ms = await startGraphEmulator();
    cleanups.push(() => ms.close());
    const { tl, contexts, provider } = await facade(ms, LIMIT);
    await tl.handler(post(`${PUBLIC_URL}/webhooks/outlook`, notificationBody(100)));
    const [context] = contexts;
    expect(context?.maxBodyBytes).toBe(LIMIT);

    // Called directly (as a host's own route might), the parser applies the context's limit itself.
    await expect(provider.handleWebhook(post(`${PUBLIC_URL}/webhooks/outlook`, notificationBody(LIMIT + 1)), '', context!)).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
    await expect(
      provider.handleWebhook(post(`${PUBLIC_URL}/webhooks/outlook`, notificationBody(LIMIT + 1)), '', { ...context!, maxBodyBytes: LIMIT * 2 }),
    ).resolves.toMatchObject({
      hints: [],
    });
  });
});
