// A new message from a CRM record ("New email" on a work order): sent from the connection's own
// address, at most once (the adapter runs it through sendOnce, as replies), stored at once under
// the provider's id so the record's timeline shows it before the provider's change feed brings
// the same row back, and linked to the records the user composed it from (sent-links.ts) — so
// the client's answer lands on the same record. The body and the files go to the provider and are
// dropped: never stored, logged or emitted.
import type { ComposeInput, ComposeResult } from '../api.js';
import { checkScope, type CoreContext } from '../context.js';
import { ComposeDraft } from '../domain/schemas.js';
import { ThreadlinkError } from '../errors.js';
import { parseDraftWithFiles } from './outgoing-attachments.js';
import { assertReplyHasContent } from './reply-content.js';
import { parseLinks, storeAndLink } from './sent-links.js';

export function createCompose(context: CoreContext): (input: ComposeInput) => Promise<ComposeResult> {
  return async function send(input) {
    const { tenantId, userId, as, connectionId, links: linkInput, maxAttachmentBytes, attachments, ...draftInput } = input;
    const scope = checkScope({ tenantId, userId, as });
    const records = parseLinks(linkInput);
    // Sending speaks as the mailbox: its owner's (or an admin's) act, even when the mailbox is shared.
    const connection = await context.connectionFor(connectionId, scope, 'own');
    const provider = context.providerOf(connection.provider);
    if (!provider.compose) throw new ThreadlinkError('INVALID_INPUT', `The ${provider.id} provider cannot send new messages`);
    assertReplyHasContent(draftInput);
    const draft = await parseDraftWithFiles(ComposeDraft, draftInput, attachments, maxAttachmentBytes, 'message');
    const session = await context.sessionFor(connection);
    return storeAndLink(context, connection, await provider.compose(session, draft), records, scope, 'composed');
  };
}
