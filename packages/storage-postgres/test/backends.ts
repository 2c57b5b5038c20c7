// The two backends every test runs on: embedded PGlite (always) and a real PostgreSQL server
// (DATABASE_URL; required when CI is set). Each store gets its own random schema, dropped after
// the test file.
import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { pgliteClient, pgliteStore, poolClient, postgresStore, STORE_TABLES, type SqlClient, type SqlMetadataStore } from '../src/index.js';

export interface Backend {
  name: 'pglite' | 'postgres';
  /** False when the backend cannot run here (the reason is in `skipReason`). */
  available: boolean;
  skipReason: string;
  /** A fresh, initialised store in a new schema. */
  makeStore(options?: { schema?: string; init?: boolean }): Promise<SqlMetadataStore>;
  /**
   * An initialised, empty store in this file's own schema: created and migrated on first use,
   * emptied (TRUNCATE) on every later call. Much cheaper than a schema per test.
   */
  makeEmptyStore(): Promise<SqlMetadataStore>;
  /** A second store on the same database and schema (another app instance). */
  sibling(store: SqlMetadataStore): SqlMetadataStore;
  /** The shared database as a bare query interface (close() leaves it open). */
  client(): SqlClient;
}

export const randomSchema = (): string => `tl_test_${randomBytes(6).toString('hex')}`;

const databaseUrl = process.env.DATABASE_URL;
const inCi = Boolean(process.env.CI) && process.env.CI !== 'false';
if (!databaseUrl && inCi) {
  throw new Error('CI is set but DATABASE_URL is not: the PostgreSQL tests must run in CI (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)');
}
if (!databaseUrl) {
  console.warn(
    '[storage-postgres] DATABASE_URL is not set: PostgreSQL tests are skipped, PGlite tests run (set DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)',
  );
}

// One PGlite and one pool per test worker (the project runs with isolate: false, so every test
// file of a worker shares them): PGlite's WASM start-up costs seconds on a busy machine.
let sharedPglite: PGlite | null = null;
let sharedPool: pg.Pool | null = null;
const createdSchemas = { pglite: new Set<string>(), postgres: new Set<string>() };
const emptySchemas = new Map<Backend['name'], string>();

function pgliteInstance(): PGlite {
  sharedPglite ??= new PGlite();
  return sharedPglite;
}

export function postgresPool(): pg.Pool {
  // allowExitOnIdle: the worker may exit with the shared pool still open.
  sharedPool ??= new pg.Pool({ connectionString: databaseUrl, max: 20, allowExitOnIdle: true });
  return sharedPool;
}

/** Remembers a schema made outside makeStore so it is dropped after the file. */
export function trackSchema(schema: string, backend: Backend['name'] = 'postgres'): string {
  createdSchemas[backend].add(schema);
  return schema;
}

/** Drops every schema the running test file created (test/setup.ts calls it after each file). */
export async function dropTestSchemas(): Promise<void> {
  const drop = async (client: SqlClient, schemas: Set<string>): Promise<void> => {
    for (const schema of schemas) await client.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    schemas.clear();
  };
  if (sharedPool) await drop(poolClient(sharedPool, false), createdSchemas.postgres);
  if (sharedPglite) await drop(pgliteClient(sharedPglite, false), createdSchemas.pglite);
  emptySchemas.clear();
}

function emptyStoreMaker(backend: () => Backend): () => Promise<SqlMetadataStore> {
  return async () => {
    const schema = emptySchemas.get(backend().name);
    if (schema === undefined) {
      const store = await backend().makeStore();
      emptySchemas.set(backend().name, store.schema);
      return store;
    }
    const store = backend().sibling({ schema } as SqlMetadataStore);
    await store.sql.exec(`TRUNCATE ${STORE_TABLES.map((table) => `"${schema}".${table}`).join(', ')}`);
    await store.init();
    return store;
  };
}

export const pgliteBackend: Backend = {
  name: 'pglite',
  available: true,
  skipReason: '',
  async makeStore(options = {}) {
    const store = pgliteStore({ pglite: pgliteInstance(), schema: options.schema ?? trackSchema(randomSchema(), 'pglite') });
    if (options.init !== false) await store.init();
    return store;
  },
  sibling: (store) => pgliteStore({ pglite: pgliteInstance(), schema: store.schema }),
  client: () => pgliteClient(pgliteInstance(), false),
  makeEmptyStore: emptyStoreMaker(() => pgliteBackend),
};

export const postgresBackend: Backend = {
  name: 'postgres',
  available: Boolean(databaseUrl),
  skipReason: 'DATABASE_URL is not set',
  async makeStore(options = {}) {
    const schema = options.schema ?? trackSchema(randomSchema(), 'postgres');
    const store = postgresStore({ pool: postgresPool(), schema });
    if (options.init !== false) await store.init();
    return store;
  },
  sibling: (store) => postgresStore({ pool: postgresPool(), schema: store.schema }),
  client: () => poolClient(postgresPool(), false),
  makeEmptyStore: emptyStoreMaker(() => postgresBackend),
};

export const backends: Backend[] = [pgliteBackend, postgresBackend];
