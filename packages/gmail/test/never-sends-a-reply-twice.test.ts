// A reply goes out at most once, whatever happens to messages.send's answer: the emulator carries
// the send out and then loses its answer (failAfter 'drop') or answers 500 anyway, or refuses it
// unprocessed (failNext). The adapter looks in the mailbox's SENT history before sending again,
// in both modes, and also when Gmail replaces the Message-ID it was given.
import { isThreadlinkError, type MailProvider } from '@threadlink/core';
import type { ReplyContext } from '@threadlink/core/provider';
import type { GmailEmulator } from '@threadlink/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { capturingLogger, connect, providerFor, replyTo, startGoogle, virtualClock, type CapturedLogger, type TestSession } from './support.js';

const ANA = 'ana@acme.test';
const CLIENT = 'client@bigco.test';

interface Scene {
  google: GmailEmulator;
  provider: MailProvider;
  session: TestSession;
  logger: CapturedLogger;
  reply: ReplyContext;
  /** Copies of the reply the client received. */
  delivered(): number;
  /** Gmail operations Ana's connection made since the scene was set. */
  operations(): string[];
}

async function scene(mode: 'full' | 'metadata', sentMessageIds: 'keep' | 'replace' = 'keep'): Promise<Scene> {
  const google = await startGoogle({ sentMessageIds });
  google.addMailbox({ email: CLIENT });
  const provider = providerFor(google, { mode });
  const logger = capturingLogger();
  // Waits between attempts pass in virtual time.
  const session = await connect(google, provider, ANA, { logger, clock: virtualClock() });
  const original = await google.deliver({ from: `Client <${CLIENT}>`, to: ANA, subject: 'Order 12', text: 'ship?', mailbox: ANA });
  const start = google.log.entries.length;
  return {
    google,
    provider,
    session,
    logger,
    reply: replyTo(original, { subject: 'Order 12', from: { address: CLIENT, name: 'Client' }, to: ANA, text: 'Shipping today.' }),
    delivered: () => google.messages(CLIENT).filter((message) => message.subject === 'Re: Order 12').length,
    operations: () =>
      google.log.entries
        .slice(start)
        .filter((entry) => entry.mailbox === ANA)
        .map((entry) => entry.operation ?? entry.path),
  };
}

describe('a Gmail reply goes out at most once', () => {
  let current: Scene | undefined;
  afterEach(async () => {
    await current?.google.close();
    current = undefined;
  });

  for (const mode of ['full', 'metadata'] as const) {
    describe(`${mode} mode`, () => {
      for (const [what, answer] of [
        ['is lost', 'drop'],
        ['is a 500 although Gmail sent it', 500],
      ] as const) {
        it(`confirms a messages.send whose answer ${what} in the SENT history, and does not send it again`, async () => {
          const { google, provider, session, logger, reply, delivered, operations } = (current = await scene(mode));
          google.failAfter('messages.send', { status: answer });

          const sent = await provider.send(session, reply);

          expect(delivered()).toBe(1);
          expect(operations()).toEqual(['getProfile', 'messages.send', 'history.list', 'messages.get']);
          const [copy] = google.messages(ANA).filter((message) => message.labelIds.includes('SENT'));
          expect(sent).toMatchObject({ providerMessageId: copy?.id, providerThreadId: reply.original.providerThreadId, internetMessageId: copy?.messageId });
          expect(sent.message).toMatchObject({ providerMessageId: copy?.id, folder: 'sent', inReplyTo: reply.original.internetMessageId });
          expect(logger.lines.some((line) => line.includes('send went out although its request failed'))).toBe(true);
        });
      }

      it('sends again after a messages.send Gmail refused unprocessed (nothing new in SENT), and it goes out once', async () => {
        const { google, provider, session, reply, delivered, operations } = (current = await scene(mode));
        google.failNext('messages.send', { status: 503 });

        const sent = await provider.send(session, reply);

        expect(delivered()).toBe(1);
        expect(operations()).toEqual(['getProfile', 'messages.send', 'history.list', 'messages.send', 'messages.get']);
        expect(
          google
            .messages(ANA)
            .filter((message) => message.labelIds.includes('SENT'))
            .map((message) => message.id),
        ).toEqual([sent.providerMessageId]);
      });

      it('does not send again when the connection dropped and SENT shows nothing: the send may still be running', async () => {
        const { google, provider, session, reply, delivered, operations } = (current = await scene(mode));
        google.failNext('messages.send', { status: 'drop' });

        const error = await provider.send(session, reply).catch((caught: unknown) => caught);

        expect(isThreadlinkError(error, 'SEND_UNCONFIRMED')).toBe(true);
        expect(error).toMatchObject({
          retryable: false,
          details: { provider: 'gmail', operation: 'messages.send', failure: 'PROVIDER_UNAVAILABLE', status: null },
        });
        expect((error as Error).message).toContain('may have been sent');
        expect(operations()).toEqual(['getProfile', 'messages.send', 'history.list']);
        expect(delivered()).toBe(0);
      });

      it('retries a throttled messages.send in place: a 429 was not processed', async () => {
        const { google, provider, session, reply, delivered, operations } = (current = await scene(mode));
        google.failNext('messages.send', { status: 429 });
        await provider.send(session, reply);
        expect(delivered()).toBe(1);
        expect(operations()).toEqual(['getProfile', 'messages.send', 'messages.send', 'messages.get']);
      });
    });
  }

  describe('when Gmail replaces the Message-ID it was given', () => {
    it('returns the Message-ID Gmail stored', async () => {
      const { google, provider, session, reply } = (current = await scene('full', 'replace'));
      const sent = await provider.send(session, reply);
      const copy = google.messages(ANA).find((message) => message.id === sent.providerMessageId);
      expect(copy?.messageId).toMatch(/@mail\.gmail\.com>$/);
      expect(sent.internetMessageId).toBe(copy?.messageId);
    });

    it('still finds a send whose answer was lost, by its In-Reply-To, subject and recipients', async () => {
      const { google, provider, session, reply, delivered } = (current = await scene('metadata', 'replace'));
      google.failAfter('messages.send', { status: 'drop' });
      const sent = await provider.send(session, reply);
      expect(delivered()).toBe(1);
      expect(sent.providerMessageId).toBe(google.messages(ANA).find((message) => message.labelIds.includes('SENT'))?.id);
    });

    it('leaves it unconfirmed when two sent copies in that window look alike', async () => {
      const { google, provider, session, reply, delivered } = (current = await scene('full', 'replace'));
      google.failAfter('messages.send', { status: 'drop' });
      // The user answers the same mail from Gmail itself while the CRM's send is on its way: as soon
      // as the adapter has read where history stands, a look-alike reply lands in SENT.
      google.faults.latencyMs = 300;
      const start = google.log.entries.length;
      const sending = provider.send(session, reply).catch((caught: unknown) => caught);
      await vi.waitFor(() => expect(google.log.entries.slice(start).some((entry) => entry.operation === 'getProfile')).toBe(true), {
        timeout: 5_000,
        interval: 5,
      });
      await google.deliver({
        from: ANA,
        to: `Client <${CLIENT}>`,
        subject: 'Re: Order 12',
        text: 'from the phone',
        inReplyTo: reply.original.internetMessageId ?? '',
        threadId: reply.original.providerThreadId,
        mailbox: ANA,
      });
      const error = await sending;
      google.faults.latencyMs = 0;
      expect(isThreadlinkError(error, 'SEND_UNCONFIRMED')).toBe(true);
      expect(delivered()).toBe(1);
    });
  });
});
