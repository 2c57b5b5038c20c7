// Replies from the user's own mailbox, in the conversation, two ways:
//
// - Draft + send (full mode, Mail.ReadWrite granted). POST /me/messages/{id}/createReply (or
//   createReplyAll) has Exchange compose the reply — "RE:" subject, In-Reply-To/References, the
//   original's conversation, the user as sender — as a draft, and POST /me/messages/{draft}/send
//   moves that very item to Sent Items. Every request carries `Prefer: IdType="ImmutableId"`
//   (client.ts), so the draft's id is the id of the sent copy: the reply's id is known at once, as
//   Gmail's is (learn.microsoft.com/graph/outlook-immutable-id, "Immutable ID with sending mail";
//   /graph/api/message-createreply; /graph/api/message-send).
// - POST /me/messages/{id}/reply (or replyAll) with Mail.Send alone: metadata mode, where
//   Mail.ReadWrite would also grant reading bodies, and connections made before full mode asked
//   for Mail.ReadWrite. Graph answers 202 with no body, so the sent copy's id arrives with delta.
//   (/graph/api/message-reply)
import {
  ThreadlinkError,
  isThreadlinkError,
  type AttachmentMeta,
  type ProviderMessage,
  type ProviderSession,
  type ReplyContext,
  type SentMessage,
} from '@threadlink/core';
import { z } from 'zod';
import { grantedScopes, hasScope } from './auth.js';
import type { GraphSession } from './client.js';
import { METADATA_FIELDS, toProviderMessage, type GraphMessage } from './metadata.js';
import type { OutlookProviderConfig } from './options.js';

/** Graph caps a request at 4 MB and base64 adds a third: inline content stays under 3 MB. */
const MAX_INLINE_ATTACHMENT_BYTES = 3 * 1024 * 1024;

