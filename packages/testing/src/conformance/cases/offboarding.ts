// Offboarding: purge leaves zero rows of the connection (checked on the physical rows) and
// nothing else disturbed; export returns everything stored, tokens redacted.
import { describe, expect, it } from 'vitest';
import { getMessage, type Connection, type ExportRecord, type LabelRef, type MessageMeta, type RecordLink } from '@threadlink/core/store';
import { seed, type ConformanceContext } from '../context.js';
import { makeConnection, makeLink, makeManualLink, makeManualUnlink, makeMessage, makeRecord, uniqueId } from '../fixtures.js';
import { canonicalRow, mentions, rowsMentioning } from '../raw.js';

/** A connection with messages, automatic and manual links, a lease and a claim named for it. */
async function populated(t: ConformanceContext, tenantId?: string) {
  const watchId = uniqueId('watch');
  const connection = makeConnection({
    ...(tenantId === undefined ? {} : { tenantId }),
    subscription: { items: [{ id: watchId, resource: 'INBOX', expiresAt: 9e12 }], renewAt: 9e12, expiresAt: 9e12 },
  });
  const client = makeRecord('client');
  const project = makeRecord('project');
  const messages = [
    makeMessage(connection, {
      referenceTokens: ['PRJ-1'],
      attachments: [{ name: 'proposal.pdf', mimeType: 'application/pdf', size: 1234 }],
      hasAttachments: true,
    }),
    makeMessage(connection, { receivedAt: 1_700_000_100_000 }),
    makeMessage(connection, { receivedAt: 1_700_000_200_000 }),
  ] as [MessageMeta, MessageMeta, MessageMeta];
  const automatic = [makeLink(messages[0], client), makeLink(messages[1], client), makeLink(messages[0], project, { rule: 'reference' })];
  await seed(t.store, connection, messages, automatic, `history-${connection.id}`);
  const manual = makeManualLink(messages[2], project);
  const unlink = makeManualUnlink(messages[1], client);
  await t.store.saveManualLink(connection.tenantId, manual);
  await t.store.saveManualLink(connection.tenantId, unlink);
  const links: RecordLink[] = [automatic[0], automatic[2], manual, unlink] as RecordLink[];
  expect(await t.store.acquireLease({ key: `connection:${connection.id}`, owner: 'engine-1', ttlMs: 60_000, now: 0 })).toBe(true);
  expect(await t.store.claimOnce(`dedupe:${connection.id}:notification-1`, 9e12, 0)).toBe(true);
  const labels: LabelRef[] = [
    { id: 'INBOX', name: 'Inbox', kind: 'system' },
    { id: `Label_${connection.id}`, name: `Clients of ${connection.id}`, kind: 'user' },
  ];
  await t.store.saveLabels(connection.id, labels);
  const stored = (await t.store.getConnection(connection.id)) as Connection;
  /** Strings only this connection's rows contain. */
  const tokens = [
    connection.id,
    watchId,
    connection.accountEmail,
    connection.sealedTokens,
    ...messages.flatMap((message) => [message.id, message.providerMessageId, message.threadId]),
  ];
  return { connection: stored, messages, links, labels, tokens: [...tokens, `Label_${connection.id}`] };
}

async function collect(records: AsyncIterable<ExportRecord>): Promise<ExportRecord[]> {
  const all: ExportRecord[] = [];
  for await (const record of records) all.push(record);
  return all;
}

export function offboardingCases(t: ConformanceContext): void {
  describe('purgeConnection', () => {
    it("leaves zero rows of the connection and every other connection's rows intact", async () => {
      const leaving = await populated(t);
      const staying = await populated(t, leaving.connection.tenantId);
      expect(await t.store.claimOnce('oauth-state:unrelated', 9e12, 0)).toBe(true);
      const before = await t.raw.dump();
      expect(rowsMentioning(before, leaving.tokens).length).toBeGreaterThan(0);
      const stayingRowsBefore = Object.values(before)
        .flat()
        .filter((row) => mentions(row, staying.tokens))
        .map(canonicalRow)
        .sort();

      const report = await t.store.purgeConnection(leaving.connection.id);
      expect(report).toMatchObject({ connections: 1, messages: 3, links: 4 });
      // The lease, the claim and the two label directory entries.
      expect(report.other).toBeGreaterThanOrEqual(4);
      expect(await t.store.listLabels(leaving.connection.tenantId, [leaving.connection.id])).toEqual([]);
      expect(await t.store.listLabels(staying.connection.tenantId, [staying.connection.id])).toHaveLength(2);

      const after = await t.raw.dump();
      expect(rowsMentioning(after, leaving.tokens)).toEqual([]);
      const stayingRowsAfter = Object.values(after)
        .flat()
        .filter((row) => mentions(row, staying.tokens))
        .map(canonicalRow)
        .sort();
      expect(stayingRowsAfter).toEqual(stayingRowsBefore);

      expect(await t.store.getConnection(leaving.connection.id)).toBeNull();
      expect(await t.store.listProviderMessageIds(leaving.connection.id)).toEqual([]);
      expect(await getMessage(t.store, leaving.connection.tenantId, leaving.messages[0].id)).toBeNull();
      expect(await t.store.listProviderMessageIds(staying.connection.id)).toHaveLength(3);
      expect(await t.store.purgeConnection(leaving.connection.id)).toEqual({ connections: 0, messages: 0, links: 0, other: 0 });
      // The purged connection's lease and claim are gone; the others still hold.
      expect(await t.store.acquireLease({ key: `connection:${leaving.connection.id}`, owner: 'engine-2', ttlMs: 1_000, now: 1 })).toBe(true);
      expect(await t.store.acquireLease({ key: `connection:${staying.connection.id}`, owner: 'engine-2', ttlMs: 1_000, now: 1 })).toBe(false);
      expect(await t.store.claimOnce('oauth-state:unrelated', 9e12, 1)).toBe(false);
      expect(await t.store.claimOnce(`dedupe:${staying.connection.id}:notification-1`, 9e12, 1)).toBe(false);
    });
  });

  describe('exportConnection', () => {
    it('returns the connection (tokens sealed away), its labels, every message and every link, and nothing of others', async () => {
      const exported = await populated(t);
      const other = await populated(t, exported.connection.tenantId);
      const records = await collect(t.store.exportConnection(exported.connection.id));

      expect(records[0]).toEqual({ kind: 'connection', data: { ...exported.connection, sealedTokens: '[sealed]' } });
      expect(records.filter((record) => record.kind === 'connection')).toHaveLength(1);
      const kinds = records.map((record) => record.kind);
      expect(kinds.lastIndexOf('message')).toBeLessThan(kinds.indexOf('link'));
      expect(kinds.slice(1, 3)).toEqual(['label', 'label']);
      const labels = records.flatMap((record) => (record.kind === 'label' ? [record.data] : []));
      expect(labels).toEqual(exported.labels.map((label) => ({ connectionId: exported.connection.id, ...label })));

      const messages = records.flatMap((record) => (record.kind === 'message' ? [record.data] : []));
      expect(messages).toEqual([...exported.messages].sort((left, right) => left.receivedAt - right.receivedAt || (left.id < right.id ? -1 : 1)));
      const links = records.flatMap((record) => (record.kind === 'link' ? [canonicalRow(record.data)] : []));
      expect(links.sort()).toEqual(exported.links.map(canonicalRow).sort());

      const text = JSON.stringify(records);
      expect(text).not.toContain(exported.connection.sealedTokens);
      for (const token of other.tokens) expect(text).not.toContain(token);
      expect(await collect(t.store.exportConnection('conn_unknown'))).toEqual([]);
    });
  });
}
