// The memory store answers timelines and rematch look-ups from its indexes only, so the
// indexes must always describe exactly the stored rows. After any sequence of writes, the
// index tables in the raw dump equal indexes rebuilt from scratch out of the message and link rows.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MessageMeta, RecordLink } from '@threadlink/core';
import { domainOf, messageAddresses, recordKey } from '@threadlink/core/store';
import { memoryStore } from '@threadlink/storage-memory';
import { makeConnection, makeLink, makeManualLink, makeManualUnlink, makeMessage } from '@threadlink/testing';

const join = (...parts: string[]): string => parts.join('\u0000');

function rebuild(messages: MessageMeta[], links: RecordLink[]): Record<string, string[]> {
  const rows: Record<string, string[]> = {
    'index.providerId': [],
    'index.connection': [],
    'index.address': [],
    'index.domain': [],
    'index.reference': [],
    'index.thread': [],
    'index.record': [],
  };
  const add = (table: string, key: string, id: string) => rows[table]?.push(JSON.stringify({ key, id }));
  const tenantOf = new Map<string, string>();
  for (const message of messages) {
    tenantOf.set(message.id, message.tenantId);
    add('index.providerId', join(message.connectionId, message.providerMessageId), message.id);
    add('index.connection', message.connectionId, message.id);
    for (const address of messageAddresses(message)) add('index.address', join(message.tenantId, address), message.id);
    for (const domain of new Set(messageAddresses(message).map(domainOf))) add('index.domain', join(message.tenantId, domain), message.id);
    for (const token of new Set(message.referenceTokens)) add('index.reference', join(message.tenantId, token), message.id);
    add('index.thread', join(message.tenantId, message.threadId), message.id);
  }
  for (const link of links) {
    if (!link.suppressed) add('index.record', join(tenantOf.get(link.messageId) ?? '?', recordKey(link.record)), link.messageId);
  }
  return Object.fromEntries(Object.entries(rows).map(([table, entries]) => [table, entries.sort()]));
}

const tenantA = makeConnection({ id: 'conn_a', tenantId: 'tenant_a' });
const tenantAColleague = makeConnection({ id: 'conn_b', tenantId: 'tenant_a' });
const tenantB = makeConnection({ id: 'conn_c', tenantId: 'tenant_b' });
const connections = [tenantA, tenantAColleague, tenantB];
const records = [
  { type: 'client', id: 'c1' },
  { type: 'project', id: 'c1' },
  { type: 'project', id: 'p2' },
];
const people = ['ana@acme.example', 'bob@acme.example', 'carol@bigco.example', 'dan@gmail.example'];

const operation = fc.oneof(
  fc.record({
    kind: fc.constant('upsert' as const),
    connection: fc.nat(2),
    message: fc.nat(5),
    thread: fc.nat(2),
    from: fc.nat(3),
    cc: fc.subarray(people),
    tokens: fc.subarray(['PRJ-1', 'PRJ-2']),
    receivedAt: fc.nat(10),
    linkTo: fc.subarray([0, 1, 2]),
  }),
  fc.record({ kind: fc.constant('delete' as const), connection: fc.nat(2), message: fc.nat(5) }),
  fc.record({ kind: fc.constant('manual' as const), connection: fc.nat(2), message: fc.nat(5), record: fc.nat(2), suppressed: fc.boolean() }),
  fc.record({ kind: fc.constant('addLinks' as const), connection: fc.nat(2), message: fc.nat(5), record: fc.nat(2) }),
  fc.record({ kind: fc.constant('removeLink' as const), connection: fc.nat(2), message: fc.nat(5), record: fc.nat(2) }),
  fc.record({ kind: fc.constant('purge' as const), connection: fc.nat(2) }),
);

describe('memory store indexes', () => {
  it('always equal indexes rebuilt from the stored rows, whatever the sequence of writes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { maxLength: 40 }), async (operations) => {
        const store = memoryStore();
        for (const connection of connections) await store.saveConnection(connection);
        const messageOf = (connection: number, message: number) => `msg_${connections[connection]?.id}_pm${message}`;
        for (const step of operations) {
          const connection = connections[step.connection] ?? tenantA;
          // A purged connection comes back (reconnect) before the next write to it.
          if (step.kind !== 'purge') await store.saveConnection(connection);
          if (step.kind === 'upsert') {
            const message = makeMessage(connection, {
              providerMessageId: `pm${step.message}`,
              id: messageOf(step.connection, step.message),
              threadId: `thr_${step.thread}`,
              from: { address: people[step.from] ?? 'ana@acme.example' },
              cc: step.cc.map((address) => ({ address })),
              referenceTokens: step.tokens,
              internetMessageId: `<m${step.message}@x.example>`,
              receivedAt: step.receivedAt,
              sentAt: null,
            });
            await store.applySync(connection.id, {
              upserts: [message],
              deletes: [],
              links: step.linkTo.map((index) => makeLink(message, records[index] ?? { type: 'client', id: 'c1' })),
            });
          } else if (step.kind === 'delete') {
            await store.applySync(connection.id, { upserts: [], deletes: [`pm${step.message}`], links: [] });
          } else if (step.kind === 'manual') {
            const record = records[step.record] ?? { type: 'client', id: 'c1' };
            const link = step.suppressed
              ? makeManualUnlink(messageOf(step.connection, step.message), record)
              : makeManualLink(messageOf(step.connection, step.message), record);
            await store.saveManualLink(connection.tenantId, link).catch((error: { code?: string }) => {
              if (error.code !== 'NOT_FOUND') throw error;
            });
          } else if (step.kind === 'addLinks') {
            await store.addLinks(connection.tenantId, [
              makeLink(messageOf(step.connection, step.message), records[step.record] ?? { type: 'client', id: 'c1' }),
            ]);
          } else if (step.kind === 'removeLink') {
            await store.removeLink(connection.tenantId, messageOf(step.connection, step.message), records[step.record] ?? { type: 'client', id: 'c1' });
          } else {
            await store.purgeConnection(connection.id);
          }
        }
        const dump = await store.raw.dump();
        const expected = rebuild(dump.messages as MessageMeta[], dump.links as RecordLink[]);
        for (const [table, rows] of Object.entries(expected)) {
          expect((dump[table] ?? []).map((row) => JSON.stringify(row)).sort(), table).toEqual(rows);
        }
        // No link outlives its message.
        const messageIds = new Set((dump.messages as MessageMeta[]).map((message) => message.id));
        expect((dump.links as RecordLink[]).filter((link) => !messageIds.has(link.messageId))).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });
});
