// @threadlink/gmail — the Gmail MailProvider: users.watch + Pub/Sub push, history sync,
// masked metadata reads, paced back-fill, body on demand and in-thread replies. This file only
// wires: each operation lives in the file named for it.
import type { MailProvider } from '@threadlink/core';
import { authorizeUrl, exchangeCode, revoke } from './auth.js';
import { fullSync } from './backfill.js';
import { fetchBody } from './body.js';
import type { GmailContext } from './client.js';
import { createPushVerifier } from './notifications.js';
import { parseGmailOptions, type GmailProviderOptions } from './options.js';
import { createQuotaBudgets } from './rate-limit.js';
import { send } from './send.js';
import { renew, subscribe, unsubscribe } from './subscribe.js';
import { pullChanges } from './sync.js';

export type { GmailProviderOptions } from './options.js';
export { SCOPES as GMAIL_SCOPES } from './options.js';

export function gmailProvider(input: GmailProviderOptions): MailProvider {
  const options = parseGmailOptions(input);
  // One quota budget per mailbox for every call below (rate-limit.ts).
  const context: GmailContext = { options, quota: createQuotaBudgets(options) };
  const push = createPushVerifier(options);
  return {
    id: 'gmail',
    authorizeUrl: (authorize) => authorizeUrl(context, authorize),
    exchangeCode: (exchange) => exchangeCode(context, exchange),
    revoke: (session) => revoke(context, session),
    subscribe: (session) => subscribe(context, session),
    renew: (session) => renew(context, session),
    unsubscribe: (session) => unsubscribe(context, session),
    handleWebhook: (request, route, webhook) => push.handle(request, route, webhook),
    pullChanges: (session, cursor) => pullChanges(context, session, cursor),
    fullSync: (session, resume, syncOptions) => fullSync(context, session, resume, syncOptions),
    fetchBody: (session, providerMessageId) => fetchBody(context, session, providerMessageId),
    send: (session, reply) => send(context, session, reply),
  };
}
