// The emulated Exchange mailboxes: folders, messages, and a per-mailbox change
// sequence that delta tokens and change notifications are derived from.
import type { Recipient } from './addresses.js';
import { newChangeKey, newFolderId, newGuid, newImmutableMessageId, newMessageId } from './ids.js';

export interface StoredAttachment {
  id: string;
  name: string;
  contentType: string;
  content: Buffer;
  isInline: boolean;
  lastModifiedAt: number;
  /**
   * Not a file: an attached Outlook item (`$value` is its MIME) or a cloud link (`$value` is 405).
   * Absent: a fileAttachment.
   */
  kind?: 'item' | 'reference';
}

export interface StoredMessage {
  /** Stable for the life of the message in this mailbox (`Prefer: IdType="ImmutableId"`). */
  immutableId: string;
  /** The default REST id; Exchange assigns a new one when the item changes folder. */
  restId: string;
  folderId: string;
  conversationId: string;
  internetMessageId: string;
  inReplyTo?: string;
  references: string[];
  subject: string;
  from: Recipient | null;
  sender: Recipient | null;
  to: Recipient[];
  cc: Recipient[];
  bcc: Recipient[];
  replyTo: Recipient[];
  body: { contentType: 'text' | 'html'; content: string };
  attachments: StoredAttachment[];
  receivedAt: number;
  sentAt: number;
  createdAt: number;
  lastModifiedAt: number;
  isRead: boolean;
  isDraft: boolean;
  categories: string[];
  changeKey: string;
  /** Mailbox sequence number of the last change to this message. */
  version: number;
  /** Mailbox sequence number at which the message entered its current folder. */
  folderSeq: number;
  /**
   * True for copies that arrived over SMTP transport. Graph only returns
   * internetMessageHeaders for those: the Sent Items copy has none
   * (microsoft-graph-docs issues 2716, 12726; msgraph-sdk-dotnet 3025).
   */
  transportHeaders: Array<{ name: string; value: string }> | null;
  /** Extra headers that travel in the MIME ($value) of every copy. */
  mimeHeaders: Array<{ name: string; value: string }>;
}

export interface Folder {
  id: string;
  wellKnownName?: string;
  displayName: string;
  parentFolderId: string;
  isHidden: boolean;
}

interface Tombstone {
  folderId: string;
  restId: string;
  immutableId: string;
  seq: number;
}

export interface Mailbox {
  email: string;
  name: string;
  userId: string;
  rootFolderId: string;
  folders: Folder[];
  messages: Map<string, StoredMessage>;
  /** Current REST id → immutable id. Old REST ids of moved items are dropped (404 like Exchange). */
  restIndex: Map<string, string>;
  tombstones: Tombstone[];
  seq: number;
  /** Bumped by expireDeltaTokens: every delta/skip token from an older epoch is gone. */
  syncEpoch: number;
}

export type MailEvent =
  | { type: 'created'; mailbox: Mailbox; message: StoredMessage }
  | { type: 'updated'; mailbox: Mailbox; message: StoredMessage }
  | { type: 'deleted'; mailbox: Mailbox; folderId: string; restId: string; immutableId: string; changeKey: string }
  | { type: 'moved'; mailbox: Mailbox; message: StoredMessage; fromFolderId: string; previousRestId: string };

/** Folders every Exchange Online mailbox has, by well-known name (mailFolder docs). */
const WELL_KNOWN_FOLDERS: Array<{ wellKnownName: string; displayName: string }> = [
  { wellKnownName: 'inbox', displayName: 'Inbox' },
  { wellKnownName: 'sentitems', displayName: 'Sent Items' },
  { wellKnownName: 'deleteditems', displayName: 'Deleted Items' },
  { wellKnownName: 'archive', displayName: 'Archive' },
  { wellKnownName: 'drafts', displayName: 'Drafts' },
  { wellKnownName: 'junkemail', displayName: 'Junk Email' },
  { wellKnownName: 'outbox', displayName: 'Outbox' },
];

export type NewMessage = Omit<StoredMessage, 'immutableId' | 'restId' | 'folderId' | 'changeKey' | 'version' | 'folderSeq' | 'createdAt' | 'lastModifiedAt'>;

export class MailStore {
  private readonly mailboxes = new Map<string, Mailbox>();
  private readonly listeners: Array<(event: MailEvent) => void> = [];

  constructor(private readonly now: () => number) {}

  onChange(listener: (event: MailEvent) => void): void {
    this.listeners.push(listener);
  }

