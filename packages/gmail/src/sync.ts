// Incremental sync: history.list from the stored historyId, then masked metadata for every message
// the history touched. Re-reading the message (rather than replaying label deltas) gives the
// current labels and folder in one step and makes replays idempotent.
import type { gmail_v1 } from '@googleapis/gmail';
import type { Change, ListedMessage, ProviderSession, PullOptions, PullResult } from '@threadlink/core/provider';
import { ThreadlinkError } from '@threadlink/core/provider';
import { withGmail, type GmailClient, type GmailContext } from './client.js';
import { fetchMessages, type FetchedMessages } from './fetch-messages.js';
import { dispositionOf, toProviderMessageOrSkip } from './metadata.js';

/** history.list's maximum page size. */
const HISTORY_PAGE_SIZE = 500;
/** Messages re-read per pull; past this the pull returns hasMore and the engine commits and pulls again. */
const MAX_MESSAGES_PER_PULL = 500;
const HISTORY_TYPES = ['messageAdded', 'messageDeleted', 'labelAdded', 'labelRemoved'];
/** history.list's fixed parameters, encoded once: only ids, nothing about a message's content. */
const HISTORY_QUERY = (() => {
  const query = new URLSearchParams();
  for (const type of HISTORY_TYPES) query.append('historyTypes', type);
  query.set('maxResults', String(HISTORY_PAGE_SIZE));
  query.set(
    'fields',
    'history(id,messagesAdded/message(id,threadId),messagesDeleted/message/id,labelsAdded/message(id,threadId),labelsRemoved/message(id,threadId)),nextPageToken,historyId',
  );
  return query.toString();
})();

function historyQuery(cursor: string, pageToken: string | undefined): string {
  const query = new URLSearchParams({ startHistoryId: cursor });
  if (pageToken !== undefined) query.set('pageToken', pageToken);
  return `${query.toString()}&${HISTORY_QUERY}`;
}

interface Touched {
  /** Message ids in first-seen order; the value is true once the history says it was deleted. */
  messages: Map<string, boolean>;
  /** The thread of each message the history names with one (not the deleted ones). */
  threads: Map<string, string>;
  nextCursor: string;
  hasMore: boolean;
}

function record(touched: Touched, message: gmail_v1.Schema$Message | undefined, deleted: boolean): void {
  if (!message?.id) return;
  touched.messages.set(message.id, deleted || touched.messages.get(message.id) === true);
  if (message.threadId) touched.threads.set(message.id, message.threadId);
}

async function readHistory(client: GmailClient, cursor: string): Promise<Touched> {
  const touched: Touched = { messages: new Map(), threads: new Map(), nextCursor: cursor, hasMore: false };
  const { messages } = touched;
  let pageToken: string | undefined;
  for (;;) {
    let page: gmail_v1.Schema$ListHistoryResponse;
    try {
      const query = historyQuery(cursor, pageToken);
      page = await client.call('history.list', (request) => client.get<gmail_v1.Schema$ListHistoryResponse>('history', query, request));
    } catch (error) {
      // Gmail keeps history for about a week, sometimes only hours; an older start id is a 404.
      if (error instanceof ThreadlinkError && error.code === 'NOT_FOUND') {
        throw new ThreadlinkError('CURSOR_EXPIRED', 'Gmail no longer has history from the stored historyId; a full resync is needed', {
          cause: error,
          details: { provider: 'gmail' },
        });
      }
      throw error;
    }
    for (const entry of page.history ?? []) {
      for (const added of entry.messagesAdded ?? []) record(touched, added.message, false);
      for (const changed of [...(entry.labelsAdded ?? []), ...(entry.labelsRemoved ?? [])]) record(touched, changed.message, false);
      for (const deleted of entry.messagesDeleted ?? []) record(touched, deleted.message, true);
    }
    const lastRecordId = page.history?.at(-1)?.id;
    if (page.nextPageToken && messages.size >= MAX_MESSAGES_PER_PULL && lastRecordId) {
      // Stop at a page boundary: history after the last record we read is exactly what the next pull gets.
      return { ...touched, nextCursor: String(lastRecordId), hasMore: true };
    }
    if (!page.nextPageToken) {
      if (!page.historyId) throw new ThreadlinkError('PROVIDER_ERROR', 'history.list returned no historyId', { details: { provider: 'gmail' } });
      return { ...touched, nextCursor: String(page.historyId), hasMore: false };
    }
    pageToken = page.nextPageToken;
  }
}

function toChanges(client: GmailClient, touched: Map<string, boolean>, fetched: FetchedMessages): { changes: Change[]; newestChangeAt?: number } {
  const changes: Change[] = [];
  let newestChangeAt: number | undefined;
  for (const [id, deleted] of touched) {
    const message = deleted ? null : fetched.get(id);
    // Deleted in history, gone by now (404), or moved to the trash: all remove the row.
    if (!message || dispositionOf(message.labelIds) === 'deleted') {
      changes.push({ type: 'delete', providerMessageId: id });
      continue;
    }
    if (dispositionOf(message.labelIds) === 'skip') continue;
    const mapped = toProviderMessageOrSkip(message, client.session);
    if (!mapped) continue;
    newestChangeAt = Math.max(newestChangeAt ?? 0, mapped.receivedAt);
    changes.push({ type: 'upsert', message: mapped });
  }
  return newestChangeAt === undefined ? { changes } : { changes, newestChangeAt };
}

/**
 * The live messages the history named with their thread. history.list's messages "typically only have
 * id and threadId fields populated" (https://developers.google.com/workspace/gmail/api/reference/rest/v1/users.history/list):
 * one named without a thread is left out, and its page then commits as without a prepared transaction.
 */
function listedOf(touched: Touched, live: readonly string[]): ListedMessage[] {
  return live.flatMap((providerMessageId) => {
    const providerThreadId = touched.threads.get(providerMessageId);
    return providerThreadId === undefined ? [] : [{ providerMessageId, providerThreadId }];
  });
}

/** Real-time pulls draw on the mailbox's quota before back-fill does (see rate-limit.ts). */
export function pullChanges({ options, quota }: GmailContext, session: ProviderSession, cursor: string, pull?: PullOptions): Promise<PullResult> {
  return withGmail(options, session, quota.lane(session, 'live'), async (client) => {
    const touched = await readHistory(client, cursor);
    const live = [...touched.messages].filter(([, deleted]) => !deleted).map(([id]) => id);
    // The page's ids and threads, before messages.get: core opens the page's commit meanwhile.
    if (live.length > 0) pull?.onListed?.(listedOf(touched, live));
    const fetched = live.length > 0 ? await fetchMessages(client, live) : new Map();
    const result = toChanges(client, touched.messages, fetched);
    session.logger.debug('gmail history pulled', {
      connectionId: session.connection.id,
      touched: touched.messages.size,
      changes: result.changes.length,
      hasMore: touched.hasMore,
    });
    return { ...result, nextCursor: touched.nextCursor, hasMore: touched.hasMore };
  });
}
