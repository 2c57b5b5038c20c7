// Replies from the user's own address, composed by nodemailer's MailComposer (no hand-built MIME).
// Gmail threads a sent message when threadId is set, In-Reply-To/References name the original and
// the Subject matches (developers.google.com/workspace/gmail/api/guides/sending#threads).
//
// messages.send is not idempotent: every request that Gmail carries out sends the mail. It is
// retried on throttling only (refused unprocessed); after a 5xx or a lost answer core's sendOnce
// asks findSent below whether it went out before anything is sent again.
import { Readable } from 'node:stream';
import type { gmail_v1 } from '@googleapis/gmail';
import type { ProviderMessage, ProviderSession, ReplyContext, SendCheck, SentMessage } from '@threadlink/core/provider';
import { normalizeSubject, providerAnswered, replyRecipients, replySubject, sendOnce, ThreadlinkError } from '@threadlink/core/provider';
import { backoffOptions, withGmail, type GmailClient, type GmailContext } from './client.js';
import { classifyGoogleError } from './errors.js';
import { fetchMessages } from './fetch-messages.js';
import { toProviderMessage } from './metadata.js';
import { buildMime } from './mime.js';

/** Attempts at one reply, the first included; another one is made only when the last surely did not go out. */
const SEND_ATTEMPTS = 3;
/** History pages read when looking for a failed send (a few seconds of one mailbox's history). */
const MAX_HISTORY_PAGES = 5;
/**
 * messages.send takes a message of up to 35 MB, through its /upload URI only
 * (developers.google.com/workspace/gmail/api/reference/rest/v1/users.messages/send, "Maximum file
 * size: 35MB"); the plain JSON request (`raw` in the body) is refused with 413 at a few MB. Up to
 * 3 MB of MIME (4 MB as base64 in JSON) goes as JSON, more as a multipart media upload.
 */
const MAX_MESSAGE_BYTES = 35 * 1024 * 1024;
const MAX_JSON_MIME_BYTES = 3 * 1024 * 1024;

/** What the message looks like in the Sent copy, for findSent. */
export interface SentShape {
  internetMessageId: string;
  inReplyTo: string | null;
  subject: string;
  to: string[];
}

export async function send(context: GmailContext, session: ProviderSession, reply: ReplyContext): Promise<SentMessage> {
  const { original, draft } = reply;
  const { to, cc } = replyRecipients(reply, session.connection.accountEmail);
  if (to.length === 0 && cc.length === 0) throw new ThreadlinkError('INVALID_INPUT', 'The original message has no one to reply to');
  const references = [...original.references, ...(original.internetMessageId ? [original.internetMessageId] : [])];
  const subject = replySubject(original.subject);
  const { mime, messageId } = await buildMime(session, {
    to,
    cc,
    subject,
    inReplyTo: original.internetMessageId,
    references,
    text: draft.text,
    html: draft.html,
    attachments: draft.attachments,
  });
  const shape: SentShape = { internetMessageId: messageId, inReplyTo: original.internetMessageId, subject, to: to.map((participant) => participant.address) };
  return sendRaw(context, session, { mime, threadId: original.providerThreadId, shape, what: 'reply' });
}

/** One composed message (its MIME bytes) sent at most once; `threadId` null for a new conversation. */
export async function sendRaw(
  { options, quota }: GmailContext,
  session: ProviderSession,
  outgoing: { mime: Buffer; threadId: string | null; shape: SentShape; what: 'reply' | 'message' | 'forward' },
): Promise<SentMessage> {
  const { mime, threadId, shape } = outgoing;
  if (mime.byteLength > MAX_MESSAGE_BYTES) {
    throw new ThreadlinkError('PAYLOAD_TOO_LARGE', `The message is ${mime.byteLength} bytes encoded, over Gmail's 35 MB limit`, {
      details: { provider: 'gmail', size: mime.byteLength, maxBytes: MAX_MESSAGE_BYTES },
    });
  }
  const thread = threadId === null ? {} : { threadId };
  // Built per attempt: the client reads the media as a stream, which one attempt consumes.
  const request = (): gmail_v1.Params$Resource$Users$Messages$Send =>
    mime.byteLength > MAX_JSON_MIME_BYTES
      ? { userId: 'me', fields: 'id,threadId', requestBody: thread, media: { mimeType: 'message/rfc822', body: Readable.from([mime]) } }
      : { userId: 'me', fields: 'id,threadId', requestBody: { raw: mime.toString('base64url'), ...thread } };
  // A user is waiting on the mail: it draws on the mailbox's quota ahead of back-fill.
  return withGmail(options, session, quota.lane(session, 'live'), async (client) => {
    // Where the mailbox's history stands before the first attempt: a failed send is looked for after it.
    const { historyId } = await client.call('getProfile', (request) => client.api.users.getProfile({ userId: 'me', fields: 'historyId' }, request));
    const result = await sendOnce({
      provider: 'gmail',
      operation: 'messages.send',
      attempt: async () => {
        const sent = await client.call(
          'messages.send',
          (call) =>
            // The generated method builds its /upload URL from the per-call rootUrl only, not the client's.
            client.api.users.messages.send(request(), { ...call, rootUrl: options.apiRootUrl }),
          { retry: 'rate-limit-only' },
        );
        return sentResult(client, sent.id ?? null, sent.threadId ?? null, shape.internetMessageId);
      },
      check: (failure) => findSent(client, historyId ?? null, shape, failure),
      classify: (error) => classifyGoogleError(error, session.clock.now()),
      attempts: SEND_ATTEMPTS,
      backoff: backoffOptions(options),
      clock: session.clock,
      signal: session.signal,
      logger: session.logger,
      logFields: { connectionId: session.connection.id },
    });
    session.logger.info(`gmail ${outgoing.what} sent`, { connectionId: session.connection.id });
    return result;
  });
}

