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
import { createQuotaBudgets } from './quota.js';
import { pullChanges } from './sync.js';

export type { GmailProviderOptions } from './options.js';
export { SCOPES as GMAIL_SCOPES } from './options.js';

export function gmailProvider(input: GmailProviderOptions): MailProvider {
  const options = parseGmailOptions(input);
  // One quota budget per mailbox for every call below (quota.ts).
  const quota = createQuotaBudgets(options);
  const push = createPushVerifier(options);
  return {
    id: 'gmail',
    describe: () => ({ scopes: scopesFor(options.mode), mode: options.mode }),
    authorizeUrl: (authorize) => authorizeUrl(options, authorize),
    exchangeCode: (exchange) => exchangeCode(options, exchange),
    revoke: (session) => revoke(options, quota, session),
    subscribe: (session) => subscribe(options, quota, session),
    renew: (session) => renew(options, quota, session),
    unsubscribe: (session) => stopWatch(options, quota, session),
    handleWebhook: (request, route, context) => push.handle(request, route, context),
    pullChanges: (session, cursor) => pullChanges(options, quota, session, cursor),
    fullSync: (session, resume, syncOptions) => fullSync(options, quota, session, resume, syncOptions),
    fetchBody: (session, providerMessageId) => fetchBody(options, quota, session, providerMessageId),
    send: (session, reply) => send(options, quota, session, reply),
  };
}
