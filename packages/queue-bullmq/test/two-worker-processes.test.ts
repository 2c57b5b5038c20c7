// Scale-out end to end: one web-only threadlink instance (webhooks + OAuth, no worker) and two
// worker PROCESSES sharing one BullMQ queue on the real Redis and one store schema on the real
// PostgreSQL, with the real Gmail adapter against the Gmail + Pub/Sub emulator. The emulator's
// pushes reach the web instance over HTTP; it only enqueues, and the workers pull and store.
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createThreadlink, generateSealingKey, type PublicConnection, type RecordResolver, type Threadlink } from '@threadlink/core';
import { mapWithConcurrency } from '@threadlink/core/provider';
import { gmailProvider } from '@threadlink/gmail';
import { postgresStore, type SqlMetadataStore } from '@threadlink/storage-postgres';
import { type ChildHost, serveWebHandler, startChildHost, startGmailEmulator, type GmailEmulator, type ServedHandler } from '@threadlink/testing';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bullmqQueue } from '../src/index.js';
import type { WorkerConfig, WorkerOrder, WorkerReport } from './support/worker.js';

const inCi = Boolean(process.env.CI) && process.env.CI !== 'false';
// Redis runs on 127.0.0.1:6379 on every machine and in CI; PostgreSQL needs its URL (database name).
const redisUrl = process.env.REDIS_URL ?? (inCi ? 'redis://127.0.0.1:6379' : undefined);
const databaseUrl = process.env.DATABASE_URL;
if (inCi && !databaseUrl) {
  throw new Error('CI is set but DATABASE_URL is not: the scale-out tests must run in CI (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)');
}
const missing = [
  redisUrl ? null : 'REDIS_URL (e.g. redis://127.0.0.1:6379)',
  databaseUrl ? null : 'DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)',
].filter(Boolean);
if (missing.length > 0) console.warn(`[queue-bullmq] two-worker-processes tests skipped: set ${missing.join(' and ')} to run them`);

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const workerPath = fileURLToPath(new URL('./support/worker.ts', import.meta.url));

const MAILBOXES = 50;
const MESSAGES = 1_000;
const PUSH_AUDIENCE = 'https://crm.example.test/threadlink/webhooks/gmail';
const resolver: RecordResolver = {
  async contactsByEmail() {
    return [];
  },
};

/** A worker process; `killedAt` is stamped by the test that SIGKILLs it. */
type WorkerHandle = ChildHost<WorkerReport, WorkerOrder> & { killedAt: number | null };

