// Issue 23, rolling deploy: two consecutive schema versions on one database.
// (a) Every shipped migration is forward-compatible for one release (src/migration-lint.ts): the
//     previous release's SQL keeps working on the new schema. The lint itself is shown to catch
//     each kind of breaking change, so a pass means something.
// (b) A migration run while the previous release holds traffic takes no lock that stalls it for
//     more than a moment: release 1's schema, a long transaction of the old release on
//     `connections` (an export, a slow request), steady old-release queries on that table, and the
//     next release's init() migrating (migration 002 alters `connections`, ACCESS EXCLUSIVE). The
//     old queries' worst wait is measured. Without lock_timeout the ALTER queues behind the long
//     transaction and every later query queues behind the ALTER: blocked for the whole
//     transaction. PostgreSQL only (set DATABASE_URL).
import { randomBytes } from 'node:crypto';
import { createSqlStore, loadMigrations, postgresStore, type Migration, type SqlMetadataStore } from '@threadlink/storage-postgres';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { lintMigrations } from '../src/migration-lint.js';

const DATABASE_URL = process.env.DATABASE_URL;

const migration = (version: number, sql: string): Migration => ({ version, name: `m${version}`, sql });
const BASE = migration(1, 'CREATE TABLE items (id text PRIMARY KEY, label text NOT NULL);\nCREATE INDEX items_label ON items (label);');

describe('migration lint (every shipped migration is forward-compatible for one release)', () => {
  it('passes every shipped migration', async () => {
    expect(lintMigrations(await loadMigrations())).toEqual([]);
  });

  it.each([
    ['drop-table', 'DROP TABLE items;'],
    ['drop-column', 'ALTER TABLE items DROP COLUMN label;'],
    ['drop-column', 'ALTER TABLE items DROP label;'],
    ['rename', 'ALTER TABLE items RENAME COLUMN label TO title;'],
    ['rename', 'ALTER TABLE items RENAME TO things;'],
    ['column-type', 'ALTER TABLE items ALTER COLUMN label TYPE varchar(20);'],
    ['set-not-null', 'ALTER TABLE items ADD COLUMN note text, ALTER COLUMN note SET NOT NULL;'],
    ['not-null-without-default', 'ALTER TABLE items ADD COLUMN rank integer NOT NULL;'],
    ['drop-constraint', 'ALTER TABLE items DROP CONSTRAINT items_pkey;'],
    ['drop-index', 'DROP INDEX items_label;'],
    ['add-constraint', 'ALTER TABLE items ADD CONSTRAINT label_short CHECK (length(label) < 10);'],
    ['add-constraint', 'ALTER TABLE items ADD CONSTRAINT label_unique UNIQUE (label);'],
    ['index-on-existing-table', 'CREATE INDEX items_label_lower ON items (lower(label));'],
    ['rewrite-rows', 'UPDATE items SET label = lower(label);'],
  ] as const)('catches %s: %s', (rule, sql) => {
    expect(lintMigrations([BASE, migration(2, sql)], {}).map((violation) => violation.rule)).toContain(rule);
  });

  it.each([
    'ALTER TABLE items ADD COLUMN rank integer NOT NULL DEFAULT 0;',
    'ALTER TABLE items ADD COLUMN note text;',
    'ALTER TABLE items ADD CONSTRAINT label_short CHECK (length(label) < 10) NOT VALID;',
    'CREATE TABLE tags (id text PRIMARY KEY, item_id text NOT NULL);\nCREATE INDEX tags_item ON tags (item_id);',
    'ALTER TABLE items ALTER COLUMN label DROP NOT NULL;',
  ])('lets an additive change through: %s', (sql) => {
    expect(lintMigrations([BASE, migration(2, sql)], {})).toEqual([]);
  });
});

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (opened.length > 0)
    await opened
      .pop()!
      .close()
      .catch(() => undefined);
});

describe.skipIf(!DATABASE_URL)('a migration while the previous release holds traffic (PostgreSQL; set DATABASE_URL to run)', () => {
  it('blocks the running release for no more than about the lock timeout, then completes', async () => {
    const LONG_TRANSACTION_MS = 3_000;
    const LOCK_TIMEOUT_MS = 150;
    const schema = `tl_rolling_${randomBytes(5).toString('hex')}`;
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 6 });
    opened.push({
      close: async () => {
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await pool.end();
      },
    });
    // Releases 1 and 2 of the shipped set: 002 alters `connections` (ACCESS EXCLUSIVE), the strongest
    // lock a migration has taken so far, whatever later migrations do (they are linted above).
    const shipped = (await loadMigrations()).filter((step) => step.version <= 2);
    const previous = shipped.filter((step) => step.version < 2);
    // Release N-1: its schema, its store.
    const old: SqlMetadataStore = postgresStore({ pool, schema, migrations: previous });
    await old.init();
    const newRelease = (): SqlMetadataStore =>
      createSqlStore({ ...old.sql, close: async () => {} }, { schema, migrations: shipped, migrationLockTimeoutMs: LOCK_TIMEOUT_MS });

    // The old release's long transaction on `connections` (ACCESS SHARE until it ends).
    const holder = await pool.connect();
    await holder.query('BEGIN');
    await holder.query(`SELECT count(*) FROM "${schema}".connections`);
    const released = new Promise<void>((resolve) =>
      setTimeout(() => {
        void holder.query('COMMIT').then(() => {
          holder.release();
          resolve();
        });
      }, LONG_TRANSACTION_MS),
    );

    // Its steady traffic: one read of the table every 20 ms, each one timed.
    const waits: number[] = [];
    let traffic = true;
    const load = (async () => {
      while (traffic) {
        const started = performance.now();
        await old.listConnections({ tenantId: 't-rolling' });
        waits.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    await new Promise((resolve) => setTimeout(resolve, 100));
    const migrating = performance.now();
    const report = await newRelease().migrate();
    const migratedAfterMs = performance.now() - migrating;
    await released;
    traffic = false;
    await load;

    const worst = Math.max(...waits);
    console.log(
      `reliability: rolling deploy — migration ${report.applied.join(',')} waited ${Math.round(migratedAfterMs)} ms behind a ${LONG_TRANSACTION_MS} ms transaction; old release's worst query ${Math.round(worst)} ms over ${waits.length} queries (lock_timeout ${LOCK_TIMEOUT_MS} ms)`,
    );
    expect(report.applied).toEqual([shipped[shipped.length - 1]!.version]);
    // It had to wait for the long transaction (so the lock really was contended)…
    expect(migratedAfterMs).toBeGreaterThan(LONG_TRANSACTION_MS - 500);
    // …yet the old release never waited much longer than one lock_timeout.
    expect(worst).toBeLessThan(LOCK_TIMEOUT_MS + 400);
  });
});
