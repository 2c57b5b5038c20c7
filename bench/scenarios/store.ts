// 7. Store: batched upserts/s (storage-postgres' own upserts benchmark, run as is) against the
// database's speed at writing the same number of message rows in one statement; and the timeline
// query for a client with 10,000 messages against a single-row look-up on the same store.
// PostgreSQL (DATABASE_URL) and PGlite.
import { performance } from 'node:perf_hooks';
import type { MessageMeta } from '@threadlink/core';
import { getMessage } from '@threadlink/core/store';
import { pgliteStore, postgresStore, type SqlMetadataStore } from '@threadlink/storage-postgres';
import { benchSchema, databaseUrl, storeOnlyThreadlink } from '../lib/database.js';
import { benchConnection, benchMessage, clientLink } from '../lib/messages.js';
import { figure, type Figure, type Scenario, type ScenarioContext } from '../lib/scenario.js';
import { round, summarize } from '../lib/stats.js';
import { upsertsBench } from '../lib/subprocess.js';

const BATCH = 500;
const CLIENT_MESSAGES = 10_000;
const QUICK_CLIENT_MESSAGES = 2_000;
const TENANT = 't1';

const snake = (name: string): string => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/** The messages-table row of a message, keyed by column name. */
function messageRow(message: MessageMeta, columns: string[]): Record<string, unknown> {
  const source = message as unknown as Record<string, unknown>;
  const row: Record<string, unknown> = {};
  for (const column of columns) {
    if (column === 'message_references') row[column] = message.references;
    else {
      const key = Object.keys(source).find((candidate) => snake(candidate) === column);
      row[column] = key === undefined ? null : source[key];
    }
  }
  return row;
}

/**
 * The limit for upserts: the same kind and number of rows the upserts benchmark writes per message
 * (1 message, 4 participants, 2 links, a reference token on every third), each table in ONE
 * statement (a JSON array expanded by jsonb_populate_recordset), one transaction per batch, into
 * copies of the store's tables with the same indexes. What is left out is exactly the store's own
 * work: validation, existing-row checks, link rules, the cursor compare-and-set.
 */
