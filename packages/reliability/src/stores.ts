// The store backends a run can use. Each `open()` is what one threadlink process would open: a
// new store object on the same data (memory: the same object, since memory cannot be shared
// between processes; PostgreSQL/PGlite: a new store on the same schema). `dump()` reads every
// table physically present — not only the ones the store knows about — so a canary grep or an
// offboarding check cannot miss a table added later.
import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import type { MetadataStore } from '@threadlink/core';
import { memoryStore } from '@threadlink/storage-memory';
import { pgliteStore, postgresStore } from '@threadlink/storage-postgres';
import pg from 'pg';

export type StoreKind = 'memory' | 'postgres' | 'pglite';

export interface StoreBackend {
  kind: StoreKind;
  /** A store object for one process. */
  open(): MetadataStore;
  /** An initialised store for the suite's own reads (the verdict). */
  primary: MetadataStore;
  /** Every row of every table, by table name. */
  dump(): Promise<Record<string, unknown[]>>;
  close(): Promise<void>;
}

/** Postgres when DATABASE_URL is set, else embedded PGlite (the zero-setup default). */
export function sqlKind(): StoreKind {
  return process.env.DATABASE_URL ? 'postgres' : 'pglite';
}

export async function createStoreBackend(kind: StoreKind): Promise<StoreBackend> {
  if (kind === 'memory') {
    const store = memoryStore();
    return { kind, open: () => store, primary: store, dump: () => store.raw.dump(), close: async () => {} };
  }
  const schema = `tl_reliability_${randomBytes(5).toString('hex')}`;
  if (kind === 'postgres') {
    const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 12 });
    const first = postgresStore({ pool, schema });
    await first.init();
    return {
      kind,
      open: () => postgresStore({ pool, schema }),
      primary: first,
      dump: () => dumpSchema((text, params) => pool.query(text, params as unknown[]).then((result) => result.rows), schema),
      async close() {
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await pool.end();
      },
    };
  }
  const pglite = new PGlite();
  const first = pgliteStore({ pglite, schema });
  await first.init();
  return {
    kind,
    open: () => pgliteStore({ pglite, schema }),
    primary: first,
    dump: () => dumpSchema((text, params) => pglite.query<Record<string, unknown>>(text, params as unknown[]).then((result) => result.rows), schema),
    close: () => pglite.close(),
  };
}

type Query = (text: string, params?: readonly unknown[]) => Promise<Array<Record<string, unknown>>>;

async function dumpSchema(query: Query, schema: string): Promise<Record<string, unknown[]>> {
  const tables = await query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name`, [
    schema,
  ]);
  const dump: Record<string, unknown[]> = {};
  for (const row of tables) {
    const name = String(row.table_name);
    dump[name] = await query(`SELECT * FROM "${schema}"."${name.replace(/"/g, '""')}"`);
  }
  return dump;
}
