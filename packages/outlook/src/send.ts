// Replies from the user's own mailbox, in the conversation, two ways:
//
// - Draft + send (`replies: 'draft'`, full mode's default, Mail.ReadWrite granted).
//   POST /me/messages/{id}/createReply (or createReplyAll) has Exchange compose the reply — "RE:"
//   subject, In-Reply-To/References, the original's conversation, the user as sender — as a draft,
//   and POST /me/messages/{draft}/send moves that very item to Sent Items. Every request carries
//   `Prefer: IdType="ImmutableId"` (client.ts), so the draft's id is the id of the sent copy: the
//   reply's id is known at once, as Gmail's is (learn.microsoft.com/graph/outlook-immutable-id,
//   "Immutable ID with sending mail"; /graph/api/message-createreply; /graph/api/message-send).
// - POST /me/messages/{id}/reply (or replyAll) with Mail.Send alone: metadata mode, where
//   Mail.ReadWrite would also grant reading bodies, `replies: 'direct'`, and connections made
//   before full mode asked for Mail.ReadWrite. Graph answers 202 with no body, so the sent copy's id
//   arrives with delta. (/graph/api/message-reply)
//
// Neither send request is repeated blindly (core's sendOnce): a failed /send is settled by the
// draft's state, which Exchange flips when it takes the message; a failed /reply cannot be settled.
import {
  providerAnswered,
  replyRecipients,
  sendOnce,
  ThreadlinkError,
  isThreadlinkError,
  type AttachmentMeta,
  type ComposeDraft,
  type ForwardContext,
  type Participant,
  type ReplyRecipients,
  type ProviderMessage,
  type ProviderSession,
  type ReplyContext,
  type SendCheck,
  type SendOnceOptions,
  type SentMessage,
} from '@threadlink/core/provider';
import { z } from 'zod';
import { grantedScopes, hasScope } from './auth.js';
import { graphFor, type GraphSession, type OutlookContext } from './client.js';
import { classifyGraphError } from './errors.js';
import { METADATA_FIELDS, toProviderMessage, type GraphMessage } from './metadata.js';
import type { ResolvedOutlookOptions } from './options.js';
import { assertAttachmentSizes, MAX_INLINE_ATTACHMENT_BYTES, uploadAttachment } from './upload-session.js';

/** Attempts at one reply, the first included; another one is made only when the last surely did not go out. */
const SEND_ATTEMPTS = 3;

interface SendCall {
  graph: GraphSession;
  session: ProviderSession;
  graphBaseUrl: string;
  excludeFolders: ResolvedOutlookOptions['excludeFolders'];
  maxInlineRetryMs: ResolvedOutlookOptions['maxInlineRetryMs'];
  /** Who gets the reply (core's replyRecipients), named explicitly instead of leaving it to Exchange. */
  recipients: ReplyRecipients;
  /** Through a draft (`replies: 'draft'` and Mail.ReadWrite granted): the sent copy's id is known at once. */
  throughDraft: boolean;
}

/** What every send of one connection shares: its Graph client, its options, and whether it may draft. */
function sendCall(provider: OutlookContext, session: ProviderSession, recipients: ReplyRecipients): SendCall {
  const { options } = provider;
  const granted = grantedScopes(session.tokens(), session.connection.scopes);
  return {
    graph: graphFor(provider, session),
    session,
    graphBaseUrl: options.graphBaseUrl,
    excludeFolders: options.excludeFolders,
    maxInlineRetryMs: options.maxInlineRetryMs,
    recipients,
    throughDraft: options.replies === 'draft' && hasScope(granted, 'Mail.ReadWrite'),
  };
}

type ReplyAttachment = NonNullable<ReplyContext['draft']['attachments']>[number];

function fileAttachment(attachment: ReplyAttachment): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.fileAttachment',
    name: attachment.filename,
    contentType: attachment.contentType ?? 'application/octet-stream',
    contentBytes: Buffer.from(attachment.content).toString('base64'),
  };
}

function graphRecipient(participant: Participant): Record<string, unknown> {
  return { emailAddress: participant.name ? { name: participant.name, address: participant.address } : { address: participant.address } };
}

/**
 * The request body of /reply and /createReply. `comment` is the simple form; a body type other
 * than the default, an extra Cc or inline attachments need `message.body`. Graph answers 400 if
 * both carry a body, so exactly one is sent. The recipients always travel in `message`: Exchange's
 * own choice differs from Gmail's (reply-all puts everyone in To; a reply to one's own sent
 * message goes back to the user), and a CRM reply must reach the same people from either mailbox.
 */
