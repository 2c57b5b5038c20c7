// Synthetic mailbox rows for the store scenarios, shaped like what the engine writes: ids derived
// from (connection, provider id), participants at CRM client domains, threads of five, reference
// numbers on a third of the subjects.
import type { Connection, MessageMeta, RecordLink } from '@threadlink/core';
import { messageIdFor, threadIdFor } from '@threadlink/core/testing';
import { makeConnection, makeLink, makeMessage } from '@threadlink/testing';

const BENCH_NOW = 1_760_000_000_000;

export function benchConnection(id: string, tenantId = 't1', accountEmail = 'me@acme.example'): Connection {
  return makeConnection({ id, tenantId, userId: 'u1', accountEmail, createdAt: BENCH_NOW, updatedAt: BENCH_NOW });
}

/** Message `index` of a mailbox; the sender is person@client{index % companies}.example. */
export function benchMessage(connection: Connection, index: number, companies = 1_000): MessageMeta {
  const providerMessageId = `pm-${index}`;
  const providerThreadId = `pt-${Math.floor(index / 5)}`;
  const reference = `PRJ-${10_000 + (index % 1_000)}`;
  const client = index % companies;
  return makeMessage(connection, {
    // The engine's ids, not the fixtures' readable ones: the rows are what a real sync writes.
    id: messageIdFor(connection.id, providerMessageId),
    threadId: threadIdFor(connection.id, providerThreadId),
    providerMessageId,
    providerThreadId,
    internetMessageId: `<m${index}.${connection.id}@client${client}.example>`,
    subject: index % 3 === 0 ? `Re: ${reference} change request` : `Site visit notes ${index}`,
    from: { address: `person@client${client}.example`, name: `Person ${client}` },
    cc: index % 4 === 0 ? [{ address: `colleague${index % 20}@acme.example` }] : [],
    sentAt: BENCH_NOW - index * 60_000,
    receivedAt: BENCH_NOW - index * 60_000 + 500,
    referenceTokens: index % 3 === 0 ? [reference] : [],
    syncedAt: BENCH_NOW,
  });
}

export function clientLink(message: MessageMeta, clientId: string): RecordLink {
  return makeLink(message, { type: 'client', id: clientId }, { rule: 'participant.domain', reason: 'sender domain', confidence: 0.8, createdAt: BENCH_NOW });
}
