// Valid domain objects with unique, lower-case ids. Ids of a connection's rows embed the
// connection id (messages, threads, account address), so a physical check can tell whose a
// stored row is by the strings in it.
import { randomBytes } from 'node:crypto';
import type { Connection, MessageMeta, RecordLink, RecordRef } from '@threadlink/core/store';

/** 2023-11-14T22:13:20Z: fixed, so fixtures compare equal across runs. */
export const FIXTURE_EPOCH = 1_700_000_000_000;

export function uniqueId(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

export function makeConnection(overrides: Partial<Connection> = {}): Connection {
  const id = overrides.id ?? uniqueId('conn');
  return {
    id,
    tenantId: uniqueId('tenant'),
    userId: uniqueId('user'),
    provider: 'gmail',
    accountEmail: `${id}@mail.example.com`,
    displayName: null,
    status: 'live',
    sealedTokens: `v1.k1.sealed-${id}`,
    scopes: ['https://www.googleapis.com/auth/gmail.metadata'],
    subscription: null,
    cursor: null,
    backfill: { state: 'done', done: 0, estimatedTotal: 0, resume: null, startedAt: null, finishedAt: null, rate: null },
    health: {
      lastPushAt: null,
      lastSyncAt: null,
      lastFullSyncAt: null,
      newestChangeAt: null,
      consecutiveErrors: 0,
      lastErrorCode: null,
      lastErrorAt: null,
    },
    shared: true,
    createdAt: FIXTURE_EPOCH,
    updatedAt: FIXTURE_EPOCH,
    ...overrides,
  };
}

/** A message of `connection`; override anything, e.g. `{ threadId, receivedAt, from }`. */
export function makeMessage(connection: Connection, overrides: Partial<MessageMeta> = {}): MessageMeta {
  const providerMessageId = overrides.providerMessageId ?? uniqueId('pm');
  const providerThreadId = overrides.providerThreadId ?? uniqueId('pt');
  const receivedAt = overrides.receivedAt ?? FIXTURE_EPOCH;
  return {
    id: `msg_${connection.id}_${providerMessageId}`,
    tenantId: connection.tenantId,
    connectionId: connection.id,
    userId: connection.userId,
    provider: connection.provider,
    providerMessageId,
    providerThreadId,
    threadId: `thr_${connection.id}_${providerThreadId}`,
    internetMessageId: `<${providerMessageId}@mail.example.com>`,
    inReplyTo: null,
    references: [],
    subject: 'Quarterly review',
    from: { address: 'client@bigco.example', name: 'Big Client' },
    to: [{ address: connection.accountEmail }],
    cc: [],
    bcc: [],
    replyTo: [],
    sentAt: receivedAt - 1_000,
    receivedAt,
    direction: 'inbound',
    folder: 'inbox',
    labels: ['INBOX'],
    attachments: [],
    hasAttachments: false,
    referenceTokens: [],
    syncedAt: receivedAt + 1_000,
    ...overrides,
  };
}

export function makeRecord(type = 'client', overrides: Partial<RecordRef> = {}): RecordRef {
  return { type, id: uniqueId(type), ...overrides };
}

/** An automatic link by default; pass `{ manual: true, rule: 'manual' }` or `suppressed: true` for user decisions. */
export function makeLink(message: Pick<MessageMeta, 'id'> | string, record: RecordRef, overrides: Partial<RecordLink> = {}): RecordLink {
  return {
    messageId: typeof message === 'string' ? message : message.id,
    record,
    rule: 'participant.address',
    reason: 'sender is a contact of the record',
    confidence: 0.9,
    manual: false,
    suppressed: false,
    createdAt: FIXTURE_EPOCH,
    ...overrides,
  };
}

export function makeManualLink(message: Pick<MessageMeta, 'id'> | string, record: RecordRef, overrides: Partial<RecordLink> = {}): RecordLink {
  return makeLink(message, record, { rule: 'manual', reason: 'linked by a user', confidence: 1, manual: true, ...overrides });
}

export function makeManualUnlink(message: Pick<MessageMeta, 'id'> | string, record: RecordRef, overrides: Partial<RecordLink> = {}): RecordLink {
  return makeManualLink(message, record, { reason: 'unlinked by a user', suppressed: true, ...overrides });
}
