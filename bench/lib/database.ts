// Where the SQL scenarios store data: PostgreSQL when DATABASE_URL is set (a fresh schema per
// run, dropped afterwards), else embedded PGlite — the same store code either way.
import { randomBytes } from 'node:crypto';
import { createMemoryResolver, createThreadlink, generateSealingKey, type MetadataStore, type Threadlink } from '@threadlink/core';
import { postgresStore } from '@threadlink/storage-postgres';
import type { StoreSpec } from '../host/protocol.js';

export const databaseUrl = (): string | undefined => process.env.DATABASE_URL || undefined;

export function benchSchema(): string {
  return `bench_${randomBytes(5).toString('hex')}`;
}

/** The production store for scale runs: PostgreSQL if configured, else PGlite. */
export function sqlStoreSpec(poolMax = 10): StoreSpec {
  const url = databaseUrl();
  return url ? { kind: 'postgres', url, schema: benchSchema(), poolMax } : { kind: 'pglite' };
}

export function describeStore(spec: StoreSpec): string {
  if (spec.kind === 'postgres') return `postgres (${new URL(spec.url).host}, schema ${spec.schema})`;
  return spec.kind;
}

export async function dropSchema(spec: StoreSpec): Promise<void> {
  if (spec.kind !== 'postgres') return;
  const store = postgresStore({ connectionString: spec.url, schema: spec.schema, poolConfig: { max: 1 } });
  try {
    await store.sql.query(`DROP SCHEMA IF EXISTS "${spec.schema}" CASCADE`);
  } finally {
    await store.close();
  }
}

/** Transactions the database has committed so far (every autocommit statement counts one); null off PostgreSQL. */
export async function committedTransactions(store: StoreSpec): Promise<number | null> {
  if (store.kind !== 'postgres') return null;
  const client = postgresStore({ connectionString: store.url, schema: store.schema, poolConfig: { max: 1 } });
  try {
    const result = await client.sql.query<{ commits: string }>(`SELECT xact_commit AS commits FROM pg_stat_database WHERE datname = current_database()`);
    return Number(result.rows[0]?.commits ?? Number.NaN);
  } finally {
    await client.close();
  }
}

/**
 * A threadlink over a store the scenario seeded itself, and nothing else (no providers, an empty
 * CRM, no maintenance loop): for timing what reads the store (timelines, rematch).
 */
export function storeOnlyThreadlink(store: MetadataStore): Threadlink {
  return createThreadlink({
    store,
    providers: [],
    resolver: createMemoryResolver([]),
    sealingKeys: [{ id: 'bench', key: generateSealingKey() }],
    publicUrl: 'http://127.0.0.1:9/threadlink',
    maintenanceIntervalMs: 0,
  });
}
