// The server ends idle connections (pg_terminate_backend, a failover, a fast restart) and says so
// on each socket (FATAL 57P01) before closing it. The pool discards such a connection when it
// reads that notice, as the event loop turns; until then it can still hand the dead connection
// out, and the statement sent on it is answered with the notice, though the server is up. Such a
// statement did not run, so the client runs it again on another connection instead of failing a
// webhook or a sync job (a one-in-many CI failure of store-factories-open-and-close before this).
//
// The race is made certain here: the idle connections' sockets stop reading (as when the loop has
// not turned yet) while the server ends them, and read again only once a statement was sent.
// PostgreSQL only: skipped without DATABASE_URL.
import type { Socket } from 'node:net';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { poolClient } from '../src/index.js';

const databaseUrl = process.env.DATABASE_URL;
const pools: pg.Pool[] = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.end();
});

function socketOf(client: pg.PoolClient): Socket {
  return (client as unknown as { connection: { stream: Socket } }).connection.stream;
}

/** A pool whose `size` idle connections the server has ended without the pool having heard of it. */
async function poolWithDeadIdleConnections(size: number): Promise<{ pool: pg.Pool; pids: number[]; wake: () => void }> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: size });
  const admin = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  pools.push(pool, admin);
  pool.on('error', () => {});
  const clients = await Promise.all(Array.from({ length: size }, () => pool.connect()));
  const pids: number[] = [];
  for (const client of clients) pids.push((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
  for (const client of clients) client.release();
  const sockets = clients.map(socketOf);
  for (const socket of sockets) socket.pause();
  await admin.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [pids]);
  await vi.waitFor(
    async () => {
      const { rows } = await admin.query<{ count: number }>('SELECT count(*)::int AS count FROM pg_stat_activity WHERE pid = ANY($1::int[])', [pids]);
      expect(rows[0]?.count).toBe(0);
    },
    { timeout: 5_000, interval: 20 },
  );
  expect(pool.idleCount).toBe(size);
  return {
    pool,
    pids,
    wake: () =>
      setImmediate(() => {
        for (const socket of sockets) socket.resume();
      }),
  };
}

describe.skipIf(!databaseUrl)('a statement sent on a connection the server had already ended (PostgreSQL)', () => {
  it('runs again on a live connection, even when every idle connection of the pool was dead', async () => {
    const { pool, pids, wake } = await poolWithDeadIdleConnections(3);
    const result = poolClient(pool, false).query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    wake();
    const { rows } = await result;
    expect(pids).not.toContain(rows[0]!.pid);
    expect(pool.totalCount).toBe(1);
  });

  it('a transaction whose BEGIN met a dead connection runs once, on a live one', async () => {
    const { pool, pids, wake } = await poolWithDeadIdleConnections(2);
    let runs = 0;
    const result = poolClient(pool, false).transaction(async (tx) => {
      runs += 1;
      return (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    });
    wake();
    expect(pids).not.toContain(await result);
    expect(runs).toBe(1);
  });

  it("a transaction whose opening went with BEGIN to a dead connection runs once, on a live one, with the opening's result", async () => {
    const { pool, pids, wake } = await poolWithDeadIdleConnections(2);
    let runs = 0;
    const result = poolClient(pool, false).transaction(
      async (_tx, [opened]) => {
        runs += 1;
        return opened?.rows[0]?.pid;
      },
      ['SELECT pg_backend_pid() AS pid'],
    );
    wake();
    const pid = await result;
    expect(typeof pid).toBe('number');
    expect(pids).not.toContain(pid);
    expect(runs).toBe(1);
  });

  it('without a dead connection nothing is repeated: a real SQL error fails at once', async () => {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    pools.push(pool);
    const query = vi.spyOn(pool, 'query');
    await expect(poolClient(pool, false).query('SELECT * FROM no_such_table_here')).rejects.toMatchObject({ code: '42P01' });
    expect(query).toHaveBeenCalledTimes(1);
  });
});
