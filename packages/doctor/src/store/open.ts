// Opens the host's store the way the app does (postgresStore / pgliteStore) without init():
// init() migrates, and a doctor must not change what it diagnoses. One `SELECT 1` proves it is
// reachable; failures are classified by the driver's error code into a fix.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pgliteStore, postgresStore, type SqlMetadataStore } from '@threadlink/storage-postgres';
import type { StoreSettings } from '../config.js';
import { fail, type CheckOutcome } from '../report.js';

export type OpenedStore = { ok: true; store: SqlMetadataStore; label: string } | { ok: false; outcome: CheckOutcome };

/** host:port/database, never the password. */
function describeConnectionString(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `PostgreSQL at ${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname.length > 1 ? url.pathname : ''}`;
  } catch {
    return 'PostgreSQL (DATABASE_URL is not a URL; libpq key=value strings are not supported here)';
  }
}

export async function openStore(settings: StoreSettings, timeoutMs: number): Promise<OpenedStore> {
  const schemaOption = settings.schema !== undefined ? { schema: settings.schema } : {};
  let store: SqlMetadataStore;
  let label: string;
  try {
    if (settings.kind === 'postgres') {
      label = describeConnectionString(settings.connectionString);
      store = postgresStore({ connectionString: settings.connectionString, poolConfig: { max: 1, connectionTimeoutMillis: timeoutMs }, ...schemaOption });
    } else {
      label = `PGlite at ${settings.dataDir}`;
      // PGlite creates a database in any directory it is given; a mistyped path would "work" and be empty.
      const marker = await stat(join(settings.dataDir, 'PG_VERSION')).catch(() => null);
      if (!marker) {
        return {
          ok: false,
          outcome: fail(
            `No PGlite database at ${settings.dataDir} (no PG_VERSION file).`,
            'Point THREADLINK_DATA_DIR at the data folder the app uses (PGlite in its pglite/ subfolder), or THREADLINK_PGLITE_DIR at the directory the app passes to pgliteStore({ dataDir }); the app creates it on its first start.',
          ),
        };
      }
      store = pgliteStore({ dataDir: settings.dataDir, ...schemaOption });
    }
  } catch (error) {
    return {
      ok: false,
      outcome: fail(
        `The store could not be created: ${(error as Error).message}`,
        'Set THREADLINK_STORE_SCHEMA to the schema the app uses (plain lower-case name, default threadlink).',
      ),
    };
  }
  try {
    await withTimeout(store.sql.query('SELECT 1'), timeoutMs);
    return { ok: true, store, label };
  } catch (error) {
    await store.close().catch(() => undefined);
    return { ok: false, outcome: explainConnectError(error, label) };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function explainConnectError(error: unknown, label: string): CheckOutcome {
  const code = String((error as { code?: unknown }).code ?? '');
  const message = (error as Error).message || String(error);
  const found = `${label} is unreachable: ${code && !message.includes(code) ? `${code} ` : ''}${message}`.trim();
  switch (code) {
    case 'ECONNREFUSED':
      return fail(found, 'Nothing listens there: start PostgreSQL, or fix the host and port in DATABASE_URL.');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return fail(found, 'The host name does not resolve from this machine: fix the host in DATABASE_URL (inside Docker, use the service name).');
    case 'ETIMEDOUT':
      return fail(
        found,
        'The connection timed out: check firewalls / security groups between this machine and the database, and the host and port in DATABASE_URL.',
      );
    case '28P01':
      return fail(found, 'PostgreSQL rejected the password: fix the user and password in DATABASE_URL (URL-encode special characters).');
    case '28000':
      return fail(found, 'PostgreSQL refused this user or client address (pg_hba.conf): allow it there or use the right user in DATABASE_URL.');
    case '3D000':
      return fail(found, 'The database does not exist: create it (createdb) or fix its name in DATABASE_URL.');
    default:
      if (/ssl|tls|certificate/i.test(message)) {
        return fail(found, 'TLS failed: match sslmode in DATABASE_URL to the server (e.g. ?sslmode=require for managed databases).');
      }
      if (/timeout/i.test(message)) {
        return fail(found, 'The connection timed out: check firewalls between this machine and the database, and the host and port in DATABASE_URL.');
      }
      return fail(found, 'Check DATABASE_URL (or THREADLINK_DATA_DIR) against the settings the app runs with.');
  }
}
