// How mail moves between emulated mailboxes: harness deliveries, and messages
// sent through Graph (sendMail, reply, createReply + send). Each emulated
// recipient gets an inbound copy threaded into its own conversation by
// In-Reply-To/References, and the sender keeps a Sent Items copy.
import { parseAddress, parseAddressList, type Recipient, sameAddress } from './addresses.js';
import { newAttachmentId, newConversationId, newInternetMessageId } from './ids.js';
import type { Mailbox, MailStore, StoredAttachment, StoredMessage } from './mail-store.js';
import { escapeHtml, folderLabel, isoSeconds, textToHtml } from './message-json.js';
import { rfc2822Date, transportHeaders } from './mime.js';
import type { DeliveredCopy, DeliveredGraphMessage, DeliverInput, EmulatedGraphMessage } from './types.js';

export interface OutgoingMessage {
  from: Recipient;
  subject: string;
  body: { contentType: 'text' | 'html'; content: string };
  to: Recipient[];
  cc: Recipient[];
  bcc: Recipient[];
  replyTo: Recipient[];
  attachments: Array<{ name: string; contentType: string; content: Buffer; isInline: boolean; kind?: 'item' | 'reference' }>;
  internetMessageId: string;
  inReplyTo?: string;
  references: string[];
  /** Custom X- headers the sender set; they travel with every copy. */
  customHeaders: Array<{ name: string; value: string }>;
}

const CONTENT_TYPES: Record<string, string> = {
  pdf: 'application/pdf',
  txt: 'text/plain',
  html: 'text/html',
  htm: 'text/html',
  csv: 'text/csv',
  json: 'application/json',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  zip: 'application/zip',
  eml: 'message/rfc822',
};

export function guessContentType(filename: string): string {
  const extension = filename.split('.').pop()?.toLowerCase() ?? '';
  return CONTENT_TYPES[extension] ?? 'application/octet-stream';
}

export class MailFlow {
  private readonly sentLogs = new Map<Mailbox, EmulatedGraphMessage[]>();
  private readonly outbox: Array<() => void> = [];

  constructor(
    private readonly store: MailStore,
    private readonly now: () => number,
    private readonly receivingHost: string,
    private readonly holdOutbox: () => boolean = () => false,
  ) {}

  sentBy(mailbox: Mailbox): EmulatedGraphMessage[] {
    return [...(this.sentLogs.get(mailbox) ?? [])];
  }

  /** The harness's deliver(): seeds copies without going through the API. */
  deliver(input: DeliverInput): DeliveredGraphMessage {
    const from = parseAddress(input.from);
    const at = input.date?.getTime() ?? this.now();
    const references: string[] = [];
    if (input.inReplyTo) {
      const parent = this.findAnywhere(input.inReplyTo);
      if (parent) references.push(...parent.references);
      references.push(input.inReplyTo);
    }
    const outgoing: OutgoingMessage = {
      from,
      subject: input.subject,
      body: input.html !== undefined ? { contentType: 'html', content: input.html } : { contentType: 'text', content: input.text ?? '' },
      to: parseAddressList(input.to),
      cc: parseAddressList(input.cc),
      bcc: parseAddressList(input.bcc),
      replyTo: [],
      attachments: (input.attachments ?? []).map((attachment) => ({
        name: attachment.filename,
        contentType: attachment.contentType ?? guessContentType(attachment.filename),
        content: typeof attachment.content === 'string' ? Buffer.from(attachment.content, 'utf8') : attachment.content,
        isInline: false,
        ...(attachment.kind === undefined ? {} : { kind: attachment.kind }),
      })),
      internetMessageId: newInternetMessageId(from.address.split('@')[1] ?? 'emulator.test'),
      ...(input.inReplyTo ? { inReplyTo: input.inReplyTo } : {}),
      references,
      customHeaders: [],
    };

    const copies: DeliveredCopy[] = [];
    const only = input.mailbox === undefined ? undefined : this.store.requireMailbox(input.mailbox);
    const senderMailbox = this.store.mailbox(from.address);
    if (only) {
      const isSender = senderMailbox === only;
      const folder = input.folder ?? (isSender ? 'sentitems' : 'inbox');
      const message = isSender
        ? this.storeOwnCopy(only, outgoing, at, input.conversationId, { folder, isDraft: false })
        : this.storeInboundCopy(only, outgoing, at, input.conversationId, folder);
      copies.push(this.describe(only, message));
    } else {
      for (const mailbox of this.recipientMailboxes(outgoing)) {
        const message = this.storeInboundCopy(mailbox, outgoing, at, input.conversationId, input.folder ?? 'inbox');
        copies.push(this.describe(mailbox, message));
      }
      if (senderMailbox) {
        const message = this.storeOwnCopy(senderMailbox, outgoing, at, input.conversationId, { folder: 'sentitems', isDraft: false });
        copies.push(this.describe(senderMailbox, message));
      }
    }
    const primary = copies[0];
    if (!primary) throw new Error('Graph emulator: deliver() needs an emulated mailbox as sender or recipient (call addMailbox first)');
    return { ...primary, copies };
  }

