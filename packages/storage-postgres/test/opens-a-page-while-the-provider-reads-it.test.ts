// Issue 21: on a quiet pool, a sync page's transaction opens while the provider still reads the page
// (prepareSync, called by core after Gmail's history.list): the row lock and the read the commit is
// planned from go out then, and applySync sends only the closing with COMMIT — the same transaction
// of two round trips, one of them before the page arrives. The store declines where holding a
// transaction open would cost more than it saves, and never holds a row past its bound.
import { afterAll, describe, expect, it } from 'vitest';
import { makeConnection, makeLink, makeMessage, makeRecord } from '@threadlink/testing';
import pg from 'pg';
import { createSqlStore, poolClient, type SqlMetadataStore } from '../src/index.js';
import { postgresBackend, postgresPool, randomSchema, trackSchema } from './backends.js';
import { countingClient, type CountingClient } from './counting-client.js';

/** Longer than the store's quiet gap (50 ms since the last applySync began). */
const quiet = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 150));

describe.skipIf(!postgresBackend.available)('a sync page opened while the provider reads it (prepareSync)', () => {
  const stores: SqlMetadataStore[] = [];
  const pools: pg.Pool[] = [];
  afterAll(async () => {
    for (const store of stores) await store.close();
    for (const pool of pools) await pool.end();
  });

  async function storeOn(pool: pg.Pool): Promise<{ store: SqlMetadataStore; client: CountingClient }> {
    const client = countingClient(poolClient(pool, false));
    const store = createSqlStore(client, { schema: trackSchema(randomSchema()) });
    stores.push(store);
    await store.init();
    return { store, client };
  }

  async function mailbox(store: SqlMetadataStore) {
    const connection = makeConnection({ cursor: 'history-1' });
    await store.saveConnection(connection);
    const root = makeMessage(connection, { receivedAt: 1_000 });
    await store.applySync(connection.id, { upserts: [root], deletes: [], links: [makeLink(root, makeRecord('project'), { rule: 'reference' })] });
    const reply = makeMessage(connection, { threadId: root.threadId, receivedAt: 2_000 });
    const page = {
      upserts: [reply],
      deletes: [],
      links: [],
      cursor: 'history-2',
      expectedCursor: 'history-1',
      linksFromThreads: {
        threadIds: [root.threadId],
        build: (stored: Array<{ links: Array<{ record: ReturnType<typeof makeRecord> }> }>) =>
          stored.flatMap((message) => message.links.map((link) => makeLink(reply, link.record, { rule: 'thread', confidence: 0.8 }))),
      },
    };
    const preview = { threadIds: [root.threadId], messages: [{ id: reply.id, providerMessageId: reply.providerMessageId }] };
    return { connection, reply, page, preview };
  }

  it('sends the lock and the reads when prepared, and only the closing with COMMIT when the page is applied', async () => {
    const { store, client } = await storeOn(postgresPool());
    const { connection, reply, page, preview } = await mailbox(store);
    await quiet();
    const transactionsBefore = client.transactions;
    const prepared = store.prepareSync(connection.id, preview);
    expect(prepared).not.toBeNull();
    const opening = client.texts.slice(-2);
    expect(opening[0]).toMatch(/FOR UPDATE/);
    expect(opening[1]).toMatch(/jsonb_agg/);
    // The provider's read would take this long: the opening is answered meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const sentBefore = client.texts.length;
    const result = await store.applySync(connection.id, page, { prepared });
    const sentByApply = client.texts.slice(sentBefore);
    expect(sentByApply.length).toBeGreaterThan(0);
    expect(sentByApply.filter((text) => /FOR UPDATE|jsonb_agg/.test(text))).toEqual([]);
    expect(result.inserted).toEqual([reply.id]);
    expect(client.transactions - transactionsBefore).toBe(1);
    expect(client.roundTripsPerTransaction.at(-1)).toBe(2);
    const [stored] = await store.getMessages(connection.tenantId, [reply.id]);
    expect(stored?.links.map((link) => `${link.record.type}:${link.rule}`)).toEqual(['project:thread']);
    expect((await store.getConnection(connection.id))?.cursor).toBe('history-2');
  }, 30_000);

  it("hands the page's thread-link build only the threads the page asks for, though the listing named more", async () => {
    const { store } = await storeOn(postgresPool());
    const { connection, reply, page, preview } = await mailbox(store);
    // A message the listing named but the page left out (a draft, a chat): its thread is read too.
    const elsewhere = makeMessage(connection);
    await store.applySync(connection.id, { upserts: [elsewhere], deletes: [], links: [] });
    await quiet();
    const prepared = store.prepareSync(connection.id, {
      threadIds: [...preview.threadIds, elsewhere.threadId],
      messages: [...preview.messages, { id: elsewhere.id, providerMessageId: elsewhere.providerMessageId }],
    });
    expect(prepared).not.toBeNull();
    let seen: string[] = [];
    const result = await store.applySync(
      connection.id,
      {
        ...page,
        linksFromThreads: {
          ...page.linksFromThreads,
          build: (stored) => {
            seen = stored.map((message) => message.threadId);
            return page.linksFromThreads.build(stored);
          },
        },
      },
      { prepared },
    );
    expect(result.inserted).toEqual([reply.id]);
    expect(seen).toEqual([reply.threadId]);
  }, 30_000);

  it('declines while another applySync is in flight or began lately, while one is held, and on a pool of one connection', async () => {
    const { store } = await storeOn(postgresPool());
    const first = await mailbox(store);
    const second = await mailbox(store);
    await quiet();
    const inFlight = store.applySync(second.connection.id, second.page);
    expect(store.prepareSync(first.connection.id, first.preview)).toBeNull();
    await inFlight;
    // Commits come often (a burst): they share transactions instead.
    expect(store.prepareSync(first.connection.id, first.preview)).toBeNull();
    await quiet();
    const held = store.prepareSync(first.connection.id, first.preview);
    expect(held).not.toBeNull();
    expect(store.prepareSync(second.connection.id, second.preview)).toBeNull();
    held?.release();
    await store.applySync(first.connection.id, first.page);

    const single = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1 });
    pools.push(single);
    const { store: narrow } = await storeOn(single);
    const third = await mailbox(narrow);
    await quiet();
    expect(narrow.prepareSync(third.connection.id, third.preview)).toBeNull();
  }, 30_000);

  it('lets the prepared transaction go when this instance claims a push of the same mailbox, rather than make the claim wait for the page', async () => {
    const { store } = await storeOn(postgresPool());
    const { connection, page, preview } = await mailbox(store);
    await quiet();
    const prepared = store.prepareSync(connection.id, preview);
    expect(prepared).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    const claimed = await store.claimPushesForAccounts!(
      [{ key: `push:${connection.id}:1`, expiresAt: Date.now() + 60_000, now: Date.now(), connectionId: connection.id, lastPushAt: Date.now() }],
      [],
    );
    // Far less than the 1 s a prepared transaction may hold its row.
    expect(performance.now() - started).toBeLessThan(900);
    expect(claimed.won).toEqual([true]);
    expect((await store.getConnection(connection.id))?.health.lastPushAt).toBeGreaterThan(0);
    // The page, with its handle, commits as without it.
    expect((await store.applySync(connection.id, page, { prepared })).inserted).toHaveLength(1);
  }, 30_000);

  it('rolls a prepared transaction back when released, or by itself within its bound: the row is free again', async () => {
    const pool = postgresPool();
    const { store, client } = await storeOn(pool);
    const { connection, page, preview } = await mailbox(store);
    const probe = async (): Promise<void> => {
      // Another session takes the row without waiting: it fails at once if the row is still locked.
      const other = await pool.connect();
      try {
        await other.query('BEGIN');
        await other.query(`SET LOCAL lock_timeout = '50ms'`);
        await other.query(`SELECT id FROM "${store.schema}".connections WHERE id = $1 FOR UPDATE`, [connection.id]);
      } finally {
        await other.query('ROLLBACK');
        other.release();
      }
    };
    await quiet();
    const released = store.prepareSync(connection.id, preview);
    expect(released).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(probe()).rejects.toThrow(/lock timeout/);
    released?.release();
    await expect
      .poll(
        () =>
          probe().then(
            () => 'free',
            () => 'held',
          ),
        { timeout: 5_000 },
      )
      .toBe('free');

    const forgotten = store.prepareSync(connection.id, preview);
    expect(forgotten).not.toBeNull();
    const rolledBack = client.roundTripsPerTransaction.length;
    // Never applied nor released: the store lets it go after its bound (1 s).
    await expect.poll(() => client.roundTripsPerTransaction.length, { timeout: 5_000, interval: 100 }).toBeGreaterThan(rolledBack);
    await probe();
    // Its page, applied late with the stale handle, commits as without one.
    expect((await store.applySync(connection.id, page, { prepared: forgotten })).inserted).toHaveLength(1);
  }, 30_000);
});
