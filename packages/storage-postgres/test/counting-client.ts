// A SqlClient wrapper that counts statements, to prove bulk writes are not row-by-row.
import type { SqlClient, SqlExecutor } from '../src/index.js';

export interface CountingClient extends SqlClient {
  statements: number;
}

export function countingClient(inner: SqlClient): CountingClient {
  const counting: CountingClient = {
    statements: 0,
    dialect: inner.dialect,
    query: (sql, params) => {
      counting.statements += 1;
      return inner.query(sql, params);
    },
    exec: (sql) => {
      counting.statements += 1;
      return inner.exec(sql);
    },
    transaction: (fn) =>
      inner.transaction((tx) => {
        const wrapped: SqlExecutor = {
          query: (sql, params) => {
            counting.statements += 1;
            return tx.query(sql, params);
          },
          exec: (sql) => {
            counting.statements += 1;
            return tx.exec(sql);
          },
        };
        return fn(wrapped);
      }),
    close: () => inner.close(),
  };
  return counting;
}
