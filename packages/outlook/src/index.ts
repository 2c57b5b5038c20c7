// @threadlink/outlook — the MailProvider for Outlook / Microsoft 365 over Microsoft Graph:
// change notifications per folder, delta sync, back-fill newest first, body on demand and
// in-conversation replies. This file only wires: each operation lives in the file named for it
// and takes the instance's OutlookContext.
import { bindProvider, type MailProvider } from '@threadlink/core/provider';
import { fetchAttachment } from './attachment.js';
import { authorizeUrl, createOutlookAuth, exchangeCode, revoke } from './auth.js';
import { fullSync } from './backfill.js';
import { fetchBody } from './body.js';
import type { OutlookContext } from './client.js';
import { listLabels } from './labels.js';
import { handleWebhook } from './notifications.js';
import { organizationSupport } from './org.js';
import { parseOutlookOptions, type OutlookProviderOptions } from './options.js';
import { MailboxGates } from './rate-limit.js';
import { compose, forward, send } from './send.js';
import { renew, subscribe, unsubscribe } from './subscribe.js';
import { pullChanges } from './sync.js';

export type { OutlookProviderOptions } from './options.js';
export { scopesFor } from './auth.js';

export function outlookProvider(input: OutlookProviderOptions): MailProvider {
  const options = parseOutlookOptions(input);
  // One concurrency gate per mailbox for every call (rate-limit.ts).
  const context: OutlookContext = { options, auth: createOutlookAuth(options), gates: new MailboxGates() };
  const provider = bindProvider('outlook', context, {
    authorizeUrl,
    exchangeCode,
    revoke,
    subscribe,
    renew,
    unsubscribe,
    // Verification is local (clientState hashes on the stored connections): no instance state needed.
    handleWebhook: (_context, request, route, webhook) => handleWebhook(request, route, webhook),
    pullChanges,
    fullSync,
    listLabels,
    fetchBody,
    fetchAttachment,
    send,
    compose,
    forward,
  });
  // Microsoft 365 organizations: admin consent + client credentials (org.ts).
  // fullSync compares each stored message's folder with the folder whose delta lists it (backfill.ts).
  return { ...provider, resyncComparesLabels: true, organization: organizationSupport(context) };
}
