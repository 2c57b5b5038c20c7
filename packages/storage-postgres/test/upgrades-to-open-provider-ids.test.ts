// Migration 2 opens the provider column: a database created by release 1 (CHECK provider IN
// ('gmail', 'outlook')) upgrades in place, keeps its rows, then stores any provider slug — and
// the column itself still refuses what is not a slug, whoever writes it.
import { afterAll, describe, expect, it } from 'vitest';
import type { Connection } from '@threadlink/core/store';
import { makeConnection } from '@threadlink/testing';
import { createSqlStore, loadMigrations, type Migration, type SqlMetadataStore } from '../src/index.js';
import { CONNECTION_COLUMNS, connectionParams } from '../src/rows.js';
import { backends } from './backends.js';

function withMigrations(store: SqlMetadataStore, migrations: Migration[]): SqlMetadataStore {
  // Same database and schema, another migration list: an older or newer release of the package.
  return createSqlStore({ ...store.sql, close: async () => {} }, { schema: store.schema, migrations });
}

for (const backend of backends) {
  describe.skipIf(!backend.available)(`the provider column (${backend.name})`, () => {
    const opened: SqlMetadataStore[] = [];
    afterAll(async () => {
      for (const store of opened) await store.close();
    });

    it('upgrades a release-1 database in place and then keeps a third provider, still refusing non-slugs', async () => {
      const shipped = await loadMigrations();
      const base = await backend.makeStore({ init: false });
      opened.push(base);
      const releaseOne = withMigrations(
        base,
        shipped.filter((migration) => migration.version === 1),
      );
      expect((await releaseOne.migrate()).applied).toEqual([1]);
      // Release 1 wrote its own columns only (later migrations add columns this code writes).
      const releaseOneColumns = CONNECTION_COLUMNS.filter((column) => !['org_id', 'mailbox_id', 'mailbox_kind'].includes(column));
      const insertAsReleaseOne = (connection: Connection) => {
        const params = connectionParams(connection).filter((_value, index) => releaseOneColumns.includes(CONNECTION_COLUMNS[index]!));
        const placeholders = releaseOneColumns.map((_column, index) => `$${index + 1}`).join(', ');
        return base.sql.query(`INSERT INTO "${base.schema}".connections (${releaseOneColumns.join(', ')}) VALUES (${placeholders})`, params);
      };
      const gmail = makeConnection({ provider: 'gmail' });
      await insertAsReleaseOne(gmail);
      // The old column check is really there: this is what the upgrade has to lift.
      await expect(insertAsReleaseOne(makeConnection({ provider: 'imap-test' }))).rejects.toThrow(/connections_provider_check/);

      expect((await base.migrate()).applied).toEqual(shipped.filter((migration) => migration.version > 1).map((migration) => migration.version));
      expect(await base.getConnection(gmail.id)).toEqual(gmail);
      const imap = makeConnection({ provider: 'imap-test' });
      await base.saveConnection(imap);
      expect(await base.getConnection(imap.id)).toEqual(imap);

      const table = `"${base.schema}".connections`;
      await expect(base.sql.query(`UPDATE ${table} SET provider = 'IMAP Test' WHERE id = $1`, [imap.id])).rejects.toThrow(/connections_provider_check/);
      await expect(base.sql.query(`UPDATE ${table} SET provider = 'fastmail-jmap' WHERE id = $1`, [imap.id])).resolves.toBeDefined();
    });
  });
}
