// What a new message and a forward do once the provider sent them: store the sent copy at once
// under the provider's id (the synced-back copy is the same row) and link it to the records the
// user sent it from, with rule `manual` — which, like any manual link, passes down the thread.
import type { ComposeResult, Scope } from '../api.js';
import type { CoreContext } from '../context.js';
import { RecordRef, type Connection, type RecordLink } from '../domain/schemas.js';
import { ThreadlinkError } from '../errors.js';
import type { SentMessage } from '../ports/mail-provider.js';

/** A message linked to more records than this is a mistake of the host, not a user's choice. */
const MAX_LINKS = 20;

export function parseLinks(input: unknown): RecordRef[] {
  const records = RecordRef.array()
    .max(MAX_LINKS)
    .safeParse(input ?? []);
  if (!records.success) throw new ThreadlinkError('INVALID_INPUT', `links: at most ${MAX_LINKS} records, each { type, id }`);
  return records.data;
}

export async function storeAndLink(
  context: CoreContext,
  connection: Connection,
  sent: SentMessage,
  records: RecordRef[],
  scope: Scope,
  verb: 'composed' | 'forwarded',
): Promise<ComposeResult> {
  const { store, engine, clock } = context;
  const ids = { providerMessageId: sent.providerMessageId, internetMessageId: sent.internetMessageId };
  // The provider sent it without saying under which id (Outlook with Mail.Send alone): it is
  // stored when it syncs back, and only then can it be linked.
  if (!sent.message) return { message: null, links: [], ...ids };
  await engine.commit(connection, [{ type: 'upsert', message: sent.message }], {});
  const stored = await store.getMessageByProviderId(connection.id, sent.message.providerMessageId);
  if (!stored) throw new ThreadlinkError('INTERNAL', 'The sent message was not stored');
  const now = clock.now();
  const links: RecordLink[] = [];
  for (const record of records) {
    const link: RecordLink = {
      messageId: stored.id,
      record,
      rule: 'manual',
      reason: `${verb} by ${scope.userId ?? 'an admin'}`,
      confidence: 1,
      manual: true,
      suppressed: false,
      createdAt: now,
    };
    await store.saveManualLink(scope.tenantId, link);
    links.push(link);
  }
  const message = links.length > 0 ? ((await store.getMessageByProviderId(connection.id, sent.message.providerMessageId)) ?? stored) : stored;
  return { message, links, ...ids };
}
