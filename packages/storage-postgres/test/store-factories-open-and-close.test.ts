// The two factories: pgliteStore file-backed (data survives a restart; in memory is the dist
// test's and every other PGlite test's case), and
// postgresStore from a connection string (the store owns that pool and ends it on close).
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { getMessage } from '@threadlink/core/store';
import { makeConnection, makeMessage } from '@threadlink/testing';
import { pgliteStore, postgresStore } from '../src/index.js';
import { postgresBackend, postgresPool, randomSchema, trackSchema } from './backends.js';

describe('pgliteStore', () => {
  const directories: string[] = [];
  afterAll(async () => {
    for (const directory of directories) await rm(directory, { recursive: true, force: true });
  });

  it('keeps data in a dataDir across close and reopen', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'threadlink-pglite-'));
    directories.push(dataDir);
    const connection = makeConnection();
    const message = makeMessage(connection, { providerMessageId: 'p1' });

    const first = pgliteStore({ dataDir });
    expect({ name: first.name, schema: first.schema }).toEqual({ name: 'pglite', schema: 'threadlink' });
    await first.init();
    await first.saveConnection(connection);
    await first.applySync(connection.id, { upserts: [message], deletes: [], links: [], cursor: 'h7' });
    await first.close();

    const reopened = pgliteStore({ dataDir });
    await reopened.init();
    expect((await reopened.migrate()).applied).toEqual([]);
    expect((await reopened.getConnection(connection.id))?.cursor).toBe('h7');
    expect((await getMessage(reopened, connection.tenantId, message.id))?.subject).toBe(message.subject);
    await reopened.close();
  });

  it('creates a dataDir whose parent folders do not exist yet', async () => {
    const root = await mkdtemp(join(tmpdir(), 'threadlink-pglite-'));
    directories.push(root);
    const dataDir = join(root, 'not', 'yet', 'there');

    const store = pgliteStore({ dataDir });
    await store.init();
    await store.saveConnection(makeConnection());
    await store.close();

    expect((await stat(dataDir)).isDirectory()).toBe(true);
  });

  it('refuses a schema name that is not a plain identifier', () => {
    expect(() => pgliteStore({ schema: 'x"; DROP TABLE y; --' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe.skipIf(!postgresBackend.available)('postgresStore', () => {
  it('opens its own pool from a connection string and ends it on close', async () => {
    const store = postgresStore({ connectionString: process.env.DATABASE_URL ?? '', schema: trackSchema(randomSchema()), poolConfig: { max: 2 } });
    await store.init();
    expect(store.name).toBe('postgres');
    const connection = makeConnection();
    await store.saveConnection(connection);
    expect(await store.getConnection(connection.id)).toEqual(connection);
    await store.close();
    await expect(store.getConnection(connection.id)).rejects.toMatchObject({ code: 'STORE_ERROR' });
  });

  it('keeps working after the server drops its idle connections', async () => {
    const applicationName = `threadlink-test-${randomSchema()}`;
    const store = postgresStore({
      connectionString: process.env.DATABASE_URL ?? '',
      schema: trackSchema(randomSchema()),
      poolConfig: { max: 2, application_name: applicationName },
    });
    await store.init();
    const connection = makeConnection();
    await store.saveConnection(connection);
    const terminated = await postgresPool().query('SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = $1', [
      applicationName,
    ]);
    expect(terminated.rows.length).toBeGreaterThan(0);
    // Once the server has ended those backends their sockets are closed, and the pool hears of it
    // (an 'error' event on an idle client) as the event loop turns: the query below comes after.
    await vi.waitFor(
      async () => {
        const left = await postgresPool().query('SELECT count(*)::int AS count FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
        expect(left.rows[0]?.count).toBe(0);
      },
      { timeout: 5_000, interval: 20 },
    );
    expect(await store.getConnection(connection.id)).toEqual(connection);
    await store.close();
  });
});
