// A message body, fetched from the provider when a user opens it and never stored. The HTML is
// sanitised here whatever the adapter did.
import type { BodyInput } from '../api.js';
import type { CoreContext } from '../context.js';
import type { MessageBody } from '../domain/schemas.js';
import { sanitizeEmailHtml } from '../security/sanitize.js';

export type ReadBody = (messageId: string, scope: BodyInput) => Promise<MessageBody & { messageId: string }>;

export function createBodyRead(context: CoreContext): ReadBody {
  return async function body(messageId, scope) {
    const { message, connection } = await context.messageFor(messageId, scope);
    const session = await context.sessionFor(connection);
    const fetched = await context.providerOf(connection.provider).fetchBody(session, message.providerMessageId);
    // Re-sanitise here too: the guarantee must not depend on every adapter remembering it.
    const html = fetched.html === null ? null : sanitizeEmailHtml(fetched.html, { allowRemoteImages: scope.allowRemoteImages ?? false });
    if (scope.format === 'text') return { messageId, html: null, text: fetched.text, attachments: fetched.attachments };
    return { messageId, html, text: scope.format === 'html' ? null : fetched.text, attachments: fetched.attachments };
  };
}
