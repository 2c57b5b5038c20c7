// Migrations: shipped as numbered SQL files, applied in order in one transaction, recorded,
// idempotent, and safe when several app instances start against one database at once.
import { afterAll, describe, expect, it } from 'vitest';
import { createSqlStore, loadMigrations, MIGRATIONS_DIRECTORY, type Migration, type SqlMetadataStore } from '../src/index.js';
import { backends, randomSchema, trackSchema } from './backends.js';

describe('shipped migrations', () => {
  it('are read from the package migrations folder, numbered and in order', async () => {
    const migrations = await loadMigrations();
    expect(MIGRATIONS_DIRECTORY).toMatch(/storage-postgres\/migrations\/?$/);
    expect(migrations.length).toBeGreaterThanOrEqual(1);
    expect(migrations[0]).toMatchObject({ version: 1, name: 'init' });
    expect(migrations.map((migration) => migration.version)).toEqual([...migrations.map((migration) => migration.version)].sort((a, b) => a - b));
  });
});

for (const backend of backends) {
  describe.skipIf(!backend.available)(`migrations (${backend.name})`, () => {
    const opened: SqlMetadataStore[] = [];
    afterAll(async () => {
      for (const store of opened) await store.close();
    });
    const versions = async (store: SqlMetadataStore): Promise<number[]> =>
      (await store.sql.query<{ version: number }>(`SELECT version FROM "${store.schema}".schema_migrations ORDER BY version`)).rows.map((row) =>
        Number(row.version),
      );

    it('applies every migration once and nothing on the next start', async () => {
      const store = await backend.makeStore({ init: false });
      opened.push(store);
      const shipped = (await loadMigrations()).map((migration) => migration.version);
      expect((await store.migrate()).applied).toEqual(shipped);
      expect(await store.migrate()).toEqual({ applied: [], current: shipped.at(-1) });
      await store.init();
      await store.init();
      expect(await versions(store)).toEqual(shipped);
    });

    it('lets several instances start at once: one migrates, the others find it done', async () => {
      const first = await backend.makeStore({ init: false });
      const instances = [first, ...Array.from({ length: 5 }, () => backend.sibling(first))];
      opened.push(...instances);
      const reports = await Promise.all(instances.map((store) => store.migrate()));
      const shipped = (await loadMigrations()).map((migration) => migration.version);
      expect(reports.filter((report) => report.applied.length > 0).map((report) => report.applied)).toEqual([shipped]);
      expect(await versions(first)).toEqual(shipped);
      await Promise.all(instances.map((store) => store.init()));
    });

    it('adds a later migration on top, and rolls a failing one back whole', async () => {
      const shipped = await loadMigrations();
      const schema = trackSchema(randomSchema(), backend.name);
      const base = await backend.makeStore({ schema });
      opened.push(base);
      const next = (shipped.at(-1)?.version ?? 0) + 1;
      const broken: Migration = { version: next, name: 'broken', sql: 'CREATE TABLE half_done (id int); SELECT * FROM table_that_does_not_exist;' };
      // A store built with an extra (broken) migration: its failure must leave nothing behind.
      const upgraded = upgradeWith(base, [...shipped, broken]);
      await expect(upgraded.migrate()).rejects.toMatchObject({ code: 'STORE_ERROR' });
      expect(await versions(base)).toEqual(shipped.map((migration) => migration.version));
      const halfDone = await base.sql.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'half_done'`, [schema]);
      expect(halfDone.rows).toEqual([]);

      const fixed: Migration = { version: next, name: 'add_note', sql: 'CREATE TABLE notes (tenant_id text NOT NULL, id text PRIMARY KEY);' };
      expect((await upgradeWith(base, [...shipped, fixed]).migrate()).applied).toEqual([next]);
      expect(await versions(base)).toEqual([...shipped.map((migration) => migration.version), next]);
    });
  });
}

function upgradeWith(store: SqlMetadataStore, migrations: Migration[]): SqlMetadataStore {
  // Same database and schema, a different migration list: a newer release of the package.
  return createSqlStore({ ...store.sql, close: async () => {} }, { schema: store.schema, migrations });
}
