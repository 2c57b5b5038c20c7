// Creating a file-backed PGlite database (initdb in WASM) takes many seconds, so the suite makes
// two templates once: an initialised but never-migrated database, and a migrated one. Tests copy
// the template they need.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pgliteStore } from '@threadlink/storage-postgres';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A PGlite data directory with a database and no threadlink schema. */
    pgliteBlankTemplate: string;
    /** A PGlite data directory migrated by store.init(). */
    pgliteMigratedTemplate: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = await mkdtemp(join(tmpdir(), 'threadlink-doctor-templates-'));
  const blank = join(root, 'blank');
  const migrated = join(root, 'migrated');
  // Opening without init() creates the database (initdb) and no threadlink schema.
  const database = pgliteStore({ dataDir: blank });
  await database.sql.query('SELECT 1');
  await database.close();
  await cp(blank, migrated, { recursive: true });
  const store = pgliteStore({ dataDir: migrated });
  await store.init();
  await store.close();
  project.provide('pgliteBlankTemplate', blank);
  project.provide('pgliteMigratedTemplate', migrated);
  return () => rm(root, { recursive: true, force: true });
}
