// One emulated Gmail mailbox: messages (raw RFC 2822 + labels), threads, user
// labels and the history log that users.history.list pages through.
//
// History ids grow with random gaps, like Gmail's (ids increase but are not
// contiguous, so a client that does `cursor + 1` arithmetic breaks here too).
// Every change makes one history record and bumps the message's and the
// mailbox's historyId; listeners (the push notifier) hear about each record.
import { attachmentNames, headerValue, parseMime, parseTopHeaders, snippetOf, type HeaderField, type MimePart } from './mime.js';

export interface StoredMessage {
  id: string;
  threadId: string;
  labelIds: string[];
  raw: Buffer;
  internalDate: number;
  historyId: number;
  headers: HeaderField[];
  /** The RFC 5322 Message-ID, angle brackets included. */
  messageIdHeader: string;
  subject: string;
  mime: MimePart;
  snippet: string;
  attachmentNames: string[];
}

export type HistoryKind = 'messageAdded' | 'messageDeleted' | 'labelAdded' | 'labelRemoved';

export interface HistoryRecord {
  id: number;
  kind: HistoryKind;
  message: { id: string; threadId: string; labelIds: string[] };
  /** The labels added or removed (label records only). */
  labelIds?: string[];
}

export interface LabelInfo {
  id: string;
  name: string;
  type: 'system' | 'user';
  messageListVisibility?: 'show' | 'hide';
  labelListVisibility?: 'labelShow' | 'labelShowIfUnread' | 'labelHide';
}

const hidden = { messageListVisibility: 'hide', labelListVisibility: 'labelHide' } as const;

// labels.list as Gmail answers it for a fresh account.
const SYSTEM_LABELS: readonly LabelInfo[] = [
  { id: 'CHAT', name: 'CHAT', type: 'system', ...hidden },
  { id: 'SENT', name: 'SENT', type: 'system' },
  { id: 'INBOX', name: 'INBOX', type: 'system' },
  { id: 'IMPORTANT', name: 'IMPORTANT', type: 'system', ...hidden },
  { id: 'TRASH', name: 'TRASH', type: 'system', ...hidden },
  { id: 'DRAFT', name: 'DRAFT', type: 'system' },
  { id: 'SPAM', name: 'SPAM', type: 'system', ...hidden },
  { id: 'CATEGORY_FORUMS', name: 'CATEGORY_FORUMS', type: 'system', ...hidden },
  { id: 'CATEGORY_UPDATES', name: 'CATEGORY_UPDATES', type: 'system', ...hidden },
  { id: 'CATEGORY_PERSONAL', name: 'CATEGORY_PERSONAL', type: 'system', ...hidden },
  { id: 'CATEGORY_PROMOTIONS', name: 'CATEGORY_PROMOTIONS', type: 'system', ...hidden },
  { id: 'CATEGORY_SOCIAL', name: 'CATEGORY_SOCIAL', type: 'system', ...hidden },
  { id: 'STARRED', name: 'STARRED', type: 'system' },
  { id: 'UNREAD', name: 'UNREAD', type: 'system' },
];

const SYSTEM_LABEL_IDS = new Set(SYSTEM_LABELS.map((label) => label.id));

/** Strips reply/forward prefixes so "Re: Fwd: Quote" threads with "Quote". */
function normalizeSubject(subject: string): string {
  let current = subject.trim();
  for (;;) {
    const next = current.replace(/^(re|fw|fwd|aw|sv|wg|tr)(\[\d+\])?\s*:\s*/i, '');
    if (next === current) break;
    current = next;
  }
  return current.replace(/\s+/g, ' ').toLowerCase();
}

/** Message-IDs named by In-Reply-To and References, most recent first. */
function referencedMessageIds(headers: readonly HeaderField[]): string[] {
  const ids = `${headerValue(headers, 'references') ?? ''} ${headerValue(headers, 'in-reply-to') ?? ''}`.match(/<[^<>\s]+>/g) ?? [];
  return [...new Set(ids.reverse())];
}

export interface MailboxOptions {
  email: string;
  name: string;
  /** Stable numeric account id (the OpenID `sub`). */
  sub: string;
  firstHistoryId: number;
  historyGap: () => number;
}