  /**
   * Sends from a mailbox through the API. A sent draft is the item itself: it leaves Drafts for
   * the Outbox at once, and transport then moves it to Sent Items under the same immutable id
   * (learn.microsoft.com/graph/outlook-immutable-id, "Immutable ID with sending mail"). Other
   * sends get a new Sent Items copy (unless saveToSentItems is false). Transport also delivers
   * inbound copies to emulated recipients and records the message in sent(). While
   * `holdOutbox()` is true transport waits for releaseOutbox(), as Exchange's does for seconds:
   * the sent copy is not in Sent Items yet.
   */
  send(mailbox: Mailbox, outgoing: OutgoingMessage, options: { saveToSentItems: boolean; conversationId?: string; draft?: StoredMessage }): void {
    if (options.draft) {
      options.draft.isDraft = false;
      this.store.move(mailbox, options.draft, this.store.requireFolder(mailbox, 'outbox').id);
    }
    const transport = (): void => this.transport(mailbox, outgoing, options);
    if (this.holdOutbox()) this.outbox.push(transport);
    else transport();
  }

  /** Runs every transport held back by `holdOutbox`, oldest first. */
  releaseOutbox(): void {
    for (let transport = this.outbox.shift(); transport; transport = this.outbox.shift()) transport();
  }

  private transport(mailbox: Mailbox, outgoing: OutgoingMessage, options: { saveToSentItems: boolean; conversationId?: string; draft?: StoredMessage }): void {
    const draft = options.draft;
    // An item deleted (or moved) out of the Outbox before transport is not sent.
    if (draft && (mailbox.messages.get(draft.immutableId) !== draft || draft.folderId !== this.store.requireFolder(mailbox, 'outbox').id)) return;
    const at = this.now();
    let sentCopy: StoredMessage | undefined;
    if (draft) {
      draft.isRead = true;
      draft.sentAt = at;
      draft.receivedAt = at;
      draft.internetMessageId = outgoing.internetMessageId;
      this.store.move(mailbox, draft, this.store.requireFolder(mailbox, 'sentitems').id);
      sentCopy = draft;
    } else if (!draft && options.saveToSentItems) {
      sentCopy = this.storeOwnCopy(mailbox, outgoing, at, options.conversationId, { folder: 'sentitems', isDraft: false });
    }
    for (const recipient of this.recipientMailboxes(outgoing)) {
      this.storeInboundCopy(recipient, outgoing, at, undefined, 'inbox');
    }
    const log = this.sentLogs.get(mailbox) ?? [];
    log.push(
      sentCopy
        ? this.toEmulated(mailbox, sentCopy)
        : this.toEmulated(mailbox, this.unsavedSnapshot(outgoing, at, options.conversationId ?? this.conversationFor(mailbox, outgoing))),
    );
    this.sentLogs.set(mailbox, log);
  }

