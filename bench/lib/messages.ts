// Synthetic mailbox rows for the store scenarios, shaped like what the engine writes: ids derived
// from (connection, provider id), participants at CRM client domains, threads of five, reference
// numbers on a third of the subjects.
import { messageIdFor, threadIdFor, type Connection, type MessageMeta, type RecordLink } from '@threadlink/core';

export const BENCH_NOW = 1_760_000_000_000;

export function benchConnection(id: string, tenantId = 't1', accountEmail = 'me@acme.example'): Connection {
  return {
    id,
    tenantId,
    userId: 'u1',
    provider: 'gmail',
    accountEmail,
    displayName: null,
    status: 'live',
    sealedTokens: 'sealed-by-the-engine',
    scopes: [],
    subscription: null,
    cursor: null,
    backfill: { state: 'done', done: 0, estimatedTotal: null, resume: null, startedAt: null, finishedAt: null, rate: null },
    health: { lastPushAt: null, lastSyncAt: null, lastFullSyncAt: null, newestChangeAt: null, consecutiveErrors: 0, lastErrorCode: null, lastErrorAt: null },
    shared: true,
    createdAt: BENCH_NOW,
    updatedAt: BENCH_NOW,
  };
}

/** Message `index` of a mailbox; the sender is person@client{index % companies}.example. */
export function benchMessage(connection: Connection, index: number, companies = 1_000): MessageMeta {
  const providerMessageId = `pm-${index}`;
  const providerThreadId = `pt-${Math.floor(index / 5)}`;
  const reference = `PRJ-${10_000 + (index % 1_000)}`;
  const client = index % companies;
  return {
    providerMessageId,
    providerThreadId,
    internetMessageId: `<m${index}.${connection.id}@client${client}.example>`,
    inReplyTo: null,
    references: [],
    subject: index % 3 === 0 ? `Re: ${reference} change request` : `Site visit notes ${index}`,
    from: { address: `person@client${client}.example`, name: `Person ${client}` },
    to: [{ address: connection.accountEmail }],
    cc: index % 4 === 0 ? [{ address: `colleague${index % 20}@acme.example` }] : [],
    bcc: [],
    replyTo: [],
    sentAt: BENCH_NOW - index * 60_000,
    receivedAt: BENCH_NOW - index * 60_000 + 500,
    direction: 'inbound',
    folder: 'inbox',
    labels: ['INBOX'],
    attachments: [],
    hasAttachments: false,
    id: messageIdFor(connection.id, providerMessageId),
    tenantId: connection.tenantId,
    connectionId: connection.id,
    userId: connection.userId,
    provider: connection.provider,
    threadId: threadIdFor(connection.id, providerThreadId),
    referenceTokens: index % 3 === 0 ? [reference] : [],
    syncedAt: BENCH_NOW,
  };
}

export function clientLink(message: MessageMeta, clientId: string): RecordLink {
  return {
    messageId: message.id,
    record: { type: 'client', id: clientId },
    rule: 'participant.domain',
    reason: 'sender domain',
    confidence: 0.8,
    manual: false,
    suppressed: false,
    createdAt: BENCH_NOW,
  };
}
