// One small query interface over `pg` and PGlite, so every statement in this package runs
// unchanged on a production server and on the embedded WASM build.
import type { PGlite, Transaction as PGliteTransaction } from '@electric-sql/pglite';
import type { Pool, PoolClient } from 'pg';

export interface SqlResult<Row> {
  rows: Row[];
  /** Rows inserted, updated or deleted by the statement. */
  rowCount: number;
}

export interface SqlExecutor {
  /** One statement, `$1…$n` parameters. */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<SqlResult<Row>>;
  /** A script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface SqlClient extends SqlExecutor {
  readonly dialect: 'postgres' | 'pglite';
  /** Runs `fn` in BEGIN … COMMIT on one connection; any throw rolls back and rethrows. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function poolExecutor(client: Pool | PoolClient): SqlExecutor {
  return {
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const result = await client.query(sql, params as unknown[]);
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
    },
    async exec(sql: string) {
      // Without parameters pg uses the simple query protocol, which accepts several statements.
      await client.query(sql);
    },
  };
}

/** Wraps a `pg` Pool. `ownsPool` decides whether close() ends it (a host's own pool stays open). */
export function poolClient(pool: Pool, ownsPool: boolean): SqlClient {
  return {
    dialect: 'postgres',
    ...poolExecutor(pool),
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      const connection = await pool.connect();
      let broken: unknown;
      // A checked-out client has no listener of the pool's: the server ending it between two queries
      // of this transaction (failover, pg_terminate_backend) would be an uncaught 'error' event and
      // crash the host. Note it instead; the next query fails, and release() destroys the client.
      const onError = (error: Error): void => {
        broken = error;
      };
      connection.on('error', onError);
      try {
        await connection.query('BEGIN');
        const result = await fn(poolExecutor(connection));
        await connection.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await connection.query('ROLLBACK');
        } catch (rollbackError) {
          // A connection that cannot roll back is unusable: destroy it instead of returning it to the pool.
          broken = rollbackError;
        }
        throw error;
      } finally {
        connection.off('error', onError);
        connection.release(broken instanceof Error ? broken : undefined);
      }
    },
    async close() {
      if (ownsPool) await pool.end();
    },
  };
}

function pgliteExecutor(database: PGlite | PGliteTransaction): SqlExecutor {
  return {
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const result = await database.query<Row>(sql, params as unknown[]);
      return { rows: result.rows, rowCount: result.affectedRows ?? 0 };
    },
    async exec(sql: string) {
      await database.exec(sql);
    },
  };
}

/** Wraps a PGlite instance. PGlite serialises transactions itself (one connection, a mutex). */
export function pgliteClient(database: PGlite, ownsDatabase: boolean): SqlClient {
  return {
    dialect: 'pglite',
    ...pgliteExecutor(database),
    transaction: <T>(fn: (tx: SqlExecutor) => Promise<T>) => database.transaction((tx) => fn(pgliteExecutor(tx))),
    async close() {
      if (ownsDatabase && !database.closed) await database.close();
    },
  };
}