  /** A draft in Drafts (createReply, POST /me/messages). */
  saveDraft(mailbox: Mailbox, outgoing: OutgoingMessage, conversationId: string | undefined): StoredMessage {
    return this.storeOwnCopy(mailbox, outgoing, this.now(), conversationId, { folder: 'drafts', isDraft: true });
  }

  /** Builds the reply Outlook would compose: RE: subject, quoted original, threading headers. */
  composeReply(mailbox: Mailbox, original: StoredMessage, input: { comment?: string; message?: Partial<OutgoingMessage>; all: boolean }): OutgoingMessage {
    const self: Recipient = { name: mailbox.name, address: mailbox.email };
    const notSelf = (recipient: Recipient): boolean => !sameAddress(recipient.address, mailbox.email);
    const replyTargets = original.replyTo.length > 0 ? original.replyTo : original.from ? [original.from] : [];
    let to = replyTargets.filter(notSelf);
    let cc: Recipient[] = [];
    if (input.all) {
      to = dedupe([...to, ...original.to.filter(notSelf)]);
      cc = original.cc.filter(notSelf);
    }
    // A reply to one's own sent message goes back to its recipients.
    if (to.length === 0) to = original.to.filter(notSelf);
    if (input.message?.to && input.message.to.length > 0) to = input.message.to;
    if (input.message?.cc && input.message.cc.length > 0) cc = input.message.cc;
    const subject = input.message?.subject ?? (/^re:/i.test(original.subject) ? original.subject : `RE: ${original.subject}`);
    const quoted = quoteOriginal(original);
    const lead = input.message?.body
      ? input.message.body.contentType === 'html'
        ? input.message.body.content
        : textToHtml(input.message.body.content)
      : `<div>${escapeHtml(input.comment ?? '').replace(/\r?\n/g, '<br>')}</div>`;
    return {
      from: self,
      subject,
      body: { contentType: 'html', content: `<html><body>${lead}<hr>${quoted}</body></html>` },
      to,
      cc,
      bcc: input.message?.bcc ?? [],
      replyTo: input.message?.replyTo ?? [],
      attachments: input.message?.attachments ?? [],
      internetMessageId: newInternetMessageId(),
      inReplyTo: original.internetMessageId,
      references: [...original.references, original.internetMessageId],
      customHeaders: input.message?.customHeaders ?? [],
    };
  }

  /**
   * What /forward and /createForward compose: "FW:" subject, the comment over the quoted original,
   * and the original's attachments carried along (message-forward: "the original message's
   * attachments are included"), plus any the caller adds.
   */
  composeForward(mailbox: Mailbox, original: StoredMessage, input: { comment?: string; message?: Partial<OutgoingMessage>; to: Recipient[] }): OutgoingMessage {
    const lead = input.message?.body
      ? input.message.body.contentType === 'html'
        ? input.message.body.content
        : textToHtml(input.message.body.content)
      : `<div>${escapeHtml(input.comment ?? '').replace(/\r?\n/g, '<br>')}</div>`;
    return {
      from: { name: mailbox.name, address: mailbox.email },
      subject: input.message?.subject ?? (/^fw:/i.test(original.subject) ? original.subject : `FW: ${original.subject}`),
      body: { contentType: 'html', content: `<html><body>${lead}<hr>${quoteOriginal(original)}</body></html>` },
      to: input.to,
      cc: input.message?.cc ?? [],
      bcc: input.message?.bcc ?? [],
      replyTo: [],
      attachments: [
        ...original.attachments.map((attachment) => ({
          name: attachment.name,
          contentType: attachment.contentType,
          content: Buffer.from(attachment.content),
          isInline: attachment.isInline,
          ...(attachment.kind === undefined ? {} : { kind: attachment.kind }),
        })),
        ...(input.message?.attachments ?? []),
      ],
      internetMessageId: newInternetMessageId(),
      references: [],
      customHeaders: [],
    };
  }

