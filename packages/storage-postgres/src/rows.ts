// Mapping between table rows and domain objects. Row shapes mirror migrations/*.sql.
import { domainOf } from '@threadlink/core/store';
import type {
  AttachmentMeta,
  BackfillProgress,
  Connection,
  ConnectionHealthState,
  MessageMeta,
  Organization,
  Participant,
  RecordLink,
  StoredMessage,
  SubscriptionState,
} from '@threadlink/core/store';

/** `pg` returns bigint as a string, PGlite as a number: normalise both. */
function toNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

function toNullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : toNumber(value);
}

export interface ConnectionRow {
  tenant_id: string;
  id: string;
  user_id: string;
  provider: Connection['provider'];
  account_email: string;
  display_name: string | null;
  status: Connection['status'];
  sealed_tokens: string;
  scopes: string[];
  subscription: SubscriptionState | null;
  cursor: string | null;
  backfill: BackfillProgress;
  health: ConnectionHealthState;
  shared: boolean;
  org_id: string | null;
  mailbox_id: string | null;
  mailbox_kind: Connection['mailboxKind'] | null;
  created_at: number | string;
  updated_at: number | string;
}

export const CONNECTION_COLUMNS = [
  'tenant_id',
  'id',
  'user_id',
  'provider',
  'account_email',
  'display_name',
  'status',
  'sealed_tokens',
  'scopes',
  'subscription',
  'cursor',
  'backfill',
  'health',
  'shared',
  'org_id',
  'mailbox_id',
  'mailbox_kind',
  'created_at',
  'updated_at',
] as const;

export function connectionFromRow(row: ConnectionRow): Connection {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    userId: row.user_id,
    provider: row.provider,
    accountEmail: row.account_email,
    displayName: row.display_name,
    status: row.status,
    sealedTokens: row.sealed_tokens,
    scopes: row.scopes,
    subscription: row.subscription,
    cursor: row.cursor,
    backfill: row.backfill,
    health: row.health,
    shared: row.shared,
    ...(row.org_id === null || row.org_id === undefined ? {} : { orgId: row.org_id }),
    ...(row.mailbox_id === null || row.mailbox_id === undefined ? {} : { mailboxId: row.mailbox_id }),
    ...(row.mailbox_kind === null || row.mailbox_kind === undefined ? {} : { mailboxKind: row.mailbox_kind }),
    createdAt: toNumber(row.created_at),
    updatedAt: toNumber(row.updated_at),
  };
}

/** Parameters in CONNECTION_COLUMNS order; jsonb values travel as JSON text (same on pg and PGlite). */
export function connectionParams(connection: Connection): unknown[] {
  return [
    connection.tenantId,
    connection.id,
    connection.userId,
    connection.provider,
    connection.accountEmail,
    connection.displayName,
    connection.status,
    connection.sealedTokens,
    connection.scopes,
    connection.subscription === null ? null : JSON.stringify(connection.subscription),
    connection.cursor,
    JSON.stringify(connection.backfill),
    JSON.stringify(connection.health),
    connection.shared,
    connection.orgId ?? null,
    connection.mailboxId ?? null,
    connection.mailboxKind ?? null,
    connection.createdAt,
    connection.updatedAt,
  ];
}

export interface OrganizationRow {
  tenant_id: string;
  id: string;
  user_id: string;
  provider: Organization['provider'];
  directory_id: string;
  display_name: string | null;
  status: Organization['status'];
  sealed_credentials: string;
  selection: Organization['selection'];
  problems: Organization['problems'];
  last_sync_at: number | string | null;
  created_at: number | string;
  updated_at: number | string;
}

export const ORGANIZATION_COLUMNS = [
  'tenant_id',
  'id',
  'user_id',
  'provider',
  'directory_id',
  'display_name',
  'status',
  'sealed_credentials',
  'selection',
  'problems',
  'last_sync_at',
  'created_at',
  'updated_at',
] as const;

export function organizationFromRow(row: OrganizationRow): Organization {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    userId: row.user_id,
    provider: row.provider,
    directoryId: row.directory_id,
    displayName: row.display_name,
    status: row.status,
    sealedCredentials: row.sealed_credentials,
    selection: row.selection,
    problems: row.problems,
    lastSyncAt: toNullableNumber(row.last_sync_at),
    createdAt: toNumber(row.created_at),
    updatedAt: toNumber(row.updated_at),
  };
}

