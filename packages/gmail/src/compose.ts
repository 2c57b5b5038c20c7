// A new message (no thread) from the user's own address: MIME by mime.ts, sent by messages.send
// without a threadId, at most once (send.ts's sendRaw: sendOnce, and after a failure that may have
// gone out, a look at the SENT history for our Message-ID).
import type { ComposeDraft, ProviderSession, SentMessage } from '@threadlink/core/provider';
import type { GmailContext } from './client.js';
import { buildMime } from './mime.js';
import { sendRaw } from './send.js';

export async function compose(context: GmailContext, session: ProviderSession, draft: ComposeDraft): Promise<SentMessage> {
  const { mime, messageId } = await buildMime(session, draft);
  const shape = { internetMessageId: messageId, inReplyTo: null, subject: draft.subject, to: draft.to.map((participant) => participant.address) };
  return sendRaw(context, session, { mime, threadId: null, shape, what: 'message' });
}
