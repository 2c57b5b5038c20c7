import { afterEach, describe, expect, it } from 'vitest';
import { expectThreadlinkError, pullAll, startHarness, type Harness, replyContext } from './support.js';

async function firstMessage(harness: Harness, connected: Awaited<ReturnType<Harness['connect']>>) {
  const changes = await pullAll(harness.provider, connected);
  const upsert = changes.find((change) => change.type === 'upsert');
  if (upsert?.type !== 'upsert') throw new Error('no message synced');
  return upsert.message;
}

describe('body on demand and reply in thread', () => {
  let harness: Harness;
  afterEach(async () => harness?.close());

  it('returns sanitized HTML, Graph’s text rendering and attachment names in one batched call', async () => {
    harness = await startHarness();
    const connected = await harness.connect('ana@contoso.com');
    await harness.ms.deliver({
      from: 'client@acme.com',
      to: 'ana@contoso.com',
      subject: 'Signed proposal PRJ-1042',
      html: '<p onclick="steal()">Signed, see <b>attached</b></p><script>alert(1)</script><img src="https://tracker.example/p.gif">',
      attachments: [{ filename: 'proposal-signed.pdf', content: Buffer.alloc(2048, 1), contentType: 'application/pdf' }],
    });
    const message = await firstMessage(harness, connected);
    const before = harness.ms.log.entries.length;

    const body = await harness.provider.fetchBody(connected.session, message.providerMessageId);
    expect(body.html).toContain('<b>attached</b>');
    expect(body.html).not.toMatch(/script|onclick|\ssrc="https:/);
    // Remote images are blocked (kept as data-blocked-src so a host can offer "show images").
    expect(body.html).toContain('data-blocked-src="https://tracker.example/p.gif"');
    expect(body.text).toContain('Signed, see attached');
    expect(body.attachments).toEqual([
      { id: expect.any(String), name: 'proposal-signed.pdf', mimeType: 'application/pdf', size: expect.any(Number), inline: false },
    ]);
    expect(body.attachments[0]!.size).toBeGreaterThanOrEqual(2048);
    // One round trip: a single $batch carrying the three reads.
    const topLevel = harness.ms.log.entries.slice(before).filter((entry) => entry.operation === '$batch');
    expect(topLevel).toHaveLength(1);
  });

  it('refuses bodies in metadata mode without calling Graph, and maps a vanished message to NOT_FOUND', async () => {
    harness = await startHarness({ provider: { mode: 'metadata' } });
    const connected = await harness.connect('ana@contoso.com');
    await harness.ms.deliver({ from: 'client@acme.com', to: 'ana@contoso.com', subject: 'x', text: 'secret' });
    const message = await firstMessage(harness, connected);
    const before = harness.ms.log.entries.length;
    await expectThreadlinkError(harness.provider.fetchBody(connected.session, message.providerMessageId), 'INSUFFICIENT_SCOPE');
    expect(harness.ms.log.entries.length).toBe(before);
    await harness.close();

    harness = await startHarness();
    const full = await harness.connect('ana@contoso.com');
    await harness.ms.deliver({ from: 'client@acme.com', to: 'ana@contoso.com', subject: 'x', text: 'secret' });
    const gone = await firstMessage(harness, full);
    harness.ms.deleteMessage('ana@contoso.com', gone.providerMessageId);
    await expectThreadlinkError(harness.provider.fetchBody(full.session, gone.providerMessageId), 'NOT_FOUND');
  });

  it('replies through /reply in metadata mode (Mail.Send alone) in the same conversation, and the sent copy syncs back', async () => {
    // Metadata mode never asks for Mail.ReadWrite (it would grant bodies), so no draft + send here:
    // /reply answers 202 without an id. Full mode: replies-with-the-sent-message-id.test.ts.
    harness = await startHarness({ provider: { mode: 'metadata' } });
    const connected = await harness.connect('ana@contoso.com');
    harness.ms.addMailbox({ email: 'client@acme.com' });
    const original = await harness.ms.deliver({
      from: 'Carla <client@acme.com>',
      to: 'ana@contoso.com',
      subject: 'Change request PRJ-1042',
      text: 'Can we move it?',
    });
    const message = await firstMessage(harness, connected);

    const before = harness.ms.log.entries.length;
    const sent = await harness.provider.send(connected.session, replyContext(message, { text: 'Yes, Thursday works.' }));
    expect(sent).toEqual({ providerMessageId: null, providerThreadId: original.conversationId, internetMessageId: null });
    expect(harness.ms.log.entries.slice(before).map((entry) => entry.operation)).toEqual(['messages.reply']);

    const [copy] = harness.ms.sent('ana@contoso.com');
    expect(copy).toMatchObject({
      conversationId: original.conversationId,
      inReplyTo: original.internetMessageId,
      from: { address: 'ana@contoso.com' },
      to: [expect.objectContaining({ address: 'client@acme.com' })],
    });
    expect(copy?.subject).toMatch(/^RE: Change request PRJ-1042$/i);
    expect(copy?.body.content).toContain('Yes, Thursday works.');
    const atClient = harness.ms.messages('client@acme.com').find((entry) => entry.internetMessageId === copy?.internetMessageId);
    expect(atClient?.conversationId).toBeDefined();

    const changes = await pullAll(harness.provider, connected);
    const synced = changes.flatMap((change) => (change.type === 'upsert' ? [change.message] : []));
    expect(synced).toHaveLength(1);
    expect(synced[0]).toMatchObject({ folder: 'sent', direction: 'outbound', providerThreadId: original.conversationId });
  });

  it('sends HTML, Cc and attachments through the message form of /replyAll in metadata mode', async () => {
    harness = await startHarness({ provider: { mode: 'metadata' } });
    const connected = await harness.connect('ana@contoso.com');
    await harness.ms.deliver({ from: 'client@acme.com', to: ['ana@contoso.com', 'pm@acme.com'], subject: 'Kickoff', text: 'hi all' });
    const message = await firstMessage(harness, connected);
    await harness.provider.send(
      connected.session,
      replyContext(message, {
        html: '<p>See <b>plan</b></p>',
        cc: ['boss@contoso.com'],
        replyAll: true,
        attachments: [{ filename: 'plan.txt', content: new TextEncoder().encode('plan'), contentType: 'text/plain' }],
      }),
    );
    const [copy] = harness.ms.sent('ana@contoso.com');
    expect(copy?.body).toMatchObject({ contentType: 'html' });
    expect(copy?.body.content).toContain('<b>plan</b>');
    // core's replyRecipients, as for Gmail: the sender in To, everyone else on the original in Cc, then the draft's Cc.
    expect(copy?.to.map((entry) => entry.address)).toEqual(['client@acme.com']);
    expect(copy?.cc.map((entry) => entry.address)).toEqual(['pm@acme.com', 'boss@contoso.com']);
    expect(copy?.attachments.map((attachment) => attachment.name)).toEqual(['plan.txt']);
  });
});
