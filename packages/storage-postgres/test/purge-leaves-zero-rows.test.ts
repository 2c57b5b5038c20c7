// Offboarding on the real tables: after purgeConnection, every table of the schema counts zero
// rows for that connection, and another connection's rows are untouched.
import { afterAll, describe, expect, it } from 'vitest';
import { ConnectionPolicy, type Connection } from '@threadlink/core';
import { makeConnection, makeLink, makeManualLink, makeManualUnlink, makeMessage } from '@threadlink/testing';
import type { SqlMetadataStore } from '../src/index.js';
import { backends } from './backends.js';

for (const backend of backends) {
  describe.skipIf(!backend.available)(`purgeConnection (${backend.name})`, () => {
    let store: SqlMetadataStore;
    afterAll(() => store?.close());

    async function populate(connection: Connection): Promise<void> {
      await store.saveConnection(connection);
      await store.saveLabels(connection.id, [
        { id: 'INBOX', name: 'Inbox', kind: 'system' },
        { id: 'Label_1', name: 'Clients', kind: 'user' },
      ]);
      const messages = Array.from({ length: 30 }, (_, index) =>
        makeMessage(connection, {
          providerMessageId: `p${index}`,
          cc: [{ address: 'cc@bigco.com' }],
          bcc: [{ address: 'audit@acme.com' }],
          replyTo: [{ address: 'reply@bigco.com' }],
          referenceTokens: ['PRJ-1042'],
          providerThreadId: `t${index % 7}`,
        }),
      );
      await store.applySync(connection.id, {
        upserts: messages,
        deletes: [],
        links: messages.map((message) => makeLink(message.id, { type: 'client', id: 'bigco' })),
        cursor: 'h1',
      });
      await store.saveManualLink(connection.tenantId, makeManualLink(messages[0]!, { type: 'project', id: 'p1' }));
      await store.saveManualLink(connection.tenantId, makeManualUnlink(messages[1]!, { type: 'client', id: 'bigco' }));
      await store.acquireLease({ key: `connection:${connection.id}`, owner: 'engine-1', ttlMs: 60_000, now: 0 });
      await store.claimOnce(`dedupe:${connection.id}:n1`, 9e12, 0);
      await store.savePolicy(connection.tenantId, connection.id, ConnectionPolicy.parse({ exclude: ['doctor@clinic.example'] }));
    }

    /** Rows naming the connection, per table — every table of the schema must be listed here. */
    async function rowsOf(connectionId: string): Promise<Record<string, number>> {
      const tables = (
        await store.sql.query<{ table_name: string }>(
          `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name <> 'schema_migrations' ORDER BY table_name`,
          [store.schema],
        )
      ).rows.map((row) => row.table_name);
      const naming: Record<string, string> = {
        connections: 'id = $1',
        messages: 'connection_id = $1',
        participants: 'connection_id = $1',
        reference_tokens: 'connection_id = $1',
        record_links: 'connection_id = $1',
        labels: 'connection_id = $1',
        leases: `$1 = ANY(string_to_array(key, ':'))`,
        claims: `$1 = ANY(string_to_array(key, ':'))`,
        ingestion_policies: 'connection_id = $1',
      };
      // An organization row names no connection: it owns them (connections.org_id) and goes with
      // tl.org.disconnect, after every mailbox of it was purged (core's org tests count those rows).
      const namingNoConnection = ['organizations'];
      expect(tables).toEqual([...Object.keys(naming), ...namingNoConnection].sort());
      const counts: Record<string, number> = {};
      for (const table of tables.filter((name) => !namingNoConnection.includes(name))) {
        const result = await store.sql.query<{ count: number | string }>(`SELECT count(*) AS count FROM "${store.schema}".${table} WHERE ${naming[table]}`, [
          connectionId,
        ]);
        counts[table] = Number(result.rows[0]?.count);
      }
      return counts;
    }

    it('deletes every row of the connection in every table, in one go, and reports the counts', async () => {
      store = await backend.makeStore();
      const leaving = makeConnection();
      // Same tenant: the purge must go by connection, not take the tenant's other rows with it.
      const staying = makeConnection({ tenantId: leaving.tenantId });
      await populate(leaving);
      await populate(staying);
      const stayingBefore = await rowsOf(staying.id);
      expect(Object.values(await rowsOf(leaving.id)).every((count) => count > 0)).toBe(true);

      const report = await store.purgeConnection(leaving.id);
      expect(report).toEqual({ connections: 1, messages: 30, links: 31, other: 5 });
      expect(Object.values(await rowsOf(leaving.id))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
      expect(await rowsOf(staying.id)).toEqual(stayingBefore);
      expect(await store.purgeConnection(leaving.id)).toEqual({ connections: 0, messages: 0, links: 0, other: 0 });
    });
  });
}
