// Replying in a message's thread. The sent message is stored at once (optimistically) so the
// timeline shows it before the provider's change feed brings it back as the same row.
import type { ReplyInput } from '../api.js';
import { checkScope, type CoreContext } from '../context.js';
import { ReplyDraft as ReplyDraftSchema, type MessageMeta } from '../domain/schemas.js';
import { randomId } from '../util/clock.js';
import { keepThreadingHeaders, replySubject } from '../util/headers.js';
import { replyRecipients } from '../util/reply-recipients.js';
import { readOutgoingAttachments } from './outgoing-attachments.js';
import { assertReplyHasContent } from './reply-content.js';

export function createReply(context: CoreContext): (messageId: string, input: ReplyInput) => Promise<MessageMeta> {
  const { store, engine, clock } = context;
  return async function reply(messageId, input) {
    const { tenantId, userId, as, maxAttachmentBytes, attachments, ...draftInput } = input;
    const scope = checkScope({ tenantId, userId, as });
    assertReplyHasContent(ReplyDraftSchema.parse(draftInput));
    // Sending speaks as the mailbox: its owner's (or an admin's) act, even when the mailbox is shared.
    const { message, connection } = await context.messageFor(messageId, scope, 'own');
    const files = await readOutgoingAttachments(attachments, maxAttachmentBytes);
    const draft = ReplyDraftSchema.parse({ ...draftInput, ...(files === undefined ? {} : { attachments: files }) });
    const session = await context.sessionFor(connection);
    const sent = await context.providerOf(connection.provider).send(session, {
      original: {
        providerMessageId: message.providerMessageId,
        providerThreadId: message.providerThreadId,
        internetMessageId: message.internetMessageId,
        references: message.references,
        subject: message.subject,
        from: message.from,
        to: message.to,
        cc: message.cc,
        replyTo: message.replyTo,
      },
      draft,
    });
    const now = clock.now();
    const inReplyTo = message.internetMessageId;
    const references = [...message.references, ...(inReplyTo ? [inReplyTo] : [])];
    if (sent.message) {
      // Optimistic: stored now under the provider's id, so the synced-back copy is the same row.
      // A sent copy may not show its threading headers (Graph's Sent Items copy has none); they
      // are what we just sent, and the store keeps them when the synced-back copy lacks them too,
      // so the timeline can order a reply stamped in its original's second (Graph dates to the second).
      await engine.commit(connection, [{ type: 'upsert', message: keepThreadingHeaders(sent.message, { inReplyTo, references }) }], {});
      const stored = await store.getMessageByProviderId(connection.id, sent.message.providerMessageId);
      if (stored) return stored;
    }
    // The same recipients the adapter sent to (one rule for core and every adapter).
    const recipients = replyRecipients({ original: message, draft }, connection.accountEmail);
    return engine.toMeta(
      connection,
      {
        providerMessageId: sent.providerMessageId ?? `pending-${randomId(12)}`,
        providerThreadId: sent.providerThreadId ?? message.providerThreadId,
        internetMessageId: sent.internetMessageId,
        inReplyTo,
        references,
        subject: replySubject(message.subject),
        from: { address: connection.accountEmail, ...(connection.displayName ? { name: connection.displayName } : {}) },
        to: recipients.to,
        cc: recipients.cc,
        bcc: [],
        replyTo: [],
        sentAt: now,
        receivedAt: now,
        direction: 'outbound',
        folder: 'sent',
        labels: [],
        attachments: (draft.attachments ?? []).map((attachment) => ({
          name: attachment.filename,
          mimeType: attachment.contentType ?? null,
          size: attachment.content.byteLength,
        })),
        hasAttachments: (draft.attachments ?? []).length > 0,
      },
      now,
    );
  };
}
