// A reply goes out at most once, whatever happens to the send request's answer: the emulator
// carries a request out and then loses its answer (failAfter 'drop') or answers 5xx anyway, or
// refuses it unprocessed (failNext). Draft replies are settled by the draft's state; /reply
// (metadata mode, `replies: 'direct'`) cannot be settled and becomes SEND_UNCONFIRMED.
import { isThreadlinkError, silentLogger, type ProviderMessage } from '@threadlink/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createOutlookAuth } from '../src/auth.js';
import { createGraphSession } from '../src/client.js';
import { OutlookProviderOptions as ParseOptions } from '../src/options.js';
import { MailboxGates } from '../src/rate-limit.js';
import { expectThreadlinkError, pullAll, recordingClock, startHarness, type Connected, type Harness, replyContext } from './support.js';

const ANA = 'ana@contoso.com';
const CLIENT = 'client@acme.com';

interface Scene {
  harness: Harness;
  connected: Connected;
  message: ProviderMessage;
  /** Replies with that subject the client received. */
  delivered(): number;
  /** Graph operations made since the scene was set (sign-in and token calls left out). */
  operations(): string[];
  folder(name: string): string[];
}

async function scene(provider: Partial<ParseOptions> = {}): Promise<Scene> {
  const harness = await startHarness({ provider });
  harness.ms.addMailbox({ email: CLIENT });
  // Waits between attempts are recorded, not slept.
  const connected = await harness.connect(ANA, { clock: recordingClock() });
  await harness.ms.deliver({ from: `Carla <${CLIENT}>`, to: ANA, subject: 'Order 12', text: 'ship?' });
  const [change] = await pullAll(harness.provider, connected);
  if (change?.type !== 'upsert') throw new Error('the original did not sync');
  const start = harness.ms.log.entries.length;
  return {
    harness,
    connected,
    message: change.message,
    delivered: () => harness.ms.messages(CLIENT).filter((entry) => entry.subject === 'RE: Order 12').length,
    operations: () =>
      harness.ms.log.entries
        .slice(start)
        .map((entry) => entry.operation ?? entry.path)
        .filter((operation) => !operation.startsWith('identity.')),
    folder: (name) =>
      harness.ms
        .messages(ANA)
        .filter((entry) => entry.folder === name)
        .map((entry) => entry.subject),
  };
}

