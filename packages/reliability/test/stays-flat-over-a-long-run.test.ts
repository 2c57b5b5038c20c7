// Issue 23, long runs: many connected mailboxes with steady mail on PostgreSQL + BullMQ, sampled
// for heap, RSS, event-loop delay, open handles and the store's database connections.
// CI (default): 40 mailboxes, 25 s, loose "no growth trend" checks. `pnpm soak` (SOAK=1): the
// long run, sized by SOAK_MAILBOXES (default 10,000), SOAK_MINUTES (default 30) and SOAK_RATE
// (messages per second, default 20). One JSON line with the figures is printed either way.
// Caveat, stated in the README with the figures: the Gmail emulator runs in this same process and
// keeps every delivered message, so the heap slope is an upper bound for threadlink's own.
// Needs DATABASE_URL and REDIS_URL (a unique queue name on the shared Redis).
import { appendFileSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { bullmqQueue } from '@threadlink/queue-bullmq';
import { startGmailEmulator } from '@threadlink/testing';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { expectedGmail } from '../src/ground-truth.js';
import { connectGmailMailboxes, isolatedPostgresStore, isolatedQueueName, servePushEndpoint, startGmailInstance, uniqueName } from '../src/infra-setup.js';
import { seededRandom } from '../src/random.js';

const DATABASE_URL = process.env.DATABASE_URL;
const REDIS_URL = process.env.REDIS_URL;
const soak = process.env.SOAK === '1';
const MAILBOXES = Number(process.env.SOAK_MAILBOXES ?? (soak ? 10_000 : 40));
const DURATION_MS = soak ? Number(process.env.SOAK_MINUTES ?? 30) * 60_000 : 25_000;
const RATE = Number(process.env.SOAK_RATE ?? 20);
const SAMPLE_MS = soak ? 10_000 : 1_000;
/** Consent flows run this many at a time (10,000 one by one: ~6 min of set-up on an idle machine). */
const CONNECT_CONCURRENCY = Number(process.env.SOAK_CONNECT_CONCURRENCY ?? 16);
/**
 * Jobs at a time and the store's pool: a deployment of 10,000 mailboxes runs more than the default
 * 8 (the dry run's set-up, 20,000 back-fill and first-sync jobs, went at ~8 jobs/s with 8).
 */
const ENGINE_CONCURRENCY = soak ? 32 : 8;
const POOL_MAX = soak ? 20 : 10;
/** The verdict on memory: flat when the slope after warm-up stays under this (MB per minute). */
const FLAT_MB_PER_MIN = 1;
/** The delay histogram's timer period; Node's figures include it, so it is taken off. */
const LOOP_RESOLUTION_MS = 10;
/** The first part of the run is warm-up (JIT, pools filling, caches): slopes are taken after it. */
const WARM_UP_SHARE = 0.3;

interface Sample {
  atMs: number;
  heapMb: number;
  rssMb: number;
  loopP50Ms: number;
  loopP99Ms: number;
  handles: number;
  dbConnections: number;
}

/** Least-squares slope of y over x (per minute when x is in ms). */
function slopePerMinute(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const num = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0);
  const den = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
  return den === 0 ? 0 : (num / den) * 60_000;
}

const round1 = (value: number): number => Math.round(value * 10) / 10;
/** With SOAK_OUT set, each phase and sample is appended as it happens (a long run's figures survive a later failure). */
const progress = (line: object): void => {
  if (process.env.SOAK_OUT) appendFileSync(`${process.env.SOAK_OUT}.progress`, `${JSON.stringify({ at: new Date().toISOString(), ...line })}\n`);
};

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch((error: unknown) => console.warn('cleanup failed', error));
}, 120_000);

