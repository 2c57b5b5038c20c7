// @threadlink/storage-postgres has no read-only "migration status" API: init()/migrate() would
// apply what is missing, and a doctor must not change what it diagnoses. So this reads the
// package's own bookkeeping directly, read-only: {schema}.schema_migrations (written by
// migrate() in the same transaction as each migration) against loadMigrations(), the versions
// this installed package ships, plus information_schema for the tables the store writes.
import { loadMigrations, STORE_TABLES } from '@threadlink/storage-postgres';
import type { DoctorCheck } from '../check.js';
import { fail, pass, skip, warn } from '../report.js';

const MIGRATE =
  'Start the app once with this threadlink version (tl.start() → store.init() applies pending migrations under an advisory lock), or call store.migrate() from a deploy step.';

export const storeMigrated: DoctorCheck = {
  id: 'store-migrated',
  area: 'general',
  title: 'Store schema is migrated to the latest version',
  variables: ['DATABASE_URL or THREADLINK_DATA_DIR'],
  async run(context) {
    const opened = await context.store();
    if (!opened) return skip('No store configured for the doctor.');
    if (!opened.ok) return skip('The store is unreachable (see store-reachable).');
    const { store } = opened;
    const schema = store.schema;
    const shipped = await loadMigrations();
    const latest = shipped.at(-1)?.version ?? 0;
    let applied: number[];
    try {
      const result = await store.sql.query<{ version: number }>(`SELECT version FROM "${schema.replace(/"/g, '""')}".schema_migrations ORDER BY version`);
      applied = result.rows.map((row) => Number(row.version));
    } catch (error) {
      const code = String((error as { code?: unknown }).code ?? '');
      // 42P01 undefined_table, 3F000 invalid_schema_name: init() never ran against this database/schema.
      if (code === '42P01' || code === '3F000') {
        return fail(
          `${opened.label} has no threadlink schema "${schema}" (no ${schema}.schema_migrations): the store was never initialised here.`,
          `${MIGRATE} If the app uses another schema, set THREADLINK_STORE_SCHEMA to it.`,
        );
      }
      if (code === '42501') {
        return fail(
          `The database user may not read ${schema}.schema_migrations (permission denied).`,
          `Grant the app's user USAGE on schema ${schema} and SELECT on its tables, or run the doctor with the app's own DATABASE_URL.`,
        );
      }
      throw error;
    }
    const current = Math.max(0, ...applied);
    const missing = shipped.filter((migration) => !applied.includes(migration.version));
    if (missing.length > 0) {
      return fail(
        `Schema "${schema}" is at version ${current}; this threadlink ships ${latest} — pending: ${missing.map((migration) => `${migration.version}_${migration.name}`).join(', ')}.`,
        MIGRATE,
      );
    }
    const tables = await store.sql.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [schema]);
    const present = new Set(tables.rows.map((row) => row.table_name));
    const absent = STORE_TABLES.filter((table) => !present.has(table));
    if (absent.length > 0) {
      return fail(
        `Schema "${schema}" records version ${current} but lacks the tables ${absent.join(', ')} (dropped by hand?).`,
        `Restore them from a backup, or (if no data matters) drop schema ${schema} and start the app to recreate it.`,
      );
    }
    if (current > latest) {
      return warn(
        `Schema "${schema}" is at version ${current}, newer than this threadlink (${latest}): a newer release migrated it.`,
        'Run the doctor (and every app instance) with the same threadlink version as the newest deployment.',
      );
    }
    return pass(`Schema "${schema}" is at version ${current}, the latest this threadlink ships, with all ${STORE_TABLES.length} tables.`);
  },
};
