// Graph `message` JSON → ProviderMessage (metadata only). The $select below is the whole
// contract with Graph: body, bodyPreview and uniqueBody are never requested on a sync path,
// so they never cross the wire, let alone reach the store (https://learn.microsoft.com/graph/api/resources/message).
import {
  EmailAddress,
  mapMessageOrSkip,
  parseMessageIdList,
  ProviderMessage,
  type AttachmentMeta,
  type Participant,
  type ProviderSession,
} from '@threadlink/core/provider';

/**
 * Every field Mail.ReadBasic returns that we keep. internetMessageHeaders is allowed under
 * Mail.ReadBasic (it excludes only body, bodyPreview, uniqueBody, attachments, extensions and
 * extended properties) and is the only source of In-Reply-To/References; Graph returns it
 * for mail that came over SMTP, not for Sent Items copies, where conversationId threads instead.
 */
export const METADATA_FIELDS = [
  'id',
  'conversationId',
  'internetMessageId',
  'subject',
  'from',
  'sender',
  'toRecipients',
  'ccRecipients',
  'bccRecipients',
  'replyTo',
  'receivedDateTime',
  'sentDateTime',
  'parentFolderId',
  'hasAttachments',
  'isDraft',
  'internetMessageHeaders',
] as const;

export const METADATA_SELECT = METADATA_FIELDS.join(',');

/** Fields whose absence marks a partial delta item (Graph sends only changed props for e.g. isRead flips). */
const REQUIRED_FIELDS = ['conversationId', 'receivedDateTime', 'toRecipients', 'subject'] as const;

export const WELL_KNOWN_FOLDERS = ['inbox', 'sentitems', 'deleteditems', 'junkemail', 'drafts', 'archive', 'outbox'] as const;
export type WellKnownFolder = (typeof WELL_KNOWN_FOLDERS)[number];

/** Well-known folder name → its id in this mailbox (ids are opaque and differ per mailbox). */
export type FolderIds = Partial<Record<WellKnownFolder, string>>;

interface GraphRecipient {
  emailAddress?: { name?: string | null; address?: string | null } | null;
}

export interface GraphMessage {
  id: string;
  '@removed'?: { reason?: string };
  conversationId?: string | null;
  internetMessageId?: string | null;
  subject?: string | null;
  from?: GraphRecipient | null;
  sender?: GraphRecipient | null;
  toRecipients?: GraphRecipient[] | null;
  ccRecipients?: GraphRecipient[] | null;
  bccRecipients?: GraphRecipient[] | null;
  replyTo?: GraphRecipient[] | null;
  receivedDateTime?: string | null;
  sentDateTime?: string | null;
  parentFolderId?: string | null;
  hasAttachments?: boolean | null;
  isDraft?: boolean | null;
  internetMessageHeaders?: Array<{ name?: string; value?: string }> | null;
}

export function isPartial(message: GraphMessage): boolean {
  return REQUIRED_FIELDS.some((field) => message[field] === undefined);
}

export type FolderClass = ProviderMessage['folder'] | 'deleted';

/**
 * Normalised folder of a message, from its parentFolderId (or, when a partial item lacks it, the
 * folder whose delta listed it). Deleted Items counts as deleted (the CRM timeline drops it, as
 * Gmail's trash does); Archive and user folders count as archive.
 */
export function classifyFolder(parentFolderId: string | null | undefined, folderIds: FolderIds, listedIn: string): FolderClass {
  const id = parentFolderId || listedIn;
  const folder = (Object.entries(folderIds) as Array<[WellKnownFolder, string]>).find(([, known]) => known === id)?.[0];
  switch (folder) {
    case 'inbox':
      return 'inbox';
    case 'sentitems':
      return 'sent';
    case 'deleteditems':
      return 'deleted';
    case 'junkemail':
      return 'spam';
    case 'drafts':
      return 'drafts';
    default:
      return 'archive';
  }
}

function participant(recipient: GraphRecipient | null | undefined): Participant | null {
  const address = recipient?.emailAddress?.address;
  if (!address) return null;
  // Exchange reports some internal senders by legacy DN (/O=EXCHANGELABS/...): not an address, skip it.
  const parsed = EmailAddress.safeParse(address);
  if (!parsed.success) return null;
  const name = recipient?.emailAddress?.name?.trim().slice(0, 512);
  return name && name.toLowerCase() !== parsed.data ? { address: parsed.data, name } : { address: parsed.data };
}

