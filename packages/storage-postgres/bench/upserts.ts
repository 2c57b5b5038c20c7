// Store benchmark: messages/s through applySync in batches (one transaction per batch: bulk
// upserts of messages, participants, reference tokens and links, plus the cursor). Measures
// fresh inserts, then the same messages again as updates. Prints one JSON object, with the CPU
// each batch cost this process (pg's protocol work, the store's planning) and, when the server
// runs on this machine (Linux), every `postgres` process (planning, execution, WAL): `--batch 1`
// is a push's single-message sync, the figure to A/B a change of applySync's SQL with.
//   pnpm tsx --conditions=source packages/storage-postgres/bench/upserts.ts [--backend pglite|postgres]
//     [--messages 20000] [--batch 500] [--gap-ms 0]
// `--backend postgres` uses DATABASE_URL; the run gets its own schema, dropped at the end.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { stableId, type MessageMeta, type RecordLink } from '@threadlink/core/store';
import { makeConnection, makeLink, makeMessage } from '@threadlink/testing';
import { processesCpuMs } from '../../../bench/lib/cpu.js';
import { pgliteStore, postgresStore, type SqlMetadataStore } from '../src/index.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: process.env.DATABASE_URL ? 'postgres' : 'pglite' },
    messages: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '500' },
    // A pause before each batch: a push's sync on a quiet server (every process asleep in between)
    // rather than back to back. The pauses are not counted in the rate.
    'gap-ms': { type: 'string', default: '0' },
  },
});
const backend = values.backend === 'postgres' ? 'postgres' : 'pglite';
const MESSAGE_COUNT = Number(values.messages);
const BATCH_SIZE = Number(values.batch);
const GAP_MS = Number(values['gap-ms']);
const schema = `tl_bench_${randomBytes(4).toString('hex')}`;

const store: SqlMetadataStore = backend === 'postgres' ? postgresStore({ connectionString: process.env.DATABASE_URL ?? '', schema }) : pgliteStore({ schema });

const now = 1_760_000_000_000;
const connection = makeConnection({
  id: 'conn_bench',
  tenantId: 'tenant_bench',
  userId: 'user_bench',
  accountEmail: 'me@acme.com',
  createdAt: now,
  updatedAt: now,
});

// A realistic shape: 1 sender, 2 to, 1 cc, a reference token on a third of them, threads of ~5,
// two automatic links per message (contact by address, company by domain).
function message(index: number, revision: number): MessageMeta {
  const providerMessageId = `m${index.toString(16).padStart(8, '0')}`;
  const providerThreadId = `t${Math.floor(index / 5)}`;
  const reference = `PRJ-${10_000 + (index % 3000)}`;
  const previous = `<m${(index - 1).toString(16).padStart(8, '0')}@mail.example>`;
  const signed = index % 7 === 0;
  return makeMessage(connection, {
    // The engine's ids, so the rows are what a real sync writes.
    id: stableId('msg', connection.id, providerMessageId),
    threadId: stableId('thr', connection.id, providerThreadId),
    providerMessageId,
    providerThreadId,
    internetMessageId: `<${providerMessageId}.${index}@mail.client${index % 500}.example>`,
    inReplyTo: index % 5 === 0 ? null : previous,
    references: index % 5 === 0 ? [] : [previous],
    subject: `${revision > 0 ? 'Re: ' : ''}Change request ${reference} – commissioning`,
    from: { address: `person${index % 2000}@client${index % 500}.example`, name: `Person ${index % 2000}` },
    to: [{ address: 'me@acme.com', name: 'Me' }, { address: `colleague${index % 20}@acme.com` }],
    cc: [{ address: `pm${index % 50}@client${index % 500}.example` }],
    sentAt: now + index * 1000,
    receivedAt: now + index * 1000 + 500,
    labels: ['INBOX', 'CATEGORY_UPDATES'],
    attachments: signed ? [{ name: `${reference}-signed.pdf`, mimeType: 'application/pdf', size: 120_000 }] : [],
    hasAttachments: signed,
    referenceTokens: index % 3 === 0 ? [reference] : [],
    syncedAt: now + revision,
  });
}

function links(batch: MessageMeta[]): RecordLink[] {
  return batch.flatMap((item) => [
    makeLink(item, { type: 'contact', id: `c-${item.from?.address}` }, { rule: 'participant.address', reason: 'sender', confidence: 1, createdAt: now }),
    makeLink(
      item,
      { type: 'client', id: `cl-${item.from?.address.split('@')[1]}` },
      { rule: 'participant.domain', reason: 'sender domain', confidence: 0.8, createdAt: now },
    ),
  ]);
}

