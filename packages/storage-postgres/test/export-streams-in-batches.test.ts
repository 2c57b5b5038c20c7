// exportConnection reads in keyset batches: across batch boundaries every message and link
// comes out exactly once, in order (messages by receivedAt then id, then their links).
import { afterAll, describe, expect, it } from 'vitest';
import type { ExportRecord } from '@threadlink/core';
import { makeConnection, makeLink, makeMessage } from '@threadlink/testing';
import { createSqlStore, type SqlMetadataStore } from '../src/index.js';
import { backends, randomSchema, trackSchema } from './backends.js';
import { countingClient } from './counting-client.js';

for (const backend of backends) {
  describe.skipIf(!backend.available)(`exportConnection (${backend.name})`, () => {
    let store: SqlMetadataStore;
    afterAll(() => store?.close());

    it('streams 7 messages and 14 links in batches of 3, each once and in order', async () => {
      const client = countingClient(backend.client());
      store = createSqlStore(client, { schema: trackSchema(randomSchema(), backend.name), exportBatchSize: 3 });
      await store.init();
      const connection = makeConnection();
      await store.saveConnection(connection);
      // Equal receivedAt on some messages: the id breaks the tie across a batch boundary.
      const messages = Array.from({ length: 7 }, (_, index) =>
        makeMessage(connection, { providerMessageId: `p${index}`, receivedAt: 1_700_000_000_000 + Math.floor(index / 2) }),
      );
      const links = messages.flatMap((message) => [
        makeLink(message.id, { type: 'client', id: 'bigco' }),
        makeLink(message.id, { type: 'project', id: 'p1' }, { rule: 'reference' }),
      ]);
      await store.applySync(connection.id, { upserts: messages, deletes: [], links });

      const before = client.statements;
      const records: ExportRecord[] = [];
      for await (const record of store.exportConnection(connection.id)) records.push(record);
      const reads = client.statements - before;

      const byAge = [...messages].sort((left, right) => left.receivedAt - right.receivedAt || (left.id < right.id ? -1 : 1));
      expect(records.map((record) => record.kind)).toEqual(['connection', ...byAge.map(() => 'message'), ...links.map(() => 'link')]);
      expect(records.filter((record) => record.kind === 'message').map((record) => record.data)).toEqual(byAge);
      const exportedLinks = records.flatMap((record) => (record.kind === 'link' ? [`${record.data.messageId}/${record.data.record.type}`] : []));
      expect(exportedLinks).toEqual(byAge.flatMap((message) => [`${message.id}/client`, `${message.id}/project`]));
      // 1 connection read + 1 label directory read + 3 message batches + 5 link batches: batched, not one query per row.
      expect(reads).toBe(1 + 1 + 3 + 5);
      expect(JSON.stringify(records)).not.toContain(connection.sealedTokens);
    });
  });
}
