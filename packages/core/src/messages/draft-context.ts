// What a reply composer (or an assistant drafting a reply) needs about one message: the message,
// the part of its thread the user may see, and the body fetched now.
import type { DraftContext, Scope } from '../api.js';
import type { CoreContext } from '../context.js';
import { listThread } from '../store/reads.js';
import type { ReadBody } from './body.js';

export function createDraftContext(context: CoreContext, body: ReadBody): (messageId: string, scope: Scope) => Promise<DraftContext> {
  return async function draftContext(messageId, scope) {
    const { message } = await context.messageFor(messageId, scope);
    const thread = await listThread(context.store, scope.tenantId, message.threadId, (await context.visibleConnectionIds(scope)) ?? undefined);
    return { message, thread, body: await body(messageId, scope) };
  };
}