  toEmulated(mailbox: Mailbox, message: StoredMessage): EmulatedGraphMessage {
    return {
      id: message.restId,
      immutableId: message.immutableId,
      mailbox: mailbox.email,
      folder: folderLabel(mailbox, message.folderId),
      folderId: message.folderId,
      conversationId: message.conversationId,
      internetMessageId: message.internetMessageId,
      ...(message.inReplyTo ? { inReplyTo: message.inReplyTo } : {}),
      references: [...message.references],
      subject: message.subject,
      from: message.from ? { ...message.from } : null,
      to: message.to.map((recipient) => ({ ...recipient })),
      cc: message.cc.map((recipient) => ({ ...recipient })),
      bcc: message.bcc.map((recipient) => ({ ...recipient })),
      replyTo: message.replyTo.map((recipient) => ({ ...recipient })),
      body: { ...message.body },
      attachments: message.attachments.map((attachment) => ({
        id: attachment.id,
        name: attachment.name,
        contentType: attachment.contentType,
        size: attachment.content.length,
        content: Buffer.from(attachment.content),
      })),
      receivedDateTime: isoSeconds(message.receivedAt),
      sentDateTime: isoSeconds(message.sentAt),
      isRead: message.isRead,
      isDraft: message.isDraft,
      categories: [...message.categories],
    };
  }

  private describe(mailbox: Mailbox, message: StoredMessage): DeliveredCopy {
    return {
      id: message.restId,
      immutableId: message.immutableId,
      conversationId: message.conversationId,
      internetMessageId: message.internetMessageId,
      mailbox: mailbox.email,
      folder: folderLabel(mailbox, message.folderId),
    };
  }

  private recipientMailboxes(outgoing: OutgoingMessage): Mailbox[] {
    const mailboxes: Mailbox[] = [];
    for (const recipient of [...outgoing.to, ...outgoing.cc, ...outgoing.bcc]) {
      const mailbox = this.store.mailbox(recipient.address);
      if (mailbox && !mailboxes.includes(mailbox)) mailboxes.push(mailbox);
    }
    return mailboxes;
  }

  private findAnywhere(internetMessageId: string): StoredMessage | undefined {
    for (const mailbox of this.store.allMailboxes()) {
      const found = this.store.findByInternetMessageId(mailbox, internetMessageId);
      if (found) return found;
    }
    return undefined;
  }

  /** Exchange threads a copy into the conversation of the message it answers, per mailbox. */
  private conversationFor(mailbox: Mailbox, outgoing: OutgoingMessage): string {
    const candidates = [outgoing.inReplyTo, ...[...outgoing.references].reverse()].filter((value): value is string => !!value);
    for (const candidate of candidates) {
      const parent = this.store.findByInternetMessageId(mailbox, candidate);
      if (parent) return parent.conversationId;
    }
    return newConversationId();
  }

  private baseFields(outgoing: OutgoingMessage, sentAt: number, receivedAt: number, conversationId: string) {
    return {
      conversationId,
      internetMessageId: outgoing.internetMessageId,
      ...(outgoing.inReplyTo ? { inReplyTo: outgoing.inReplyTo } : {}),
      references: [...outgoing.references],
      subject: outgoing.subject,
      from: { ...outgoing.from },
      sender: { ...outgoing.from },
      to: outgoing.to.map((recipient) => ({ ...recipient })),
      cc: outgoing.cc.map((recipient) => ({ ...recipient })),
      bcc: outgoing.bcc.map((recipient) => ({ ...recipient })),
      replyTo: outgoing.replyTo.map((recipient) => ({ ...recipient })),
      body: { ...outgoing.body },
      attachments: outgoing.attachments.map(
        (attachment): StoredAttachment => ({
          id: newAttachmentId(),
          name: attachment.name,
          contentType: attachment.contentType,
          content: Buffer.from(attachment.content),
          isInline: attachment.isInline,
          lastModifiedAt: sentAt,
          ...(attachment.kind === undefined ? {} : { kind: attachment.kind }),
        }),
      ),
      receivedAt,
      sentAt,
      categories: [],
      mimeHeaders: outgoing.customHeaders.map((header) => ({ ...header })),
    };
  }

