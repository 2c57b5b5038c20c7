// Replies from the user's own address, composed by nodemailer's MailComposer (no hand-built MIME).
// Gmail threads a sent message when threadId is set, In-Reply-To/References name the original and
// the Subject matches (developers.google.com/workspace/gmail/api/guides/sending#threads).
import type { Participant, ProviderSession, ReplyContext, SentMessage } from '@threadlink/core';
import { ThreadlinkError, replySubject } from '@threadlink/core';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { withGmail } from './client.js';
import { fetchMessages } from './fetch-messages.js';
import { toProviderMessage } from './metadata.js';
import type { ResolvedGmailOptions } from './options.js';
import type { QuotaBudgets } from './quota.js';

function format(participant: Participant): string | { name: string; address: string } {
  return participant.name ? { name: participant.name, address: participant.address } : participant.address;
}

/**
 * Who gets the reply: Reply-To, else the sender; when the original is the user's own message,
 * its recipients. Reply-all adds the other To/Cc. The user's own address is never a recipient.
 */
export function replyRecipients(reply: ReplyContext, accountEmail: string): { to: Participant[]; cc: Participant[] } {
  const self = accountEmail.toLowerCase();
  const { original, draft } = reply;
  const ownMessage = original.from?.address === self;
  const primary = ownMessage ? original.to : original.replyTo.length > 0 ? original.replyTo : original.from ? [original.from] : [];
  const seen = new Set<string>([self]);
  const take = (list: Participant[]): Participant[] =>
    list.filter((participant) => {
      if (seen.has(participant.address)) return false;
      seen.add(participant.address);
      return true;
    });
  const to = take(primary);
  const others = draft.replyAll ? [...(ownMessage ? [] : original.to), ...original.cc] : [];
  const cc = take([...others, ...(draft.cc ?? []).map((address) => ({ address }))]);
  return { to, cc };
}

export async function send(options: ResolvedGmailOptions, quota: QuotaBudgets, session: ProviderSession, reply: ReplyContext): Promise<SentMessage> {
  const { original, draft } = reply;
  if (!draft.text && !draft.html) throw new ThreadlinkError('INVALID_INPUT', 'A reply needs text or html');
  const accountEmail = session.connection.accountEmail;
  const { to, cc } = replyRecipients(reply, accountEmail);
  if (to.length === 0 && cc.length === 0) throw new ThreadlinkError('INVALID_INPUT', 'The original message has no one to reply to');
  const references = [...original.references, ...(original.internetMessageId ? [original.internetMessageId] : [])];
  const composer = new MailComposer({
    from: session.connection.displayName ? { name: session.connection.displayName, address: accountEmail } : accountEmail,
    to: to.map(format),
    ...(cc.length > 0 ? { cc: cc.map(format) } : {}),
    subject: replySubject(original.subject),
    ...(original.internetMessageId ? { inReplyTo: original.internetMessageId } : {}),
    ...(references.length > 0 ? { references } : {}),
    ...(draft.text === undefined ? {} : { text: draft.text }),
    ...(draft.html === undefined ? {} : { html: draft.html }),
    ...(draft.attachments === undefined
      ? {}
      : {
          attachments: draft.attachments.map((attachment) => ({
            filename: attachment.filename,
            content: Buffer.from(attachment.content),
            ...(attachment.contentType === undefined ? {} : { contentType: attachment.contentType }),
          })),
        }),
  });
  const mime = composer.compile();
  const internetMessageId = mime.messageId();
  const raw = (await mime.build()).toString('base64url');

  // A user is waiting on the reply: it draws on the mailbox's quota ahead of back-fill.
  return withGmail(options, session, quota.lane(session, 'live'), async (client) => {
    // Not idempotent: only a throttled (never executed) send is retried; a 5xx may have been sent.
    const sent = await client.call(
      'messages.send',
      (request) => client.api.users.messages.send({ userId: 'me', fields: 'id,threadId', requestBody: { raw, threadId: original.providerThreadId } }, request),
      { retry: 'rate-limit-only' },
    );
    session.logger.info('gmail reply sent', { connectionId: session.connection.id });
    const result: SentMessage = { providerMessageId: sent.id ?? null, providerThreadId: sent.threadId ?? null, internetMessageId };
    if (!sent.id) return result;
    try {
      // The sent copy's metadata now, so the timeline shows it before the push round-trip.
      const message = (await fetchMessages(client, [sent.id])).get(sent.id);
      return message ? { ...result, message: toProviderMessage(message, accountEmail) } : result;
    } catch (error) {
      session.logger.debug('gmail sent copy not readable yet', { connectionId: session.connection.id, error });
      return result;
    }
  });
}
