// Issue 23, long runs: many connected mailboxes with steady mail on PostgreSQL + BullMQ, sampled
// for heap (after a forced full GC, so the slope is live memory), RSS, event-loop delay, open
// handles and the store's database connections.
// CI (default): 40 mailboxes, 25 s, loose "no growth trend" checks. `pnpm soak` (SOAK=1): the
// long run, sized by SOAK_MAILBOXES (default 10,000), SOAK_MINUTES (default 30) and SOAK_RATE
// (messages per second, default 20). One JSON line with the figures is printed either way.
// The Gmail emulator, the mail generator and the ground truth run in a child process
// (`src/soak-emulator-process.ts`): this process holds threadlink alone (createThreadlink, the
// PostgreSQL store, the BullMQ queue, the push endpoint), so its figures are threadlink's own.
// SOAK_SNAPSHOTS=<dir> writes a heap snapshot at the end of warm-up and one at the end of the run
// (compare them with `scripts/diff-heap-snapshots.ts`).
// Needs DATABASE_URL and REDIS_URL (a unique queue name on the shared Redis).
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { mapWithConcurrency } from '@threadlink/core/provider';
import { bullmqQueue } from '@threadlink/queue-bullmq';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { isolatedPostgresStore, isolatedQueueName, servePushEndpoint, startGmailInstance, uniqueName } from '../src/infra-setup.js';
import { soakMailbox, startSoakEmulator } from '../src/soak-emulator.js';

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
  /** Messages the generator had sent. */
  sent: number;
  /** heapUsed as found (garbage included). */
  heapMb: number;
  /** heapUsed right after a forced full GC: live objects only. */
  heapAfterGcMb: number;
  rssMb: number;
  /** Memory outside the V8 heap that V8 knows of (Buffers, ArrayBuffers). */
  externalMb: number;
  arrayBuffersMb: number;
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