/**
 * The result for a sent copy, with its metadata read now so the timeline shows it before the push
 * round-trip — and so the Message-ID is the one Gmail stored, which may not be the one we wrote.
 */
async function sentResult(client: GmailClient, id: string | null, threadId: string | null, composedMessageId: string): Promise<SentMessage> {
  const result: SentMessage = { providerMessageId: id, providerThreadId: threadId, internetMessageId: composedMessageId };
  if (!id) return result;
  const { session } = client;
  try {
    const fetched = (await fetchMessages(client, [id])).get(id);
    if (!fetched) return result;
    const message = toProviderMessage(fetched, session.connection.accountEmail);
    return { ...result, internetMessageId: message.internetMessageId ?? composedMessageId, message };
  } catch (error) {
    session.logger.debug('gmail sent copy not readable yet', { connectionId: session.connection.id, error });
    return result;
  }
}

/**
 * After a failed messages.send: did it go out? Gmail files what it sends under SENT as part of
 * the send, so the mailbox's history since just before the attempt holds it if it went out. Ours is
 * the copy with our Message-ID — or, since Gmail may replace the Message-ID on send, the one copy
 * with our In-Reply-To, subject and recipients (only a near-identical reply the user sent from
 * another client in the same seconds could look alike; two such copies are left unsettled).
 * Nothing added to SENT means not sent only once Gmail answered the failed request itself; after a
 * lost connection or a gateway timeout the send may still be running.
 */
async function findSent(client: GmailClient, startHistoryId: string | null, shape: SentShape, failure: ThreadlinkError): Promise<SendCheck<SentMessage>> {
  if (!startHistoryId) return { outcome: 'unknown' };
  const added = await sentSince(client, startHistoryId);
  if (added === null) return { outcome: 'unknown' };
  if (added.length === 0) return providerAnswered(failure) ? { outcome: 'not-sent' } : { outcome: 'unknown' };
  const accountEmail = client.session.connection.accountEmail;
  const copies: ProviderMessage[] = [];
  for (const message of (await fetchMessages(client, added)).values()) {
    if (message) copies.push(toProviderMessage(message, accountEmail));
  }
  const wanted = [...shape.to].sort().join(',');
  const ours =
    copies.find((copy) => copy.internetMessageId === shape.internetMessageId) ??
    only(
      copies.filter(
        (copy) =>
          copy.inReplyTo === shape.inReplyTo &&
          normalizeSubject(copy.subject) === normalizeSubject(shape.subject) &&
          copy.to
            .map((participant) => participant.address)
            .sort()
            .join(',') === wanted,
      ),
    );
  if (!ours) return { outcome: 'unknown' };
  return {
    outcome: 'sent',
    result: { providerMessageId: ours.providerMessageId, providerThreadId: ours.providerThreadId, internetMessageId: ours.internetMessageId, message: ours },
  };
}

function only<T>(items: T[]): T | undefined {
  return items.length === 1 ? items[0] : undefined;
}

/** Ids of messages added under SENT since `startHistoryId`; null when there is more history than a failed send explains. */
async function sentSince(client: GmailClient, startHistoryId: string): Promise<string[] | null> {
  const ids = new Set<string>();
  let pageToken: string | undefined;
  for (let page = 0; page < MAX_HISTORY_PAGES; page += 1) {
    const answer: gmail_v1.Schema$ListHistoryResponse = await client.call('history.list', (request) =>
      client.api.users.history.list(
        {
          userId: 'me',
          startHistoryId,
          labelId: 'SENT',
          historyTypes: ['messageAdded'],
          fields: 'history(messagesAdded/message/id),nextPageToken',
          ...(pageToken === undefined ? {} : { pageToken }),
        },
        request,
      ),
    );
    for (const entry of answer.history ?? []) {
      for (const added of entry.messagesAdded ?? []) if (added.message?.id) ids.add(added.message.id);
    }
    if (!answer.nextPageToken) return [...ids];
    pageToken = answer.nextPageToken;
  }
  return null;
}
