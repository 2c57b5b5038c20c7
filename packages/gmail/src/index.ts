// @threadlink/gmail — the Gmail MailProvider: users.watch + Pub/Sub push, history sync,
// masked metadata reads, paced back-fill, body on demand and in-thread replies. This file only
// wires: each operation lives in the file named for it and takes the instance's GmailContext.
import { bindProvider, type MailProvider } from '@threadlink/core/provider';
import { fetchAttachment } from './attachment.js';
import { authorizeUrl, exchangeCode, revoke } from './auth.js';
import { fullSync } from './backfill.js';
import { fetchBody } from './body.js';
import { compose } from './compose.js';
import { forward } from './forward.js';
import type { GmailContext } from './client.js';
import { listLabels } from './labels.js';
import { createPushVerifier, handleWebhook } from './notifications.js';
import { parseGmailOptions, type GmailProviderOptions } from './options.js';
import { organizationSupport } from './org.js';
import { createQuotaBudgets } from './rate-limit.js';
import { send } from './send.js';
import { renew, subscribe, unsubscribe } from './subscribe.js';
import { pullChanges } from './sync.js';

export type { GmailProviderOptions } from './options.js';
export { SCOPES as GMAIL_SCOPES } from './options.js';
/** The scopes a Workspace admin lists for the service account's client id (domain-wide delegation), per mode. */
export { adminConsoleScopes as gmailAdminConsoleScopes } from './delegation.js';

export function gmailProvider(input: GmailProviderOptions): MailProvider {
  const options = parseGmailOptions(input);
  // One quota budget per mailbox for every call (rate-limit.ts).
  const context: GmailContext = { options, quota: createQuotaBudgets(options), pushVerifier: createPushVerifier(options) };
  const provider = bindProvider('gmail', context, {
    authorizeUrl,
    exchangeCode,
    revoke,
    subscribe,
    renew,
    unsubscribe,
    handleWebhook,
    pullChanges,
    fullSync,
    listLabels,
    fetchBody,
    fetchAttachment,
    send,
    compose,
    forward,
  });
  // One watch per mailbox + Cloud project (developers.google.com/workspace/gmail/api/guides/push):
  // the same address connected twice shares it, and users.stop would end it for both.
  // Organization mailboxes (domain-wide delegation) take the same operations with session.grant set.
  // fullSync compares stored labels with per-label id listings after an expired history (backfill.ts).
  return { ...provider, pushChannel: 'mailbox', resyncComparesLabels: true, organization: organizationSupport(context) };
}
