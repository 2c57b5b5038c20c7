// applySync calls of different mailboxes made together share one transaction (issue 21). One row
// held elsewhere (a connection being deleted, an operator's open transaction) must not hold up the
// others: the shared transaction gives up its lock wait and every call commits alone, so only the
// held mailbox's call waits for its row.
import { afterAll, describe, expect, it } from 'vitest';
import { makeConnection, makeMessage } from '@threadlink/testing';
import { createSqlStore, poolClient, type SqlMetadataStore } from '../src/index.js';
import { postgresBackend, postgresPool, randomSchema, trackSchema } from './backends.js';

describe.skipIf(!postgresBackend.available)('applySync calls made together, one row held elsewhere', () => {
  const pool = postgresPool();
  const stores: SqlMetadataStore[] = [];
  afterAll(async () => {
    for (const store of stores) await store.close();
  });

  it('commits the calls of the free mailboxes while the held one waits for its row, then commits it', async () => {
    const schema = trackSchema(randomSchema());
    const store = createSqlStore(poolClient(pool, false), { schema });
    stores.push(store);
    await store.init();
    const [held, free, other] = [makeConnection({ cursor: 'c1' }), makeConnection({ cursor: 'c1' }), makeConnection({ cursor: 'c1' })];
    for (const connection of [held, free, other]) await store.saveConnection(connection);

    const blocker = await pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`SELECT id FROM "${schema}".connections WHERE id = $1 FOR UPDATE`, [held.id]);
      const call = (connection: typeof held) =>
        store.applySync(connection.id, { upserts: [makeMessage(connection)], deletes: [], links: [], cursor: 'c2', expectedCursor: 'c1' });
      let heldSettled = false;
      const heldCall = call(held).finally(() => {
        heldSettled = true;
      });
      await Promise.all([call(free), call(other)]);
      // The free mailboxes are stored while the held row is still locked.
      expect(heldSettled).toBe(false);
      expect((await store.getConnection(free.id))?.cursor).toBe('c2');
      expect((await store.getConnection(other.id))?.cursor).toBe('c2');
      expect(await store.listProviderMessageIds(free.id)).toHaveLength(1);
      await blocker.query('COMMIT');
      expect((await heldCall).inserted).toHaveLength(1);
      expect((await store.getConnection(held.id))?.cursor).toBe('c2');
    } finally {
      blocker.release();
    }
  }, 30_000);
});
