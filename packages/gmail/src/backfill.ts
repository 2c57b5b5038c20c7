// Full listing for back-fill and for resync after CURSOR_EXPIRED: messages.list newest first,
// then masked metadata in small batches, on the back-fill lane of the mailbox's quota: it takes
// what real-time calls leave (see rate-limit.ts). A resync passes the ids it stores (`known`): then
// the listing runs at messages.list's maximum of 500 ids for 5 units (0.01 unit per stored message)
// and only ids not stored are read (5 units each), so a daily reconciliation of a 50,000-message
// mailbox costs about 500 units instead of about 250,000.
//
// After an expired history (404) no pull from a kept cursor follows the listing, so core also passes
// the label ids it stores per message (`knownLabels`). The listing then runs in two steps:
// 1. the id listing above, without Spam and Trash (`includeSpamTrash` off) and, where `q` is allowed
//    (mode 'full'), without the inbox (`-in:inbox`): new messages are read, stored ones are named
//    unchanged; one absent from it and from the labels listed apart below was deleted or trashed;
// 2. one call per compared label — INBOX, SPAM, STARRED and every user label (users.labels.list,
//    1 unit) — lists that label's ids (messages.list `labelIds`, 500 per 5 units) and re-reads only
//    the stored messages whose membership differs from their stored labels. SPAM, and INBOX when
//    step 1 left it out, are "listed apart": their listing stands in for step 1 (new ones read,
//    stored ones named unchanged), so an inbox message's id is listed once, not twice. Archived,
//    moved to or from Spam, relabelled or unstarred in the gap: caught for ids. SENT and DRAFT cannot
//    be added or removed by anyone (developers.google.com/workspace/gmail/api/guides/labels), so
//    they never differ. UNREAD, IMPORTANT and the CATEGORY_* tabs are not compared — listing them
//    would cost several times the mailbox in ids — and keep their stored value until the message
//    changes again (a re-read for another reason refreshes them).
//    A label no stored message carries is first asked for its count (users.labels.get, 1 unit,
//    `messagesTotal`: "the total number of messages with the label"; users.labels.list does not
//    return counts): at 0 there is nothing to list and nothing to re-read, so an empty STARRED, SPAM
//    or user label costs 1 unit instead of a 5-unit empty page. A label stored messages carry is
//    listed directly: it is almost never empty, and if the gap emptied it the empty page still
//    re-reads every stored carrier.
// Cost: 0.01 units per message plus 0.01 per message in a compared label (the inbox's counted once
// in mode 'full'), plus 5 per compared label stored messages carry or Gmail counts messages in, and
// 1 per other compared label.
// Mode 'metadata' pays for the inbox's ids twice (issue 21: 55 units, 0.0275 a message, on the test's
// 2,000-message mailbox). Membership needs a listing with INBOX among its `labelIds`: counts cannot
// stand in, since one message archived and another moved in leave every count as it was. And the
// rest of the mailbox cannot be listed apart: `labelIds` only intersects ("messages with labels that
// match all of the specified label IDs"), so a message archived with only a category, or no label at
// all, shows only in the unfiltered listing or a category's, and those hold the inbox too. Listing
// labels that happen to cover the rest instead would need proof that nothing is left outside them,
// and getProfile's messagesTotal ("the total number of messages in the mailbox") does not say
// whether it counts Spam, Trash and drafts.
import { ThreadlinkError, type FullSyncOptions, type FullSyncPage, type ProviderMessage, type ProviderSession } from '@threadlink/core/provider';
import type { gmail_v1 } from '@googleapis/gmail';
import { withGmail, type GmailClient, type GmailContext } from './client.js';
import { fetchMessages } from './fetch-messages.js';
import { dispositionOf, toProviderMessageOrSkip } from './metadata.js';

const DEFAULT_PAGE_SIZE = 100;
/** messages.list's maximum. */
const MAX_PAGE_SIZE = 500;

/** System labels whose membership a resync after an expired history compares, besides every user label. */
const COMPARED_SYSTEM_LABELS = ['INBOX', 'SPAM', 'STARRED'];

