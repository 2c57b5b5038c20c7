// A new message from a CRM record ("New email" on a work order): sent from the connection's own
// address, at most once (the adapter runs it through sendOnce, as replies), stored at once under
// the provider's id so the record's timeline shows it before the provider's change feed brings
// the same row back, and linked to the records the user composed it from with rule `manual` —
// which, like any manual link, passes down the thread, so the client's answer lands on the same
// record. The body goes to the provider and is dropped: never stored, logged or emitted.
import type { ComposeInput, ComposeResult } from '../api.js';
import { checkScope, type CoreContext } from '../context.js';
import { ComposeDraft, RecordRef, type RecordLink } from '../domain/schemas.js';
import { ThreadlinkError } from '../errors.js';
import { assertReplyHasContent } from './reply-content.js';

/** A message linked to more records than this is a mistake of the host, not a user's choice. */
const MAX_LINKS = 20;

export function createCompose(context: CoreContext): (input: ComposeInput) => Promise<ComposeResult> {
  const { store, engine, clock } = context;
  return async function send(input) {
    const { tenantId, userId, as, connectionId, links: linkInput, ...draftInput } = input;
    const scope = checkScope({ tenantId, userId, as });
    const parsed = ComposeDraft.safeParse(draftInput);
    if (!parsed.success) {
      throw new ThreadlinkError('INVALID_INPUT', `Invalid message: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
    }
    const draft = parsed.data;
    assertReplyHasContent(draft);
    const records = RecordRef.array()
      .max(MAX_LINKS)
      .safeParse(linkInput ?? []);
    if (!records.success) throw new ThreadlinkError('INVALID_INPUT', `links: at most ${MAX_LINKS} records, each { type, id }`);
    // Sending speaks as the mailbox: its owner's (or an admin's) act, even when the mailbox is shared.
    const connection = await context.connectionFor(connectionId, scope, 'own');
    const provider = context.providerOf(connection.provider);
    if (!provider.compose) throw new ThreadlinkError('INVALID_INPUT', `The ${provider.id} provider cannot send new messages`);
    const session = await context.sessionFor(connection);
    const sent = await provider.compose(session, draft);
    if (!sent.message) {
      // The provider sent it without saying under which id (Outlook with Mail.Send alone): it is
      // stored when it syncs back, and only then can it be linked.
      return { message: null, links: [], providerMessageId: sent.providerMessageId, internetMessageId: sent.internetMessageId };
    }
    await engine.commit(connection, [{ type: 'upsert', message: sent.message }], {});
    const stored = await store.getMessageByProviderId(connection.id, sent.message.providerMessageId);
    if (!stored) throw new ThreadlinkError('INTERNAL', 'The sent message was not stored');
    const now = clock.now();
    const links: RecordLink[] = [];
    for (const record of records.data) {
      const link: RecordLink = {
        messageId: stored.id,
        record,
        rule: 'manual',
        reason: `composed by ${scope.userId ?? 'an admin'}`,
        confidence: 1,
        manual: true,
        suppressed: false,
        createdAt: now,
      };
      await store.saveManualLink(scope.tenantId, link);
      links.push(link);
    }
    const message = links.length > 0 ? ((await store.getMessageByProviderId(connection.id, sent.message.providerMessageId)) ?? stored) : stored;
    return { message, links, providerMessageId: sent.providerMessageId, internetMessageId: sent.internetMessageId };
  };
}
