// @threadlink/storage-postgres — the MetadataStore on PostgreSQL (a `pg` Pool in production)
// or on embedded PGlite (zero setup: in memory, or file-backed with `dataDir`).
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { createSqlStore, type SqlMetadataStore, type SqlStoreOptions } from './store.js';
import { pgliteClient, poolClient } from './sql-client.js';

export interface PostgresStoreOptions extends SqlStoreOptions {
  /** A host-owned pool: used as is, and left open by close(). */
  pool?: pg.Pool;
  /** Used when no pool is given; defaults to DATABASE_URL, then libpq's PG* variables. */
  connectionString?: string;
  /** Extra settings for the pool the store creates itself (ignored with `pool`). */
  poolConfig?: Omit<pg.PoolConfig, 'connectionString'>;
}

export function postgresStore(options: PostgresStoreOptions = {}): SqlMetadataStore {
  const { pool, connectionString, poolConfig, ...storeOptions } = options;
  if (pool) return createSqlStore(poolClient(pool, false), storeOptions);
  const ownPool = new pg.Pool({ ...poolConfig, connectionString: connectionString ?? process.env.DATABASE_URL });
  // An idle connection dropped by the server (restart, failover) is an 'error' event on the pool,
  // which would crash the process unheard. The pool discards that client; the next query reconnects.
  ownPool.on('error', () => {});
  return createSqlStore(poolClient(ownPool, true), storeOptions);
}

export interface PgliteStoreOptions extends SqlStoreOptions {
  /** A directory for a file-backed database; omitted = in memory (gone on close). */
  dataDir?: string;
  /** An existing PGlite instance (shared by several stores in different schemas); left open by close(). */
  pglite?: PGlite;
}

export function pgliteStore(options: PgliteStoreOptions = {}): SqlMetadataStore {
  const { dataDir, pglite, ...storeOptions } = options;
  if (pglite) return createSqlStore(pgliteClient(pglite, false), storeOptions);
  // PGlite creates only the last folder of a path, so a fresh checkout whose parent folder does
  // not exist yet failed with ENOENT on first start. URLs (memory://, idb://) are not folders.
  const folder = dataDir?.startsWith('file://') ? dataDir.slice('file://'.length) : dataDir;
  if (folder && !folder.includes('://')) mkdirSync(folder, { recursive: true });
  // The constructor is synchronous; PGlite queues queries until the WASM instance is ready.
  return createSqlStore(pgliteClient(new PGlite(dataDir), true), storeOptions);
}

export { createSqlStore, STORE_TABLES, type SqlMetadataStore, type SqlStoreOptions } from './store.js';
export {
  pgliteClient,
  poolClient,
  type QueryOptions,
  type SqlClient,
  type SqlExecutor,
  type SqlResult,
  type SqlRow,
  type SqlTransaction,
} from './sql-client.js';
export { loadMigrations, MIGRATIONS_DIRECTORY, type Migration, type MigrationReport } from './migrations.js';