/** Where a resync that compares labels is: the id listing's Gmail page token, or the next label to list. */
interface LabelStep {
  v: 'labels';
  /** The id listing's next page; absent once it is complete. */
  page?: string;
  /** The labels to compare, fixed when the id listing completes. */
  labels?: string[];
  index?: number;
  /** Stored messages already re-read by an earlier label's step. */
  reread?: string[];
}

function decodeStep(resume: string): LabelStep {
  try {
    const step = JSON.parse(resume) as LabelStep;
    if (step.v === 'labels') return step;
  } catch {
    // fall through
  }
  // A token from another version: restart the listing rather than fail forever.
  throw new ThreadlinkError('CURSOR_EXPIRED', 'Unreadable Gmail resync resume token', { details: { provider: 'gmail' } });
}

function listingQuery(since: number | undefined, withoutInbox: boolean): string {
  return ['-in:trash', '-in:draft', ...(withoutInbox ? ['-in:inbox'] : []), ...(since === undefined ? [] : [`after:${Math.floor(since / 1000)}`])].join(' ');
}

/**
 * True when step 1 leaves the label's messages out, so its listing stands in for step 1. Spam always
 * (`includeSpamTrash` off); the inbox where step 1 can say `-in:inbox` (gmail.metadata refuses `q`).
 */
function listedApart(client: GmailClient, label: string): boolean {
  return label === 'SPAM' || (label === 'INBOX' && client.options.mode === 'full');
}

/**
 * Gmail's count of the messages with the label (users.labels.get, 1 unit). A label deleted since
 * the directory was read (404) has none.
 */
async function messagesWithLabel(client: GmailClient, label: string): Promise<number> {
  try {
    const data = await client.call('labels.get', (request) => client.api.users.labels.get({ userId: 'me', id: label, fields: 'messagesTotal' }, request));
    return data.messagesTotal ?? 0;
  } catch (error) {
    if (error instanceof ThreadlinkError && error.code === 'NOT_FOUND') return 0;
    throw error;
  }
}

/** Every id of one label, at 500 ids per 5-unit page. */
async function listLabelIds(client: GmailClient, label: string, includeSpamTrash: boolean): Promise<Set<string>> {
  const ids = new Set<string>();
  let pageToken: string | undefined;
  do {
    const page: gmail_v1.Schema$ListMessagesResponse = await client.call('messages.list', (request) =>
      client.api.users.messages.list(
        {
          userId: 'me',
          labelIds: [label],
          maxResults: MAX_PAGE_SIZE,
          includeSpamTrash,
          fields: 'messages/id,nextPageToken',
          ...(pageToken === undefined ? {} : { pageToken }),
        },
        request,
      ),
    );
    for (const message of page.messages ?? []) if (typeof message.id === 'string') ids.add(message.id);
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken);
  return ids;
}

