// What the CRM panels show: threads for a record (newest activity first, keyset-paginated),
// one thread in order, deduplicated across a tenant's mailboxes by Internet Message-ID (the
// same client mail received by two connected colleagues is one entry).
import type { RecordRef } from '../domain/schemas.js';
import { withLabelNames, type LabeledMessage } from '../labels/names.js';
import type { MetadataStore, StoredMessage, ThreadPage } from '../ports/metadata-store.js';

/** Record types whose panel shows whole threads (people and organisations); others show only linked mail. */
export const DEFAULT_WHOLE_THREAD_TYPES = ['client', 'contact', 'company', 'person', 'organization', 'account', 'lead', 'customer'];

export interface TimelineThread {
  threadId: string;
  subject: string;
  lastActivityAt: number;
  messageCount: number;
  participants: string[];
  /** Oldest first, each with its labels by name (`labelRefs`). */
  messages: LabeledMessage[];
}

export interface TimelineResult {
  threads: TimelineThread[];
  next: string | null;
}

/**
 * Oldest first. Providers often date to the whole second (Graph), so a reply can tie with its
 * original: a message that references more of the thread comes later, then ids break the tie.
 */
export function chronological(a: StoredMessage, b: StoredMessage): number {
  return (
    a.receivedAt - b.receivedAt ||
    Number(a.inReplyTo !== null && a.inReplyTo === b.internetMessageId) - Number(b.inReplyTo !== null && b.inReplyTo === a.internetMessageId) ||
    a.references.length - b.references.length ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

function summarize(threadId: string, lastActivityAt: number, messages: LabeledMessage[]): TimelineThread {
  const ordered = [...messages].sort(chronological);
  const participants = new Set<string>();
  for (const message of ordered) {
    for (const participant of [message.from, ...message.to, ...message.cc]) if (participant) participants.add(participant.address);
  }
  return {
    threadId,
    subject: ordered[0]?.subject ?? '',
    lastActivityAt,
    messageCount: ordered.length,
    participants: [...participants],
    messages: ordered,
  };
}

/** Merges threads that share a message (by Internet Message-ID) and drops the duplicate copies. */
/** A store page whose messages carry their label names. */
interface LabeledThreadPage {
  threads: Array<Omit<ThreadPage['threads'][number], 'messages'> & { messages: LabeledMessage[] }>;
  next: string | null;
}

export function dedupeThreads(page: LabeledThreadPage): TimelineResult {
  const groups: Array<{ threadId: string; lastActivityAt: number; messages: LabeledMessage[]; ids: Set<string> }> = [];
  for (const thread of page.threads) {
    const ids = new Set(thread.messages.map((message) => message.internetMessageId).filter((id): id is string => Boolean(id)));
    const target = groups.find((group) => [...ids].some((id) => group.ids.has(id)));
    if (!target) {
      groups.push({ threadId: thread.threadId, lastActivityAt: thread.lastActivityAt, messages: [...thread.messages], ids });
      continue;
    }
    target.lastActivityAt = Math.max(target.lastActivityAt, thread.lastActivityAt);
    for (const message of thread.messages) {
      if (message.internetMessageId && target.ids.has(message.internetMessageId)) continue;
      target.messages.push(message);
      if (message.internetMessageId) target.ids.add(message.internetMessageId);
    }
  }
  return { threads: groups.map((group) => summarize(group.threadId, group.lastActivityAt, group.messages)), next: page.next };
}

export async function recordTimeline(
  store: MetadataStore,
  input: { tenantId: string; record: RecordRef; connectionIds?: string[]; limit: number; after?: string | null; wholeThreads: boolean },
): Promise<TimelineResult> {
  const page = await store.timeline({
    tenantId: input.tenantId,
    record: input.record,
    wholeThreads: input.wholeThreads,
    limit: input.limit,
    after: input.after ?? null,
    ...(input.connectionIds ? { connectionIds: input.connectionIds } : {}),
  });
  // One directory read for the whole page, whatever its number of threads and mailboxes.
  const labeled = await withLabelNames(
    store,
    input.tenantId,
    page.threads.flatMap((thread) => thread.messages),
  );
  let offset = 0;
  const threads = page.threads.map((thread) => {
    const messages = labeled.slice(offset, offset + thread.messages.length);
    offset += thread.messages.length;
    return { ...thread, messages };
  });
  return dedupeThreads({ threads, next: page.next });
}
