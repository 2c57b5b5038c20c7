// The statements every push and every sync job run (the claim, the lease) are prepared once per
// connection: parse and planning were about two thirds of the server's time on each (issue 21).
// What must hold around that: a store behind a transaction-mode pooler can turn it off, and a
// migration that adds a column under a running instance (its lease reads `c.*`) does not break it.
import { makeConnection } from '@threadlink/testing';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresStore, type SqlMetadataStore } from '../src/index.js';
import { postgresBackend, randomSchema, trackSchema } from './backends.js';

describe.skipIf(!postgresBackend.available)('prepared statements on PostgreSQL', () => {
  // One connection, so the statements the store prepared are the ones this pool's queries see.
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1, allowExitOnIdle: true });
  afterAll(async () => {
    await pool.end();
  });

  async function storeWith(preparedStatements?: boolean): Promise<SqlMetadataStore> {
    const store = postgresStore({ pool, schema: trackSchema(randomSchema()), ...(preparedStatements === undefined ? {} : { preparedStatements }) });
    await store.init();
    return store;
  }

  async function pushAndSync(store: SqlMetadataStore, round: number): Promise<string> {
    const connection = makeConnection();
    await store.saveConnection(connection);
    const claim = { key: `notification:gmail:${connection.id}:${round}`, expiresAt: 100_000, now: 10_000, connectionId: connection.id, lastPushAt: 10_000 };
    expect(await store.claimPushesForAccounts!([claim], [{ provider: 'gmail', accountEmail: connection.accountEmail }])).toEqual({
      won: [true],
      connectionIds: [[connection.id]],
    });
    const [lease] = await store.acquireSyncLeases([{ key: `connection:${connection.id}`, owner: 'engine', now: 0, ttlMs: 1_000, connectionId: connection.id }]);
    expect(lease?.context?.connection.id).toBe(connection.id);
    return connection.id;
  }

  const prepared = async (): Promise<string[]> =>
    (await pool.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements')).rows.map((row) => row.statement);

  it('prepares the claim and the lease once, whatever the number of pushes', async () => {
    await pool.query('DEALLOCATE ALL');
    const store = await storeWith();
    for (let round = 0; round < 3; round += 1) await pushAndSync(store, round);
    const statements = await prepared();
    expect(statements).toHaveLength(2);
    expect(statements.some((text) => text.includes('.claims AS claim'))).toBe(true);
    expect(statements.some((text) => text.includes('.leases AS lease'))).toBe(true);
  });

  it('prepares nothing with preparedStatements: false (a transaction-mode pooler)', async () => {
    await pool.query('DEALLOCATE ALL');
    const store = await storeWith(false);
    await pushAndSync(store, 0);
    expect(await prepared()).toEqual([]);
  });

  it('goes on after a migration adds a column under its prepared lease (the server refuses the old plan once)', async () => {
    await pool.query('DEALLOCATE ALL');
    const store = await storeWith();
    await pushAndSync(store, 0);
    // What another release's migration does while this one runs.
    await pool.query(`ALTER TABLE ${store.schema}.connections ADD COLUMN added_by_a_later_release text`);
    const id = await pushAndSync(store, 1);
    expect(id).toBeTruthy();
  });
});