/** Parameters in ORGANIZATION_COLUMNS order. */
export function organizationParams(organization: Organization): unknown[] {
  return [
    organization.tenantId,
    organization.id,
    organization.userId,
    organization.provider,
    organization.directoryId,
    organization.displayName,
    organization.status,
    organization.sealedCredentials,
    JSON.stringify(organization.selection),
    JSON.stringify(organization.problems),
    organization.lastSyncAt,
    organization.createdAt,
    organization.updatedAt,
  ];
}

const PARTICIPANT_ROLES = ['from', 'to', 'cc', 'bcc', 'reply_to'] as const;
type ParticipantRole = (typeof PARTICIPANT_ROLES)[number];

interface ParticipantJson {
  role: ParticipantRole;
  address: string;
  name: string | null;
}

interface LinkJson {
  record_type: string;
  record_id: string;
  record_label: string | null;
  rule: RecordLink['rule'];
  reason: string;
  confidence: number;
  manual: boolean;
  suppressed: boolean;
  created_at: number | string;
}

export interface MessageRow {
  tenant_id: string;
  id: string;
  connection_id: string;
  user_id: string;
  provider: MessageMeta['provider'];
  provider_message_id: string;
  provider_thread_id: string;
  thread_id: string;
  internet_message_id: string | null;
  in_reply_to: string | null;
  message_references: string[];
  subject: string;
  sent_at: number | string | null;
  received_at: number | string;
  direction: MessageMeta['direction'];
  folder: MessageMeta['folder'];
  labels: string[];
  attachments: AttachmentMeta[];
  has_attachments: boolean;
  synced_at: number | string;
  participants: ParticipantJson[];
  reference_tokens: string[];
  links: LinkJson[];
}

/**
 * The message columns plus its participants, reference tokens and links, aggregated in the
 * same statement so a page of messages is one round trip. `m` is the messages alias.
 */
export function messageSelect(table: (name: string) => string): string {
  return `SELECT m.tenant_id, m.id, m.connection_id, m.user_id, m.provider, m.provider_message_id, m.provider_thread_id,
      m.thread_id, m.internet_message_id, m.in_reply_to, m.message_references, m.subject, m.sent_at, m.received_at,
      m.direction, m.folder, m.labels, m.attachments, m.has_attachments, m.synced_at,
      (SELECT coalesce(jsonb_agg(jsonb_build_object('role', p.role, 'address', p.address, 'name', p.display_name)
                                 ORDER BY p.role, p.position), '[]'::jsonb)
         FROM ${table('participants')} p WHERE p.tenant_id = m.tenant_id AND p.message_id = m.id) AS participants,
      (SELECT coalesce(array_agg(t.token ORDER BY t.position), '{}'::text[])
         FROM ${table('reference_tokens')} t WHERE t.tenant_id = m.tenant_id AND t.message_id = m.id) AS reference_tokens,
      (SELECT coalesce(jsonb_agg(jsonb_build_object('record_type', l.record_type, 'record_id', l.record_id,
                                   'record_label', l.record_label, 'rule', l.rule, 'reason', l.reason,
                                   'confidence', l.confidence, 'manual', l.manual, 'suppressed', l.suppressed,
                                   'created_at', l.created_at)
                                 ORDER BY l.record_type, l.record_id), '[]'::jsonb)
         FROM ${table('record_links')} l WHERE l.tenant_id = m.tenant_id AND l.message_id = m.id) AS links
    FROM ${table('messages')} m`;
}

function participantFrom(json: ParticipantJson): Participant {
  return json.name === null ? { address: json.address } : { address: json.address, name: json.name };
}

/** A record_links row (exportConnection reads them directly). */
export interface LinkRow extends LinkJson {
  tenant_id: string;
  message_id: string;
  connection_id: string;
  message_received_at: number | string;
}

export function linkFromRow(row: LinkRow): RecordLink {
  return linkFrom(row.message_id, row);
}

function linkFrom(messageId: string, json: LinkJson): RecordLink {
  return {
    messageId,
    record:
      json.record_label === null ? { type: json.record_type, id: json.record_id } : { type: json.record_type, id: json.record_id, label: json.record_label },
    rule: json.rule,
    reason: json.reason,
    confidence: json.confidence,
    manual: json.manual,
    suppressed: json.suppressed,
    createdAt: toNumber(json.created_at),
  };
}

