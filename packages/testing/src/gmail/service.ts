// The emulated Gmail back end: mailboxes, delivery (seeded by tests or sent through
// messages.send) and the rules that decide labels and threads. No HTTP here.
import { createHash, randomUUID } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import PostalMime, { addressParser, type Address, type Email } from 'postal-mime';
import { MessageIdGenerator } from './ids.js';
import { Mailbox, type StoredMessage } from './mailbox.js';
import { editHeaders, headerValue, parseTopHeaders } from './mime.js';

export interface DeliverInput {
  to: string | string[];
  from: string;
  subject: string;
  text?: string;
  html?: string;
  cc?: string | string[];
  bcc?: string | string[];
  replyTo?: string;
  attachments?: { filename: string; content: string | Buffer; contentType?: string }[];
  /** RFC Message-ID of the message replied to, angle brackets optional. */
  inReplyTo?: string;
  references?: string[];
  /** Joins this thread (of `mailbox`, or of whichever copy's mailbox has it). */
  threadId?: string;
  /** Labels for every copy instead of the defaults (inbound: UNREAD, CATEGORY_PERSONAL, INBOX; sent: SENT). */
  labelIds?: string[];
  date?: Date;
  /** Only this mailbox gets a copy (default: every emulated mailbox among to/cc/bcc/from). */
  mailbox?: string;
  /** The Message-ID header (default: a fresh one at the sender's domain). */
  messageId?: string;
  /** Extra raw headers. */
  headers?: Record<string, string>;
}

export interface DeliveredMessage {
  id: string;
  threadId: string;
  /** The RFC 5322 Message-ID, with angle brackets, e.g. `<abc@example.com>`. */
  messageId: string;
  historyId: string;
  mailbox: string;
}

export interface DeliveredMessages extends DeliveredMessage {
  /** One entry per mailbox that received a copy (the first one is also spread above). */
  copies: DeliveredMessage[];
}

export class SendError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const INBOUND_LABELS = ['UNREAD', 'CATEGORY_PERSONAL', 'INBOX'];

function toList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function flatten(addresses: readonly Address[] | undefined): string[] {
  const result: string[] = [];
  for (const address of addresses ?? []) {
    if (address.group) result.push(...address.group.map((member) => member.address));
    else if (address.address) result.push(address.address);
  }
  return result.map((address) => address.toLowerCase());
}

function addressesOf(values: string[]): string[] {
  return flatten(values.flatMap((value) => addressParser(value)));
}

const angle = (messageId: string): string => (messageId.startsWith('<') ? messageId : `<${messageId}>`);

export interface GmailServiceOptions {
  now: () => number;
  random: () => number;
  /** messages.send swaps the client's Message-ID for a Gmail-made one (GmailEmulatorOptions.sentMessageIds). */
  replaceMessageIds?: boolean;
}

export class GmailService {
  readonly mailboxes = new Map<string, Mailbox>();
  readonly sent = new Map<string, string[]>();
  readonly ids: MessageIdGenerator;
  private readonly created: ((mailbox: Mailbox) => void)[] = [];

  constructor(private readonly options: GmailServiceOptions) {
    this.ids = new MessageIdGenerator(options.now, options.random);
  }

  onMailboxCreated(listener: (mailbox: Mailbox) => void): void {
    this.created.push(listener);
  }

  mailbox(email: string): Mailbox | undefined {
    return this.mailboxes.get(email.trim().toLowerCase());
  }

  requireMailbox(email: string): Mailbox {
    const mailbox = this.mailbox(email);
    if (!mailbox) throw new Error(`No emulated mailbox ${email}; call addMailbox({ email }) first`);
    return mailbox;
  }

  addMailbox(input: { email: string; name?: string }): Mailbox {
    const email = input.email.trim().toLowerCase();
    const existing = this.mailboxes.get(email);
    if (existing) return existing;
    const digest = createHash('sha256').update(email).digest();
    const mailbox = new Mailbox({
      email,
      name: input.name ?? email.split('@')[0] ?? email,
      // Google account ids are 21-digit decimal strings.
      sub: `1${(digest.readBigUInt64BE(0) % 10n ** 20n).toString().padStart(20, '0')}`,
      firstHistoryId: 1_000 + Math.floor(this.options.random() * 9_000),
      historyGap: () => 1 + Math.floor(this.options.random() * 12),
    });
    this.mailboxes.set(email, mailbox);
    for (const listener of this.created) listener(mailbox);
    return mailbox;
  }