function participants(recipients: GraphRecipient[] | null | undefined): Participant[] {
  const seen = new Set<string>();
  const out: Participant[] = [];
  for (const recipient of recipients ?? []) {
    const parsed = participant(recipient);
    if (parsed && !seen.has(parsed.address)) {
      seen.add(parsed.address);
      out.push(parsed);
    }
  }
  return out;
}

function header(message: GraphMessage, name: string): string | null {
  const wanted = name.toLowerCase();
  return message.internetMessageHeaders?.find((entry) => entry.name?.toLowerCase() === wanted)?.value ?? null;
}

function epoch(value: string | null | undefined): number | null {
  if (!value) return null;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? null : Math.max(0, parsed);
}

export interface ToProviderMessageInput {
  message: GraphMessage;
  folder: Exclude<FolderClass, 'deleted'>;
  accountEmail: string;
  attachments: AttachmentMeta[];
  now: number;
  /**
   * The id of the folder the message is in: its one label (LabelRef directory in labels.ts).
   * Omitted where it is not known (a reply's own copy, before Sent Items files it): no label then.
   */
  folderId?: string;
}

export function toProviderMessage({ message, folder, accountEmail, attachments, now, folderId }: ToProviderMessageInput): ProviderMessage {
  const from = participant(message.from) ?? participant(message.sender);
  const sentAt = epoch(message.sentDateTime);
  const receivedAt = epoch(message.receivedDateTime) ?? sentAt ?? now;
  const references = parseMessageIdList(header(message, 'References')).filter((id) => id.length <= 998);
  const inReplyTo = parseMessageIdList(header(message, 'In-Reply-To'))[0] ?? null;
  const internetMessageId = message.internetMessageId && message.internetMessageId.length <= 998 ? message.internetMessageId : null;
  const outbound = folder === 'sent' || folder === 'drafts' || from?.address === accountEmail.toLowerCase();
  return ProviderMessage.parse({
    providerMessageId: message.id,
    providerThreadId: message.conversationId || message.id,
    internetMessageId,
    inReplyTo: inReplyTo && inReplyTo.length <= 998 ? inReplyTo : null,
    references,
    subject: (message.subject ?? '').slice(0, 4096),
    from,
    to: participants(message.toRecipients),
    cc: participants(message.ccRecipients),
    bcc: participants(message.bccRecipients),
    replyTo: participants(message.replyTo),
    sentAt,
    receivedAt,
    direction: outbound ? 'outbound' : 'inbound',
    folder,
    // Outlook categories are colour tags, not folders; the label directory holds folders only.
    labels: folderId && folderId.length <= 255 ? [folderId] : [],
    attachments,
    hasAttachments: message.hasAttachments === true || attachments.length > 0,
  });
}

/** Like toProviderMessage, but a message that does not fit the schema is skipped and reported (core's mapMessageOrSkip). */
export function toProviderMessageOrSkip(input: ToProviderMessageInput, session: ProviderSession): ProviderMessage | null {
  return mapMessageOrSkip(session, 'outlook', input.message.id, () => toProviderMessage(input));
}

/** The id (for tl.messages.attachment), name, size, type and inline flag only: `contentBytes` would carry the file itself. */
export const ATTACHMENT_SELECT = 'id,name,size,contentType,isInline';

export function toAttachmentMeta(raw: unknown): AttachmentMeta | null {
  const attachment = raw as { id?: unknown; name?: unknown; size?: unknown; contentType?: unknown; isInline?: unknown };
  if (typeof attachment.name !== 'string' || attachment.isInline === true) return null;
  return {
    ...(typeof attachment.id === 'string' && attachment.id.length > 0 && attachment.id.length <= 2048 ? { id: attachment.id } : {}),
    name: attachment.name.slice(0, 1024),
    mimeType: typeof attachment.contentType === 'string' ? attachment.contentType.slice(0, 255) : null,
    size: typeof attachment.size === 'number' && Number.isInteger(attachment.size) && attachment.size >= 0 ? attachment.size : null,
    // Inline ones (signature logos, pasted images) are skipped above: they are part of the body.
    inline: false,
  };
}
