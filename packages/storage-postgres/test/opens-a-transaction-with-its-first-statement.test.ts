// A transaction's opening (issue 21): one statement without parameters that runs first in the
// transaction and, on a pg pool, goes to the server with BEGIN in one round trip. applySync opens
// with its connection's row lock, so a synced page costs a round trip less. The opening must be
// INSIDE the transaction (its lock held to COMMIT, its writes undone by a rollback), and literals
// built for it must mean exactly their text.
import { describe, expect, it } from 'vitest';
import { quoteLiteral } from '../src/identifiers.js';
import { backends } from './backends.js';

for (const backend of backends)
  describe.skipIf(!backend.available)(`a transaction's opening (${backend.name})`, () => {
    it('hands its result to the transaction and is undone with it by a rollback', async () => {
      const sql = backend.client();
      const table = `opening_${Math.random().toString(36).slice(2, 10)}`;
      await sql.exec(`CREATE TABLE ${table} (id text PRIMARY KEY)`);
      try {
        const seen = await sql.transaction(async (_tx, opened) => opened.rows, `INSERT INTO ${table} VALUES ('kept') RETURNING id`);
        expect(seen).toEqual([{ id: 'kept' }]);
        await expect(
          sql.transaction(async () => {
            throw new Error('changed my mind');
          }, `INSERT INTO ${table} VALUES ('undone') RETURNING id`),
        ).rejects.toThrow('changed my mind');
        expect((await sql.query(`SELECT id FROM ${table} ORDER BY id`)).rows).toEqual([{ id: 'kept' }]);
        // Without an opening the second argument is an empty result.
        expect(await sql.transaction(async (_tx, opened) => opened)).toEqual({ rows: [], rowCount: 0 });
      } finally {
        await sql.exec(`DROP TABLE ${table}`);
      }
    });

    it('quotes literals so that they mean exactly their text', async () => {
      const sql = backend.client();
      for (const text of ['plain', "it's", 'back\\slash', "both ' and \\ and ''", 'conn_01J\u00e9\u2713', '']) {
        const opened = await sql.transaction(async (_tx, result) => result.rows, `SELECT ${quoteLiteral(text)}::text AS value`);
        expect(opened).toEqual([{ value: text }]);
      }
      expect(() => quoteLiteral('nul\u0000inside')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    });
  });

describe.skipIf(!backends.find((backend) => backend.name === 'postgres')?.available)("an opening's row lock (PostgreSQL)", () => {
  it('is held until COMMIT: another session cannot take it meanwhile', async () => {
    const postgres = backends.find((backend) => backend.name === 'postgres')!;
    const sql = postgres.client();
    const table = `opening_lock_${Math.random().toString(36).slice(2, 10)}`;
    await sql.exec(`CREATE TABLE ${table} (id text PRIMARY KEY); INSERT INTO ${table} VALUES ('row')`);
    try {
      await sql.transaction(async () => {
        // Another pool connection (a bare query) finds the row locked.
        await expect(sql.query(`SELECT id FROM ${table} WHERE id = 'row' FOR UPDATE NOWAIT`)).rejects.toMatchObject({ code: '55P03' });
      }, `SELECT id FROM ${table} WHERE id = 'row' FOR UPDATE`);
      expect((await sql.query(`SELECT id FROM ${table} WHERE id = 'row' FOR UPDATE NOWAIT`)).rows).toEqual([{ id: 'row' }]);
    } finally {
      await sql.exec(`DROP TABLE ${table}`);
    }
  });
});