export class Mailbox {
  readonly email: string;
  readonly name: string;
  readonly sub: string;
  historyId: number;
  /** history.list answers 404 for a startHistoryId at or below this. */
  historyFloor: number;
  readonly messages = new Map<string, StoredMessage>();
  readonly threads = new Map<string, string[]>();
  readonly userLabels = new Map<string, LabelInfo>();
  private nextLabelNumber = 1;
  readonly history: HistoryRecord[] = [];
  private readonly byMessageIdHeader = new Map<string, string[]>();
  private readonly listeners: ((record: HistoryRecord) => void)[] = [];
  private readonly historyGap: () => number;

  constructor(options: MailboxOptions) {
    this.email = options.email;
    this.name = options.name;
    this.sub = options.sub;
    this.historyId = options.firstHistoryId;
    this.historyFloor = options.firstHistoryId - 1;
    this.historyGap = options.historyGap;
  }

  onChange(listener: (record: HistoryRecord) => void): void {
    this.listeners.push(listener);
  }

  labels(): LabelInfo[] {
    return [...SYSTEM_LABELS, ...[...this.userLabels.values()].map((label) => ({ ...label }))];
  }

  label(id: string): LabelInfo | undefined {
    const label = SYSTEM_LABELS.find((candidate) => candidate.id === id) ?? this.userLabels.get(id);
    return label ? { ...label } : undefined;
  }

  hasLabel(id: string): boolean {
    return SYSTEM_LABEL_IDS.has(id) || this.userLabels.has(id);
  }

  isSystemLabel(id: string): boolean {
    return SYSTEM_LABEL_IDS.has(id);
  }

  /** Creates a user label for an id Gmail would have minted (`Label_N`) or a test named. */
  ensureLabel(id: string, name = id): void {
    if (!this.hasLabel(id)) this.userLabels.set(id, { id, name, type: 'user', messageListVisibility: 'show', labelListVisibility: 'labelShow' });
  }

  /**
   * A name Gmail refuses because it is taken: label names compare case-insensitively, and the
   * system labels' names are reserved too ("Label name exists or conflicts", 409).
   */
  nameConflicts(name: string, exceptId?: string): boolean {
    const wanted = name.trim().toLowerCase();
    return this.labels().some((label) => label.id !== exceptId && label.name.toLowerCase() === wanted);
  }

  /** users.labels.create: a new user label with the next `Label_N` id. The caller checked the name. */
  createLabel(input: Omit<LabelInfo, 'id' | 'type'>): LabelInfo {
    let id = `Label_${this.nextLabelNumber++}`;
    while (this.hasLabel(id)) id = `Label_${this.nextLabelNumber++}`;
    const label: LabelInfo = { messageListVisibility: 'show', labelListVisibility: 'labelShow', ...input, name: input.name.trim(), id, type: 'user' };
    this.userLabels.set(id, label);
    return { ...label };
  }

  /** users.labels.patch/update of a user label (a rename changes no message and makes no history record). */
  updateLabel(id: string, changes: Partial<Omit<LabelInfo, 'id' | 'type'>>): LabelInfo | undefined {
    const existing = this.userLabels.get(id);
    if (!existing) return undefined;
    const next: LabelInfo = { ...existing, ...changes, ...(changes.name === undefined ? {} : { name: changes.name.trim() }), id, type: 'user' };
    this.userLabels.set(id, next);
    return { ...next };
  }

  /**
   * users.labels.delete: "removes it from any messages and threads that it is applied to" — each
   * such message changes, so each gets a labelRemoved history record, as a user's removal would.
   */
  deleteLabel(id: string): boolean {
    if (!this.userLabels.has(id)) return false;
    for (const message of this.messages.values()) {
      if (message.labelIds.includes(id)) this.modify(message.id, [], [id]);
    }
    this.userLabels.delete(id);
    return true;
  }

