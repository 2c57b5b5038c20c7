// A SqlClient wrapper that counts statements, to prove bulk writes are not row-by-row, and
// transactions as PostgreSQL does (`xact_commit`): a bare statement is one, a transaction one. It
// also keeps every statement's text (what a server would log of a failed one).
import type { SqlClient, SqlTransaction } from '../src/index.js';

export interface CountingClient extends SqlClient {
  statements: number;
  /** The text of every statement sent, transaction openings and closings included. */
  texts: string[];
  transactions: number;
  /**
   * Each transaction's round trips, BEGIN and COMMIT included (an opening rides with BEGIN, a
   * closing with COMMIT). A round trip is most of what a statement costs the SDK and the database.
   */
  roundTripsPerTransaction: number[];
}

export function countingClient(inner: SqlClient): CountingClient {
  const sent = (...texts: string[]): void => {
    counting.statements += texts.length;
    counting.texts.push(...texts);
  };
  const counting: CountingClient = {
    statements: 0,
    texts: [],
    transactions: 0,
    roundTripsPerTransaction: [],
    dialect: inner.dialect,
    query: (sql, params, options) => {
      sent(sql);
      counting.transactions += 1;
      return inner.query(sql, params, options);
    },
    exec: (sql) => {
      sent(sql);
      counting.transactions += 1;
      return inner.exec(sql);
    },
    transaction: (fn, opening) => {
      counting.transactions += 1;
      sent(...(opening ?? []));
      return inner.transaction(async (tx, opened) => {
        let roundTrips = 1;
        let committed = false;
        const wrapped: SqlTransaction = {
          query: (sql, params, options) => {
            sent(sql);
            roundTrips += 1;
            return tx.query(sql, params, options);
          },
          exec: (sql) => {
            sent(sql);
            roundTrips += 1;
            return tx.exec(sql);
          },
          commitWith: (statements) => {
            sent(...statements);
            roundTrips += 1;
            committed = true;
            return tx.commitWith(statements);
          },
        };
        try {
          return await fn(wrapped, opened);
        } finally {
          counting.roundTripsPerTransaction.push(committed ? roundTrips : roundTrips + 1);
        }
      }, opening);
    },
    ...(inner.canHoldTransaction ? { canHoldTransaction: () => inner.canHoldTransaction?.() === true } : {}),
    close: () => inner.close(),
  };
  return counting;
}
