import { describe, expect, it } from 'vitest';
import { backends } from './backends.js';
import { makeConnection, makeLink, makeMessage } from './fixtures.js';

for (const backend of backends) {
  describe.skipIf(!backend.available)(`smoke (${backend.name})`, () => {
    it('round-trips', async () => {
      const store = await backend.makeStore();
      const connection = makeConnection();
      await store.saveConnection(connection);
      expect(await store.getConnection(connection.id)).toEqual(connection);
      const message = makeMessage(connection, 'p1', { cc: [{ address: 'x@y.com' }], referenceTokens: ['PRJ-1042', 'PRJ-1'] });
      const result = await store.applySync(connection.id, {
        upserts: [message],
        deletes: [],
        links: [makeLink(message.id, { type: 'client', id: 'c1', label: 'BigCo' })],
        cursor: '100',
        expectedCursor: null,
      });
      expect(result).toEqual({ inserted: [message.id], updated: [], deleted: [] });
      const stored = await store.getMessage('t1', message.id);
      expect(stored).toEqual({ ...message, links: [makeLink(message.id, { type: 'client', id: 'c1', label: 'BigCo' })] });
      const again = await store.applySync(connection.id, { upserts: [message], deletes: [], links: [], cursor: '101', expectedCursor: '100' });
      expect(again).toEqual({ inserted: [], updated: [message.id], deleted: [] });
      await expect(store.applySync(connection.id, { upserts: [], deletes: [], links: [], cursor: '102', expectedCursor: '100' })).rejects.toMatchObject({ code: 'CURSOR_CONFLICT' });
      const page = await store.timeline({ tenantId: 't1', record: { type: 'client', id: 'c1' }, wholeThreads: true, limit: 10 });
      expect(page.threads).toHaveLength(0);
      console.log(await store.raw.dump());
      const ids = await store.findMessageIds('t1', { domains: ['BIGCO.com'] }, { limit: 10 });
      expect(ids.ids).toEqual([message.id]);
      const exported = [];
      for await (const record of store.exportConnection(connection.id)) exported.push(record);
      expect(exported.map((record) => record.kind)).toEqual(['connection', 'message']);
      expect(await store.purgeConnection(connection.id)).toEqual({ connections: 1, messages: 1, links: 0, other: 0 });
    });
  });
}
