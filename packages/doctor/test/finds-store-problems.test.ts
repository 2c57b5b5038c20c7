// The store as the app opens it: reachable, and migrated to the version this threadlink ships.
// Each test works on its own copy of a PGlite template made once by support/global-setup.ts.
import { createServer } from 'node:net';
import { pgliteStore } from '@threadlink/storage-postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { runDoctor } from '../src/index.js';
import { pgliteCopy, resultOf, scratchDirectory } from './support/deployment.js';

const MIGRATE =
  'Start the app once with this threadlink version (tl.start() → store.init() applies pending migrations under an advisory lock), or call store.migrate() from a deploy step.';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function copy(template: 'migrated' | 'blank'): Promise<string> {
  const directory = await pgliteCopy(template);
  cleanups.push(directory.remove);
  return directory.path;
}

/** Changes a copied database behind the doctor's back, as an operator or an older release would have. */
async function tamper(dataDir: string, sql: string): Promise<void> {
  const store = pgliteStore({ dataDir });
  await store.sql.exec(sql);
  await store.close();
}

async function storeChecks(store: { kind: 'pglite'; dataDir: string } | { kind: 'postgres'; connectionString: string }) {
  const report = await runDoctor({ store });
  return { reachable: resultOf(report, 'store-reachable'), migrated: resultOf(report, 'store-migrated') };
}

describe('store', () => {
  it('fails a PostgreSQL nothing listens on, without printing the password', async () => {
    const probe = createServer();
    await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((done) => probe.close(() => done()));
    const { reachable, migrated } = await storeChecks({ kind: 'postgres', connectionString: `postgres://crm:s3cret-pass@127.0.0.1:${port}/crm` });
    expect(reachable).toMatchObject({
      status: 'fail',
      detail: `PostgreSQL at 127.0.0.1:${port}/crm is unreachable: connect ECONNREFUSED 127.0.0.1:${port}`,
      fix: 'Nothing listens there: start PostgreSQL, or fix the host and port in DATABASE_URL.',
    });
    expect(JSON.stringify(reachable)).not.toContain('s3cret-pass');
    expect(migrated).toMatchObject({ status: 'skip', detail: 'The store is unreachable (see store-reachable).' });
  });

  it('fails a PGlite directory that holds no database instead of creating one', async () => {
    const empty = await scratchDirectory('empty');
    cleanups.push(empty.remove);
    const { reachable } = await storeChecks({ kind: 'pglite', dataDir: empty.path });
    expect(reachable).toMatchObject({
      status: 'fail',
      detail: `No PGlite database at ${empty.path} (no PG_VERSION file).`,
      fix: 'Point THREADLINK_DATA_DIR at the data folder the app uses (PGlite in its pglite/ subfolder), or THREADLINK_PGLITE_DIR at the directory the app passes to pgliteStore({ dataDir }); the app creates it on its first start.',
    });
  });

  it('fails a database that was never migrated, and does not migrate it', async () => {
    const dataDir = await copy('blank');
    const { reachable, migrated } = await storeChecks({ kind: 'pglite', dataDir });
    expect(reachable.status).toBe('pass');
    expect(migrated).toMatchObject({
      status: 'fail',
      detail: `PGlite at ${dataDir} has no threadlink schema "threadlink" (no threadlink.schema_migrations): the store was never initialised here.`,
      fix: `${MIGRATE} If the app uses another schema, set THREADLINK_STORE_SCHEMA to it.`,
    });
    // Still unmigrated: the doctor only read.
    expect((await storeChecks({ kind: 'pglite', dataDir })).migrated.status).toBe('fail');
  });

  it('fails a schema behind the shipped migrations and names the pending ones', async () => {
    const dataDir = await copy('migrated');
    await tamper(dataDir, 'DELETE FROM threadlink.schema_migrations');
    const { migrated } = await storeChecks({ kind: 'pglite', dataDir });
    expect(migrated).toMatchObject({
      status: 'fail',
      detail:
        'Schema "threadlink" is at version 0; this threadlink ships 5 — pending: 1_init, 2_open_provider_id, 3_labels, 4_ingestion_policies, 5_organizations.',
      fix: MIGRATE,
    });
  });

  it('fails a migrated schema that lost a table, and warns about a newer schema', async () => {
    const dataDir = await copy('migrated');
    await tamper(dataDir, "DROP TABLE threadlink.record_links; INSERT INTO threadlink.schema_migrations (version, name) VALUES (99, 'future')");
    const { migrated } = await storeChecks({ kind: 'pglite', dataDir });
    expect(migrated).toMatchObject({ status: 'fail', detail: 'Schema "threadlink" records version 99 but lacks the tables record_links (dropped by hand?).' });

    const newer = await copy('migrated');
    await tamper(newer, "INSERT INTO threadlink.schema_migrations (version, name) VALUES (99, 'future')");
    expect((await storeChecks({ kind: 'pglite', dataDir: newer })).migrated).toMatchObject({
      status: 'warn',
      detail: 'Schema "threadlink" is at version 99, newer than this threadlink (5): a newer release migrated it.',
    });
  });
});