describe('an Outlook reply goes out at most once', () => {
  let current: Scene | undefined;
  afterEach(async () => {
    await current?.harness.close();
    current = undefined;
  });

  describe("draft replies (full mode, replies: 'draft')", () => {
    for (const [what, answer] of [
      ['is lost', 'drop'],
      ['is a 500 although Exchange sent it', 500],
    ] as const) {
      it(`confirms a /send whose answer ${what} by the draft's state, and does not send it again`, async () => {
        const { harness, connected, message, delivered, operations, folder } = (current = await scene());
        harness.ms.failAfter('messages.send', { status: answer });

        const sent = await harness.provider.send(connected.session, replyContext(message, { text: 'Shipping today.' }));

        expect(delivered()).toBe(1);
        expect(operations()).toEqual(['messages.createReply', 'messages.send', 'messages.get']);
        expect(harness.ms.sent(ANA).map((copy) => copy.immutableId)).toEqual([sent.providerMessageId]);
        expect(sent.message?.providerMessageId).toBe(sent.providerMessageId);
        expect(folder('drafts')).toEqual([]);
        expect(harness.logs.find((record) => record.message === 'send went out although its request failed')).toMatchObject({
          level: 'warn',
          fields: { provider: 'outlook', operation: '/send' },
        });
      });
    }

    it('sends the same draft again after a /send Graph refused unprocessed, so it still goes out once', async () => {
      const { harness, connected, message, delivered, operations } = (current = await scene());
      harness.ms.failNext('messages.send', { status: 503 });

      const sent = await harness.provider.send(connected.session, replyContext(message, { text: 'Shipping today.' }));

      expect(delivered()).toBe(1);
      expect(operations()).toEqual(['messages.createReply', 'messages.send', 'messages.get', 'messages.send']);
      expect(harness.ms.sent(ANA).map((copy) => copy.immutableId)).toEqual([sent.providerMessageId]);
    });

    it('retries a throttled /send in place: a 429 was not processed', async () => {
      const { harness, connected, message, delivered, operations } = (current = await scene());
      harness.ms.failNext('messages.send', { status: 429 });
      await harness.provider.send(connected.session, replyContext(message, { text: 'Shipping today.' }));
      expect(delivered()).toBe(1);
      expect(operations()).toEqual(['messages.createReply', 'messages.send', 'messages.send']);
    });

    it('leaves a draft whose /send got no answer and is still a draft as SEND_UNCONFIRMED: the /send may still be running', async () => {
      const { harness, connected, message, delivered, operations, folder } = (current = await scene());
      harness.ms.failNext('messages.send', { status: 'drop' });

      const error = await expectThreadlinkError(
        harness.provider.send(connected.session, replyContext(message, { text: 'Shipping today.' })),
        'SEND_UNCONFIRMED',
      );

      expect(error).toMatchObject({ retryable: false, status: 502, details: { provider: 'outlook', operation: '/send', failure: 'PROVIDER_UNAVAILABLE' } });
      expect(error.message).toContain('may have been sent');
      expect(operations()).toEqual(['messages.createReply', 'messages.send', 'messages.get']);
      expect(delivered()).toBe(0);
      // Not deleted: if the /send was only slow it is being sent; if not, the user finds it in Drafts.
      expect(folder('drafts')).toEqual(['RE: Order 12']);
    });

    it('never attaches a file twice: a draft whose attachment answer was lost is replaced by a fresh one', async () => {
      const { harness, connected, message, delivered, operations, folder } = (current = await scene());
      harness.ms.failAfter('attachments.create', { status: 'drop' });
      const plan = { filename: 'plan.txt', content: new TextEncoder().encode('plan'), contentType: 'text/plain' };

      const sent = await harness.provider.send(connected.session, replyContext(message, { text: 'Plan attached.', attachments: [plan] }));

      expect(operations()).toEqual([
        'messages.createReply',
        'attachments.create',
        'messages.get',
        'messages.delete',
        'messages.createReply',
        'attachments.create',
        'messages.send',
      ]);
      expect(delivered()).toBe(1);
      const [copy] = harness.ms.sent(ANA);
      expect(copy?.immutableId).toBe(sent.providerMessageId);
      expect(copy?.attachments.map((attachment) => attachment.name)).toEqual(['plan.txt']);
      expect(folder('drafts')).toEqual([]);
    });
  });

  for (const [label, options] of [
    ["full mode, replies: 'direct'", { replies: 'direct' }],
    ['metadata mode', { mode: 'metadata' }],
  ] as const) {
    describe(`/reply (${label})`, () => {
      for (const [what, answer] of [
        ['is lost', 'drop'],
        ['is a 500 although Exchange sent it', 500],
      ] as const) {
        it(`does not repeat a /reply whose answer ${what}: delivered once, SEND_UNCONFIRMED`, async () => {
          const { harness, connected, message, delivered, operations } = (current = await scene(options));
          harness.ms.failAfter('messages.reply', { status: answer });

          const error = await expectThreadlinkError(
            harness.provider.send(connected.session, replyContext(message, { text: 'Shipping today.' })),
            'SEND_UNCONFIRMED',
          );

          expect(error.details).toMatchObject({ provider: 'outlook', operation: '/reply', status: answer === 'drop' ? null : 500 });
          expect(operations()).toEqual(['messages.reply']);
          expect(delivered()).toBe(1);
        });
      }

      it('does not repeat a /reply refused with a 503 either: Graph does not promise a 503 went unprocessed', async () => {
        const { harness, connected, message, delivered, operations } = (current = await scene(options));
        harness.ms.failNext('messages.reply', { status: 503 });
        await expectThreadlinkError(harness.provider.send(connected.session, replyContext(message, { text: 'Shipping today.' })), 'SEND_UNCONFIRMED');
        expect(operations()).toEqual(['messages.reply']);
        expect(delivered()).toBe(0);
      });

      it('retries a throttled /reply: a 429 was not processed', async () => {
        const { harness, connected, message, delivered, operations } = (current = await scene(options));
        harness.ms.failNext('messages.reply', { status: 429 });
        const sent = await harness.provider.send(connected.session, replyContext(message, { text: 'Shipping today.' }));
        expect(sent.providerMessageId).toBeNull();
        expect(operations()).toEqual(['messages.reply', 'messages.reply']);
        expect(delivered()).toBe(1);
      });

      it('passes a definite refusal through unchanged: a 400 sent nothing', async () => {
        const { harness, connected, message, delivered } = (current = await scene(options));
        harness.ms.failNext('messages.reply', { status: 400, code: 'ErrorInvalidRecipients' });
        const error = await harness.provider.send(connected.session, replyContext(message, { text: 'Shipping today.' })).catch((caught: unknown) => caught);
        expect(isThreadlinkError(error, 'PROVIDER_ERROR')).toBe(true);
        expect(delivered()).toBe(0);
      });
    });
  }

  it('never repeats a request that sends on a 5xx, on its own or inside a $batch, while reads are retried', async () => {
    const { harness, connected } = (current = await scene());
    const config = ParseOptions.parse(harness.ms.providerOptions);
    const graph = createGraphSession({
      graphBaseUrl: config.graphBaseUrl,
      tokens: createOutlookAuth(config).tokenSource(connected.session),
      gates: new MailboxGates(),
      mailbox: connected.connection.id,
      clock: recordingClock(),
      logger: silentLogger,
      maxInlineRetryMs: 5_000,
      requestTimeoutMs: config.requestTimeoutMs,
    });
    const mail = { message: { subject: 'Note', toRecipients: [{ emailAddress: { address: CLIENT } }] } };
    const count = (operation: string): number => harness.ms.log.entries.filter((entry) => entry.operation === operation).length;

    harness.ms.failNext('sendMail', { status: 503 });
    const error = await graph.post('/me/sendMail', mail).catch((caught: unknown) => caught);
    expect(isThreadlinkError(error, 'PROVIDER_UNAVAILABLE')).toBe(true);
    expect(count('sendMail')).toBe(1);

    harness.ms.failNext('sendMail', { status: 503 });
    const answers = await graph.batch([{ id: 'send', method: 'POST', url: '/me/sendMail', headers: { 'content-type': 'application/json' }, body: mail }]);
    expect(answers.get('send')?.status).toBe(503);
    expect(count('sendMail')).toBe(2);

    harness.ms.failNext('me.get', { status: 503 });
    await graph.get('/me');
    expect(count('me.get')).toBeGreaterThanOrEqual(2);
  });
});
