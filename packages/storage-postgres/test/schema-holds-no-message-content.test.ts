// The privacy contract at the schema level: the messages table has exactly the metadata
// columns below, and no column anywhere in the store could hold a body by its name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_TABLES, type SqlMetadataStore } from '../src/index.js';
import { backends } from './backends.js';

const MESSAGE_COLUMNS = [
  'tenant_id',
  'id',
  'connection_id',
  'user_id',
  'provider',
  'provider_message_id',
  'provider_thread_id',
  'thread_id',
  'internet_message_id',
  'in_reply_to',
  'message_references',
  'subject',
  'sent_at',
  'received_at',
  'direction',
  'folder',
  'labels',
  'attachments',
  'has_attachments',
  'synced_at',
];

const CONTENT_WORDS = ['body', 'snippet', 'preview', 'html', 'text', 'content', 'raw', 'mime', 'payload', 'data'];

for (const backend of backends) {
  describe.skipIf(!backend.available)(`schema (${backend.name})`, () => {
    let store: SqlMetadataStore;
    const columnsOf = async (table: string): Promise<Array<{ column_name: string; data_type: string }>> =>
      (
        await store.sql.query<{ column_name: string; data_type: string }>(
          `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
          [store.schema, table],
        )
      ).rows;

    beforeAll(async () => {
      store = await backend.makeStore();
    });
    afterAll(() => store.close());

    it('stores messages in exactly the metadata columns, none of them binary', async () => {
      const columns = await columnsOf('messages');
      expect(columns.map((column) => column.column_name)).toEqual(MESSAGE_COLUMNS);
      expect(columns.filter((column) => column.data_type === 'bytea')).toEqual([]);
    });

    it('has no column in any table whose name could hold message content', async () => {
      const tables = (
        await store.sql.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [
          store.schema,
        ])
      ).rows.map((row) => row.table_name);
      expect(tables).toEqual([...STORE_TABLES, 'schema_migrations'].sort());
      const offending: string[] = [];
      for (const table of tables) {
        for (const { column_name: column } of await columnsOf(table)) {
          if (CONTENT_WORDS.some((word) => column.includes(word))) offending.push(`${table}.${column}`);
        }
      }
      expect(offending).toEqual([]);
    });

    it('carries tenant_id on every table that holds tenant data', async () => {
      for (const table of ['connections', 'messages', 'participants', 'reference_tokens', 'record_links', 'labels']) {
        expect(
          (await columnsOf(table)).map((column) => column.column_name),
          table,
        ).toContain('tenant_id');
      }
    });
  });
}