  /** The sender's own copy (a sent message or a draft): already read, and no transport headers, since it was never received. */
  private storeOwnCopy(
    mailbox: Mailbox,
    outgoing: OutgoingMessage,
    at: number,
    conversationId: string | undefined,
    placement: { folder: string; isDraft: boolean },
  ): StoredMessage {
    return this.store.insert(
      mailbox,
      {
        ...this.baseFields(outgoing, at, at, conversationId ?? this.conversationFor(mailbox, outgoing)),
        isRead: true,
        isDraft: placement.isDraft,
        transportHeaders: null,
      },
      this.store.requireFolder(mailbox, placement.folder).id,
      // Drafts are created by a client through the API: ids as Exchange hands out (see MailStore.insert).
      { distinctIds: placement.isDraft },
    );
  }

  private storeInboundCopy(mailbox: Mailbox, outgoing: OutgoingMessage, at: number, conversationId: string | undefined, folder: string): StoredMessage {
    const fields = this.baseFields(outgoing, at, at, conversationId ?? this.conversationFor(mailbox, outgoing));
    return this.store.insert(
      mailbox,
      {
        ...fields,
        // Bcc recipients are invisible to everyone but the sender.
        bcc: [],
        isRead: false,
        isDraft: false,
        transportHeaders: [
          ...transportHeaders({
            internetMessageId: outgoing.internetMessageId,
            ...(outgoing.inReplyTo ? { inReplyTo: outgoing.inReplyTo } : {}),
            references: outgoing.references,
            subject: outgoing.subject,
            sentAt: at,
            from: outgoing.from,
            hasAttachments: outgoing.attachments.length > 0,
            contentType: outgoing.body.contentType,
            receivingHost: this.receivingHost,
          }),
          ...outgoing.customHeaders,
        ],
      },
      this.store.requireFolder(mailbox, folder).id,
    );
  }

  private unsavedSnapshot(outgoing: OutgoingMessage, at: number, conversationId: string): StoredMessage {
    return {
      ...this.baseFields(outgoing, at, at, conversationId),
      immutableId: '',
      restId: '',
      folderId: '',
      changeKey: '',
      version: 0,
      folderSeq: 0,
      createdAt: at,
      lastModifiedAt: at,
      isRead: true,
      isDraft: false,
      transportHeaders: null,
    };
  }
}

function dedupe(recipients: Recipient[]): Recipient[] {
  const seen = new Set<string>();
  return recipients.filter((recipient) => {
    const key = recipient.address.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function quoteOriginal(original: StoredMessage): string {
  const header = [
    `<b>From:</b> ${escapeHtml(original.from ? `${original.from.name} <${original.from.address}>` : '')}`,
    `<b>Sent:</b> ${escapeHtml(rfc2822Date(original.sentAt))}`,
    `<b>To:</b> ${escapeHtml(original.to.map((recipient) => recipient.address).join('; '))}`,
    `<b>Subject:</b> ${escapeHtml(original.subject)}`,
  ].join('<br>');
  const originalHtml =
    original.body.contentType === 'html'
      ? original.body.content.replace(/^[\s\S]*?<body[^>]*>/i, '').replace(/<\/body>[\s\S]*$/i, '')
      : escapeHtml(original.body.content).replace(/\r?\n/g, '<br>');
  return `<div id="divRplyFwdMsg">${header}</div><div>${originalHtml}</div>`;
}