/** Step 2 of a resync that compares labels: one label's membership against the stored labels. */
async function compareLabel(
  client: GmailClient,
  session: ProviderSession,
  syncOptions: FullSyncOptions,
  knownLabels: ReadonlyMap<string, readonly string[]>,
  step: LabelStep & { labels: string[]; index: number },
): Promise<FullSyncPage> {
  const label = step.labels[step.index] as string;
  let carried = false;
  for (const stored of knownLabels.values()) {
    if (stored.includes(label)) {
      carried = true;
      break;
    }
  }
  // No stored message carries it and Gmail counts none: nothing was added, nothing to list.
  const empty = !carried && (await messagesWithLabel(client, label)) === 0;
  const apart = listedApart(client, label);
  // A starred or labelled message in Spam is still starred: membership, wherever it is. The inbox
  // listed apart names its stored messages present, so it must not name one in the Trash.
  const includeSpamTrash = label !== 'INBOX' || !apart;
  const listed = empty ? new Set<string>() : await listLabelIds(client, label, includeSpamTrash);
  const reread = new Set(step.reread ?? []);
  const toRead: string[] = [];
  const unchanged: string[] = [];
  for (const id of listed) {
    const stored = knownLabels.get(id);
    // Left out of step 1: a new message here is read here, a stored one is still present.
    if (stored === undefined) {
      if (apart) toRead.push(id);
    } else if (!stored.includes(label)) {
      if (!reread.has(id)) toRead.push(id);
    } else if (apart) {
      unchanged.push(id);
    }
  }
  for (const [id, stored] of knownLabels) if (stored.includes(label) && !listed.has(id) && !reread.has(id)) toRead.push(id);
  for (const id of toRead) if (knownLabels.has(id)) reread.add(id);
  const fetched = toRead.length > 0 ? await fetchMessages(client, toRead, { batchConcurrency: client.options.backfillConcurrency }) : new Map();
  const messages: ProviderMessage[] = [];
  for (const id of toRead) {
    const message = fetched.get(id);
    // Deleted or trashed: not returned, so not seen, so removed by the resync (unless step 1 saw it since).
    if (!message || dispositionOf(message.labelIds) !== 'keep') continue;
    const mapped = toProviderMessageOrSkip(message, session);
    if (!mapped || (syncOptions.since !== undefined && mapped.receivedAt < syncOptions.since)) continue;
    messages.push(mapped);
  }
  const index = step.index + 1;
  const next = index < step.labels.length ? JSON.stringify({ ...step, index, reread: [...reread] } satisfies LabelStep) : null;
  session.logger.debug('gmail resync label comparison', {
    connectionId: session.connection.id,
    label,
    countedEmpty: empty,
    listed: listed.size,
    read: toRead.length,
    more: next !== null,
  });
  return { messages, next, unchanged };
}

/** The labels step 2 compares: INBOX, SPAM, STARRED and the mailbox's user labels. */
async function comparedLabels(client: GmailClient): Promise<string[]> {
  const data = await client.call('labels.list', (request) => client.api.users.labels.list({ userId: 'me', fields: 'labels(id,type)' }, request));
  const user = (data.labels ?? []).flatMap((label) => (label.type === 'user' && typeof label.id === 'string' ? [label.id] : []));
  return [...COMPARED_SYSTEM_LABELS, ...user];
}

export function fullSync(
  { options, quota }: GmailContext,
  session: ProviderSession,
  resume: string | null,
  syncOptions: FullSyncOptions,
): Promise<FullSyncPage> {
  return withGmail(options, session, quota.lane(session, 'backfill'), async (client) => {
    const knownLabels = syncOptions.known ? syncOptions.knownLabels : undefined;
    let step: LabelStep | undefined;
    if (knownLabels) {
      step = resume === null ? { v: 'labels' } : decodeStep(resume);
      if (resume !== null && step.page === undefined) {
        const labels = step.labels ?? (await comparedLabels(client));
        return compareLabel(client, session, syncOptions, knownLabels, { ...step, labels, index: step.index ?? 0 });
      }
      resume = step.page ?? null;
    }
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
          // Spam is synced (folder 'spam', as pulls do), so a resync must list it too or would delete it
          // (one comparing labels lists Spam, and in mode 'full' the inbox, by label in step 2, and
          // leaves Trash out here).
          includeSpamTrash: !knownLabels,
          fields: 'messages/id,nextPageToken,resultSizeEstimate',
          // Trash counts as deleted and drafts are not synced: skip both in the listing where `q` is
          // allowed. gmail.metadata refuses `q`, so there they are dropped after the read and the
          // window is applied by date below.
          ...(options.mode === 'full' ? { q: listingQuery(since, knownLabels !== undefined) } : {}),
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
    const listingNext = reachedWindowStart ? null : (page.nextPageToken ?? null);
    // Comparing labels: after the id listing's last page come the label steps.
    const next = step ? JSON.stringify({ v: 'labels', ...(listingNext === null ? {} : { page: listingNext }) } satisfies LabelStep) : listingNext;
    session.logger.debug('gmail back-fill page', {
      connectionId: session.connection.id,
      listed: ids.length,
      read: toRead.length,
      kept: messages.length,
      more: listingNext !== null,
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
