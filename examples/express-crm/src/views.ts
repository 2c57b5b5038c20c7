// What the page gets for a message and a connection: the stored metadata it displays, links
// with their reasons, and nothing internal (tokens stay sealed in the store; bodies never
// appear here — they are fetched on demand by /api/messages/:id/body).
import type { ConnectionHealth } from '@threadlink/core';
import type { LabelRef, PublicConnection, RecordLink, RecordRef, StoredMessage, TimelineThread } from '@threadlink/core';

interface LinkView {
  type: string;
  id: string;
  label: string;
  rule: RecordLink['rule'];
  reason: string;
  confidence: number;
  manual: boolean;
}

export interface MessageView {
  id: string;
  threadId: string;
  connectionId: string;
  provider: StoredMessage['provider'];
  subject: string;
  from: StoredMessage['from'];
  to: StoredMessage['to'];
  cc: StoredMessage['cc'];
  receivedAt: number;
  direction: StoredMessage['direction'];
  folder: StoredMessage['folder'];
  /** Its folder / labels by current name, as chips (Gmail's read/importance/category flags left out). */
  labels: LabelRef[];
  /** `id` opens the file (GET /api/messages/:id/attachments/:attachmentId); null where the provider's scope lists no parts. */
  attachments: Array<{ id: string | null; name: string; size: number | null }>;
  links: LinkView[];
  /** Why this message is on the record being viewed (absent when it came in as part of a whole thread). */
  match: LinkView | null;
}

const linkView = (link: RecordLink): LinkView => ({
  type: link.record.type,
  id: link.record.id,
  label: link.record.label ?? link.record.id,
  rule: link.rule,
  reason: link.reason,
  confidence: link.confidence,
  manual: link.manual,
});

// Gmail system labels that are flags or tabs rather than places: not worth a chip on a CRM panel.
const FLAG_LABELS = new Set(['UNREAD', 'IMPORTANT', 'CHAT']);
const shownLabel = (label: LabelRef): boolean => label.kind === 'user' || !(FLAG_LABELS.has(label.id) || label.id.startsWith('CATEGORY_'));

/** `labelRefs` comes with every message tl.timeline / tl.messages return; a just-sent copy has none yet. */
export function messageView(message: StoredMessage & { labelRefs?: LabelRef[] }, record?: RecordRef): MessageView {
  // A user's unlink hides the record; it stays in the store so re-matching cannot bring it back.
  const links = message.links.filter((link) => !link.suppressed);
  const match = record
    ? links.filter((link) => link.record.type === record.type && link.record.id === record.id).sort((a, b) => b.confidence - a.confidence)[0]
    : undefined;
  return {
    id: message.id,
    threadId: message.threadId,
    connectionId: message.connectionId,
    provider: message.provider,
    subject: message.subject,
    from: message.from,
    to: message.to,
    cc: message.cc,
    receivedAt: message.receivedAt,
    direction: message.direction,
    folder: message.folder,
    labels: (message.labelRefs ?? []).filter(shownLabel),
    attachments: message.attachments.map((attachment) => ({ id: attachment.id ?? null, name: attachment.name, size: attachment.size })),
    links: links.map(linkView),
    match: match ? linkView(match) : null,
  };
}

export function threadView(thread: TimelineThread, record?: RecordRef) {
  return {
    threadId: thread.threadId,
    subject: thread.subject,
    lastActivityAt: thread.lastActivityAt,
    messageCount: thread.messageCount,
    participants: thread.participants,
    messages: thread.messages.map((message) => messageView(message, record)),
  };
}

export function connectionView(connection: PublicConnection, health?: ConnectionHealth) {
  return {
    id: connection.id,
    provider: connection.provider,
    accountEmail: connection.accountEmail,
    displayName: connection.displayName,
    status: connection.status,
    /** Set for a mailbox an organization connected (shown in the organization panel, not the header). */
    orgId: connection.orgId ?? null,
    /** 'shared' for a team mailbox (sales@, projects@), 'user' for a person's; null for a user's own connection. */
    mailboxKind: connection.mailboxKind ?? null,
    backfill: {
      state: connection.backfill.state,
      done: connection.backfill.done,
      estimatedTotal: connection.backfill.estimatedTotal,
    },
    health: {
      lastPushAt: connection.health.lastPushAt,
      lastSyncAt: connection.health.lastSyncAt,
      consecutiveErrors: connection.health.consecutiveErrors,
      lastErrorCode: connection.health.lastErrorCode,
      // The SDK's honest verdict: a mailbox that says "live" but has stalled shows as stalled.
      verdict: health?.verdict ?? null,
      reason: health?.reason ?? null,
      syncLagMs: health?.syncLagMs ?? null,
    },
    subscriptionExpiresAt: connection.subscription?.expiresAt ?? null,
    createdAt: connection.createdAt,
  };
}
