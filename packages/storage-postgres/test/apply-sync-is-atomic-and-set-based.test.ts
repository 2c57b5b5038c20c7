// applySync on SQL: a fixed number of statements whatever the batch size (bulk upserts, not
// row-by-row), and a row lock + compare-and-set so two engines racing on one cursor cannot
// both commit.
import { afterAll, describe, expect, it } from 'vitest';
import type { Connection, MessageMeta, RecordLink } from '@threadlink/core';
import { makeConnection, makeLink, makeMessage } from '@threadlink/testing';
import { createSqlStore, type SqlMetadataStore } from '../src/index.js';
import { backends, randomSchema, trackSchema } from './backends.js';
import { countingClient } from './counting-client.js';

function batchOf(connection: Connection, count: number, prefix: string): { messages: MessageMeta[]; links: RecordLink[] } {
  const messages = Array.from({ length: count }, (_, index) =>
    makeMessage(connection, {
      providerMessageId: `${prefix}-${index}`,
      to: [{ address: connection.accountEmail }, { address: `colleague${index}@acme.com`, name: 'Colleague' }],
      cc: [{ address: 'boss@bigco.com' }],
      referenceTokens: [`PRJ-${1000 + index}`],
      receivedAt: 1_700_000_000_000 + index,
    }),
  );
  const links = messages.map((message) => makeLink(message.id, { type: 'client', id: 'bigco' }));
  return { messages, links };
}

for (const backend of backends) {
  describe.skipIf(!backend.available)(`applySync on SQL (${backend.name})`, () => {
    const opened: SqlMetadataStore[] = [];
    afterAll(async () => {
      for (const store of opened) await store.close();
    });

    it('issues the same number of statements for 5 messages as for 12, and for 60 as for 500', async () => {
      const client = countingClient(backend.client());
      const store = createSqlStore(client, { schema: trackSchema(randomSchema(), backend.name) });
      opened.push(store);
      await store.init();
      const statementsFor = async (count: number): Promise<number> => {
        const connection = makeConnection();
        await store.saveConnection(connection);
        const first = batchOf(connection, count, 'first');
        await store.applySync(connection.id, { upserts: first.messages, deletes: [], links: first.links, cursor: '1' });
        // Measured on the second batch: half of it updates, half inserts, and some deletes.
        const second = batchOf(connection, count, 'second');
        const updates = first.messages.slice(0, Math.ceil(count / 2)).map((message) => ({ ...message, subject: 'Re: updated' }));
        const before = client.statements;
        const result = await store.applySync(connection.id, {
          upserts: [...updates, ...second.messages],
          deletes: first.messages.slice(-2).map((message) => message.providerMessageId),
          links: second.links,
          cursor: '2',
          expectedCursor: '1',
        });
        expect(result.inserted).toHaveLength(count);
        expect(result.updated).toHaveLength(Math.ceil(count / 2));
        expect(result.deleted).toHaveLength(2);
        return client.statements - before;
      };
      // A batch of up to 50 changes (5 or 12 messages: their updates, inserts and deletes) may share
      // its transaction with other mailboxes' (one more statement: the shared attempt's lock
      // timeout); a larger one (a back-fill page) commits alone.
      const small = await statementsFor(5);
      expect(await statementsFor(12)).toBe(small);
      const page = await statementsFor(60);
      expect(await statementsFor(500)).toBe(page);
      expect(small).toBe(page + 1);
      // lock, plan, messages, 3 child clean-ups, participants, tokens, links, delete + 3 child
      // clean-ups, connection update: 14, whatever the batch size.
      expect(page).toBeLessThanOrEqual(14);
    });

    it('lets exactly one of two instances commit a pull from the same cursor; the other writes nothing', async () => {
      const first = await backend.makeStore();
      const second = backend.sibling(first);
      opened.push(first, second);
      const connection = makeConnection({ cursor: '100' });
      await first.saveConnection(connection);
      const fromA = batchOf(connection, 50, 'engine-a');
      const fromB = batchOf(connection, 50, 'engine-b');
      const outcomes = await Promise.allSettled([
        first.applySync(connection.id, { upserts: fromA.messages, deletes: [], links: fromA.links, cursor: '150', expectedCursor: '100' }),
        second.applySync(connection.id, { upserts: fromB.messages, deletes: [], links: fromB.links, cursor: '160', expectedCursor: '100' }),
      ]);
      const won = outcomes.findIndex((outcome) => outcome.status === 'fulfilled');
      const lost = outcomes.find((outcome) => outcome.status === 'rejected');
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      expect(lost?.status === 'rejected' && lost.reason).toMatchObject({ name: 'ThreadlinkError', code: 'CURSOR_CONFLICT' });

      const winner = won === 0 ? { prefix: 'engine-a', cursor: '150' } : { prefix: 'engine-b', cursor: '160' };
      const stored = await first.listProviderMessageIds(connection.id);
      expect(stored).toHaveLength(50);
      expect(stored.every((id) => id.startsWith(winner.prefix))).toBe(true);
      expect((await first.getConnection(connection.id))?.cursor).toBe(winner.cursor);
      const participants = await first.sql.query<{ count: number | string }>(`SELECT count(*) AS count FROM "${first.schema}".participants`);
      expect(Number(participants.rows[0]?.count)).toBe(50 * 4);
    });

    it('never puts sealed tokens into SQL text: a page that changes them writes them as a parameter', async () => {
      const spying = countingClient(backend.client());
      const store = createSqlStore(spying, { schema: trackSchema(randomSchema(), backend.name) });
      opened.push(store);
      await store.init();
      const connection = makeConnection({ sealedTokens: 'v1.k1.sealed-before' });
      await store.saveConnection(connection);
      const page = batchOf(connection, 3, 'tokens');
      spying.texts.length = 0;
      await store.applySync(connection.id, { upserts: page.messages, deletes: [], links: page.links, cursor: '1' });
      await store.applySync(connection.id, {
        upserts: [],
        deletes: [],
        links: [],
        cursor: '2',
        expectedCursor: '1',
        connection: { sealedTokens: 'v1.k1.sealed-after' },
      });
      const stored = await store.getConnection(connection.id);
      expect(stored?.sealedTokens).toBe('v1.k1.sealed-after');
      expect(stored?.cursor).toBe('2');
      expect(spying.texts.filter((text) => text.includes('sealed-'))).toEqual([]);
    });
  });
}
