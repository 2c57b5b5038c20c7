// One small query interface over `pg` and PGlite, so every statement in this package runs
// unchanged on a production server and on the embedded WASM build.
import type { PGlite, Transaction as PGliteTransaction } from '@electric-sql/pglite';
import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';

export interface SqlResult<Row> {
  rows: Row[];
  /** Rows inserted, updated or deleted by the statement. */
  rowCount: number;
}

export interface QueryOptions {
  /**
   * Prepare the statement once per connection (a named statement on a `pg` pool; PGlite ignores it):
   * for fixed-text statements run per push or per sync job. Parse and planning were about two thirds
   * of the server's time on the intake's claim and the job's lease (issue 21, `log_min_duration_statement`).
   */
  prepare?: boolean;
}

export interface SqlExecutor {
  /** One statement, `$1…$n` parameters. */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<SqlResult<Row>>;
  /** A script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** A result row of a statement run without a row type (transaction openings and closings). */
export type SqlRow = Record<string, unknown>;

/** The executor a transaction's `fn` gets. */
export interface SqlTransaction extends SqlExecutor {
  /**
   * Runs `statements` (WITHOUT parameters: values as literals, see identifiers.ts) and then COMMIT,
   * in one round trip on a `pg` pool; the transaction is over after it (a later call throws). Their
   * results, in order. A round trip per transaction saved is a share of every synced message's cost.
   */
  commitWith(statements: readonly string[]): Promise<SqlResult<SqlRow>[]>;
}

export interface SqlClient extends SqlExecutor {
  readonly dialect: 'postgres' | 'pglite';
  /**
   * Runs `fn` in BEGIN … COMMIT on one connection; any throw rolls back and rethrows. `opening`,
   * statements WITHOUT parameters, run first in the transaction and, on a `pg` pool, in BEGIN's own
   * round trip (a simple-protocol script, each statement with its own snapshot, as if sent one by
   * one): their results are `fn`'s second argument. `fn` may end with `tx.commitWith` to send its
   * last statements with the COMMIT. A round trip saved is a share of every synced message's cost
   * (issue 21): the pool's socket writes were the SDK's largest CPU item in a profile.
   */
  transaction<T>(fn: (tx: SqlTransaction, opened: SqlResult<SqlRow>[]) => Promise<T>, opening?: readonly string[]): Promise<T>;
  /**
   * True when a transaction may stay open, waiting, while other calls run: a pool of two or more
   * connections with one free now and nobody queued for one. PGlite (one connection) never can.
   */
  canHoldTransaction?(): boolean;
  close(): Promise<void>;
}

/**
 * Prepared statements' names: one per text (pg refuses a name reused with another text, and two
 * stores may share a pool with different schemas), and a generation, bumped when the server says a
 * prepared statement's result type changed (a migration added a column under a running instance's
 * `c.*`): every connection then prepares the text afresh under the new name.
 */
const preparedNames = new Map<string, string>();
let preparedGeneration = 0;

function preparedName(sql: string): string {
  let name = preparedNames.get(sql);
  if (name === undefined) {
    name = `tl_${createHash('sha256').update(sql).digest('base64url').slice(0, 22)}_${preparedGeneration}`;
    preparedNames.set(sql, name);
  }
  return name;
}

function resultTypeChanged(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === '0A000' &&
    /cached plan must not change result type/.test(String((error as { message?: unknown }).message))
  );
}

function poolExecutor(client: Pool | PoolClient): SqlExecutor {
  return {
    async query<Row>(sql: string, params: readonly unknown[] = [], options: QueryOptions = {}) {
      if (!options.prepare) {
        const result = await client.query(sql, params as unknown[]);
        return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
      }
      const prepared = async () => client.query({ name: preparedName(sql), text: sql, values: params as unknown[] });
      let result: Awaited<ReturnType<typeof prepared>>;
      try {
        result = await prepared();
      } catch (error) {
        if (!resultTypeChanged(error)) throw error;
        preparedGeneration += 1;
        preparedNames.clear();
        result = await prepared();
      }
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
    },
    async exec(sql: string) {
      // Without parameters pg uses the simple query protocol, which accepts several statements.
      await client.query(sql);
    },
  };
}

/**
 * The server's FATAL "terminating connection" errors: admin_shutdown (pg_terminate_backend, a
 * fast shutdown), crash_shutdown, cannot_connect_now. The backend sends one and closes; a statement
 * it answers with one did not run or was rolled back (the server holds interrupts while it commits,
 * so a committed statement is answered with CommandComplete first). Retrying it is therefore safe.
 */
const TERMINATED = new Set(['57P01', '57P02', '57P03']);

function terminatedBeforeItRan(error: unknown): boolean {
  return typeof error === 'object' && error !== null && TERMINATED.has(String((error as { code?: unknown }).code));
}

/** The pool's size: pg's default is 10. */
const poolMax = (pool: Pool): number => pool.options.max ?? 10;

/**
 * Runs `attempt` again while it fails because its connection had been ended by the server. A pool
 * hears of a terminated idle connection only when it reads the server's notice, as the event loop
 * turns: until then it can hand that dead connection out, and the statement fails with 57P01 though
 * the server is up. Each failure destroys that connection (pool.query and transaction() release it
 * with the error), so `max + 1` attempts reach a fresh one even when every idle connection was dead.
 */
