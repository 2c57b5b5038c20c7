// tl.handler mounted unchanged in Hono (served by @hono/node-server on a real port): a Gmail
// mailbox connects through the app's own connect route and the OAuth callback under
// /threadlink, and mail the emulator delivers arrives by Pub/Sub push and shows on the
// record's timeline, read through the app.
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { createThreadlink, generateSealingKey, type Threadlink } from '@threadlink/core';
import { gmailProvider } from '@threadlink/gmail';
import { memoryStore } from '@threadlink/storage-memory';
import { startGmailEmulator, type GmailEmulator } from '@threadlink/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';

describe('the Hono example', () => {
  let google: GmailEmulator;
  let server: ServerType;
  let origin: string;
  let tl: Threadlink;

  beforeAll(async () => {
    google = await startGmailEmulator();
    // Listen first (the push endpoint and the OAuth redirect need the port); requests reach the
    // app once it exists, which is before anything is pushed.
    let app: ReturnType<typeof createApp> | undefined;
    server = await new Promise<ServerType>((resolve) => {
      const started = serve({ fetch: (request) => app!.fetch(request), port: 0, hostname: '127.0.0.1' }, () => resolve(started));
    });
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    google.setPushEndpoint({ endpoint: `${origin}/threadlink/webhooks/gmail` });
    tl = createThreadlink({
      store: memoryStore(),
      sealingKeys: [{ id: 'test', key: generateSealingKey() }],
      providers: [gmailProvider({ ...google.providerOptions })],
      publicUrl: `${origin}/threadlink`,
      resolver: { contactsByEmail: async (_tenantId, addresses) => (addresses.includes('client@bigco.example') ? [{ type: 'client', id: 'bigco' }] : []) },
    });
    app = createApp(tl, () => ({ tenantId: 'acme', userId: 'ana' }));
    await tl.start();
  });
  afterAll(async () => {
    await tl?.stop();
    await new Promise((resolve) => server?.close(resolve));
    await google?.close();
  });

  it('connects a Gmail mailbox through the app and shows pushed mail on the client timeline', async () => {
    google.addMailbox({ email: 'ana@acme.example' });
    const connect = await fetch(`${origin}/connect/gmail`, { method: 'POST', redirect: 'manual' });
    expect(connect.status).toBe(303);
    // The browser carries the connect cookie back to the callback, as a real one would.
    const cookie = connect.headers
      .getSetCookie()
      .map((header) => header.split(';')[0])
      .join('; ');
    const callback = await fetch(await google.authorize(connect.headers.get('location')!, { email: 'ana@acme.example' }), {
      redirect: 'manual',
      headers: { cookie },
    });
    expect(callback.status).toBeLessThan(400);
    await tl.idle();

    // Counted at the webhook: the mail must come by push through the Hono mount, not by a pull.
    let pushes = 0;
    const unsubscribe = tl.on('notification.received', ({ provider }) => {
      if (provider === 'gmail') pushes += 1;
    });
    await google.deliver({ from: 'Bianca <client@bigco.example>', to: 'ana@acme.example', subject: 'Site visit – PRJ-7', text: 'Stays at Google.' });
    await google.flushNotifications();
    await tl.idle();
    unsubscribe();
    expect(pushes).toBeGreaterThan(0);

    const timeline = (await (await fetch(`${origin}/records/client/bigco/timeline`)).json()) as {
      threads: Array<{ subject: string; messages: Array<{ provider: string }> }>;
    };
    expect(timeline.threads.map((thread) => [thread.subject, thread.messages[0]?.provider])).toEqual([['Site visit – PRJ-7', 'gmail']]);
    expect(JSON.stringify(timeline)).not.toContain('Stays at Google.');
  });
});
