// A transaction's opening and closing (issue 21): statements without parameters that run first in
// the transaction and, on a pg pool, go to the server with BEGIN in one round trip; and statements
// that go with COMMIT (`tx.commitWith`). applySync opens with its connection's row lock and the
// read it plans from, and closes with its writes: a synced page is two round trips. Both must be
// INSIDE the transaction (the lock held to COMMIT, each statement seeing what the one before it
// did, a failing closing statement undoing everything), and literals written in place of
// parameters must mean exactly their value.
import { describe, expect, it } from 'vitest';
import { quoteLiteral, sqlLiteral } from '../src/identifiers.js';
import { backends } from './backends.js';

const tableName = (prefix: string): string => `${prefix}_${Math.random().toString(36).slice(2, 10)}`;

for (const backend of backends)
  describe.skipIf(!backend.available)(`a transaction's opening and closing (${backend.name})`, () => {
    it('hands the opening results to the transaction, in order, and runs the closing with COMMIT', async () => {
      const sql = backend.client();
      const table = tableName('opening');
      await sql.exec(`CREATE TABLE ${table} (id text PRIMARY KEY)`);
      try {
        const { opened, closed } = await sql.transaction(
          async (tx, results) => ({
            opened: results.map((result) => result.rows),
            // The second opening statement saw the first one's row; the closing sees both, and its
            // result comes back per statement.
            closed: (await tx.commitWith([`INSERT INTO ${table} VALUES ('closing')`, `SELECT id FROM ${table} ORDER BY id`])).map((result) => result.rows),
          }),
          [`INSERT INTO ${table} VALUES ('opening') RETURNING id`, `SELECT count(*)::int AS n FROM ${table}`],
        );
        expect(opened).toEqual([[{ id: 'opening' }], [{ n: 1 }]]);
        expect(closed).toEqual([[], [{ id: 'closing' }, { id: 'opening' }]]);
        expect((await sql.query(`SELECT id FROM ${table} ORDER BY id`)).rows).toEqual([{ id: 'closing' }, { id: 'opening' }]);
        // Without an opening, nothing is handed over; without commitWith the transaction still commits.
        expect(await sql.transaction(async (_tx, results) => results)).toEqual([]);
      } finally {
        await sql.exec(`DROP TABLE ${table}`);
      }
    });

    it('undoes the opening and the closing when a closing statement fails, and refuses work after commitWith', async () => {
      const sql = backend.client();
      const table = tableName('closing');
      await sql.exec(`CREATE TABLE ${table} (id text PRIMARY KEY)`);
      try {
        await expect(
          sql.transaction(
            async (tx) => {
              await tx.commitWith([`INSERT INTO ${table} VALUES ('closing')`, `INSERT INTO ${table} VALUES ('opening')`]);
            },
            [`INSERT INTO ${table} VALUES ('opening')`],
          ),
        ).rejects.toMatchObject({ code: '23505' });
        expect((await sql.query(`SELECT id FROM ${table}`)).rows).toEqual([]);
        await expect(
          sql.transaction(async () => {
            throw new Error('changed my mind');
          }, [`INSERT INTO ${table} VALUES ('undone')`]),
        ).rejects.toThrow('changed my mind');
        expect((await sql.query(`SELECT id FROM ${table}`)).rows).toEqual([]);
        await expect(
          sql.transaction(async (tx) => {
            await tx.commitWith([]);
            await tx.query('SELECT 1');
          }),
        ).rejects.toThrow('already committed');
      } finally {
        await sql.exec(`DROP TABLE ${table}`);
      }
    });

    it('writes values as literals that mean exactly them', async () => {
      const sql = backend.client();
      const texts = ['plain', "it's", 'back\\slash', "both ' and \\ and ''", 'quote " in', 'conn_01J\u00e9\u2713', '', '{braces}', 'NULL'];
      const [result] = await sql.transaction(
        async (_tx, results) => results,
        [
          `SELECT ${texts.map((text, index) => `${sqlLiteral(text)}::text AS t${index}`).join(', ')},
                ${sqlLiteral(texts)}::text[] AS list, ${sqlLiteral([])}::text[] AS empty,
                ${sqlLiteral({ nested: { text: 'it\'s \\ "quoted"' }, n: 1.5 })}::jsonb AS json,
                ${sqlLiteral(1733550000123)}::bigint AS big, ${sqlLiteral(-0.25)}::float8 AS small,
                ${sqlLiteral(true)} AS yes, ${sqlLiteral(null)}::text AS nothing`,
        ],
      );
      const row = result?.rows[0] as Record<string, unknown>;
      expect(texts.map((_text, index) => row[`t${index}`])).toEqual(texts);
      expect(row.list).toEqual(texts);
      expect(row.empty).toEqual([]);
      expect(row.json).toEqual({ nested: { text: 'it\'s \\ "quoted"' }, n: 1.5 });
      expect(Number(row.big)).toBe(1733550000123);
      expect(row.small).toBe(-0.25);
      expect(row.yes).toBe(true);
      expect(row.nothing).toBeNull();
      expect(() => quoteLiteral('nul\u0000inside')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
      expect(() => sqlLiteral(Number.NaN)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    });
  });

const postgres = backends.find((backend) => backend.name === 'postgres');
describe.skipIf(!postgres?.available)("an opening's row lock (PostgreSQL)", () => {
  it('is held until COMMIT: another session cannot take it meanwhile', async () => {
    const sql = postgres!.client();
    const table = tableName('opening_lock');
    await sql.exec(`CREATE TABLE ${table} (id text PRIMARY KEY); INSERT INTO ${table} VALUES ('row')`);
    try {
      await sql.transaction(
        async (tx) => {
          // Another pool connection (a bare query) finds the row locked until the closing's COMMIT.
          await expect(sql.query(`SELECT id FROM ${table} WHERE id = 'row' FOR UPDATE NOWAIT`)).rejects.toMatchObject({ code: '55P03' });
          await tx.commitWith([`UPDATE ${table} SET id = 'row' WHERE id = 'row'`]);
        },
        [`SELECT id FROM ${table} WHERE id = 'row' FOR UPDATE`],
      );
      expect((await sql.query(`SELECT id FROM ${table} WHERE id = 'row' FOR UPDATE NOWAIT`)).rows).toEqual([{ id: 'row' }]);
    } finally {
      await sql.exec(`DROP TABLE ${table}`);
    }
  });

  it("has each statement read with its own snapshot: a read after the lock sees what the lock's holder committed meanwhile", async () => {
    // applySync's opening relies on this: the lock may wait for another writer of the connection, and
    // the read after it must see that writer's rows (one statement would read with a snapshot taken
    // before the wait).
    const sql = postgres!.client();
    const table = tableName('opening_snapshot');
    await sql.exec(`CREATE TABLE ${table} (id text PRIMARY KEY); INSERT INTO ${table} VALUES ('lock')`);
    try {
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let locked!: () => void;
      const lockTaken = new Promise<void>((resolve) => {
        locked = resolve;
      });
      // The other writer: holds the lock, then writes a row and commits.
      const writer = sql.transaction(
        async (tx) => {
          locked();
          await held;
          await tx.query(`INSERT INTO ${table} VALUES ('written meanwhile')`);
        },
        [`SELECT id FROM ${table} WHERE id = 'lock' FOR UPDATE`],
      );
      await lockTaken;
      const reader = sql.transaction(
        async (_tx, [, read]) => read?.rows,
        [`SELECT id FROM ${table} WHERE id = 'lock' FOR UPDATE`, `SELECT id FROM ${table} ORDER BY id`],
      );
      // The reader's script is waiting on the lock now; the writer commits its row and lets go.
      await new Promise((resolve) => setTimeout(resolve, 100));
      release();
      await writer;
      expect(await reader).toEqual([{ id: 'lock' }, { id: 'written meanwhile' }]);
    } finally {
      await sql.exec(`DROP TABLE ${table}`);
    }
  });
});
