// The two backends every test runs on: embedded PGlite (always) and a real PostgreSQL server
// (DATABASE_URL; required when CI is set). Each store gets its own random schema, dropped after.
import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll } from 'vitest';
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
  console.warn('[storage-postgres] DATABASE_URL is not set: PostgreSQL tests are skipped, PGlite tests run (set DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)');
}

let sharedPglite: PGlite | null = null;
let sharedPool: pg.Pool | null = null;
const createdSchemas = new Set<string>();

export function pgliteInstance(): PGlite {
  sharedPglite ??= new PGlite();
  return sharedPglite;
}

export function postgresPool(): pg.Pool {
  sharedPool ??= new pg.Pool({ connectionString: databaseUrl, max: 20 });
  return sharedPool;
}

afterAll(async () => {
  if (sharedPool) {
    for (const schema of createdSchemas) await sharedPool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await sharedPool.end();
    sharedPool = null;
  }
  if (sharedPglite) {
    await sharedPglite.close();
    sharedPglite = null;
  }
  createdSchemas.clear();
});

function emptyStoreMaker(backend: () => Backend): () => Promise<SqlMetadataStore> {
  let schema: string | null = null;
  return async () => {
    if (schema === null) {
      const store = await backend().makeStore();
      schema = store.schema;
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
    const store = pgliteStore({ pglite: pgliteInstance(), schema: options.schema ?? randomSchema() });
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
    const schema = options.schema ?? randomSchema();
    createdSchemas.add(schema);
    const store = postgresStore({ pool: postgresPool(), schema });
    if (options.init !== false) await store.init();
    return store;
  },
  sibling: (store) => postgresStore({ pool: postgresPool(), schema: store.schema }),
  client: () => poolClient(postgresPool(), false),
  makeEmptyStore: emptyStoreMaker(() => postgresBackend),
};

/** Remembers a schema made outside makeStore so it is dropped after the file. */
export function trackSchema(schema: string): string {
  createdSchemas.add(schema);
  return schema;
}

export const backends: Backend[] = [pgliteBackend, postgresBackend];
