// Full listing for back-fill and for resync after CURSOR_EXPIRED: messages.list newest first,
// then masked metadata in batches, paced to a share of the per-user quota.
//
// Quota: 15,000 units per user per minute ≈ 250/s; messages.list and messages.get cost 5 each,
// getProfile 1 (developers.google.com/workspace/gmail/api/reference/quota). The limiter is a token
// bucket refilled at share × 250 units/s whose burst is the remaining (1 − share) × 250, so no
// one-second window can exceed the quota (burst + rate ≤ 250) and real-time pulls keep their
// share; each batch is sized to fit in that burst (5 messages at the defaults).
import type { FullSyncOptions, FullSyncPage, ProviderMessage, ProviderSession } from '@threadlink/core';
import { RateLimiter } from '@threadlink/core';
import { withGmail } from './client.js';
import { fetchMessages } from './fetch-messages.js';
import { dispositionOf, toProviderMessage } from './metadata.js';
import type { ResolvedGmailOptions } from './options.js';

const UNITS = { getProfile: 1, 'messages.list': 5, 'messages.get': 5 } as const;
const DEFAULT_PAGE_SIZE = 100;
/** messages.list's maximum. */
const MAX_PAGE_SIZE = 500;
const BACKFILL_BATCHES_IN_FLIGHT = 4;

export interface BackfillPacing {
  limiterFor(session: ProviderSession): RateLimiter;
  /** Messages per batch request so one request never needs more than the bucket holds. */
  readonly batchSize: number;
}

/** One bucket per connection for the provider's lifetime: pages of one back-fill share it. */
export function createBackfillPacing(options: ResolvedGmailOptions): BackfillPacing {
  const rate = options.quotaUnitsPerSecond * options.backfillQuotaShare;
  const burst = Math.max(UNITS['messages.get'], options.quotaUnitsPerSecond - rate);
  const limiters = new Map<string, RateLimiter>();
  return {
    batchSize: Math.max(1, Math.min(options.batchSize, Math.floor(burst / UNITS['messages.get']))),
    limiterFor(session) {
      let limiter = limiters.get(session.connection.id);
      if (!limiter) {
        limiter = new RateLimiter(rate, burst, () => session.clock.now(), (ms) => session.clock.sleep(ms, session.signal));
        limiters.set(session.connection.id, limiter);
      }
      return limiter;
    },
  };
}

export function fullSync(
  options: ResolvedGmailOptions,
  pacing: BackfillPacing,
  session: ProviderSession,
  resume: string | null,
  syncOptions: FullSyncOptions,
): Promise<FullSyncPage> {
  const limiter = pacing.limiterFor(session);
  return withGmail({ ...options, batchSize: pacing.batchSize }, session, async (client) => {
    let cursor: string | undefined;
    if (resume === null) {
      // Read the historyId *before* listing: incremental sync from it covers everything that
      // changes while the listing runs (re-reads are idempotent upserts).
      await limiter.take(UNITS.getProfile);
      const profile = await client.call('getProfile', (request) => client.api.users.getProfile({ userId: 'me', fields: 'historyId' }, request));
      if (profile.historyId) cursor = String(profile.historyId);
    }
    const since = syncOptions.since;
    await limiter.take(UNITS['messages.list']);
    const page = await client.call('messages.list', (request) =>
      client.api.users.messages.list(
        {
          userId: 'me',
          maxResults: Math.min(MAX_PAGE_SIZE, Math.max(1, syncOptions.pageSize ?? DEFAULT_PAGE_SIZE)),
          // Trash counts as deleted; drafts are filtered after the read (list has no label exclusion without `q`).
          includeSpamTrash: false,
          fields: 'messages/id,nextPageToken,resultSizeEstimate',
          // gmail.metadata refuses `q`, so the window is applied by date below in that mode.
          ...(since !== undefined && options.mode === 'full' ? { q: `after:${Math.floor(since / 1000)}` } : {}),
          ...(resume === null ? {} : { pageToken: resume }),
        },
        request,
      ),
    );
    const ids = (page.messages ?? []).map((message) => message.id).filter((id): id is string => typeof id === 'string');
    const fetched = await fetchMessages(client, ids, {
      beforeRequest: (calls) => limiter.take(calls * UNITS['messages.get']),
      // Small batches at ~9/s: four in flight keep the pace at a few hundred ms per round trip.
      batchConcurrency: BACKFILL_BATCHES_IN_FLIGHT,
    });

    const messages: ProviderMessage[] = [];
    let reachedWindowStart = false;
    for (const id of ids) {
      const message = fetched.get(id);
      if (!message || dispositionOf(message.labelIds) !== 'keep') continue;
      const mapped = toProviderMessage(message, session.connection.accountEmail);
      if (since !== undefined && mapped.receivedAt < since) {
        // The listing is newest first, so everything after this is older than the window too.
        reachedWindowStart = true;
        continue;
      }
      messages.push(mapped);
    }
    const next = reachedWindowStart ? null : (page.nextPageToken ?? null);
    session.logger.debug('gmail back-fill page', { connectionId: session.connection.id, listed: ids.length, kept: messages.length, more: next !== null });
    return {
      messages,
      next,
      ...(typeof page.resultSizeEstimate === 'number' ? { estimatedTotal: page.resultSizeEstimate } : {}),
      ...(cursor === undefined ? {} : { cursor }),
    };
  });
}