  /**
   * Picks the thread a new message joins, or undefined for a new thread.
   * `receive`: an arriving message joins the thread of a message it references
   * with the same normalized subject (or an explicit, existing threadId).
   * `send`: messages.send only threads when threadId, References/In-Reply-To and
   * Subject all agree; otherwise Gmail silently starts a new thread.
   * developers.google.com/workspace/gmail/api/guides/threads#adding_drafts_and_messages_to_threads
   */
  threadFor(input: { headers: readonly HeaderField[]; explicitThreadId?: string | undefined; mode: 'receive' | 'send' }): string | undefined {
    const subject = normalizeSubject(headerValue(input.headers, 'subject') ?? '');
    const referenced = referencedMessageIds(input.headers);
    const sameSubject = (messageId: string): boolean => normalizeSubject(this.messages.get(messageId)?.subject ?? '') === subject;
    const members = input.explicitThreadId !== undefined ? this.threads.get(input.explicitThreadId) : undefined;
    if (input.mode === 'send') {
      if (input.explicitThreadId === undefined || !members) return undefined;
      const referencesThread = referenced.some((header) => (this.byMessageIdHeader.get(header) ?? []).some((id) => members.includes(id)));
      return referencesThread && members.some(sameSubject) ? input.explicitThreadId : undefined;
    }
    if (members) return input.explicitThreadId;
    for (const header of referenced) {
      for (const id of this.byMessageIdHeader.get(header) ?? []) {
        const message = this.messages.get(id);
        if (message && sameSubject(id)) return message.threadId;
      }
    }
    return undefined;
  }

  insert(input: { id: string; threadId: string | undefined; raw: Buffer; labelIds: string[]; internalDate: number }): StoredMessage {
    const headers = parseTopHeaders(input.raw);
    const mime = parseMime(input.raw);
    for (const label of input.labelIds) this.ensureLabel(label);
    const threadId = input.threadId ?? input.id;
    const message: StoredMessage = {
      id: input.id,
      threadId,
      labelIds: [...new Set(input.labelIds)],
      raw: input.raw,
      internalDate: input.internalDate,
      historyId: 0,
      headers,
      messageIdHeader: headerValue(headers, 'message-id')?.trim() ?? '',
      subject: headerValue(headers, 'subject') ?? '',
      mime,
      snippet: snippetOf(mime),
      attachmentNames: attachmentNames(mime),
    };
    this.messages.set(message.id, message);
    this.threads.set(threadId, [...(this.threads.get(threadId) ?? []), message.id]);
    if (message.messageIdHeader) {
      this.byMessageIdHeader.set(message.messageIdHeader, [...(this.byMessageIdHeader.get(message.messageIdHeader) ?? []), message.id]);
    }
    this.record('messageAdded', message);
    return message;
  }

  remove(id: string): boolean {
    const message = this.messages.get(id);
    if (!message) return false;
    this.messages.delete(id);
    const members = (this.threads.get(message.threadId) ?? []).filter((member) => member !== id);
    if (members.length > 0) this.threads.set(message.threadId, members);
    else this.threads.delete(message.threadId);
    const sameHeader = (this.byMessageIdHeader.get(message.messageIdHeader) ?? []).filter((member) => member !== id);
    if (sameHeader.length > 0) this.byMessageIdHeader.set(message.messageIdHeader, sameHeader);
    else this.byMessageIdHeader.delete(message.messageIdHeader);
    this.record('messageDeleted', message);
    return true;
  }

  /** Applies label changes; one history record per direction that changed something. */
  modify(id: string, add: readonly string[], remove: readonly string[]): StoredMessage | undefined {
    const message = this.messages.get(id);
    if (!message) return undefined;
    const added = [...new Set(add)].filter((label) => !message.labelIds.includes(label) && !remove.includes(label));
    const removed = [...new Set(remove)].filter((label) => message.labelIds.includes(label));
    for (const label of added) this.ensureLabel(label);
    if (added.length > 0) {
      message.labelIds = [...message.labelIds, ...added];
      this.record('labelAdded', message, added);
    }
    if (removed.length > 0) {
      message.labelIds = message.labelIds.filter((label) => !removed.includes(label));
      this.record('labelRemoved', message, removed);
    }
    return message;
  }

  /** Every history id issued so far becomes too old; a fresh id starts a new epoch. */
  expireHistory(): void {
    this.historyFloor = this.historyId;
    this.historyId += this.historyGap();
    this.history.length = 0;
  }

  /** Messages newest first (internalDate, then id), the order messages.list uses. */
  ordered(): StoredMessage[] {
    return [...this.messages.values()].sort((left, right) => right.internalDate - left.internalDate || (right.id > left.id ? 1 : -1));
  }

  private record(kind: HistoryKind, message: StoredMessage, labelIds?: string[]): void {
    this.historyId += this.historyGap();
    message.historyId = this.historyId;
    const record: HistoryRecord = {
      id: this.historyId,
      kind,
      message: { id: message.id, threadId: message.threadId, labelIds: [...message.labelIds] },
      ...(labelIds ? { labelIds } : {}),
    };
    this.history.push(record);
    for (const listener of this.listeners) listener(record);
  }
}
