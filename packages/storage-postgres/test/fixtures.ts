// Small builders for valid domain objects; every field explicit so tests read what they store.
import { stableId, type Connection, type MessageMeta, type RecordLink, type RecordRef } from '@threadlink/core';

export function makeConnection(overrides: Partial<Connection> = {}): Connection {
  const id = overrides.id ?? `conn_${Math.random().toString(36).slice(2, 10)}`;
  return {
    id,
    tenantId: 't1',
    userId: 'u1',
    provider: 'gmail',
    accountEmail: 'ana@acme.com',
    displayName: 'Ana',
    status: 'live',
    sealedTokens: 'v1.k1.sealed-token-bytes',
    scopes: ['https://www.googleapis.com/auth/gmail.metadata'],
    subscription: null,
    cursor: null,
    backfill: { state: 'pending', done: 0, estimatedTotal: null, resume: null, startedAt: null, finishedAt: null, rate: null },
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
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    ...overrides,
  };
}

export function makeMessage(connection: Connection, providerMessageId: string, overrides: Partial<MessageMeta> = {}): MessageMeta {
  const providerThreadId = overrides.providerThreadId ?? `thread-${providerMessageId}`;
  return {
    providerMessageId,
    providerThreadId,
    internetMessageId: `<${providerMessageId}@mail.acme.com>`,
    inReplyTo: null,
    references: [],
    subject: `Subject ${providerMessageId}`,
    from: { address: 'client@bigco.com', name: 'Client' },
    to: [{ address: connection.accountEmail }],
    cc: [],
    bcc: [],
    replyTo: [],
    sentAt: 1_700_000_000_000,
    receivedAt: 1_700_000_000_000,
    direction: 'inbound',
    folder: 'inbox',
    labels: ['INBOX'],
    attachments: [],
    hasAttachments: false,
    id: stableId('msg', connection.id, providerMessageId),
    tenantId: connection.tenantId,
    connectionId: connection.id,
    userId: connection.userId,
    provider: connection.provider,
    threadId: stableId('thr', connection.id, providerThreadId),
    referenceTokens: [],
    syncedAt: 1_700_000_000_500,
    ...overrides,
  };
}

export function makeLink(messageId: string, record: RecordRef, overrides: Partial<RecordLink> = {}): RecordLink {
  return {
    messageId,
    record,
    rule: 'participant.address',
    reason: 'from client@bigco.com',
    confidence: 0.9,
    manual: false,
    suppressed: false,
    createdAt: 1_700_000_001_000,
    ...overrides,
  };
}
