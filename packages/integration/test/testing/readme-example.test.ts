// The README's quick start, verbatim below this comment (packages/testing/test/readme-matches-the-tested-example.test.ts compares them).
import { createThreadlink, generateSealingKey } from '@threadlink/core';
import { gmailProvider } from '@threadlink/gmail';
import { outlookProvider } from '@threadlink/outlook';
import { memoryStore } from '@threadlink/storage-memory';
import { serveWebHandler, startGmailEmulator, startGraphEmulator } from '@threadlink/testing';
import { afterAll, expect, it } from 'vitest';

// Gmail API + Google OAuth + Pub/Sub push, and Microsoft Graph + identity platform, on 127.0.0.1.
const google = await startGmailEmulator();
const microsoft = await startGraphEmulator();
// tl.handler on a real port: the emulators push to its webhooks and redirect to its OAuth callback.
const host = await serveWebHandler((request) => tl.handler(request));
const publicUrl = `${host.url}/threadlink`;
google.setPushEndpoint({ endpoint: `${publicUrl}/webhooks/gmail` }); // before gmailProvider(): sets pushAudience

const tl = createThreadlink({
  store: memoryStore(),
  sealingKeys: [{ id: 'test', key: generateSealingKey() }],
  providers: [gmailProvider({ ...google.providerOptions }), outlookProvider({ ...microsoft.providerOptions })],
  publicUrl,
  resolver: {
    contactsByEmail: async (_tenantId, addresses) => (addresses.includes('client@bigco.example') ? [{ type: 'client', id: 'bigco' }] : []),
  },
});
await tl.start();
afterAll(async () => {
  await tl.stop();
  await Promise.all([host.close(), google.close(), microsoft.close()]);
});

/** The consent flow a user clicks through: authorize URL → the emulator's consent page → tl.handler's callback. */
async function connect(provider: 'gmail' | 'outlook', email: string): Promise<void> {
  const emulator = provider === 'gmail' ? google : microsoft;
  emulator.addMailbox({ email });
  const { url, cookie } = await tl.connect.start({ provider, tenantId: 'acme', userId: 'ana', loginHint: email });
  const redirect = await emulator.authorize(url, { email }); // submits the consent form ("Allow")
  // The browser sends back the cookie the host set with the redirect to `url`;
  // tl.handler checks it, exchanges the code and starts the watch / subscription.
  const callback = await fetch(redirect, { headers: { cookie: `${cookie.name}=${cookie.value}` } });
  expect(callback.status).toBe(200);
}

it('puts a client email on the client timeline by push, from Gmail and from Outlook', async () => {
  await connect('gmail', 'ana@acme.example');
  await connect('outlook', 'ana@acme-outlook.example');

  const mail = { from: 'Bianca <client@bigco.example>', subject: 'Change request – PRJ-1042', text: 'The body stays at the provider.' };
  await google.deliver({ ...mail, to: 'ana@acme.example' });
  await microsoft.deliver({ ...mail, to: 'ana@acme-outlook.example' });
  await google.flushNotifications(); // every Pub/Sub push answered by the webhook
  await microsoft.flushNotifications(); // every Graph change notification answered
  await tl.idle(); // and every sync job they queued done

  const { threads } = await tl.timeline.forRecord({ type: 'client', id: 'bigco' }, { tenantId: 'acme', userId: 'ana' });
  expect(threads.map((thread) => thread.messages[0]?.provider).sort()).toEqual(['gmail', 'outlook']);
  expect(threads.every((thread) => thread.subject === mail.subject)).toBe(true);
  expect(JSON.stringify(threads)).not.toContain(mail.text); // metadata only
});
