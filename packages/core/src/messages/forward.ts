// Forwarding a stored message with its original attachments, from the mailbox that holds it (its
// owner's or an admin's act): sent at most once by the adapter (sendOnce), stored at once under
// the provider's id and linked to the records the user forwards it for, like a composed message.
// Gmail has no forward call, so its adapter rebuilds the MIME from the original fetched on
// demand; Graph forwards server-side. The note and the files are never stored, logged or emitted.
import type { ComposeResult, ForwardInput } from '../api.js';
import { checkScope, type CoreContext } from '../context.js';
import { ForwardDraft, RecordRef, type RecordLink } from '../domain/schemas.js';
import { ThreadlinkError } from '../errors.js';

const MAX_LINKS = 20;

export function createForward(context: CoreContext): (messageId: string, input: ForwardInput) => Promise<ComposeResult> {
  const { store, engine, clock } = context;
  return async function forward(messageId, input) {
    const { tenantId, userId, as, links: linkInput, ...draftInput } = input;
    const scope = checkScope({ tenantId, userId, as });
    const parsed = ForwardDraft.safeParse(draftInput);
    if (!parsed.success) {
      throw new ThreadlinkError('INVALID_INPUT', `Invalid forward: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
    }
    const records = RecordRef.array()
      .max(MAX_LINKS)
      .safeParse(linkInput ?? []);
    if (!records.success) throw new ThreadlinkError('INVALID_INPUT', `links: at most ${MAX_LINKS} records, each { type, id }`);
    const { message: original, connection } = await context.messageFor(messageId, scope, 'own');
    const provider = context.providerOf(connection.provider);
    if (!provider.forward) throw new ThreadlinkError('INVALID_INPUT', `The ${provider.id} provider cannot forward messages`);
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
      draft: parsed.data,
    });
    if (!sent.message) return { message: null, links: [], providerMessageId: sent.providerMessageId, internetMessageId: sent.internetMessageId };
    await engine.commit(connection, [{ type: 'upsert', message: sent.message }], {});
    const stored = await store.getMessageByProviderId(connection.id, sent.message.providerMessageId);
    if (!stored) throw new ThreadlinkError('INTERNAL', 'The forwarded message was not stored');
    const links: RecordLink[] = [];
    for (const record of records.data) {
      const link: RecordLink = {
        messageId: stored.id,
        record,
        rule: 'manual',
        reason: `forwarded by ${scope.userId ?? 'an admin'}`,
        confidence: 1,
        manual: true,
        suppressed: false,
        createdAt: clock.now(),
      };
      await store.saveManualLink(scope.tenantId, link);
      links.push(link);
    }
    const message = links.length > 0 ? ((await store.getMessageByProviderId(connection.id, sent.message.providerMessageId)) ?? stored) : stored;
    return { message, links, providerMessageId: sent.providerMessageId, internetMessageId: sent.internetMessageId };
  };
}
