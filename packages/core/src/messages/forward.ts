// Forwarding a stored message with its original attachments, from the mailbox that holds it (its
// owner's or an admin's act): sent at most once by the adapter (sendOnce), stored at once under
// the provider's id and linked to the records the user forwards it for, like a composed message
// (sent-links.ts). Gmail has no forward call, so its adapter rebuilds the MIME from the original
// fetched on demand; Graph forwards server-side. The note and the files are never stored, logged
// or emitted.
import type { ComposeResult, ForwardInput } from '../api.js';
import { checkScope, type CoreContext } from '../context.js';
import { ForwardDraft } from '../domain/schemas.js';
import { ThreadlinkError } from '../errors.js';
import { parseDraftWithFiles } from './outgoing-attachments.js';
import { parseLinks, storeAndLink } from './sent-links.js';

export function createForward(context: CoreContext): (messageId: string, input: ForwardInput) => Promise<ComposeResult> {
  return async function forward(messageId, input) {
    const { tenantId, userId, as, links: linkInput, maxAttachmentBytes, attachments, ...draftInput } = input;
    const scope = checkScope({ tenantId, userId, as });
    const records = parseLinks(linkInput);
    const { message: original, connection } = await context.messageFor(messageId, scope, 'own');
    const provider = context.providerOf(connection.provider);
    if (!provider.forward) throw new ThreadlinkError('INVALID_INPUT', `The ${provider.id} provider cannot forward messages`);
    const draft = await parseDraftWithFiles(ForwardDraft, draftInput, attachments, maxAttachmentBytes, 'forward');
    const session = await context.sessionFor(connection);
    const sent = await provider.forward(session, {
      original: {
        providerMessageId: original.providerMessageId,
        providerThreadId: original.providerThreadId,
        internetMessageId: original.internetMessageId,
        references: original.references,
        subject: original.subject,
        from: original.from,
        to: original.to,
        cc: original.cc,
        replyTo: original.replyTo,
        sentAt: original.sentAt,
        attachments: original.attachments,
      },
      draft,
    });
    return storeAndLink(context, connection, sent, records, scope, 'forwarded');
  };
}
