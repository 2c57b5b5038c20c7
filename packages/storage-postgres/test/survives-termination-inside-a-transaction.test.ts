// A server ending a connection between two queries of a transaction (a failover, an admin's
// pg_terminate_backend) reaches a checked-out pg client as an 'error' event while no query is
// running. Nobody else listens to a checked-out client: without the transaction's own listener
// that event is an uncaught exception, which crashes the host (vitest reports it as an unhandled
// error and fails this file). With it: the transaction fails (the caller retries), the broken
// client is destroyed rather than returned, and the pool serves the next query.
// PostgreSQL only (PGlite has no server to lose): skipped without DATABASE_URL.
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { poolClient } from '../src/index.js';

const databaseUrl = process.env.DATABASE_URL;
const pools: pg.Pool[] = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.end();
});

describe.skipIf(!databaseUrl)('a connection terminated inside a transaction (PostgreSQL)', () => {
  it('fails the transaction instead of crashing the process, and the pool serves the next query on a new connection', async () => {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    const admin = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    pools.push(pool, admin);
    const client = poolClient(pool, false);

    let terminatedPid = 0;
    const outcome = client.transaction(async (tx) => {
      const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      terminatedPid = rows[0]!.pid;
      await admin.query('SELECT pg_terminate_backend($1)', [terminatedPid]);
      // The server's goodbye arrives while this transaction runs no query: an 'error' event.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await tx.query('SELECT 1');
    });
    await expect(outcome).rejects.toThrow();

    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    expect(rows[0]!.pid).not.toBe(terminatedPid);
    expect(pool.totalCount).toBe(1);
  });

  it('keeps the process up when the server ends a connection of the pool that nothing is listening to', async () => {
    // A checked-out client has no listener of pg-pool's: here the checkout is the test's own, and no
    // query runs when the server's goodbye arrives. Without the listener poolClient gives every client
    // of its pool, the 'error' event is an uncaught exception (vitest fails the file with it).
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    const admin = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    pools.push(pool, admin);
    const client = poolClient(pool, false);

    const held = await pool.connect();
    const { rows } = await held.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    held.release(true);

    const next = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    expect(next.rows[0]!.pid).not.toBe(rows[0]!.pid);
  });
});