export interface SendContext {
  graph: GraphSession;
  session: ProviderSession;
  mode: OutlookProviderConfig['mode'];
  folders: OutlookProviderConfig['folders'];
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

/**
 * The request body of /reply and /createReply. `comment` is the simple form; a body type other
 * than the default, Cc or inline attachments need `message`. Graph answers 400 if both carry a
 * body, so exactly one is sent.
 */
function replyBody(reply: ReplyContext, attachments: readonly ReplyAttachment[]): Record<string, unknown> {
  const { draft } = reply;
  const cc = draft.cc ?? [];
  if (draft.html === undefined && cc.length === 0 && attachments.length === 0) return { comment: draft.text ?? '' };
  const body = draft.html !== undefined ? { contentType: 'html', content: draft.html } : { contentType: 'text', content: draft.text ?? '' };
  return {
    message: {
      body,
      ...(cc.length > 0 ? { ccRecipients: cc.map((address) => ({ emailAddress: { address } })) } : {}),
      ...(attachments.length > 0 ? { attachments: attachments.map(fileAttachment) } : {}),
    },
  };
}

function messagePath(id: string, action?: string): string {
  return `/me/messages/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;
}

export async function sendReply(context: SendContext, reply: ReplyContext): Promise<SentMessage> {
  if (reply.draft.text === undefined && reply.draft.html === undefined) throw new ThreadlinkError('INVALID_INPUT', 'A reply needs text or html');
  const granted = grantedScopes(context.session.tokens(), context.session.connection.scopes);
  if (context.mode === 'full' && hasScope(granted, 'Mail.ReadWrite')) return sendThroughDraft(context, reply);
  return sendDirect(context, reply);
}

/** /reply: one request, no id back. */
async function sendDirect({ graph }: SendContext, reply: ReplyContext): Promise<SentMessage> {
  const attachments = reply.draft.attachments ?? [];
  const attachmentBytes = attachments.reduce((sum, attachment) => sum + attachment.content.byteLength, 0);
  if (attachmentBytes > MAX_INLINE_ATTACHMENT_BYTES) {
    throw new ThreadlinkError('PAYLOAD_TOO_LARGE', 'Reply attachments over 3 MB need an upload session, which needs Mail.ReadWrite');
  }
  await graph.post(messagePath(reply.original.providerMessageId, reply.draft.replyAll ? 'replyAll' : 'reply'), replyBody(reply, attachments));
  return { providerMessageId: null, providerThreadId: reply.original.providerThreadId, internetMessageId: null };
}

/** createReply → attachments → send; the draft's immutable id is the sent message's id. */
async function sendThroughDraft(context: SendContext, reply: ReplyContext): Promise<SentMessage> {
  const { graph, session } = context;
  const attachments = reply.draft.attachments ?? [];
  // Each attachment is its own request on the draft (POST /messages/{id}/attachments), so the limit is per file.
  const oversized = attachments.find((attachment) => attachment.content.byteLength > MAX_INLINE_ATTACHMENT_BYTES);
  if (oversized) {
    throw new ThreadlinkError('PAYLOAD_TOO_LARGE', `Reply attachment ${oversized.filename} is over 3 MB, which needs an upload session (not supported)`);
  }

  const action = reply.draft.replyAll ? 'createReplyAll' : 'createReply';
  const draft = await graph.post<GraphMessage>(messagePath(reply.original.providerMessageId, action), replyBody(reply, []));
  if (typeof draft?.id !== 'string' || draft.id.length === 0) {
    throw new ThreadlinkError('PROVIDER_ERROR', `Graph ${action} returned no draft id`, { details: { provider: 'outlook' } });
  }
  try {
    for (const attachment of attachments) await graph.post(messagePath(draft.id, 'attachments'), fileAttachment(attachment));
    await graph.post(messagePath(draft.id, 'send'), null);
  } catch (error) {
    await settleFailedSend(context, draft.id, error);
  }
  const sentAt = session.clock.now();
  session.logger.info('outlook reply sent', { connectionId: session.connection.id });
  const message = sentMetadata(context, reply, draft, sentAt);
  return {
    providerMessageId: draft.id,
    providerThreadId: draft.conversationId || reply.original.providerThreadId,
    internetMessageId: draft.internetMessageId ?? null,
    ...(message ? { message } : {}),
  };
}

/**
 * An attachment or /send failed. A 5xx or a dropped connection may still have sent the draft
 * (and /send's retry then finds no draft to send), so the item decides: no longer a draft means
 * it went out. A draft that surely was not sent is deleted, so a failed reply leaves nothing in
 * the user's Drafts; when its state cannot be read it is left alone and the error stands.
 */
async function settleFailedSend({ graph, session }: SendContext, draftId: string, error: unknown): Promise<void> {
  let state: { isDraft?: boolean | null } | null;
  try {
    state = await graph.get<{ isDraft?: boolean | null }>(`${messagePath(draftId)}?$select=id,isDraft`);
  } catch (readError) {
    if (!isThreadlinkError(readError, 'NOT_FOUND')) throw error;
    state = null;
  }
  if (state?.isDraft === false) {
    session.logger.warn('outlook reply went out although a send step failed', { connectionId: session.connection.id });
    return;
  }
  if (state?.isDraft === true) {
    try {
      await graph.delete(messagePath(draftId));
    } catch (deleteError) {
      session.logger.warn('outlook could not delete the draft of a failed reply', { connectionId: session.connection.id, error: deleteError });
    }
  }
  throw error;
}

/**
 * The sent message's metadata now, from the draft Graph returned (the same item, id and
 * conversation), so the timeline shows the reply before delta brings the Sent Items copy, which
 * then updates the same row. Returned only when Sent Items is synced: otherwise no sync would ever
 * confirm the row and the next reconciliation would drop it. Like every Sent Items copy it has no
 * In-Reply-To/References (Graph returns no internetMessageHeaders for them).
 */
function sentMetadata(context: SendContext, reply: ReplyContext, draft: GraphMessage, sentAt: number): ProviderMessage | undefined {
  if (!context.folders.includes('sentitems')) return undefined;
  const { session } = context;
  const attachments: AttachmentMeta[] = (reply.draft.attachments ?? []).map((attachment) => ({
    name: attachment.filename,
    mimeType: attachment.contentType ?? null,
    size: attachment.content.byteLength,
  }));
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