function replyBody(reply: ReplyContext, recipients: ReplyRecipients, attachments: readonly ReplyAttachment[]): Record<string, unknown> {
  const { draft } = reply;
  const addressed = { toRecipients: recipients.to.map(graphRecipient), ccRecipients: recipients.cc.map(graphRecipient) };
  if (draft.html === undefined && (draft.cc ?? []).length === 0 && attachments.length === 0) return { comment: draft.text ?? '', message: addressed };
  const body = draft.html !== undefined ? { contentType: 'html', content: draft.html } : { contentType: 'text', content: draft.text ?? '' };
  return {
    message: {
      body,
      ...addressed,
      ...(attachments.length > 0 ? { attachments: attachments.map(fileAttachment) } : {}),
    },
  };
}

function messagePath(graph: GraphSession, id: string, action?: string): string {
  return `${graph.mailboxPath}/messages/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;
}

/** Sends a reply core has validated (text or html present, see MailProvider.send). */
export async function send(provider: OutlookContext, session: ProviderSession, reply: ReplyContext): Promise<SentMessage> {
  const recipients = replyRecipients(reply, session.connection.accountEmail);
  if (recipients.to.length === 0 && recipients.cc.length === 0) throw new ThreadlinkError('INVALID_INPUT', 'The original message has no one to reply to');
  const context = sendCall(provider, session, recipients);
  if (context.throughDraft) {
    const action = reply.draft.replyAll ? 'createReplyAll' : 'createReply';
    return sendThroughDraft(context, {
      operation: action,
      create: (graph) =>
        graph.post<GraphMessage>(messagePath(graph, reply.original.providerMessageId, action), replyBody(reply, context.recipients, []), {
          retry: 'throttling',
        }),
      attachments: reply.draft.attachments ?? [],
      threadId: reply.original.providerThreadId,
      what: 'reply',
    });
  }
  return sendDirect(context, reply);
}

/**
 * A new message (tl.messages.send). With Mail.ReadWrite: POST /me/messages makes the draft, and
 * its immutable id is the sent copy's, as for replies. With Mail.Send alone: POST /me/sendMail,
 * which answers 202 without an id (learn.microsoft.com/graph/api/user-sendmail), so the message
 * is stored when delta brings it from Sent Items.
 */
export async function compose(provider: OutlookContext, session: ProviderSession, draft: ComposeDraft): Promise<SentMessage> {
  const context = sendCall(provider, session, { to: draft.to, cc: draft.cc });
  const attachments = draft.attachments ?? [];
  const message = {
    subject: draft.subject,
    body: draft.html !== undefined ? { contentType: 'html', content: draft.html } : { contentType: 'text', content: draft.text ?? '' },
    toRecipients: draft.to.map(graphRecipient),
    ccRecipients: draft.cc.map(graphRecipient),
    bccRecipients: draft.bcc.map(graphRecipient),
  };
  if (context.throughDraft) {
    return sendThroughDraft(context, {
      operation: 'POST /messages',
      create: (graph) => graph.post<GraphMessage>(`${graph.mailboxPath}/messages`, message, { retry: 'throttling' }),
      attachments,
      threadId: null,
      what: 'message',
    });
  }
  return sendWithoutId(context, attachments, '/sendMail', () =>
    context.graph.post(`${context.graph.mailboxPath}/sendMail`, {
      message: { ...message, attachments: attachments.map(fileAttachment) },
      saveToSentItems: true,
    }),
  );
}

/**
 * One request that sends and answers 202 without an id (/reply, /forward, /sendMail): the row
 * arrives with delta. A failure that may have gone out cannot be settled: Graph files the copy in
 * Sent Items only after transport, so its absence proves nothing (SEND_UNCONFIRMED).
 */
function sendWithoutId(
  context: SendCall,
  attachments: readonly ReplyAttachment[],
  operation: string,
  request: () => Promise<unknown>,
  threadId: string | null = null,
): Promise<SentMessage> {
  assertAttachmentSizes(attachments, 'inline');
  return sendOnce({
    ...sendSettings(context, operation),
    attempt: async () => {
      await request();
      return { providerMessageId: null, providerThreadId: threadId, internetMessageId: null };
    },
    check: async () => ({ outcome: 'unknown' }),
  });
}

type SendSettings = Omit<SendOnceOptions<SentMessage>, 'attempt' | 'check' | 'abandon'>;

function sendSettings({ session, maxInlineRetryMs }: SendCall, operation: string): SendSettings {
  return {
    provider: 'outlook',
    operation,
    classify: (error) => classifyGraphError(error, session.clock.now()),
    attempts: SEND_ATTEMPTS,
    backoff: { baseMs: 500, maxMs: Math.max(500, maxInlineRetryMs) },
    clock: session.clock,
    signal: session.signal,
    logger: session.logger,
    logFields: { connectionId: session.connection.id },
  };
}

/** /reply or /replyAll with Mail.Send alone (see sendWithoutId). */
function sendDirect(context: SendCall, reply: ReplyContext): Promise<SentMessage> {
  const attachments = reply.draft.attachments ?? [];
  const action = reply.draft.replyAll ? 'replyAll' : 'reply';
  return sendWithoutId(
    context,
    attachments,
    `/${action}`,
    () => context.graph.post(messagePath(context.graph, reply.original.providerMessageId, action), replyBody(reply, context.recipients, attachments)),
    reply.original.providerThreadId,
  );
}

interface DraftSend {
  /** The request that makes the draft, for errors and logs. */
  operation: string;
  /** Makes the draft (createReply, createReplyAll or POST /me/messages); run once per attempt at most. */
  create: (graph: GraphSession) => Promise<GraphMessage>;
  attachments: readonly ReplyAttachment[];
  /** The conversation a reply belongs to; null for a new message (the draft's own conversationId). */
  threadId: string | null;
  what: 'reply' | 'message' | 'forward';
  /** What the sent copy carries when the draft holds more than `attachments` (a forward's originals). */
  sentAttachments?: AttachmentMeta[];
}

/**
 * A forward with the original's attachments: Exchange copies them onto the forward itself
 * (learn.microsoft.com/graph/api/message-createforward, /message-forward), so no byte passes
 * through here. With Mail.ReadWrite: createForward → extra files → send (the draft's immutable id
 * is the sent copy's); with Mail.Send alone: /forward, 202 and no id.
 */
export async function forward(provider: OutlookContext, session: ProviderSession, input: ForwardContext): Promise<SentMessage> {
  const { original, draft } = input;
  const context = sendCall(provider, session, { to: draft.to, cc: draft.cc });
  const attachments = draft.attachments ?? [];
  const addressed = { toRecipients: draft.to.map(graphRecipient), ccRecipients: draft.cc.map(graphRecipient), bccRecipients: draft.bcc.map(graphRecipient) };
  // Graph takes a comment or message.body, never both.
  const body = (extra: readonly ReplyAttachment[]) =>
    draft.html !== undefined
      ? {
          message: {
            ...addressed,
            body: { contentType: 'html', content: draft.html },
            ...(extra.length > 0 ? { attachments: extra.map(fileAttachment) } : {}),
          },
        }
      : { comment: draft.text ?? '', message: { ...addressed, ...(extra.length > 0 ? { attachments: extra.map(fileAttachment) } : {}) } };
  const path = messagePath(context.graph, original.providerMessageId, 'createForward');
  if (context.throughDraft) {
    return sendThroughDraft(context, {
      operation: 'createForward',
      create: (graph) => graph.post<GraphMessage>(path, body([]), { retry: 'throttling' }),
      attachments,
      threadId: null,
      what: 'forward',
      // The forward's copies get ids of their own: the original's are not carried over.
      sentAttachments: [
        ...original.attachments.filter((attachment) => attachment.inline !== true).map(({ name, mimeType, size }) => ({ name, mimeType, size })),
        ...attachments.map(attachmentMeta),
      ],
    });
  }
  return sendWithoutId(context, attachments, '/forward', () =>
    context.graph.post(messagePath(context.graph, original.providerMessageId, 'forward'), body(attachments)),
  );
}

/** Draft → attachments → send; the draft's immutable id is the sent message's id. */
async function sendThroughDraft(context: SendCall, outgoing: DraftSend): Promise<SentMessage> {
  const { graph, session } = context;
  const { attachments } = outgoing;
  // Each attachment is its own request on the draft: a POST under 3 MB, an upload session above.
  assertAttachmentSizes(attachments, 'draft');

  let draft: GraphMessage | undefined;
  // Whether the failed attempt had reached /send; before it, nothing can have gone out.
  let sending = false;

  const sent = (item: GraphMessage): SentMessage => {
    const message = sentMetadata(context, outgoing.sentAttachments ?? attachments.map(attachmentMeta), item, session.clock.now());
    return {
      providerMessageId: item.id,
      providerThreadId: item.conversationId || outgoing.threadId,
      internetMessageId: item.internetMessageId ?? null,
      ...(message ? { message } : {}),
    };
  };

  /** Deletes the draft unless Exchange has taken it: a failed reply leaves nothing in Drafts, and never loses a sent copy. */
  const discardDraft = async (): Promise<void> => {
    const held = draft;
    draft = undefined;
    if (!held) return;
    if ((await draftState(graph, held.id)) === true) await graph.delete(messagePath(graph, held.id));
  };

  const attempt = async (): Promise<SentMessage> => {
    sending = false;
    if (!draft) {
      // Neither request sends, but neither may run twice: a repeated createReply leaves a second
      // draft, a repeated attachment POST attaches the file twice. A failed one starts over.
      const created = await outgoing.create(graph);
      if (typeof created?.id !== 'string' || created.id.length === 0) {
        throw new ThreadlinkError('PROVIDER_ERROR', `Graph ${outgoing.operation} returned no draft id`, { details: { provider: 'outlook' } });
      }
      draft = created;
      for (const attachment of attachments) {
        if (attachment.content.byteLength > MAX_INLINE_ATTACHMENT_BYTES) {
          await uploadAttachment(graph, context.graphBaseUrl, messagePath(graph, created.id), attachment, session.signal);
        } else {
          await graph.post(messagePath(graph, created.id, 'attachments'), fileAttachment(attachment), { retry: 'throttling' });
        }
      }
    }
    sending = true;
    await graph.post(messagePath(graph, draft.id, 'send'), null);
    return sent(draft);
  };

  /**
   * Exchange takes a draft it sends out of Drafts at once (isDraft false), under the same
   * immutable id, so after a failed /send the item decides. Still a draft after an answered
   * failure means the /send is over and did not send: another /send of the same draft goes out
   * once at most, as only a draft can be sent. Still a draft without an answer proves nothing (the
   * /send may still be running) and is left alone.
   */
  const check = async (failure: ThreadlinkError): Promise<SendCheck<SentMessage>> => {
    if (!sending) {
      try {
        await discardDraft();
      } catch (error) {
        session.logger.warn('outlook could not delete the draft of a failed reply', { connectionId: session.connection.id, error });
      }
      return { outcome: 'not-sent' };
    }
    const item = draft;
    if (!item) return { outcome: 'not-sent' };
    const isDraft = await draftState(graph, item.id);
    if (isDraft === false) return { outcome: 'sent', result: sent(item) };
    if (isDraft === true && providerAnswered(failure)) return { outcome: 'not-sent' };
    return { outcome: 'unknown' };
  };

  const result = await sendOnce({ ...sendSettings(context, '/send'), attempt, check, abandon: discardDraft });
  session.logger.info(`outlook ${outgoing.what} sent`, { connectionId: session.connection.id });
  return result;
}

/** The item's isDraft; null when it is gone (deleted, or not readable under this id). */
async function draftState(graph: GraphSession, id: string): Promise<boolean | null> {
  try {
    const item = await graph.get<{ isDraft?: boolean | null }>(`${messagePath(graph, id)}?$select=id,isDraft`);
    return typeof item?.isDraft === 'boolean' ? item.isDraft : null;
  } catch (error) {
    if (isThreadlinkError(error, 'NOT_FOUND')) return null;
    throw error;
  }
}

/**
 * The sent message's metadata now, from the draft Graph returned (the same item, id and
 * conversation), so the timeline shows the reply before delta brings the Sent Items copy, which
 * then updates the same row. Returned only when Sent Items is synced: otherwise no sync would ever
 * confirm the row and the next reconciliation would drop it. Like every Sent Items copy it has no
 * In-Reply-To/References (Graph returns no internetMessageHeaders for them).
 */
function attachmentMeta(attachment: ReplyAttachment): AttachmentMeta {
  return { name: attachment.filename, mimeType: attachment.contentType ?? null, size: attachment.content.byteLength };
}

function sentMetadata(context: SendCall, attachments: AttachmentMeta[], draft: GraphMessage, sentAt: number): ProviderMessage | undefined {
  if (context.excludeFolders.some((entry) => ['sentitems', 'sent items'].includes(entry.toLowerCase()))) return undefined;
  const { session } = context;
  const at = new Date(sentAt).toISOString();
  // The metadata fields only: the draft Graph returned also carries the body.
  const metadata = Object.fromEntries(METADATA_FIELDS.map((field) => [field, draft[field]])) as unknown as GraphMessage;
  try {
    return toProviderMessage({
      message: { ...metadata, sentDateTime: at, receivedDateTime: at, internetMessageHeaders: null },
      folder: 'sent',
      accountEmail: session.connection.accountEmail,
      attachments,
      now: sentAt,
    });
  } catch (error) {
    // Metadata outside the schema: core falls back to its own provisional entry; delta brings the truth.
    session.logger.debug('outlook sent draft metadata outside the schema', {
      connectionId: session.connection.id,
      issues: error instanceof z.ZodError ? error.issues.map((issue) => issue.path.join('.')).join(',') : 'unknown',
    });
    return undefined;
  }
}