/** A full, synchronous GC: the flag has to be set before `gc` is looked up in a fresh context. */
function forcedGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
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
    const admin = new pg.Pool({ connectionString: DATABASE_URL!, max: 1 });
    cleanups.push(() => admin.end());
    const applicationName = uniqueName('tl-soak-');
    const store = isolatedPostgresStore(DATABASE_URL!, { prefix: 'tl_soak', poolMax: POOL_MAX, applicationName }, cleanups);
    const queueName = isolatedQueueName(REDIS_URL!, 'tl-soak', cleanups);
    const endpoint = await servePushEndpoint(undefined, cleanups);
    const google = await startSoakEmulator({ mailboxes: MAILBOXES, pushEndpoint: `${endpoint.publicUrl}/webhooks/gmail`, seed: 2330 }, cleanups);
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

    const emails = Array.from({ length: MAILBOXES }, (_, index) => soakMailbox(index));
    const connectStarted = Date.now();
    const connections = await mapWithConcurrency(emails, CONNECT_CONCURRENCY, async (email) => {
      const user = { tenantId: 't-soak', userId: `user-${email.split('@')[0]}` };
      const { url } = await tl.connect.start({ provider: 'gmail', ...user, loginHint: email });
      return tl.connect.complete(new URL(await google.authorize(url, email)), user);
    });
    const consentMs = Date.now() - connectStarted;
    progress({ phase: 'connected', mailboxes: connections.length, consentS: Math.round(consentMs / 1000) });
    await tl.idle();
    const connectMs = Date.now() - connectStarted;
    progress({ phase: 'backfilled', connectS: Math.round(connectMs / 1000) });

    const gc = forcedGc();
    const snapshots = process.env.SOAK_SNAPSHOTS;
    if (snapshots) mkdirSync(snapshots, { recursive: true });
    const snapshot = (name: string): void => {
      if (!snapshots) return;
      gc();
      const file = writeHeapSnapshot(join(snapshots, `${name}.heapsnapshot`));
      progress({ phase: 'snapshot', file });
    };
    const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    loop.enable();
    const samples: Sample[] = [];
    const started = Date.now();
    const sample = async (): Promise<void> => {
      // Delay first: the forced GC below blocks the loop, and the histogram restarts after it.
      const loopP50Ms = Math.max(0, loop.percentile(50) / 1e6 - LOOP_RESOLUTION_MS);
      const loopP99Ms = Math.max(0, loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS);
      const heapMb = process.memoryUsage().heapUsed / 2 ** 20;
      gc();
      const memory = process.memoryUsage();
      const db = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
      samples.push({
        atMs: Date.now() - started,
        sent: await google.sent(),
        heapMb,
        heapAfterGcMb: memory.heapUsed / 2 ** 20,
        rssMb: memory.rss / 2 ** 20,
        externalMb: memory.external / 2 ** 20,
        arrayBuffersMb: memory.arrayBuffers / 2 ** 20,
        loopP50Ms,
        loopP99Ms,
        handles: process.getActiveResourcesInfo().length,
        dbConnections: Number(db.rows[0]?.n ?? 0),
      });
      progress({ phase: 'sample', ...samples[samples.length - 1] });
      loop.reset();
    };
    let mailing = true;
    const mail = google.mail(RATE, DURATION_MS).finally(() => {
      mailing = false;
    });
    let nextSample = started;
    let warmSnapshot = false;
    while (mailing) {
      if (Date.now() >= nextSample) {
        await sample();
        nextSample += SAMPLE_MS;
        if (!warmSnapshot && Date.now() - started >= DURATION_MS * WARM_UP_SHARE) {
          warmSnapshot = true;
          snapshot('1-after-warm-up');
        }
      }
      await Promise.race([mail, new Promise((resolve) => setTimeout(resolve, Math.max(0, nextSample - Date.now())))]);
    }
    const sent = await mail;
    await sample();
    snapshot('2-end');
    loop.disable();
    progress({ phase: 'mail-stopped', sent });
    await google.flushNotifications();
    await tl.idle();
    progress({ phase: 'drained' });

    // One count per mailbox in one query; ids compared only where the count differs from the truth.
    const counts = await admin.query<{ id: string; n: number }>(`SELECT connection_id AS id, count(*)::int AS n FROM "${store.schema}".messages GROUP BY 1`);
    const held = new Map(counts.rows.map((row) => [row.id, row.n]));
    const expectedCounts = await google.expectedCounts();
    let missing = 0;
    for (const connection of connections) {
      if ((held.get(connection.id) ?? 0) === expectedCounts[connection.accountEmail]) continue;
      const ids = new Set(await store.listProviderMessageIds(connection.id));
      for (const id of await google.expectedIds(connection.accountEmail)) if (!ids.has(id)) missing += 1;
    }
    progress({ phase: 'verified', missing });
    const steady = samples.slice(Math.floor(samples.length * WARM_UP_SHARE));
    const synced = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${store.schema}".messages`);
    const first = steady[0]!;
    const last = steady[steady.length - 1]!;
    const slope = (figure: (point: Sample) => number): number => Number(slopePerMinute(steady.map((point) => [point.atMs, figure(point)])).toFixed(2));
    const heapSlope = slope((point) => point.heapAfterGcMb);
    const rssSlope = slope((point) => point.rssMb);
    const median = (figure: (point: Sample) => number): number => round1(steady.map(figure).sort((a, b) => a - b)[Math.floor(steady.length / 2)]!);
    const figures = {
      mailboxes: MAILBOXES,
      durationS: Math.round(DURATION_MS / 1000),
      messages: sent,
      connectS: Math.round(connectMs / 1000),
      samples: samples.length,
      messagesSynced: Number(synced.rows[0]?.n ?? 0),
      heapAfterGcMbStartEnd: [round1(first.heapAfterGcMb), round1(last.heapAfterGcMb)],
      rssMbStartEnd: [Math.round(first.rssMb), Math.round(last.rssMb)],
      heapAfterGcSlopeMbPerMin: heapSlope,
      rssSlopeMbPerMin: rssSlope,
      heapAsFoundSlopeMbPerMin: slope((point) => point.heapMb),
      externalSlopeMbPerMin: slope((point) => point.externalMb),
      arrayBuffersSlopeMbPerMin: slope((point) => point.arrayBuffersMb),
      memoryVerdict: heapSlope < FLAT_MB_PER_MIN && rssSlope < FLAT_MB_PER_MIN ? `flat (< ${FLAT_MB_PER_MIN} MB/min)` : `GROWS (>= ${FLAT_MB_PER_MIN} MB/min)`,
      loopP50MsStartEnd: [round1(first.loopP50Ms), round1(last.loopP50Ms)],
      loopP99MsStartEnd: [round1(first.loopP99Ms), round1(last.loopP99Ms)],
      handlesStartEnd: [first.handles, last.handles],
      dbConnectionsStartEnd: [first.dbConnections, last.dbConnections],
      loopP99MsMax: Math.round(Math.max(...steady.map((point) => point.loopP99Ms))),
      loopP50MsMedian: median((point) => point.loopP50Ms),
      loopP99MsMedian: median((point) => point.loopP99Ms),
      loopP99SlopeMsPerMin: slope((point) => point.loopP99Ms),
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
    expect(last.heapAfterGcMb).toBeLessThan(first.heapAfterGcMb * 2 + 100);
  });
});