  addMailbox(email: string, name?: string): Mailbox {
    const key = email.trim().toLowerCase();
    const existing = this.mailboxes.get(key);
    if (existing) {
      if (name) existing.name = name;
      return existing;
    }
    const rootFolderId = newFolderId();
    const mailbox: Mailbox = {
      email: email.trim(),
      name: name ?? email.trim().split('@')[0] ?? email,
      userId: newGuid(),
      rootFolderId,
      folders: WELL_KNOWN_FOLDERS.map((folder) => ({
        id: newFolderId(),
        wellKnownName: folder.wellKnownName,
        displayName: folder.displayName,
        parentFolderId: rootFolderId,
        isHidden: false,
      })),
      messages: new Map(),
      restIndex: new Map(),
      tombstones: [],
      seq: 0,
      syncEpoch: 0,
    };
    this.mailboxes.set(key, mailbox);
    return mailbox;
  }

  /** The user leaves the directory (deleted in Entra ID): `/users/{id}` and its mailbox answer 404 from now on. */
  removeMailbox(email: string): void {
    if (!this.mailboxes.delete(email.trim().toLowerCase())) throw new Error(`Graph emulator: no mailbox ${email}`);
  }

  mailbox(email: string): Mailbox | undefined {
    return this.mailboxes.get(email.trim().toLowerCase());
  }

  requireMailbox(email: string): Mailbox {
    const mailbox = this.mailbox(email);
    if (!mailbox) throw new Error(`Graph emulator: no mailbox ${email} (call addMailbox first)`);
    return mailbox;
  }

  mailboxByUserId(userId: string): Mailbox | undefined {
    for (const mailbox of this.mailboxes.values()) if (mailbox.userId === userId) return mailbox;
    return undefined;
  }

  allMailboxes(): Mailbox[] {
    return [...this.mailboxes.values()];
  }

  /** Well-known names are case-insensitive in Graph; ids are exact; display names as a convenience. */
  resolveFolder(mailbox: Mailbox, reference: string): Folder | undefined {
    const lowered = reference.toLowerCase();
    if (lowered === 'msgfolderroot') {
      return { id: mailbox.rootFolderId, displayName: 'Top of Information Store', parentFolderId: '', isHidden: false };
    }
    return (
      mailbox.folders.find((folder) => folder.wellKnownName === lowered) ??
      mailbox.folders.find((folder) => folder.id === reference) ??
      mailbox.folders.find((folder) => folder.displayName.toLowerCase() === lowered)
    );
  }

  requireFolder(mailbox: Mailbox, reference: string): Folder {
    const folder = this.resolveFolder(mailbox, reference);
    if (!folder) throw new Error(`Graph emulator: mailbox ${mailbox.email} has no folder ${reference}`);
    return folder;
  }

  folderName(mailbox: Mailbox, folderId: string): string {
    const folder = mailbox.folders.find((candidate) => candidate.id === folderId);
    return folder?.wellKnownName ?? folderId;
  }

  /** The folders directly under a parent (the root's: `GET /me/mailFolders`; others': `childFolders`). */
  childFolders(mailbox: Mailbox, parentFolderId: string): Folder[] {
    return mailbox.folders.filter((folder) => folder.parentFolderId === parentFolderId);
  }

  /** A user folder (`POST /me/mailFolders` or `…/childFolders`). Sibling names are unique, as in Exchange. */
  createFolder(mailbox: Mailbox, displayName: string, parentFolderId: string): Folder | 'exists' {
    if (this.childFolders(mailbox, parentFolderId).some((folder) => folder.displayName.toLowerCase() === displayName.toLowerCase())) return 'exists';
    const folder: Folder = { id: newFolderId(), displayName, parentFolderId, isHidden: false };
    mailbox.folders.push(folder);
    return folder;
  }

  /** Folder ids survive renames and moves (only the parent or the name changes). */
  renameFolder(folder: Folder, displayName: string): void {
    folder.displayName = displayName;
  }

  moveFolder(mailbox: Mailbox, folder: Folder, parentFolderId: string): void {
    if (folder.wellKnownName !== undefined) throw new Error('Graph emulator: a well-known folder cannot move');
    if (parentFolderId === folder.id || this.isInside(mailbox, parentFolderId, folder.id)) throw new Error('Graph emulator: a folder cannot move into itself');
    folder.parentFolderId = parentFolderId;
  }

