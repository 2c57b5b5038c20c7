// Full listing for back-fill and for resync after CURSOR_EXPIRED: messages.list newest first,
// then masked metadata in small batches, on the back-fill lane of the mailbox's quota: it takes
// what real-time calls leave (see rate-limit.ts). A resync passes the ids it stores (`known`): then
// the listing runs at messages.list's maximum of 500 ids for 5 units (0.01 unit per stored message)
// and only ids not stored are read (5 units each), so a daily reconciliation of a 50,000-message
// mailbox costs about 500 units instead of about 250,000.
import type { FullSyncOptions, FullSyncPage, ProviderMessage, ProviderSession } from '@threadlink/core/provider';
import { withGmail, type GmailContext } from './client.js';
import { fetchMessages } from './fetch-messages.js';
import { dispositionOf, toProviderMessageOrSkip } from './metadata.js';

const DEFAULT_PAGE_SIZE = 100;
/** messages.list's maximum. */
const MAX_PAGE_SIZE = 500;

function listingQuery(since: number | undefined): string {
  return ['-in:trash', '-in:draft', ...(since === undefined ? [] : [`after:${Math.floor(since / 1000)}`])].join(' ');
}

export function fullSync(
  { options, quota }: GmailContext,
  session: ProviderSession,
  resume: string | null,
  syncOptions: FullSyncOptions,
): Promise<FullSyncPage> {
  return withGmail(options, session, quota.lane(session, 'backfill'), async (client) => {
    let cursor: string | undefined;
    if (resume === null) {
      // Read the historyId *before* listing: incremental sync from it covers everything that
      // changes while the listing runs (re-reads are idempotent upserts).
      const profile = await client.call('getProfile', (request) => client.api.users.getProfile({ userId: 'me', fields: 'historyId' }, request));
      if (profile.historyId) cursor = String(profile.historyId);
    }
    const since = syncOptions.since;
    const known = syncOptions.known;
    const page = await client.call('messages.list', (request) =>
      client.api.users.messages.list(
        {
          userId: 'me',
          // Ids only cost the same 5 units per page whatever its size: list as many as Gmail allows.
          maxResults: known ? MAX_PAGE_SIZE : Math.min(MAX_PAGE_SIZE, Math.max(1, syncOptions.pageSize ?? DEFAULT_PAGE_SIZE)),
          // Spam is synced (folder 'spam', as pulls do), so a resync must list it too or would delete it.
          includeSpamTrash: true,
          fields: 'messages/id,nextPageToken,resultSizeEstimate',
          // Trash counts as deleted and drafts are not synced: skip both in the listing where `q` is
          // allowed. gmail.metadata refuses `q`, so there they are dropped after the read and the
          // window is applied by date below.
          ...(options.mode === 'full' ? { q: listingQuery(since) } : {}),
          ...(resume === null ? {} : { pageToken: resume }),
        },
        request,
      ),
    );
    const ids = (page.messages ?? []).map((message) => message.id).filter((id): id is string => typeof id === 'string');
    const unchanged = known ? ids.filter((id) => known.has(id)) : [];
    const toRead = known ? ids.filter((id) => !known.has(id)) : ids;
    const fetched = toRead.length > 0 ? await fetchMessages(client, toRead, { batchConcurrency: options.backfillConcurrency }) : new Map();

    const messages: ProviderMessage[] = [];
    let reachedWindowStart = false;
    for (const id of toRead) {
      const message = fetched.get(id);
      if (!message || dispositionOf(message.labelIds) !== 'keep') continue;
      const mapped = toProviderMessageOrSkip(message, session);
      if (!mapped) continue;
      if (since !== undefined && mapped.receivedAt < since) {
        // The listing is newest first, so everything after this is older than the window too.
        reachedWindowStart = true;
        continue;
      }
      messages.push(mapped);
    }
    const next = reachedWindowStart ? null : (page.nextPageToken ?? null);
    session.logger.debug('gmail back-fill page', {
      connectionId: session.connection.id,
      listed: ids.length,
      read: toRead.length,
      kept: messages.length,
      more: next !== null,
    });
    return {
      messages,
      next,
      ...(known ? { unchanged } : {}),
      ...(typeof page.resultSizeEstimate === 'number' ? { estimatedTotal: page.resultSizeEstimate } : {}),
      ...(cursor === undefined ? {} : { cursor }),
    };
  });
}