interface Scenario {
  google: GmailEmulator;
  web: Threadlink;
  store: SqlMetadataStore;
  workers: WorkerHandle[];
  emails: string[];
  queueName: string;
  settle(): Promise<void>;
  connectAll(): Promise<PublicConnection[]>;
  deliver(indexes: number[]): Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
const children: WorkerHandle[] = [];

afterEach(async () => {
  // Children first: a worker still pulling would race the schema drop and the queue wipe.
  await Promise.all(children.splice(0).map((worker) => worker.kill()));
  while (cleanups.length > 0) await cleanups.pop()!().catch((error: unknown) => console.warn('cleanup failed', error));
}, 30_000);

async function startWorker(config: WorkerConfig): Promise<WorkerHandle> {
  const host = await startChildHost<WorkerReport, WorkerOrder>({
    id: config.workerId,
    script: workerPath,
    cwd: repoRoot,
    envName: 'THREADLINK_WORKER',
    config,
  });
  const handle = Object.assign(host, { killedAt: null as number | null });
  children.push(handle);
  return handle;
}

async function startScenario(options: { leaseTtlMs: number; lockDurationMs: number; stalledIntervalMs: number }): Promise<Scenario> {
  const queueName = `tl-e2e-${randomUUID()}`;
  const schema = `tl_bullmq_${randomBytes(6).toString('hex')}`;
  // notificationIntervalMs 0: every mailbox change is its own push (no 1/s coalescing), so 1,000
  // deliveries are 1,000 notifications through the web instance. The per-user quota stays at
  // Gmail's 250 units/s: a mailbox here costs ~105 units at connect (watch + list) and ~150 over
  // the whole run (20 messages.get at 5, a history.list at 2 per pull), spread over seconds, so
  // even two workers' pacing buckets (one per process, each assuming it is alone) stay under it.
  const google = await startGmailEmulator({ notificationIntervalMs: 0 });
  cleanups.push(() => google.close());
  let web: Threadlink | undefined;
  const served: ServedHandler = await serveWebHandler((request) => (web ? web.handler(request) : Promise.resolve(new Response(null, { status: 503 }))));
  cleanups.push(() => served.close());
  const publicUrl = `${served.url}/threadlink`;
  google.setPushEndpoint({ endpoint: `${publicUrl}/webhooks/gmail`, audience: PUSH_AUDIENCE });

  const sealingKey = generateSealingKey();
  const store = postgresStore({ connectionString: databaseUrl!, schema, poolConfig: { max: 10 } });
  cleanups.push(async () => {
    await store.sql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await store.close();
  });
  cleanups.push(() => wipeQueue(queueName));
  web = createThreadlink({
    store,
    providers: [gmailProvider({ ...google.providerOptions })],
    resolver,
    sealingKeys: [{ id: 'k1', key: sealingKey }],
    publicUrl,
    queue: bullmqQueue({ connection: redisUrl!, name: queueName }),
    runWorker: false,
    maintenanceIntervalMs: 0,
    logger: 'silent',
  });
  cleanups.push(() => web!.stop());
  // The web instance migrates the schema before any worker opens it.
  await web.start();

  const workers = await Promise.all(
    ['a', 'b'].map((workerId) =>
      startWorker({
        workerId,
        redisUrl: redisUrl!,
        queueName,
        databaseUrl: databaseUrl!,
        schema,
        sealingKey,
        publicUrl,
        provider: { ...google.providerOptions, retry: { baseMs: 5, maxMs: 50 } },
        leaseTtlMs: options.leaseTtlMs,
        concurrency: 8,
        lockDurationMs: options.lockDurationMs,
        stalledIntervalMs: options.stalledIntervalMs,
      }),
    ),
  );

  const emails = Array.from({ length: MAILBOXES }, (_, index) => `user${index}@acme.test`);
  const instance = web;
  const settle = async (): Promise<void> => {
    // A pull can make new history (and pushes): loop until a round changes nothing.
    for (let round = 0; round < 20; round += 1) {
      const before = google.pushLog.attempts;
      await google.flushNotifications();
      await instance.idle();
      if (google.pushLog.attempts === before) return;
    }
    throw new Error('the scenario did not settle in 20 rounds');
  };
  return {
    google,
    web: instance,
    store,
    workers,
    emails,
    queueName,
    settle,
    async connectAll() {
      const connections = await mapWithConcurrency(emails, 10, async (email, index) => {
        google.addMailbox({ email });
        const { url } = await instance.connect.start({ provider: 'gmail', tenantId: 't1', userId: `u${index}`, loginHint: email });
        return instance.connect.complete(new URL(await google.authorize(url, { email })), { tenantId: 't1', userId: `u${index}` });
      });
      await settle();
      return connections;
    },
    async deliver(indexes) {
      // Interleaved: message i goes to mailbox i % 50, so every mailbox has pushes throughout.
      // In waves of 100 whose pushes are answered before the next wave: this one process runs the
      // emulator, its push fan-out and the web instance, and 1,000 pushes in flight at once would
      // starve it past Pub/Sub's 10 s ack deadline (redeliveries, a much longer run). The workers
      // pull while the next wave is delivered.
      for (let start = 0; start < indexes.length; start += 100) {
        await mapWithConcurrency(indexes.slice(start, start + 100), 25, (index) =>
          google.deliver({ to: emails[index % MAILBOXES]!, from: `client${index % 7}@bigco.test`, subject: `Order ${index}` }),
        );
        await google.flushNotifications();
      }
    },
  };
}

async function wipeQueue(name: string): Promise<void> {
  const queue = new Queue(name, { connection: new Redis(redisUrl!, { maxRetriesPerRequest: null }) });
  await queue.obliterate({ force: true });
  await queue.close();
  const redis = new Redis(redisUrl!);
  const markers = await redis.keys(`bull:${name}:*`);
  if (markers.length > 0) await redis.del(...markers);
  redis.disconnect();
}

/** Every stored provider id equals the emulator's ground truth, mailbox by mailbox, once each. */
async function expectExactlyOnce(scenario: Scenario, connections: PublicConnection[]): Promise<void> {
  for (const [index, connection] of connections.entries()) {
    const expected = scenario.google
      .messages(scenario.emails[index]!)
      .map((message) => message.id)
      .sort();
    expect(expected).toHaveLength(MESSAGES / MAILBOXES);
    expect([...(await scenario.store.listProviderMessageIds(connection.id))].sort()).toEqual(expected);
  }
  const rows = await scenario.store.sql.query<{ count: string | number }>(`SELECT count(*) AS count FROM "${scenario.store.schema}".messages`);
  expect(Number(rows.rows[0]?.count)).toBe(MESSAGES);
}

interface Interval {
  workerId: string;
  owner: string;
  start: number;
  end: number;
}

/**
 * The lease-held intervals of every job, per mailbox, across both processes. A job of a killed
 * worker that never released its lease ends at the kill.
 */
function leaseIntervals(workers: WorkerHandle[]): Map<string, Interval[]> {
  const byConnection = new Map<string, Interval[]>();
  for (const worker of workers) {
    const open = new Map<string, { connectionId: string; start: number }>();
    for (const report of worker.reports) {
      if (report.type === 'job-start') open.set(report.owner, { connectionId: report.connectionId, start: report.at });
      if (report.type !== 'job-end') continue;
      const started = open.get(report.owner);
      open.delete(report.owner);
      if (!started) continue;
      byConnection.set(report.connectionId, [
        ...(byConnection.get(report.connectionId) ?? []),
        { workerId: worker.id, owner: report.owner, start: started.start, end: report.at },
      ]);
    }
    for (const [owner, started] of open) {
      if (worker.killedAt === null) throw new Error(`worker ${worker.id} never released the lease of ${started.connectionId} (${owner})`);
      byConnection.set(started.connectionId, [
        ...(byConnection.get(started.connectionId) ?? []),
        { workerId: worker.id, owner, start: started.start, end: worker.killedAt },
      ]);
    }
  }
  return byConnection;
}

function overlaps(intervals: Map<string, Interval[]>): string[] {
  const found: string[] = [];
  for (const [connectionId, list] of intervals) {
    const sorted = [...list].sort((left, right) => left.start - right.start);
    let latest: Interval | undefined;
    for (const interval of sorted) {
      if (latest && interval.start < latest.end) {
        found.push(`${connectionId}: ${latest.workerId} [${latest.start}, ${latest.end}] and ${interval.workerId} [${interval.start}, ${interval.end}]`);
      }
      if (!latest || interval.end > latest.end) latest = interval;
    }
  }
  return found;
}

const stored = (worker: WorkerHandle): string[] =>
  worker.reports.flatMap((report) => (report.type === 'stored' ? [`${report.connectionId}/${report.providerMessageId}`] : []));

describe.skipIf(missing.length > 0)('two worker processes on one BullMQ queue and one PostgreSQL store (real Redis, real PostgreSQL)', () => {
  it('stores each of 1,000 pushed messages over 50 mailboxes exactly once, with both workers pulling and never two on one mailbox', async () => {
    const scenario = await startScenario({ leaseTtlMs: 30_000, lockDurationMs: 30_000, stalledIntervalMs: 15_000 });
    const connections = await scenario.connectAll();
    expect(new Set(connections.map((connection) => connection.id)).size).toBe(MAILBOXES);

    const pushesBefore = scenario.google.pushLog.attempts;
    await scenario.deliver(Array.from({ length: MESSAGES }, (_, index) => index));
    await scenario.settle();

    // Every notification went through the web instance and was acknowledged (none abandoned).
    const log = scenario.google.pushLog;
    expect(log.attempts - pushesBefore).toBeGreaterThanOrEqual(MESSAGES);
    expect({ abandoned: log.abandoned, unacknowledged: log.published - log.delivered }).toEqual({ abandoned: 0, unacknowledged: 0 });

    await expectExactlyOnce(scenario, connections);
    const [a, b] = scenario.workers as [WorkerHandle, WorkerHandle];
    const inserts = [...stored(a), ...stored(b)];
    expect(inserts).toHaveLength(MESSAGES);
    expect(new Set(inserts).size).toBe(MESSAGES);
    // Both processes did work.
    expect(stored(a).length, 'messages worker a stored').toBeGreaterThan(0);
    expect(stored(b).length, 'messages worker b stored').toBeGreaterThan(0);

    // Graceful shutdown: both drain and exit 0 (and every report is in).
    for (const worker of scenario.workers) worker.send({ type: 'stop' });
    expect(await Promise.all(scenario.workers.map(async (worker) => (await worker.exit).code))).toEqual([0, 0]);
    expect(overlaps(leaseIntervals(scenario.workers))).toEqual([]);
  }, 120_000);

  it('hands a SIGKILLed worker’s in-flight jobs to the survivor: nothing lost, nothing doubled, no mailbox held twice', async () => {
    // A short lock and stall check so BullMQ notices the dead worker within a few seconds, and a
    // short lease (renewed every second by a live job) so the survivor may take the dead worker's
    // mailboxes soon after it stops renewing.
    const scenario = await startScenario({ leaseTtlMs: 3_000, lockDurationMs: 2_000, stalledIntervalMs: 1_000 });
    const connections = await scenario.connectAll();
    const [victim, survivor] = scenario.workers as [WorkerHandle, WorkerHandle];
    const stalled = new Set<string>();
    const completed = new Set<string>();
    const events = new QueueEvents(scenario.queueName, { connection: new Redis(redisUrl!, { maxRetriesPerRequest: null }) });
    cleanups.push(() => events.close());
    events.on('stalled', ({ jobId }) => void stalled.add(jobId));
    events.on('completed', ({ jobId }) => void completed.add(jobId));
    await events.waitUntilReady();

    // The first 300 with both workers alive.
    const before = Array.from({ length: 300 }, (_, index) => index);
    const during = Array.from({ length: 300 }, (_, index) => 300 + index);
    const after = Array.from({ length: MESSAGES - 600 }, (_, index) => 600 + index);
    await scenario.deliver(before);
    await scenario.settle();

    // The victim parks its next provider reads: those jobs stay active in BullMQ (its lock is
    // still renewed by the live process) and hold their mailbox leases. Kill it as soon as three
    // are in flight (or half a second after the first).
    victim.send({ type: 'hold' });
    const delivering = scenario.deliver(during);
    // Awaited below; if a wait fails first, the teardown must not surface it as unhandled.
    delivering.catch(() => undefined);
    const heldCount = (reports: WorkerReport[]): number => reports.filter((report) => report.type === 'held').length;
    await victim.until('a held job', (reports) => heldCount(reports) >= 1, 30_000);
    await victim.until('three held jobs', (reports) => heldCount(reports) >= 3, 500).catch(() => undefined);
    victim.child.kill('SIGKILL');
    victim.killedAt = Date.now();
    await victim.exit;
    const survivorStoredAtKill = stored(survivor).length;
    await delivering;
    await scenario.deliver(after);
    await scenario.settle();
    survivor.send({ type: 'stop' });
    expect((await survivor.exit).code).toBe(0);
    const heldConnections = new Set(victim.reports.flatMap((report) => (report.type === 'held' ? [report.connectionId] : [])));

    await expectExactlyOnce(scenario, connections);
    // Whatever the victim inserted before dying plus what the survivor inserted: each message once.
    const inserts = [...stored(victim), ...stored(survivor)];
    expect(new Set(inserts).size).toBe(inserts.length);
    expect(stored(survivor).length, 'messages the survivor stored').toBeGreaterThan(survivorStoredAtKill);
    // Everything delivered after the kill was stored by the survivor.
    const survivorSet = new Set(stored(survivor));
    for (const index of after) {
      const email = scenario.emails[index % MAILBOXES]!;
      const message = scenario.google.messages(email).find((candidate) => candidate.subject === `Order ${index}`)!;
      expect(survivorSet.has(`${connections[index % MAILBOXES]!.id}/${message.id}`)).toBe(true);
    }

    // BullMQ declared the dead worker's active jobs stalled, and the survivor completed each.
    expect(stalled.size).toBeGreaterThanOrEqual(heldConnections.size);
    expect(heldConnections.size, 'jobs in flight at the kill').toBeGreaterThan(0);
    // QueueEvents reads Redis' event stream asynchronously: give the last 'completed' a moment.
    await vi.waitFor(() => expect([...stalled].filter((jobId) => !completed.has(jobId))).toEqual([]), { timeout: 5_000, interval: 25 });
    // The survivor synced every mailbox the victim died holding, only after the kill.
    const intervals = leaseIntervals(scenario.workers);
    for (const connectionId of heldConnections) {
      const taken = (intervals.get(connectionId) ?? []).filter((interval) => interval.workerId === survivor.id && interval.start > victim.killedAt!);
      expect(taken.length, `survivor took over ${connectionId}`).toBeGreaterThan(0);
    }
    expect(overlaps(intervals)).toEqual([]);
  }, 120_000);
});