interface Pass {
  seconds: number;
  perSecond: number;
  inserted: number;
  updated: number;
  /** Median wall time of one applySync. */
  wallMsPerBatchP50: number;
  /** CPU ms per batch of this process, and of the local PostgreSQL server (null: not measurable here). */
  clientCpuMsPerBatch: number;
  serverCpuMsPerBatch: number | null;
}

/** CPU ms of the server's processes, on this machine only (PGlite runs in this process). */
const serverCpuMs = (): Promise<number | null> => (backend === 'postgres' ? processesCpuMs(/^postgres$/) : Promise.resolve(null));

async function pass(revision: number): Promise<Pass> {
  let cursor: string | null = (await store.getConnection(connection.id))?.cursor ?? null;
  let inserted = 0;
  let updated = 0;
  const serverBefore = await serverCpuMs();
  const clientBefore = process.cpuUsage();
  const walls: number[] = [];
  for (let offset = 0; offset < MESSAGE_COUNT; offset += BATCH_SIZE) {
    const batch = Array.from({ length: Math.min(BATCH_SIZE, MESSAGE_COUNT - offset) }, (_, index) => message(offset + index, revision));
    const next = `${revision}:${offset}`;
    if (GAP_MS > 0) await new Promise((resolve) => setTimeout(resolve, GAP_MS));
    const callStarted = performance.now();
    const result = await store.applySync(connection.id, { upserts: batch, deletes: [], links: links(batch), cursor: next, expectedCursor: cursor });
    walls.push(performance.now() - callStarted);
    inserted += result.inserted.length;
    updated += result.updated.length;
    cursor = next;
  }
  const seconds = walls.reduce((sum, wall) => sum + wall, 0) / 1000;
  walls.sort((left, right) => left - right);
  const client = process.cpuUsage(clientBefore);
  const serverAfter = await serverCpuMs();
  const batches = Math.ceil(MESSAGE_COUNT / BATCH_SIZE);
  const perBatch = (ms: number): number => Number((ms / batches).toFixed(3));
  // A server whose processes are not all on this machine (or none: remote) shows no growth.
  const server = serverBefore === null || serverAfter === null || serverAfter <= serverBefore ? null : perBatch(serverAfter - serverBefore);
  return {
    seconds: Number(seconds.toFixed(3)),
    perSecond: Math.round(MESSAGE_COUNT / seconds),
    inserted,
    updated,
    wallMsPerBatchP50: Number((walls[Math.floor(walls.length / 2)] ?? 0).toFixed(3)),
    clientCpuMsPerBatch: perBatch((client.user + client.system) / 1000),
    serverCpuMsPerBatch: server,
  };
}

try {
  await store.init();
  await store.saveConnection(connection);
  const inserts = await pass(0);
  const updates = await pass(1);
  const counts = await store.sql.query<{ messages: number | string; participants: number | string; links: number | string }>(
    `SELECT (SELECT count(*) FROM "${schema}".messages) AS messages, (SELECT count(*) FROM "${schema}".participants) AS participants,
            (SELECT count(*) FROM "${schema}".record_links) AS links`,
  );
  const row = counts.rows[0];
  console.log(
    JSON.stringify({
      benchmark: 'storage-postgres.upserts',
      backend,
      node: process.version,
      messages: MESSAGE_COUNT,
      batchSize: BATCH_SIZE,
      insertMessagesPerSecond: inserts.perSecond,
      updateMessagesPerSecond: updates.perSecond,
      insertSeconds: inserts.seconds,
      updateSeconds: updates.seconds,
      inserted: inserts.inserted,
      updated: updates.updated,
      gapMs: GAP_MS,
      wallMsPerBatchP50: { insert: inserts.wallMsPerBatchP50, update: updates.wallMsPerBatchP50 },
      cpuMsPerBatch: {
        insertClient: inserts.clientCpuMsPerBatch,
        insertServer: inserts.serverCpuMsPerBatch,
        updateClient: updates.clientCpuMsPerBatch,
        updateServer: updates.serverCpuMsPerBatch,
      },
      rows: { messages: Number(row?.messages), participants: Number(row?.participants), links: Number(row?.links) },
    }),
  );
} finally {
  if (backend === 'postgres') await store.sql.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
  await store.close();
}
