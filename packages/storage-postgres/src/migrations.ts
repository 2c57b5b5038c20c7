// Versioned plain-SQL migrations shipped in the package's `migrations/` folder. They are read at
// run time from beside the code: `../migrations` resolves to the same folder from `src/` (tests,
// `source` condition) and from `dist/` (the published build), so there is one copy of the SQL.
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ThreadlinkError } from '@threadlink/core/store';
import { quoteIdentifier } from './identifiers.js';
import type { SqlClient } from './sql-client.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATION_FILE = /^(\d+)_([a-z0-9_]+)\.sql$/;

export const MIGRATIONS_DIRECTORY = fileURLToPath(new URL('../migrations/', import.meta.url));

export async function loadMigrations(directory: string = MIGRATIONS_DIRECTORY): Promise<Migration[]> {
  const files = (await readdir(directory)).filter((file) => MIGRATION_FILE.test(file));
  const migrations = await Promise.all(
    files.map(async (file) => {
      const [, version = '', name = ''] = MIGRATION_FILE.exec(file) ?? [];
      return { version: Number(version), name, sql: await readFile(`${directory}/${file}`, 'utf8') };
    }),
  );
  migrations.sort((left, right) => left.version - right.version);
  for (let index = 1; index < migrations.length; index += 1) {
    if (migrations[index]?.version === migrations[index - 1]?.version) {
      throw new ThreadlinkError('CONFIG_INVALID', `two migrations share version ${migrations[index]?.version}`);
    }
  }
  return migrations;
}

export interface MigrationReport {
  applied: number[];
  current: number;
}

/** How long one migration statement may wait for a table lock before the attempt gives up. */
const DEFAULT_MIGRATION_LOCK_TIMEOUT_MS = 1_000;
/** Attempts of the whole migration when a lock could not be had in time (lock_not_available). */
const LOCK_ATTEMPTS = 20;
const LOCK_RETRY_MAX_DELAY_MS = 5_000;

export interface MigrateOptions {
  /** See `SqlStoreOptions.migrationLockTimeoutMs`. */
  lockTimeoutMs?: number;
  /** Waits between attempts (tests pass a fake). */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Applies the missing migrations in one transaction. The transaction-scoped advisory lock
 * (keyed by schema) makes concurrent starts of several app instances queue up: the first one
 * migrates, the others then find every version recorded and apply nothing.
 *
 * During a rolling deploy the previous release still serves traffic on the same tables. A DDL
 * statement waiting for its lock behind one of that release's transactions would queue every later
 * query of the table behind itself (PostgreSQL's lock queue), stalling the running version for as
 * long as that transaction lasts. So each attempt runs with `lock_timeout`: it gives up after a
 * moment, releases everything, and tries again a little later.
 */
export async function migrate(client: SqlClient, schema: string, migrations: Migration[], options: MigrateOptions = {}): Promise<MigrationReport> {
  const lockTimeoutMs = Math.max(1, Math.floor(options.lockTimeoutMs ?? DEFAULT_MIGRATION_LOCK_TIMEOUT_MS));
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await migrateOnce(client, schema, migrations, lockTimeoutMs);
    } catch (error) {
      const sqlstate = (error as { code?: unknown } | null)?.code;
      if (sqlstate !== '55P03' || attempt >= LOCK_ATTEMPTS) throw error;
      await sleep(Math.min(LOCK_RETRY_MAX_DELAY_MS, 100 * 2 ** attempt));
    }
  }
}

async function migrateOnce(client: SqlClient, schema: string, migrations: Migration[], lockTimeoutMs: number): Promise<MigrationReport> {
  const quoted = quoteIdentifier(schema);
  return client.transaction(async (tx) => {
    // Not for the advisory lock below (instances starting together must queue there), only for
    // the table locks the DDL takes: SET LOCAL after it.
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`threadlink:migrate:${schema}`]);
    await tx.exec(`SET LOCAL lock_timeout = ${lockTimeoutMs}`);
    await tx.exec(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    await tx.exec(`SET LOCAL search_path TO ${quoted}`);
    await tx.exec(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const done = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(done.rows.map((row) => Number(row.version)));
    const report: MigrationReport = { applied: [], current: Math.max(0, ...applied) };
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      report.applied.push(migration.version);
      report.current = Math.max(report.current, migration.version);
    }
    return report;
  });
}
