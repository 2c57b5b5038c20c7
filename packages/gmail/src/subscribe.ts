// users.watch / users.stop. A watch lasts 7 days; Google advises re-calling watch daily
// (developers.google.com/workspace/gmail/api/guides/push#renewing_mailbox_watch), so renewAt is
// now + 24 h but never later than one hour before the expiry Google returned.
import type { ProviderSession, SubscribeResult, SubscriptionState } from '@threadlink/core/provider';
import { ThreadlinkError } from '@threadlink/core/provider';
import { withGmail, type GmailContext } from './client.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const EXPIRY_MARGIN_MS = 60 * 60 * 1000;

function subscriptionFor(accountEmail: string, topic: string, expiresAt: number, now: number): SubscriptionState {
  const renewAt = Math.max(now, Math.min(now + DAY_MS, expiresAt - EXPIRY_MARGIN_MS));
  // Gmail has one watch per mailbox, named by the mailbox itself.
  return { items: [{ id: accountEmail, resource: topic, expiresAt }], renewAt, expiresAt };
}

// watch (100 units) and stop (50) are charged like any call and go ahead of back-fill: at connect the
// watch and the first back-fill page share one second of quota.
async function watch({ options, quota }: GmailContext, session: ProviderSession): Promise<SubscribeResult> {
  return withGmail(options, session, quota.lane(session, 'live'), async (client) => {
    // No labelIds: every change (sent mail, archive, label moves) must reach the CRM, not only INBOX.
    const response = await client.call('users.watch', (request) =>
      client.api.users.watch({ userId: 'me', requestBody: { topicName: options.pubsubTopic } }, request),
    );
    const expiresAt = Number(response.expiration);
    if (!response.historyId || !Number.isFinite(expiresAt)) {
      throw new ThreadlinkError('PROVIDER_ERROR', 'users.watch returned no historyId or expiration', { details: { provider: 'gmail' } });
    }
    const now = session.clock.now();
    session.logger.info('gmail subscription active', { connectionId: session.connection.id, expiresAt });
    return { subscription: subscriptionFor(session.connection.accountEmail, options.pubsubTopic, expiresAt, now), cursor: String(response.historyId) };
  });
}

export function subscribe(context: GmailContext, session: ProviderSession): Promise<SubscribeResult> {
  return watch(context, session);
}

/** Re-calling watch on a watched mailbox extends it; the returned historyId is not a cursor to jump to. */
export async function renew(context: GmailContext, session: ProviderSession): Promise<{ subscription: SubscriptionState }> {
  const { subscription } = await watch(context, session);
  return { subscription };
}

export function unsubscribe({ options, quota }: GmailContext, session: ProviderSession): Promise<void> {
  return withGmail(options, session, quota.lane(session, 'live'), async (client) => {
    await client.call('users.stop', (request) => client.api.users.stop({ userId: 'me' }, request));
    session.logger.info('gmail subscription stopped', { connectionId: session.connection.id });
  });
}
