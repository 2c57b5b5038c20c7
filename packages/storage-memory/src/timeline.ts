// Record timelines from the record-link index: only the record's linked messages and their
// threads are read, never the whole tenant. Keyset paging on (lastActivityAt desc, threadId
// desc) keeps pages stable while new mail arrives: newer threads sort before the cursor.
import { compareIds, keysetPage, parseTimelineQuery, type ThreadPage, type TimelineQuery } from '@threadlink/core/store';
import { indexGet, key, recordIndexKey } from './indexes.js';
import { oldestFirst, storedMessage, type Tables } from './tables.js';

interface Candidate {
  threadId: string;
  lastActivityAt: number;
  messageIds: Set<string>;
}

/** A visibility test from a checked `connectionIds` list (null: every connection of the tenant). */
export function visibleConnections(allowed: string[] | null): (connectionId: string) => boolean {
  if (allowed === null) return () => true;
  const visible = new Set(allowed);
  return (connectionId) => visible.has(connectionId);
}

export function timeline(tables: Tables, input: TimelineQuery): ThreadPage {
  const query = parseTimelineQuery(input);
  const { record, after } = query;
  const visible = visibleConnections(query.connectionIds);
  const { messages, indexes } = tables;

  const linkedByThread = new Map<string, Set<string>>();
  for (const messageId of indexGet(indexes.byRecord, recordIndexKey(query.tenantId, record))) {
    const message = messages.get(messageId);
    if (!message || message.tenantId !== query.tenantId || !visible(message.connectionId)) continue;
    const ids = linkedByThread.get(message.threadId);
    if (ids) ids.add(messageId);
    else linkedByThread.set(message.threadId, new Set([messageId]));
  }

  const candidates: Candidate[] = [];
  for (const [threadId, linkedIds] of linkedByThread) {
    const messageIds = query.wholeThreads ? new Set<string>() : linkedIds;
    if (query.wholeThreads) {
      for (const messageId of indexGet(indexes.byThread, key(query.tenantId, threadId))) {
        const message = messages.get(messageId);
        if (message && visible(message.connectionId)) messageIds.add(messageId);
      }
    }
    let lastActivityAt = 0;
    for (const messageId of messageIds) lastActivityAt = Math.max(lastActivityAt, messages.get(messageId)?.receivedAt ?? 0);
    candidates.push({ threadId, lastActivityAt, messageIds });
  }

  const ordered = candidates
    .filter(
      (candidate) =>
        after === null || candidate.lastActivityAt < after[0] || (candidate.lastActivityAt === after[0] && compareIds(candidate.threadId, after[1]) < 0),
    )
    .sort((left, right) => right.lastActivityAt - left.lastActivityAt || compareIds(right.threadId, left.threadId));
  const page = keysetPage(ordered, query.limit, (candidate) => [candidate.lastActivityAt, candidate.threadId]);
  return {
    threads: page.items.map((candidate) => ({
      threadId: candidate.threadId,
      lastActivityAt: candidate.lastActivityAt,
      messages: oldestFirst(tables, candidate.messageIds).map((message) => storedMessage(tables, message)),
    })),
    next: page.next,
  };
}
