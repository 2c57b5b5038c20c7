// Replies go through POST /me/messages/{id}/reply (or /replyAll): Exchange builds the
// In-Reply-To/References headers and the "RE:" subject, keeps the conversation, sends from the
// user's own mailbox and saves the copy to Sent Items — with Mail.Send alone (createReply +
// send would need Mail.ReadWrite). https://learn.microsoft.com/graph/api/message-reply
import { ThreadlinkError, type ReplyContext, type SentMessage } from '@threadlink/core';
import type { GraphSession } from './client.js';

/** /reply takes the whole request inline; Graph caps a request at 4 MB, and base64 adds a third. */
const MAX_INLINE_ATTACHMENT_BYTES = 3 * 1024 * 1024;

function replyBody(reply: ReplyContext): Record<string, unknown> {
  const { draft } = reply;
  if (draft.text === undefined && draft.html === undefined) throw new ThreadlinkError('INVALID_INPUT', 'A reply needs text or html');
  const attachments = draft.attachments ?? [];
  const attachmentBytes = attachments.reduce((sum, attachment) => sum + attachment.content.byteLength, 0);
  if (attachmentBytes > MAX_INLINE_ATTACHMENT_BYTES) {
    throw new ThreadlinkError('PAYLOAD_TOO_LARGE', 'Reply attachments over 3 MB need an upload session, which needs Mail.ReadWrite');
  }
  const cc = draft.cc ?? [];
  // `comment` is the simple form; a body type other than the default, Cc or attachments need
  // `message`. Graph answers 400 if both carry a body, so exactly one is sent.
  if (draft.html === undefined && cc.length === 0 && attachments.length === 0) return { comment: draft.text ?? '' };
  const body = draft.html !== undefined ? { contentType: 'html', content: draft.html } : { contentType: 'text', content: draft.text ?? '' };
  return {
    message: {
      body,
      ...(cc.length > 0 ? { ccRecipients: cc.map((address) => ({ emailAddress: { address } })) } : {}),
      ...(attachments.length > 0
        ? {
            attachments: attachments.map((attachment) => ({
              '@odata.type': '#microsoft.graph.fileAttachment',
              name: attachment.filename,
              contentType: attachment.contentType ?? 'application/octet-stream',
              contentBytes: Buffer.from(attachment.content).toString('base64'),
            })),
          }
        : {}),
    },
  };
}

export async function sendReply(graph: GraphSession, reply: ReplyContext): Promise<SentMessage> {
  const action = reply.draft.replyAll ? 'replyAll' : 'reply';
  await graph.post(`/me/messages/${encodeURIComponent(reply.original.providerMessageId)}/${action}`, replyBody(reply));
  // 202 with no body: the sent copy's ids are not known yet. It lands in Sent Items in the
  // same conversation and arrives through delta sync like any other message.
  return { providerMessageId: null, providerThreadId: reply.original.providerThreadId, internetMessageId: null };
}
