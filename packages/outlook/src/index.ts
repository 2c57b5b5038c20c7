// @threadlink/outlook — the MailProvider for Outlook / Microsoft 365 over Microsoft Graph.
import { randomUUID } from 'node:crypto';
import { isThreadlinkError, silentLogger, systemClock, ThreadlinkError, type MailProvider, type ProviderSession } from '@threadlink/core';
import { createOutlookAuth } from './auth.js';
import { fullSync } from './backfill.js';
import { fetchBody } from './body.js';
import { createGraphSession, type GraphSession } from './client.js';
import { handleWebhook } from './notifications.js';
import { OutlookProviderOptions, type OutlookProviderOptionsInput } from './options.js';
import { sendReply } from './send.js';
import { fetchProfile, renew, subscribe, unsubscribe } from './subscribe.js';
import { pullChanges } from './sync.js';
import { MailboxGates } from './throttle.js';

export type { OutlookProviderOptionsInput as OutlookProviderOptions } from './options.js';
export { scopesFor } from './auth.js';

export function outlookProvider(options: OutlookProviderOptionsInput): MailProvider {
  const parsed = OutlookProviderOptions.safeParse(options);
  if (!parsed.success) {
    throw new ThreadlinkError('CONFIG_INVALID', `Invalid outlookProvider options: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  }
  const config = parsed.data;
  const auth = createOutlookAuth(config);
  const gates = new MailboxGates();
  const withAttachments = config.mode === 'full';

  const graphFor = (session: ProviderSession): GraphSession =>
    createGraphSession({
      graphBaseUrl: config.graphBaseUrl,
      tokens: auth.tokenSource(session),
      gates,
      mailbox: session.connection.id,
      clock: session.clock,
      logger: session.logger,
      maxInlineRetryMs: config.maxInlineRetryMs,
      signal: session.signal,
    });

  const context = (session: ProviderSession) => ({ graph: graphFor(session), session, folders: config.folders, pageSize: config.pageSize });

  const unsubscribeUnlessRevoked = async (session: ProviderSession, step: 'revoke' | 'unsubscribe'): Promise<void> => {
    try {
      await unsubscribe({ graph: graphFor(session), session });
    } catch (error) {
      // A dead grant cannot delete anything; the subscriptions lapse within 7 days and their
      // notifications are ignored once the connection is gone. Offboarding must not stall on it.
      if (!isThreadlinkError(error, 'AUTH_REVOKED')) throw error;
      session.logger.warn(`outlook ${step}: grant already invalid; subscriptions will expire on their own`, { connectionId: session.connection.id });
    }
  };

  return {
    id: 'outlook',
    describe: () => ({ scopes: [...auth.scopes], mode: config.mode }),

    authorizeUrl: (input) => auth.authorizeUrl(input),

    async exchangeCode(input) {
      const { tokens, result } = await auth.exchangeCode(input);
      const graph = createGraphSession({
        graphBaseUrl: config.graphBaseUrl,
        tokens: { accessToken: async () => tokens.accessToken },
        gates,
        mailbox: `connect:${randomUUID()}`,
        clock: systemClock,
        logger: silentLogger,
        maxInlineRetryMs: config.maxInlineRetryMs,
      });
      const profile = await fetchProfile(graph);
      return {
        accountEmail: profile.accountEmail,
        displayName: profile.displayName ?? result.account?.name ?? null,
        tokens,
        scopes: result.scopes,
      };
    },

    /**
     * Microsoft has no endpoint that revokes one app's refresh token (RFC 7009 is not offered):
     * deleting the subscriptions is what stops data flowing, and the engine purges the sealed
     * MSAL cache. See the README for what hosts should do (revoke sessions / remove consent).
     */
    revoke: (session) => unsubscribeUnlessRevoked(session, 'revoke'),
    subscribe: (session) => subscribe(context(session)),
    renew: (session) => renew(context(session)),
    unsubscribe: (session) => unsubscribeUnlessRevoked(session, 'unsubscribe'),

    handleWebhook,

    pullChanges: (session, cursor, pullOptions) => pullChanges({ ...context(session), withAttachments }, cursor, pullOptions),
    fullSync: (session, resume, fullSyncOptions) =>
      fullSync({ graph: graphFor(session), session, folders: config.folders, withAttachments }, resume, fullSyncOptions),

    async fetchBody(session, providerMessageId) {
      if (config.mode === 'metadata') {
        throw new ThreadlinkError('INSUFFICIENT_SCOPE', 'Outlook metadata mode holds Mail.ReadBasic only, which cannot read bodies', {
          details: { provider: 'outlook' },
        });
      }
      return fetchBody(graphFor(session), providerMessageId);
    },

    send: (session, reply) =>
      sendReply({ graph: graphFor(session), session, replies: config.replies, folders: config.folders, maxInlineRetryMs: config.maxInlineRetryMs }, reply),
  };
}