  /** True when `folderId` is `ancestorId` or lies below it. */
  isInside(mailbox: Mailbox, folderId: string, ancestorId: string): boolean {
    let current: string | undefined = folderId;
    for (let depth = 0; current !== undefined && depth < 64; depth += 1) {
      if (current === ancestorId) return true;
      current = mailbox.folders.find((folder) => folder.id === current)?.parentFolderId;
    }
    return false;
  }

  findMessage(mailbox: Mailbox, id: string): StoredMessage | undefined {
    const direct = mailbox.messages.get(id);
    if (direct) return direct;
    const immutableId = mailbox.restIndex.get(id);
    return immutableId === undefined ? undefined : mailbox.messages.get(immutableId);
  }

  requireMessage(mailbox: Mailbox, id: string): StoredMessage {
    const message = this.findMessage(mailbox, id);
    if (!message) throw new Error(`Graph emulator: mailbox ${mailbox.email} has no message ${id}`);
    return message;
  }

  findByInternetMessageId(mailbox: Mailbox, internetMessageId: string): StoredMessage | undefined {
    for (const message of mailbox.messages.values()) {
      if (message.internetMessageId === internetMessageId) return message;
    }
    return undefined;
  }

  messagesInFolder(mailbox: Mailbox, folderId: string): StoredMessage[] {
    return [...mailbox.messages.values()].filter((message) => message.folderId === folderId);
  }

  /**
   * `distinctIds`: the item gets an immutable id unlike its REST id from the start, as every
   * Exchange item does. Items a client creates through the API (drafts) use it, so a client
   * that did not ask for immutable ids holds a REST id that dies when the draft is sent.
   */
  insert(mailbox: Mailbox, input: NewMessage, folderId: string, options: { distinctIds?: boolean } = {}): StoredMessage {
    const seq = ++mailbox.seq;
    const now = this.now();
    // Otherwise the REST id and the immutable id start out equal so a delivered id is valid
    // whichever id type the client asked for; they diverge once the item moves.
    const restId = newMessageId();
    const message: StoredMessage = {
      ...input,
      immutableId: options.distinctIds ? newImmutableMessageId() : restId,
      restId,
      folderId,
      changeKey: newChangeKey(),
      version: seq,
      folderSeq: seq,
      createdAt: now,
      lastModifiedAt: now,
    };
    mailbox.messages.set(message.immutableId, message);
    mailbox.restIndex.set(message.restId, message.immutableId);
    this.emit({ type: 'created', mailbox, message });
    return message;
  }

  update(
    mailbox: Mailbox,
    message: StoredMessage,
    patch: Partial<Pick<StoredMessage, 'isRead' | 'categories' | 'subject' | 'body' | 'to' | 'cc' | 'bcc' | 'replyTo' | 'attachments'>>,
  ): void {
    Object.assign(message, patch);
    this.touch(mailbox, message);
    this.emit({ type: 'updated', mailbox, message });
  }

  move(mailbox: Mailbox, message: StoredMessage, folderId: string): void {
    if (message.folderId === folderId) return;
    const seq = ++mailbox.seq;
    const previousRestId = message.restId;
    const fromFolderId = message.folderId;
    mailbox.tombstones.push({ folderId: fromFolderId, restId: previousRestId, immutableId: message.immutableId, seq });
    mailbox.restIndex.delete(previousRestId);
    message.restId = newMessageId();
    mailbox.restIndex.set(message.restId, message.immutableId);
    message.folderId = folderId;
    message.folderSeq = seq;
    message.version = seq;
    message.changeKey = newChangeKey();
    message.lastModifiedAt = this.now();
    this.emit({ type: 'moved', mailbox, message, fromFolderId, previousRestId });
  }

  /** Permanent deletion (the item is gone, not in Deleted Items). */
  remove(mailbox: Mailbox, message: StoredMessage): void {
    const seq = ++mailbox.seq;
    mailbox.tombstones.push({ folderId: message.folderId, restId: message.restId, immutableId: message.immutableId, seq });
    mailbox.messages.delete(message.immutableId);
    mailbox.restIndex.delete(message.restId);
    this.emit({
      type: 'deleted',
      mailbox,
      folderId: message.folderId,
      restId: message.restId,
      immutableId: message.immutableId,
      changeKey: message.changeKey,
    });
  }

  private touch(mailbox: Mailbox, message: StoredMessage): void {
    message.version = ++mailbox.seq;
    message.changeKey = newChangeKey();
    message.lastModifiedAt = this.now();
  }

  private emit(event: MailEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
