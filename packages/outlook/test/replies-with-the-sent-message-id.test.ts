// Replies as createReply draft + send with immutable ids: the adapter knows the sent message's id
// at once, and it is the id the Sent Items copy later syncs under (real msal-node and Graph
// clients against the emulator).
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProviderMessage } from '@threadlink/core';
import { afterEach, describe, expect, it } from 'vitest';
import { outlookProvider } from '../src/index.js';
import { expectThreadlinkError, pullAll, recordingClock, startHarness, type Connected, type Harness, replyContext } from './support.js';

async function synced(harness: Harness, connected: Connected): Promise<ProviderMessage[]> {
  const changes = await pullAll(harness.provider, connected);
  return changes.flatMap((change) => (change.type === 'upsert' ? [change.message] : []));
}

/** Graph operations made since a log index (sign-in and token calls left out). */
function operationsSince(harness: Harness, index: number): string[] {
  return harness.ms.log.entries
    .slice(index)
    .map((entry) => entry.operation ?? entry.path)
    .filter((operation) => !operation.startsWith('identity.'));
}

function folderOf(harness: Harness, mailbox: string, folder: string) {
  return harness.ms.messages(mailbox).filter((message) => message.folder === folder);
}

describe('reply as draft + send, returning the sent message id', () => {
  let harness: Harness;
  let proxy: { url: string; close(): Promise<void> } | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    await harness?.close();
  });

  it('returns the Sent Items copy’s immutable id and conversation, and delta later brings that same id', async () => {
    harness = await startHarness();
    const connected = await harness.connect('ana@contoso.com');
    harness.ms.addMailbox({ email: 'client@acme.com' });
    const original = await harness.ms.deliver({
      from: 'Carla <client@acme.com>',
      to: 'ana@contoso.com',
      subject: 'Change request PRJ-1042',
      text: 'Can we move it?',
    });
    const [message] = await synced(harness, connected);
    const before = harness.ms.log.entries.length;

    const sent = await harness.provider.send(connected.session, replyContext(message!, { text: 'Yes, Thursday works.' }));

    expect(operationsSince(harness, before)).toEqual(['messages.createReply', 'messages.send']);
    const [copy] = harness.ms.sent('ana@contoso.com');
    expect(copy).toMatchObject({
      folder: 'sentitems',
      immutableId: sent.providerMessageId,
      internetMessageId: sent.internetMessageId,
      conversationId: original.conversationId,
      inReplyTo: original.internetMessageId,
      references: [original.internetMessageId],
      from: { address: 'ana@contoso.com' },
      to: [expect.objectContaining({ address: 'client@acme.com' })],
    });
    expect(copy?.subject).toBe('RE: Change request PRJ-1042');
    expect(copy?.body.content).toContain('Yes, Thursday works.');
    expect(sent.providerThreadId).toBe(original.conversationId);
    // The metadata now, for the timeline: the same item, never its body.
    expect(sent.message).toMatchObject({
      providerMessageId: sent.providerMessageId,
      providerThreadId: original.conversationId,
      internetMessageId: copy?.internetMessageId,
      subject: 'RE: Change request PRJ-1042',
      from: { address: 'ana@contoso.com' },
      to: [{ address: 'client@acme.com', name: 'Carla' }],
      direction: 'outbound',
      folder: 'sent',
    });
    expect(JSON.stringify(sent)).not.toContain('Thursday works');
    expect(folderOf(harness, 'ana@contoso.com', 'drafts')).toEqual([]);
    // The client gets it threaded into its own copy of the conversation.
    const atClient = harness.ms.messages('client@acme.com');
    expect(atClient.find((entry) => entry.internetMessageId === copy?.internetMessageId)?.conversationId).toBe(
      atClient.find((entry) => entry.internetMessageId === original.internetMessageId)?.conversationId,
    );

    const later = await synced(harness, connected);
    expect(later).toHaveLength(1);
    expect(later[0]).toMatchObject({
      providerMessageId: sent.providerMessageId,
      providerThreadId: original.conversationId,
      internetMessageId: sent.internetMessageId,
      folder: 'sent',
      direction: 'outbound',
    });
  });

  it('sends HTML, Cc and attachments through createReplyAll and the draft’s attachments', async () => {
    harness = await startHarness();
    const connected = await harness.connect('ana@contoso.com');
    await harness.ms.deliver({ from: 'client@acme.com', to: ['ana@contoso.com', 'pm@acme.com'], subject: 'Kickoff', text: 'hi all' });
    const [message] = await synced(harness, connected);
    const before = harness.ms.log.entries.length;
    const sent = await harness.provider.send(
      connected.session,
      replyContext(message!, {
        html: '<p>See <b>plan</b></p>',
        cc: ['boss@contoso.com'],
        replyAll: true,
        attachments: [{ filename: 'plan.txt', content: new TextEncoder().encode('plan'), contentType: 'text/plain' }],
      }),
    );
    expect(operationsSince(harness, before)).toEqual(['messages.createReplyAll', 'attachments.create', 'messages.send']);
    const [copy] = harness.ms.sent('ana@contoso.com');
    expect(copy?.immutableId).toBe(sent.providerMessageId);
    expect(copy?.body).toMatchObject({ contentType: 'html' });
    expect(copy?.body.content).toContain('<b>plan</b>');
    // core's replyRecipients, as for Gmail: the sender in To, everyone else on the original in Cc, then the draft's Cc.
    expect(copy?.to.map((entry) => entry.address)).toEqual(['client@acme.com']);
    expect(copy?.cc.map((entry) => entry.address)).toEqual(['pm@acme.com', 'boss@contoso.com']);
    expect(copy?.attachments.map((attachment) => attachment.name)).toEqual(['plan.txt']);
    expect(sent.message?.attachments).toEqual([{ name: 'plan.txt', mimeType: 'text/plain', size: 4 }]);
    expect(sent.message?.cc).toEqual([{ address: 'pm@acme.com' }, { address: 'boss@contoso.com' }]);

    // Over 3 MB goes through an upload session (sends-large-attachments.test.ts); past Exchange's 35 MB message limit nothing is asked.
    const huge = { filename: 'scan.pdf', content: new Uint8Array(35 * 1024 * 1024 + 1) };
    const requests = harness.ms.log.entries.length;
    await expectThreadlinkError(harness.provider.send(connected.session, replyContext(message!, { text: 'x', attachments: [huge] })), 'PAYLOAD_TOO_LARGE');
    expect(harness.ms.log.entries.length).toBe(requests);
  });

  it('knows the id while the message is still in the Outbox; delta brings it once transport files it', async () => {
    harness = await startHarness();
    const connected = await harness.connect('ana@contoso.com');
    await harness.ms.deliver({ from: 'client@acme.com', to: 'ana@contoso.com', subject: 'Invoice 7', text: 'due?' });
    const [message] = await synced(harness, connected);

    harness.ms.faults.holdOutbox = true;
    const sent = await harness.provider.send(connected.session, replyContext(message!, { text: 'Paid.' }));
    expect(sent.providerMessageId).toEqual(expect.any(String));
    expect(folderOf(harness, 'ana@contoso.com', 'outbox').map((entry) => entry.immutableId)).toEqual([sent.providerMessageId]);
    expect(await synced(harness, connected)).toEqual([]);

    harness.ms.releaseOutbox();
    const later = await synced(harness, connected);
    expect(later.map((entry) => [entry.providerMessageId, entry.folder])).toEqual([[sent.providerMessageId, 'sent']]);
  });

  it('deletes the draft when /send is refused, so a failed reply leaves nothing in Drafts', async () => {
    harness = await startHarness();
    const connected = await harness.connect('ana@contoso.com');
    await harness.ms.deliver({ from: 'client@acme.com', to: 'ana@contoso.com', subject: 'Order 9', text: 'ship?' });
    const [message] = await synced(harness, connected);
    // A definite refusal of the draft's /send: Exchange answers 400 when it will not take the recipients.
    harness.ms.failNext('messages.send', { status: 400, code: 'ErrorInvalidRecipients' });
    const error = await expectThreadlinkError(harness.provider.send(connected.session, replyContext(message!, { text: 'ok' })), 'PROVIDER_ERROR');
    expect(error.message).toContain('ErrorInvalidRecipients');
    expect(folderOf(harness, 'ana@contoso.com', 'drafts')).toEqual([]);
    expect(harness.ms.sent('ana@contoso.com')).toEqual([]);
  });

  it('refuses a reply to a note to self before Graph is asked: there is no one to send it to', async () => {
    harness = await startHarness();
    const connected = await harness.connect('ana@contoso.com');
    await harness.ms.deliver({
      from: 'ana@contoso.com',
      to: 'ana@contoso.com',
      subject: 'Note to self',
      text: 'remember',
      mailbox: 'ana@contoso.com',
      folder: 'inbox',
    });
    const [message] = await synced(harness, connected);
    const before = harness.ms.log.entries.length;
    await expectThreadlinkError(harness.provider.send(connected.session, replyContext(message!, { text: 'ok' })), 'INVALID_INPUT');
    expect(operationsSince(harness, before)).toEqual([]);
    expect(folderOf(harness, 'ana@contoso.com', 'drafts')).toEqual([]);
  });

  it('treats a send whose answer was lost as sent (the item is no longer a draft) and sends it once', async () => {
    harness = await startHarness();
    const connected = await harness.connect('ana@contoso.com');
    harness.ms.addMailbox({ email: 'client@acme.com' });
    await harness.ms.deliver({ from: 'client@acme.com', to: 'ana@contoso.com', subject: 'Order 12', text: 'ship?' });
    const [message] = await synced(harness, connected);

    // A proxy that forwards the first /send to Graph but answers the client 503, as a connection
    // dropped after Exchange accepted the message would look.
    const target = new URL(harness.ms.url);
    let lostAnswers = 0;
    const server = createServer((incoming, outgoing) => {
      const forward = httpRequest(
        { host: target.hostname, port: target.port, path: incoming.url, method: incoming.method, headers: incoming.headers },
        (answer) => {
          if (incoming.method === 'POST' && /\/send$/.test(incoming.url ?? '') && lostAnswers === 0) {
            lostAnswers += 1;
            answer.resume();
            outgoing.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'ServiceUnavailable', message: 'lost' } }));
            return;
          }
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      incoming.pipe(forward);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
    const proxied = outlookProvider({ ...harness.ms.providerOptions, graphBaseUrl: proxy.url });
    const session = harness.sessionFor(connected.connection, { clock: recordingClock() }).session;

    const sent = await proxied.send(session, replyContext(message!, { text: 'Shipping today.' }));
    expect(lostAnswers).toBe(1);
    expect(harness.ms.sent('ana@contoso.com').map((copy) => copy.immutableId)).toEqual([sent.providerMessageId]);
    expect(harness.ms.messages('client@acme.com').filter((entry) => entry.subject === 'RE: Order 12')).toHaveLength(1);
    expect(harness.logs.map((record) => record.message)).toContain('send went out although its request failed');
  });

  it('keeps a connection consented before Mail.ReadWrite refreshing, and replying through /reply', async () => {
    harness = await startHarness();
    const connected = await harness.connect('ana@contoso.com', { consentWithout: ['Mail.ReadWrite'] });
    await harness.ms.deliver({ from: 'client@acme.com', to: 'ana@contoso.com', subject: 'Old grant', text: '?' });
    const [message] = await synced(harness, connected);

    // Two hours on: the access token is past its lifetime, so the call refreshes first.
    const later = harness.sessionFor(connected.connection, { clock: { now: () => Date.now() + 2 * 60 * 60 * 1000, sleep: async () => undefined } });
    const before = harness.ms.log.entries.length;
    const sent = await harness.provider.send(later.session, replyContext(message!, { text: 'Still works.' }));

    expect(later.tokenUpdates).toHaveLength(1);
    expect(later.tokenUpdates[0]?.scope?.toLowerCase()).not.toContain('mail.readwrite');
    expect(operationsSince(harness, before)).toEqual(['messages.reply']);
    expect(sent).toEqual({ providerMessageId: null, providerThreadId: message!.providerThreadId, internetMessageId: null });
    expect(harness.ms.sent('ana@contoso.com').map((copy) => copy.subject)).toEqual(['RE: Old grant']);
  });
});