export function messageFromRow(row: MessageRow): StoredMessage {
  const byRole = (role: ParticipantRole): Participant[] => row.participants.filter((participant) => participant.role === role).map(participantFrom);
  const from = row.participants.find((participant) => participant.role === 'from');
  return {
    providerMessageId: row.provider_message_id,
    providerThreadId: row.provider_thread_id,
    internetMessageId: row.internet_message_id,
    inReplyTo: row.in_reply_to,
    references: row.message_references,
    subject: row.subject,
    from: from ? participantFrom(from) : null,
    to: byRole('to'),
    cc: byRole('cc'),
    bcc: byRole('bcc'),
    replyTo: byRole('reply_to'),
    sentAt: toNullableNumber(row.sent_at),
    receivedAt: toNumber(row.received_at),
    direction: row.direction,
    folder: row.folder,
    labels: row.labels,
    attachments: row.attachments,
    hasAttachments: row.has_attachments,
    id: row.id,
    tenantId: row.tenant_id,
    connectionId: row.connection_id,
    userId: row.user_id,
    provider: row.provider,
    threadId: row.thread_id,
    referenceTokens: row.reference_tokens,
    syncedAt: toNumber(row.synced_at),
    links: row.links.map((link) => linkFrom(row.id, link)),
  };
}

/** One message as a jsonb_to_recordset row (see MESSAGE_RECORDSET in store.ts). */
export function messageJson(message: MessageMeta): Record<string, unknown> {
  return {
    tenant_id: message.tenantId,
    id: message.id,
    connection_id: message.connectionId,
    user_id: message.userId,
    provider: message.provider,
    provider_message_id: message.providerMessageId,
    provider_thread_id: message.providerThreadId,
    thread_id: message.threadId,
    internet_message_id: message.internetMessageId,
    in_reply_to: message.inReplyTo,
    message_references: message.references,
    subject: message.subject,
    sent_at: message.sentAt,
    received_at: message.receivedAt,
    direction: message.direction,
    folder: message.folder,
    labels: message.labels,
    // Rebuilt key by key: nothing but the id, name, MIME type, size and inline flag reaches the table.
    attachments: message.attachments.map((attachment) => ({
      ...(attachment.id === undefined ? {} : { id: attachment.id }),
      name: attachment.name,
      mimeType: attachment.mimeType,
      size: attachment.size,
      ...(attachment.inline === undefined ? {} : { inline: attachment.inline }),
    })),
    has_attachments: message.hasAttachments,
    synced_at: message.syncedAt,
  };
}

/** Participant rows of one message, in role order, positions preserving the header order. */
export function participantJson(messageId: string, message: MessageMeta): Array<Record<string, unknown>> {
  const rows: Array<Record<string, unknown>> = [];
  const push = (role: ParticipantRole, participants: readonly Participant[]): void => {
    participants.forEach((participant, position) => {
      rows.push({
        message_id: messageId,
        role,
        position,
        address: participant.address,
        domain: domainOf(participant.address),
        display_name: participant.name ?? null,
      });
    });
  };
  push('from', message.from ? [message.from] : []);
  push('to', message.to);
  push('cc', message.cc);
  push('bcc', message.bcc);
  push('reply_to', message.replyTo);
  return rows;
}

export function referenceTokenJson(messageId: string, message: MessageMeta): Array<Record<string, unknown>> {
  return message.referenceTokens.map((token, position) => ({ message_id: messageId, position, token }));
}

export function linkJson(link: RecordLink): Record<string, unknown> {
  return {
    message_id: link.messageId,
    record_type: link.record.type,
    record_id: link.record.id,
    record_label: link.record.label ?? null,
    rule: link.rule,
    reason: link.reason,
    confidence: link.confidence,
    manual: link.manual,
    suppressed: link.suppressed,
    created_at: link.createdAt,
  };
}

/**
 * JSON text for a jsonb parameter. PostgreSQL text cannot hold NUL and jsonb rejects lone
 * surrogate escapes; both can come out of a mangled MIME header, so they are dropped rather than
 * letting one odd subject fail a whole sync batch.
 */
export function toJsonParam(value: unknown): string {
  const json = JSON.stringify(value);
  if (!/\\u0000|\\ud[89a-f]/i.test(json)) return json;
  return JSON.stringify(value, (_key, item: unknown) =>
    // biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is exactly what must go: PostgreSQL jsonb refuses it.
    typeof item === 'string' ? item.replace(/\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '') : item,
  );
}
