// @threadlink/gmail — the Gmail MailProvider: users.watch + Pub/Sub push, history sync,
// masked metadata reads, paced back-fill, body on demand and in-thread replies.
import type { MailProvider } from '@threadlink/core';
import { authorizeUrl, exchangeCode, revoke } from './auth.js';
import { fullSync } from './backfill.js';
import { fetchBody } from './body.js';
import { createPushVerifier } from './notifications.js';
import { parseGmailOptions, scopesFor, type GmailProviderOptions } from './options.js';
import { send } from './send.js';
import { renew, stopWatch, subscribe } from './subscribe.js';
import { createQuotaPacing } from './quota.js';
import { pullChanges } from './sync.js';

export type { GmailProviderOptions } from './options.js';
export { SCOPES as GMAIL_SCOPES } from './options.js';

export function gmailProvider(input: GmailProviderOptions): MailProvider {
  const options = parseGmailOptions(input);
  const pacing = createQuotaPacing(options);
  const push = createPushVerifier(options);
  return {
    id: 'gmail',
    describe: () => ({ scopes: scopesFor(options.mode), mode: options.mode }),
    authorizeUrl: (authorize) => authorizeUrl(options, authorize),
    exchangeCode: (exchange) => exchangeCode(options, exchange),
    revoke: (session) => revoke(options, session),
    subscribe: (session) => subscribe(options, session),
    renew: (session) => renew(options, session),
    unsubscribe: (session) => stopWatch(options, session),
    handleWebhook: (request, route, context) => push.handle(request, route, context),
    pullChanges: (session, cursor) => pullChanges(options, pacing.realtime, session, cursor),
    fullSync: (session, resume, syncOptions) => fullSync(options, pacing.backfill, session, resume, syncOptions),
    fetchBody: (session, providerMessageId) => fetchBody(options, session, providerMessageId),
    send: (session, reply) => send(options, session, reply),
  };
}