  async deliver(input: DeliverInput): Promise<DeliveredMessages> {
    const from = addressesOf([input.from])[0];
    if (!from) throw new Error(`deliver: cannot parse from address ${input.from}`);
    const recipients = addressesOf([...toList(input.to), ...toList(input.cc), ...toList(input.bcc)]);
    const targets = input.mailbox !== undefined ? [this.requireMailbox(input.mailbox)] : this.targetsOf([...recipients, from]);
    if (targets.length === 0) throw new Error(`deliver: none of ${[...recipients, from].join(', ')} is an emulated mailbox; call addMailbox first`);
    const messageId = angle(input.messageId ?? `${randomUUID()}@${from.split('@')[1] ?? 'example.com'}`);
    const date = input.date ?? new Date(this.options.now());
    const composer = new MailComposer({
      from: input.from,
      to: input.to,
      ...(input.cc !== undefined ? { cc: input.cc } : {}),
      ...(input.bcc !== undefined ? { bcc: input.bcc } : {}),
      ...(input.replyTo !== undefined ? { replyTo: input.replyTo } : {}),
      subject: input.subject,
      ...(input.text !== undefined ? { text: input.text } : {}),
      ...(input.html !== undefined ? { html: input.html } : {}),
      ...(input.attachments !== undefined
        ? {
            attachments: input.attachments.map((attachment) => ({
              filename: attachment.filename,
              content: attachment.content,
              ...(attachment.contentType !== undefined ? { contentType: attachment.contentType } : {}),
            })),
          }
        : {}),
      ...(input.inReplyTo !== undefined ? { inReplyTo: angle(input.inReplyTo) } : {}),
      ...(input.references !== undefined ? { references: input.references.map(angle) } : {}),
      ...(input.headers !== undefined ? { headers: input.headers } : {}),
      messageId,
      date,
    }).compile();
    // The sender's own copy keeps Bcc; MTAs strip it from what recipients get.
    (composer as unknown as { keepBcc: boolean }).keepBcc = true;
    const raw = await composer.build();
    const copies = targets.map((mailbox) => {
      const isSender = mailbox.email === from;
      const isRecipient = recipients.includes(mailbox.email);
      const labelIds = input.labelIds ?? (isSender ? (isRecipient ? ['SENT', 'INBOX', 'UNREAD'] : ['SENT']) : INBOUND_LABELS);
      const stored = isSender ? raw : editHeaders(raw, { remove: ['bcc'], prepend: [{ name: 'Delivered-To', value: mailbox.email }] });
      const message = this.store(mailbox, stored, labelIds, date.getTime(), input.threadId, 'receive');
      return this.describe(mailbox, message);
    });
    const [first] = copies;
    if (!first) throw new Error('deliver: no copy was stored');
    return { ...first, copies };
  }

  /**
   * messages.send: the sender's copy (SENT), then an inbound copy for each emulated
   * recipient. Gmail rewrites From to the account address and adds Message-ID/Date
   * when missing (with `replaceMessageIds`, replaces the Message-ID always); Bcc stays in the
   * sender's copy only.
   */
  async send(mailbox: Mailbox, raw: Buffer, threadId: string | undefined): Promise<StoredMessage> {
    let parsed: Email;
    try {
      parsed = await PostalMime.parse(raw);
    } catch {
      throw new SendError(400, 'Invalid raw message');
    }
    const recipients = [...new Set([...flatten(parsed.to), ...flatten(parsed.cc), ...flatten(parsed.bcc)])];
    if (recipients.length === 0) throw new SendError(400, 'Recipient address required');
    this.sent.set(mailbox.email, [...(this.sent.get(mailbox.email) ?? []), raw.toString('utf8')]);
    const headers = parseTopHeaders(raw);
    const set: Record<string, string> = {};
    const fromAddress = flatten(parsed.from ? [parsed.from] : [])[0];
    if (fromAddress !== mailbox.email) {
      const display = parsed.from && !parsed.from.group && parsed.from.name ? parsed.from.name : mailbox.name;
      set['From'] = `${display} <${mailbox.email}>`;
    }
    if (this.options.replaceMessageIds || !headerValue(headers, 'message-id')) set['Message-ID'] = `<CA+${randomUUID().replace(/-/g, '')}@mail.gmail.com>`;
    if (!headerValue(headers, 'date')) set['Date'] = new Date(this.options.now()).toUTCString().replace('GMT', '+0000');
    const stored = Object.keys(set).length > 0 ? editHeaders(raw, { set }) : raw;
    const now = this.options.now();
    const toSelf = recipients.includes(mailbox.email);
    const message = this.store(mailbox, stored, toSelf ? ['SENT', 'INBOX', 'UNREAD'] : ['SENT'], now, threadId, 'send');
    for (const recipient of this.targetsOf(recipients)) {
      if (recipient.email === mailbox.email) continue;
      const copy = editHeaders(stored, { remove: ['bcc'], prepend: [{ name: 'Delivered-To', value: recipient.email }] });
      this.store(recipient, copy, INBOUND_LABELS, now, undefined, 'receive');
    }
    return message;
  }

  describe(mailbox: Mailbox, message: StoredMessage): DeliveredMessage {
    return { id: message.id, threadId: message.threadId, messageId: message.messageIdHeader, historyId: String(message.historyId), mailbox: mailbox.email };
  }

  private targetsOf(addresses: string[]): Mailbox[] {
    const seen = new Set<string>();
    const result: Mailbox[] = [];
    for (const address of addresses) {
      const mailbox = this.mailbox(address);
      if (mailbox && !seen.has(mailbox.email)) {
        seen.add(mailbox.email);
        result.push(mailbox);
      }
    }
    return result;
  }

  private store(
    mailbox: Mailbox,
    raw: Buffer,
    labelIds: string[],
    internalDate: number,
    threadId: string | undefined,
    mode: 'receive' | 'send',
  ): StoredMessage {
    const headers = parseTopHeaders(raw);
    const thread = mailbox.threadFor({ headers, explicitThreadId: threadId, mode });
    return mailbox.insert({ id: this.ids.next(), threadId: thread, raw, labelIds, internalDate });
  }
}