async function rawInsertRates(store: SqlMetadataStore, batches: number): Promise<number[]> {
  const schema = `"${store.schema}"`;
  const columns = (
    await store.sql.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'messages' ORDER BY ordinal_position`,
      [store.schema],
    )
  ).rows.map((row) => row.column_name);
  for (const table of ['messages', 'participants', 'reference_tokens', 'record_links']) {
    await store.sql.exec(`CREATE TABLE ${schema}.raw_${table} (LIKE ${schema}.${table} INCLUDING DEFAULTS INCLUDING INDEXES)`);
  }
  const connection = benchConnection('con_raw', TENANT);
  const rates: number[] = [];
  for (let batch = 0; batch < batches; batch += 1) {
    const messages = Array.from({ length: BATCH }, (_, index) => benchMessage(connection, batch * BATCH + index));
    const participants = messages.flatMap((message, index) =>
      [
        { role: 'from', address: message.from?.address ?? 'nobody@example.com' },
        { role: 'to', address: connection.accountEmail },
        { role: 'to', address: `colleague${index % 20}@acme.example` },
        { role: 'cc', address: `pm${index % 50}@client${index % 500}.example` },
      ].map((participant, position) => ({
        tenant_id: TENANT,
        message_id: message.id,
        connection_id: connection.id,
        role: participant.role,
        position,
        address: participant.address,
        domain: participant.address.split('@')[1],
        display_name: null,
      })),
    );
    const tokens = messages.flatMap((message) =>
      message.referenceTokens.map((token, position) => ({ tenant_id: TENANT, message_id: message.id, connection_id: connection.id, position, token })),
    );
    const links = messages.flatMap((message) =>
      ['contact', 'client'].map((type) => ({
        tenant_id: TENANT,
        message_id: message.id,
        connection_id: connection.id,
        record_type: type,
        record_id: `${type}-${message.from?.address ?? ''}`,
        record_label: null,
        rule: 'participant.address',
        reason: 'sender',
        confidence: 1,
        manual: false,
        suppressed: false,
        created_at: message.syncedAt,
      })),
    );
    const started = performance.now();
    await store.sql.transaction(async (tx) => {
      const insert = (table: string, rows: unknown[]) =>
        tx.query(`INSERT INTO ${schema}.raw_${table} SELECT * FROM jsonb_populate_recordset(NULL::${schema}.raw_${table}, $1::jsonb)`, [JSON.stringify(rows)]);
      await insert(
        'messages',
        messages.map((message) => messageRow(message, columns)),
      );
      await insert('participants', participants);
      await insert('reference_tokens', tokens);
      await insert('record_links', links);
    });
    rates.push((BATCH * 1000) / (performance.now() - started));
  }
  return rates;
}

async function timelineRun(context: ScenarioContext, store: SqlMetadataStore, queries: number, clientMessages: number) {
  const connection = benchConnection('con_timeline', TENANT);
  await store.saveConnection(connection);
  const seedStarted = performance.now();
  // 10,000 messages of the client (threads of five) among as many of other clients.
  for (let offset = 0; offset < clientMessages * 2; offset += BATCH) {
    const upserts = Array.from({ length: BATCH }, (_, index) => benchMessage(connection, offset + index));
    const links = upserts
      .filter((message) => Math.floor(Number(message.providerMessageId.slice(3)) / 5) % 2 === 0)
      .map((message) => clientLink(message, 'client-big'));
    await store.applySync(connection.id, { upserts, deletes: [], links });
  }
  context.log(`${store.sql.dialect}: ${clientMessages * 2} messages seeded in ${Math.round(performance.now() - seedStarted)} ms`);
  const tl = storeOnlyThreadlink(store);
  const record = { type: 'client', id: 'client-big' };
  const firstPage: number[] = [];
  const deepPages: number[] = [];
  const lookups: number[] = [];
  let threads = 0;
  let messages = 0;
  // Every page once (the client panel scrolled to the end), then the first page repeatedly.
  let after: string | null = null;
  do {
    const started = performance.now();
    const page = await tl.timeline.forRecord(record, { tenantId: TENANT, as: 'admin', limit: 50, after });
    deepPages.push(performance.now() - started);
    threads += page.threads.length;
    messages += page.threads.reduce((sum, thread) => sum + thread.messages.length, 0);
    after = page.next;
  } while (after);
  const sampleId = benchMessage(connection, 42).id;
  for (let query = 0; query < queries; query += 1) {
    let started = performance.now();
    await tl.timeline.forRecord(record, { tenantId: TENANT, as: 'admin', limit: 50 });
    firstPage.push(performance.now() - started);
    started = performance.now();
    await getMessage(store, TENANT, sampleId);
    lookups.push(performance.now() - started);
  }
  await tl.stop();
  return { firstPage, deepPages, lookups, threads, messages };
}

export const store: Scenario = {
  name: 'store',
  title: 'Store: batched upserts/s and timeline p99 for a client with 10,000 messages (PostgreSQL, PGlite)',
  budget: { full: 60, quick: 18 },
  async run(context) {
    const url = databaseUrl();
    // Quick runs one backend (PostgreSQL when configured) at a fifth of the size.
    const backends: Array<'postgres' | 'pglite'> = context.quick ? [url ? 'postgres' : 'pglite'] : [...(url ? (['postgres'] as const) : []), 'pglite'];
    const clientMessages = context.quick ? QUICK_CLIENT_MESSAGES : CLIENT_MESSAGES;
    const figures: Figure[] = [];
    const details: Record<string, unknown> = {};
    const notes: string[] = [];
    if (!url) notes.push('DATABASE_URL is unset: PostgreSQL rows are skipped, PGlite only.');
    for (const backend of backends) {
      const runs = context.quick ? 1 : 2;
      const messages = context.quick ? 1_000 : 4_000;
      const upserts = [];
      for (let run = 0; run < runs; run += 1) upserts.push(await upsertsBench(backend, messages, BATCH));
      const schema = benchSchema();
      const sqlStore = backend === 'postgres' ? postgresStore({ connectionString: url as string, schema, poolConfig: { max: 4 } }) : pgliteStore({ schema });
      try {
        await sqlStore.init();
        // On empty tables, like the upserts benchmark's own fresh schema, and the same number of batches.
        const raw = await rawInsertRates(sqlStore, Math.ceil(messages / BATCH));
        const timeline = await timelineRun(context, sqlStore, context.quick ? 30 : 150, clientMessages);
        figures.push(
          figure({
            name: `${backend} applySync inserts (batches of ${BATCH})`,
            unit: 'msg/s',
            better: 'higher',
            samples: upserts.map((result) => result.insertMessagesPerSecond),
            limit: { name: 'the same rows, one INSERT per table (no store logic)', samples: raw },
          }),
          figure({
            name: `${backend} applySync updates (batches of ${BATCH})`,
            unit: 'msg/s',
            better: 'higher',
            samples: upserts.map((result) => result.updateMessagesPerSecond),
            limit: { name: 'the same rows, one INSERT per table (no store logic)', samples: raw },
          }),
          figure({
            name: `${backend} timeline first page (50 threads), client with ${clientMessages.toLocaleString('en-US')} msgs`,
            unit: 'ms',
            better: 'lower',
            samples: timeline.firstPage,
            limit: { name: 'one message by id (getMessage)', samples: timeline.lookups },
          }),
          figure({
            name: `${backend} timeline, every page to the end`,
            unit: 'ms',
            better: 'lower',
            samples: timeline.deepPages,
            limit: { name: 'one message by id (getMessage)', samples: timeline.lookups },
          }),
        );
        details[backend] = {
          upserts,
          timeline: { pages: timeline.deepPages.length, threads: timeline.threads, messages: timeline.messages },
          rawInsert: summarize(raw),
        };
        context.log(
          `${backend}: applySync ${upserts.map((result) => result.insertMessagesPerSecond).join('/')} msg/s, timeline p99 ${round(summarize(timeline.firstPage).p99, 1)} ms`,
        );
      } finally {
        if (backend === 'postgres') await sqlStore.sql.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
        await sqlStore.close();
      }
    }
    notes.push(
      'Upserts: packages/storage-postgres/bench/upserts.ts (one transaction per batch: messages, participants, reference tokens, two links each, the cursor), one run per sample.',
      `Timeline: tl.timeline.forRecord over a client linked to ${clientMessages.toLocaleString('en-US')} messages in threads of five, among as many messages of other clients; whole threads, 50 per page, keyset pagination.`,
    );
    return { figures, settings: { batch: BATCH, clientMessages, backends }, notes, details };
  },
};