async function onLiveConnection<T>(pool: Pool, attempt: () => Promise<T>, retryable: (error: unknown) => boolean = () => true): Promise<T> {
  const attempts = poolMax(pool) + 1;
  for (let tried = 1; ; tried += 1) {
    try {
      return await attempt();
    } catch (error) {
      const unwrapped = error instanceof BeginFailed ? error.cause : error;
      if (tried >= attempts || !retryable(error) || !terminatedBeforeItRan(unwrapped)) throw unwrapped;
    }
  }
}

/**
 * A transaction is retried only when its BEGIN met a dead connection: past that point `fn` has
 * run, and what it did besides its statements is not this layer's to repeat. (A connection ended
 * mid-transaction fails it with a retryable STORE_ERROR; the caller decides.)
 */
class BeginFailed extends Error {
  constructor(override readonly cause: unknown) {
    super('BEGIN failed');
  }
}

/** Pools whose clients already get a listener of their own (a host's pool may be wrapped twice). */
const guardedPools = new WeakSet<Pool>();

/**
 * Every client of the pool keeps one 'error' listener for its whole life. pg-pool listens to an
 * idle client and `pool.query` to the one it runs, but a checked-out client is otherwise unheard,
 * and pg emits the server's goodbye (a FATAL 57P01 from pg_terminate_backend, a failover) as an
 * 'error' event whenever no query is running: with no listener that is an uncaught exception that
 * crashes the host. The listener only keeps the process up: a query on that client still fails
 * with the error, and the pool still discards the client.
 */
function guardClients(pool: Pool): void {
  if (guardedPools.has(pool)) return;
  guardedPools.add(pool);
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
}

/** Wraps a `pg` Pool. `ownsPool` decides whether close() ends it (a host's own pool stays open). */
export function poolClient(pool: Pool, ownsPool: boolean): SqlClient {
  guardClients(pool);
  const direct = poolExecutor(pool);
  return {
    dialect: 'postgres',
    query: (sql, params, options) => onLiveConnection(pool, () => direct.query(sql, params, options)),
    exec: (sql) => onLiveConnection(pool, () => direct.exec(sql)),
    transaction: (fn, opening) =>
      onLiveConnection(
        pool,
        () => poolTransaction(pool, fn, opening),
        (error) => error instanceof BeginFailed,
      ),
    canHoldTransaction: () => poolMax(pool) >= 2 && pool.waitingCount === 0 && (pool.idleCount > 0 || pool.totalCount < poolMax(pool)),
    async close() {
      if (ownsPool) await pool.end();
    },
  };
}

/** Statements without parameters in one simple-protocol message: pg answers with a result per statement. */
async function runScript(connection: PoolClient, statements: readonly string[]): Promise<SqlResult<SqlRow>[]> {
  const answer = (await connection.query(statements.join(';\n'))) as unknown as
    | { rows: SqlRow[]; rowCount: number | null }
    | Array<{ rows: SqlRow[]; rowCount: number | null }>;
  return (Array.isArray(answer) ? answer : [answer]).map((result) => ({ rows: result.rows, rowCount: result.rowCount ?? 0 }));
}

/** A transaction's executor that refuses work once `commitWith` has ended it. */
function transactionExecutor(
  executor: SqlExecutor,
  commitWith: (statements: readonly string[]) => Promise<SqlResult<SqlRow>[]>,
): SqlTransaction & { readonly committed: boolean } {
  let committed = false;
  const open = (): void => {
    if (committed) throw new Error('This transaction was already committed (commitWith)');
  };
  return {
    get committed() {
      return committed;
    },
    query(sql, params, options) {
      open();
      return executor.query(sql, params, options);
    },
    exec(sql) {
      open();
      return executor.exec(sql);
    },
    commitWith(statements) {
      open();
      committed = true;
      return commitWith(statements);
    },
  };
}

async function poolTransaction<T>(
  pool: Pool,
  fn: (tx: SqlTransaction, opened: SqlResult<SqlRow>[]) => Promise<T>,
  opening: readonly string[] | undefined,
): Promise<T> {
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
    let opened: SqlResult<SqlRow>[] = [];
    try {
      // A failure here (a dead connection, or the opening's own error) means nothing of `fn` ran.
      if (opening === undefined || opening.length === 0) await connection.query('BEGIN');
      else opened = (await runScript(connection, ['BEGIN', ...opening])).slice(1);
    } catch (error) {
      throw new BeginFailed(error);
    }
    // A statement of the closing script that fails skips the rest, COMMIT included: the catch below rolls back.
    const tx = transactionExecutor(poolExecutor(connection), async (statements) =>
      (await runScript(connection, [...statements, 'COMMIT'])).slice(0, statements.length),
    );
    const result = await fn(tx, opened);
    if (!tx.committed) await connection.query('COMMIT');
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
    transaction: <T>(fn: (tx: SqlTransaction, opened: SqlResult<SqlRow>[]) => Promise<T>, opening?: readonly string[]) =>
      // One connection and no network: the statements run one by one, PGlite commits when `fn` returns.
      database.transaction(async (tx) => {
        const executor = pgliteExecutor(tx);
        const runAll = async (statements: readonly string[]): Promise<SqlResult<SqlRow>[]> => {
          const results: SqlResult<SqlRow>[] = [];
          for (const statement of statements) results.push(await executor.query<SqlRow>(statement));
          return results;
        };
        const opened = await runAll(opening ?? []);
        return fn(transactionExecutor(executor, runAll), opened);
      }),
    async close() {
      if (ownsDatabase && !database.closed) await database.close();
    },
  };
}