describe.skipIf(!DATABASE_URL || !REDIS_URL)(`a long run (${MAILBOXES} mailboxes, ${Math.round(DURATION_MS / 1000)} s; DATABASE_URL + REDIS_URL)`, () => {
  it('keeps heap, RSS, event-loop delay, handles and database connections flat after warm-up', { timeout: DURATION_MS + 120 * 60_000 }, async () => {
    const random = seededRandom(2330);
    const google = await startGmailEmulator({ notificationIntervalMs: 20, pushRetry: { initialBackoffMs: 100, maxBackoffMs: 1_000, maxAttempts: 1_000 } });
    cleanups.push(() => google.close());
    const admin = new pg.Pool({ connectionString: DATABASE_URL!, max: 1 });
    cleanups.push(() => admin.end());
    const applicationName = uniqueName('tl-soak-');
    const store = isolatedPostgresStore(DATABASE_URL!, { prefix: 'tl_soak', poolMax: POOL_MAX, applicationName }, cleanups);
    const queueName = isolatedQueueName(REDIS_URL!, 'tl-soak', cleanups);
    const endpoint = await servePushEndpoint(google, cleanups);
    const tl = await startGmailInstance(
      google,
      {
        store,
        publicUrl: endpoint.publicUrl,
        queue: bullmqQueue({ connection: REDIS_URL!, name: queueName, backoff: { baseMs: 50, maxMs: 1_000 } }),
        engine: { concurrency: ENGINE_CONCURRENCY },
        maintenanceIntervalMs: soak ? 60_000 : 5_000,
        logger: 'silent',
      },
      cleanups,
    );
    endpoint.route(tl);

    const emails = Array.from({ length: MAILBOXES }, (_, index) => `soak${index}@acme.test`);
    const connectStarted = Date.now();
    const connections = await connectGmailMailboxes(tl, google, emails, 't-soak', CONNECT_CONCURRENCY);
    const consentMs = Date.now() - connectStarted;
    progress({ phase: 'connected', mailboxes: connections.length, consentS: Math.round(consentMs / 1000) });
    await tl.idle();
    const connectMs = Date.now() - connectStarted;
    progress({ phase: 'backfilled', connectS: Math.round(connectMs / 1000) });

    const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    loop.enable();
    const samples: Sample[] = [];
    const started = Date.now();
    const sample = async (): Promise<void> => {
      const memory = process.memoryUsage();
      const db = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
      samples.push({
        atMs: Date.now() - started,
        heapMb: memory.heapUsed / 2 ** 20,
        rssMb: memory.rss / 2 ** 20,
        loopP50Ms: Math.max(0, loop.percentile(50) / 1e6 - LOOP_RESOLUTION_MS),
        loopP99Ms: Math.max(0, loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
        handles: process.getActiveResourcesInfo().length,
        dbConnections: Number(db.rows[0]?.n ?? 0),
      });
      progress({ phase: 'sample', sent, ...samples[samples.length - 1] });
      loop.reset();
    };
    let sent = 0;
    let nextSample = started;
    while (Date.now() - started < DURATION_MS) {
      const second = Date.now();
      for (let index = 0; index < RATE; index += 1) {
        sent += 1;
        await google.deliver({ from: 'buyer@bigco.test', to: random.pick(emails), subject: `Soak ${sent}`, text: 'hello' });
      }
      if (Date.now() >= nextSample) {
        await sample();
        nextSample += SAMPLE_MS;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1_000 - (Date.now() - second))));
    }
    loop.disable();
    progress({ phase: 'mail-stopped', sent });
    await google.flushNotifications();
    await tl.idle();
    progress({ phase: 'drained' });

    // One count per mailbox in one query; ids compared only where the count differs from the truth.
    const counts = await admin.query<{ id: string; n: number }>(`SELECT connection_id AS id, count(*)::int AS n FROM "${store.schema}".messages GROUP BY 1`);
    const held = new Map(counts.rows.map((row) => [row.id, row.n]));
    let missing = 0;
    for (const connection of connections) {
      const expected = expectedGmail(google, connection.accountEmail);
      if ((held.get(connection.id) ?? 0) === expected.size) continue;
      const ids = new Set(await store.listProviderMessageIds(connection.id));
      for (const id of expected.keys()) if (!ids.has(id)) missing += 1;
    }
    progress({ phase: 'verified', missing });
    const steady = samples.slice(Math.floor(samples.length * WARM_UP_SHARE));
    const synced = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${store.schema}".messages`);
    const first = steady[0]!;
    const last = steady[steady.length - 1]!;
    const heapSlope = slopePerMinute(steady.map((point) => [point.atMs, point.heapMb]));
    const rssSlope = slopePerMinute(steady.map((point) => [point.atMs, point.rssMb]));
    const figures = {
      mailboxes: MAILBOXES,
      durationS: Math.round(DURATION_MS / 1000),
      messages: sent,
      connectS: Math.round(connectMs / 1000),
      samples: samples.length,
      heapMbStart: Math.round(steady[0]!.heapMb),
      heapMbEnd: Math.round(steady[steady.length - 1]!.heapMb),
      messagesSynced: Number(synced.rows[0]?.n ?? 0),
      heapSlopeMbPerMin: Number(heapSlope.toFixed(2)),
      rssSlopeMbPerMin: Number(rssSlope.toFixed(2)),
      memoryVerdict: heapSlope < FLAT_MB_PER_MIN && rssSlope < FLAT_MB_PER_MIN ? `flat (< ${FLAT_MB_PER_MIN} MB/min)` : `GROWS (>= ${FLAT_MB_PER_MIN} MB/min)`,
      loopP50MsStartEnd: [round1(first.loopP50Ms), round1(last.loopP50Ms)],
      loopP99MsStartEnd: [round1(first.loopP99Ms), round1(last.loopP99Ms)],
      handlesStartEnd: [first.handles, last.handles],
      dbConnectionsStartEnd: [first.dbConnections, last.dbConnections],
      loopP99MsMax: Math.round(Math.max(...steady.map((point) => point.loopP99Ms))),
      loopP99MsMedian: Math.round(steady.map((point) => point.loopP99Ms).sort((a, b) => a - b)[Math.floor(steady.length / 2)]!),
      handlesMin: Math.min(...steady.map((point) => point.handles)),
      handlesMax: Math.max(...steady.map((point) => point.handles)),
      dbConnectionsMax: Math.max(...samples.map((point) => point.dbConnections)),
      missing,
    };
    console.log(`reliability: soak ${JSON.stringify(figures)}`);
    if (process.env.SOAK_OUT) writeFileSync(process.env.SOAK_OUT, `${JSON.stringify({ figures, samples }, null, 1)}\n`);

    expect(missing).toBe(0);
    // The pool never grows past its max; handles and delay do not drift (loose: a shared machine).
    expect(figures.dbConnectionsMax).toBeLessThanOrEqual(POOL_MAX);
    expect(figures.handlesMax - figures.handlesMin).toBeLessThan(200);
    expect(figures.loopP99MsMedian).toBeLessThan(1_000);
    // Loose on a short run: the heap after warm-up may wander but not climb without bound.
    expect(figures.heapMbEnd).toBeLessThan(figures.heapMbStart * 2 + 100);
  });
});
