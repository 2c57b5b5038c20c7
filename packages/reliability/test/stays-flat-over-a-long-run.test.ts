// Issue 23, long runs: many connected mailboxes with steady mail on PostgreSQL + BullMQ, sampled
// for heap, RSS, event-loop delay, open handles and the store's database connections.
// CI (default): 40 mailboxes, 25 s, loose "no growth trend" checks. `pnpm soak` (SOAK=1): the
// long run, sized by SOAK_MAILBOXES (default 10,000), SOAK_MINUTES (default 30) and SOAK_RATE
// (messages per second, default 20). One JSON line with the figures is printed either way.
// Caveat, stated in the README with the figures: the Gmail emulator runs in this same process and
// keeps every delivered message, so the heap slope is an upper bound for threadlink's own.
// Needs DATABASE_URL and REDIS_URL (a unique queue name on the shared Redis).
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createMemoryResolver, createThreadlink, generateSealingKey, type PublicConnection } from '@threadlink/core';
import { gmailProvider } from '@threadlink/gmail';
import { bullmqQueue } from '@threadlink/queue-bullmq';
import { postgresStore } from '@threadlink/storage-postgres';
import { serveWebHandler, startGmailEmulator } from '@threadlink/testing';
import { Queue } from 'bullmq';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { expectedGmail } from '../src/ground-truth.js';
import { seededRandom } from '../src/random.js';

const DATABASE_URL = process.env.DATABASE_URL;
const REDIS_URL = process.env.REDIS_URL;
const soak = process.env.SOAK === '1';
const MAILBOXES = Number(process.env.SOAK_MAILBOXES ?? (soak ? 10_000 : 40));
const DURATION_MS = soak ? Number(process.env.SOAK_MINUTES ?? 30) * 60_000 : 25_000;
const RATE = Number(process.env.SOAK_RATE ?? 20);
const SAMPLE_MS = soak ? 10_000 : 1_000;
/** The first part of the run is warm-up (JIT, pools filling, caches): slopes are taken after it. */
const WARM_UP_SHARE = 0.3;

interface Sample {
  atMs: number;
  heapMb: number;
  rssMb: number;
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

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch((error: unknown) => console.warn('cleanup failed', error));
}, 120_000);

describe.skipIf(!DATABASE_URL || !REDIS_URL)(`a long run (${MAILBOXES} mailboxes, ${Math.round(DURATION_MS / 1000)} s; DATABASE_URL + REDIS_URL)`, () => {
  it('keeps heap, RSS, event-loop delay, handles and database connections flat after warm-up', { timeout: DURATION_MS + 30 * 60_000 }, async () => {
    const random = seededRandom(2330);
    const google = await startGmailEmulator({ notificationIntervalMs: 20, pushRetry: { initialBackoffMs: 100, maxBackoffMs: 1_000, maxAttempts: 1_000 } });
    cleanups.push(() => google.close());
    const schema = `tl_soak_${randomBytes(5).toString('hex')}`;
    const applicationName = `tl-soak-${randomBytes(4).toString('hex')}`;
    const url = new URL(DATABASE_URL!);
    url.searchParams.set('application_name', applicationName);
    const store = postgresStore({ connectionString: url.toString(), schema, poolConfig: { max: 10 } });
    const admin = new pg.Pool({ connectionString: DATABASE_URL!, max: 1 });
    cleanups.push(async () => {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    });
    cleanups.push(() => store.close());
    const queueName = `tl-soak-${randomBytes(4).toString('hex')}`;
    cleanups.push(async () => {
      const queue = new Queue(queueName, { connection: { url: REDIS_URL! } });
      await queue.obliterate({ force: true });
      await queue.close();
    });
    let handler: ((request: Request) => Promise<Response>) | undefined;
    const served = await serveWebHandler((request) => handler!(request));
    cleanups.push(() => served.close());
    const publicUrl = `${served.url}/threadlink`;
    google.setPushEndpoint({ endpoint: `${publicUrl}/webhooks/gmail` });
    const tl = createThreadlink({
      store,
      providers: [gmailProvider({ ...google.providerOptions, retry: { baseMs: 5, maxMs: 50 } })],
      resolver: createMemoryResolver(),
      sealingKeys: [{ id: 'k1', key: generateSealingKey() }],
      publicUrl,
      queue: bullmqQueue({ connection: REDIS_URL!, name: queueName, backoff: { baseMs: 50, maxMs: 1_000 } }),
      maintenanceIntervalMs: soak ? 60_000 : 5_000,
      logger: 'silent',
    });
    handler = tl.handler;
    cleanups.push(() => tl.stop());
    await tl.start();

    const emails = Array.from({ length: MAILBOXES }, (_, index) => `soak${index}@acme.test`);
    const connections: PublicConnection[] = [];
    const connectStarted = Date.now();
    for (const email of emails) {
      google.addMailbox({ email });
      const user = { tenantId: 't-soak', userId: `user-${email.split('@')[0]}` };
      const { url: consent } = await tl.connect.start({ provider: 'gmail', ...user, loginHint: email });
      connections.push(await tl.connect.complete(new URL(await google.authorize(consent, { email })), user));
    }
    await tl.idle();
    const connectMs = Date.now() - connectStarted;

    const loop = monitorEventLoopDelay({ resolution: 20 });
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
        loopP99Ms: loop.percentile(99) / 1e6,
        handles: process.getActiveResourcesInfo().length,
        dbConnections: Number(db.rows[0]?.n ?? 0),
      });
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
    await google.flushNotifications();
    await tl.idle();

    let missing = 0;
    for (const connection of connections) {
      const held = new Set(await store.listProviderMessageIds(connection.id));
      for (const id of expectedGmail(google, connection.accountEmail).keys()) if (!held.has(id)) missing += 1;
    }
    const steady = samples.slice(Math.floor(samples.length * WARM_UP_SHARE));
    const figures = {
      mailboxes: MAILBOXES,
      durationS: Math.round(DURATION_MS / 1000),
      messages: sent,
      connectS: Math.round(connectMs / 1000),
      samples: samples.length,
      heapMbStart: Math.round(steady[0]!.heapMb),
      heapMbEnd: Math.round(steady[steady.length - 1]!.heapMb),
      heapSlopeMbPerMin: Number(slopePerMinute(steady.map((point) => [point.atMs, point.heapMb])).toFixed(2)),
      rssSlopeMbPerMin: Number(slopePerMinute(steady.map((point) => [point.atMs, point.rssMb])).toFixed(2)),
      loopP99MsMax: Math.round(Math.max(...steady.map((point) => point.loopP99Ms))),
      loopP99MsMedian: Math.round(steady.map((point) => point.loopP99Ms).sort((a, b) => a - b)[Math.floor(steady.length / 2)]!),
      handlesMin: Math.min(...steady.map((point) => point.handles)),
      handlesMax: Math.max(...steady.map((point) => point.handles)),
      dbConnectionsMax: Math.max(...samples.map((point) => point.dbConnections)),
      missing,
    };
    console.log(`reliability: soak ${JSON.stringify(figures)}`);

    expect(missing).toBe(0);
    // The pool never grows past its max; handles and delay do not drift (loose: a shared machine).
    expect(figures.dbConnectionsMax).toBeLessThanOrEqual(10);
    expect(figures.handlesMax - figures.handlesMin).toBeLessThan(200);
    expect(figures.loopP99MsMedian).toBeLessThan(1_000);
    // Loose on a short run: the heap after warm-up may wander but not climb without bound.
    expect(figures.heapMbEnd).toBeLessThan(figures.heapMbStart * 2 + 100);
  });
});
