// Issue 23, deploys: SIGTERM under load. Two real threadlink processes (src/host-process.ts), each
// serving webhooks and working the shared BullMQ queue on one PostgreSQL schema, behind a
// round-robin "load balancer". Mail streams in while every Gmail read is slow, so jobs are in flight;
// one process gets SIGTERM with a grace shorter than a pull. It must answer pushes 503 +
// Retry-After from the moment stop() begins, abort what it holds past the grace (lease released,
// job handed back to the queue), and exit 0 within the grace plus a margin; the other process
// carries on. Verdict: every message stored exactly once (one `created` event across both
// processes, no duplicate rows), nothing missing, no push answered 2xx by a stopping process.
// Needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL): skipped without them.
import { fileURLToPath } from 'node:url';
import { generateSealingKey } from '@threadlink/core';
import { bullmqQueue } from '@threadlink/queue-bullmq';
import { type ChildHost, serveWebHandler, startChildHost, startGmailEmulator, type GmailEmulator, type ServedHandler } from '@threadlink/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { expectedGmail } from '../src/ground-truth.js';
import type { HostConfig, HostReport } from '../src/host-process.js';
import { connectGmailMailboxes, isolatedPostgresStore, isolatedQueueName, startGmailInstance } from '../src/infra-setup.js';
import { seededRandom } from '../src/random.js';

const databaseUrl = process.env.DATABASE_URL;
const redisUrl = process.env.REDIS_URL;
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const hostPath = fileURLToPath(new URL('../src/host-process.ts', import.meta.url));
const MAILBOXES = Array.from({ length: 6 }, (_, index) => `user${index}@acme.test`);
/** Shorter than one slow pull below: the SIGTERM'd process must abort and hand back, not finish. */
const GRACE_MS = 300;
const GMAIL_LATENCY_MS = 400;

type Host = ChildHost<HostReport> & { url: string };

const cleanups: Array<() => Promise<void>> = [];
const hosts: Host[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.kill()));
  while (cleanups.length > 0) await cleanups.pop()!().catch((error: unknown) => console.warn('cleanup failed', error));
}, 30_000);

async function startHost(config: HostConfig): Promise<Host> {
  const child = await startChildHost<HostReport>({ id: config.hostId, script: hostPath, cwd: repoRoot, envName: 'THREADLINK_HOST', config });
  const ready = child.reports.find((report): report is Extract<HostReport, { type: 'ready' }> => report.type === 'ready')!;
  const host = Object.assign(child, { url: ready.url });
  hosts.push(host);
  return host;
}

interface Answer {
  host: string;
  status: number;
  retryAfter: string | null;
  /** The host had reported 'stopping' before this request was forwarded. */
  afterStopping: boolean;
}

describe.skipIf(!databaseUrl || !redisUrl)('SIGTERM under load (PostgreSQL + Redis; set DATABASE_URL and REDIS_URL to run)', () => {
  it('the stopping process refuses pushes, hands back its jobs and exits within its grace; the other finishes: 0 lost, 0 doubled', async () => {
    const random = seededRandom(2323);
    const google: GmailEmulator = await startGmailEmulator({
      notificationIntervalMs: 20,
      pushRetry: { initialBackoffMs: 50, maxBackoffMs: 400, maxAttempts: 1_000 },
    });
    cleanups.push(() => google.close());

    // The load balancer: round robin over the processes still running; a closed one is a 502.
    const answers: Answer[] = [];
    let turn = 0;
    const balancer: ServedHandler = await serveWebHandler(async (request) => {
      const live = hosts.filter((host) => host.running);
      if (live.length === 0) return new Response(null, { status: 502 });
      const host = live[(turn += 1) % live.length]!;
      const afterStopping = host.reports.some((report) => report.type === 'stopping');
      const url = new URL(request.url);
      try {
        const response = await fetch(`${host.url}${url.pathname}${url.search}`, {
          method: request.method,
          headers: request.headers,
          body: await request.arrayBuffer(),
        });
        answers.push({ host: host.id, status: response.status, retryAfter: response.headers.get('retry-after'), afterStopping });
        return new Response(await response.arrayBuffer(), { status: response.status, headers: response.headers });
      } catch {
        answers.push({ host: host.id, status: 502, retryAfter: null, afterStopping });
        return new Response(null, { status: 502 });
      }
    });
    cleanups.push(() => balancer.close());
    const publicUrl = `${balancer.url}/threadlink`;
    google.setPushEndpoint({ endpoint: `${publicUrl}/webhooks/gmail` });

    // A web-only instance in the test process for the consent flow (and the schema's migration).
    const sealingKey = generateSealingKey();
    const store = isolatedPostgresStore(databaseUrl!, { prefix: 'tl_sigterm', poolMax: 4 }, cleanups);
    const queueName = isolatedQueueName(redisUrl!, 'tl-sigterm', cleanups);
    const web = await startGmailInstance(
      google,
      {
        store,
        sealingKeys: [{ id: 'k1', key: sealingKey }],
        publicUrl,
        queue: bullmqQueue({ connection: redisUrl!, name: queueName }),
        runWorker: false,
        maintenanceIntervalMs: 0,
        logger: 'silent',
      },
      cleanups,
    );

    const hostConfig = (hostId: string): HostConfig => ({
      hostId,
      redisUrl: redisUrl!,
      queueName,
      databaseUrl: databaseUrl!,
      schema: store.schema,
      sealingKey,
      publicUrl,
      provider: { ...google.providerOptions, retry: { baseMs: 5, maxMs: 50 } },
      shutdownGraceMs: GRACE_MS,
    });
    const [leaving, staying] = await Promise.all([startHost(hostConfig('leaving')), startHost(hostConfig('staying'))]);

    const connections = await connectGmailMailboxes(web, google, MAILBOXES, 't-deploy');
    await web.idle();

    // Load: every Gmail read is slow, so both processes hold jobs when the signal lands.
    google.faults.latencyMs = GMAIL_LATENCY_MS;
    let sent = 0;
    const mail = async (count: number): Promise<void> => {
      for (let index = 0; index < count; index += 1) {
        sent += 1;
        await google.deliver({ from: 'buyer@bigco.test', to: random.pick(MAILBOXES), subject: `Deploy ${sent}`, text: 'hello' });
        await new Promise((resolve) => setTimeout(resolve, random.int(5, 25)));
      }
    };
    await mail(20);
    await vi.waitFor(() => expect(leaving.reports.some((report) => report.type === 'stored')).toBe(true), { timeout: 20_000, interval: 25 });
    // The signal must land just after the leaving process began a pull (one lasts two slow reads, over
    // twice the grace): on a fast machine its first jobs can all be done by the time it reports a
    // stored message, so mail keeps coming until a pull starts.
    const from = leaving.reports.length;
    const pullStarted = (): boolean => leaving.reports.slice(from).some((report) => report.type === 'pulling');
    for (let more = 0; !pullStarted(); more += 1) {
      if (more >= 100) throw new Error('the leaving process began no pull while mail streamed in');
      await mail(1);
    }
    const signalledAt = Date.now();
    leaving.child.kill('SIGTERM');
    await mail(20);
    const exit = await leaving.exit;
    const exitedAfterMs = Date.now() - signalledAt;
    const stopped = leaving.reports.find((report): report is Extract<HostReport, { type: 'stopped' }> => report.type === 'stopped');

    google.faults.latencyMs = 0;
    await mail(5);
    for (let round = 0; round < 10; round += 1) {
      const before = google.pushLog.attempts;
      await google.flushNotifications();
      await web.idle();
      if (google.pushLog.attempts === before) break;
    }

    // What a user sees: nothing missing, nothing twice.
    let missing = 0;
    let extra = 0;
    for (const connection of connections) {
      const expected = new Set(expectedGmail(google, connection.accountEmail).keys());
      const held = new Set(await store.listProviderMessageIds(connection.id));
      for (const id of expected) if (!held.has(id)) missing += 1;
      for (const id of held) if (!expected.has(id)) extra += 1;
    }
    const duplicateRows = await store.sql.query(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM "${store.schema}".messages GROUP BY connection_id, provider_message_id HAVING count(*) > 1) d`,
    );
    const duplicates = Number(duplicateRows.rows[0]?.n);
    const created = new Map<string, number>();
    for (const report of [...leaving.reports, ...staying.reports]) {
      if (report.type === 'stored')
        created.set(`${report.connectionId}/${report.providerMessageId}`, (created.get(`${report.connectionId}/${report.providerMessageId}`) ?? 0) + 1);
    }
    const storedTwice = [...created.values()].filter((count) => count > 1).length;
    const handedBack = leaving.reports.filter((report) => report.type === 'aborted').length;
    const refusedWhileStopping = answers.filter((answer) => answer.host === 'leaving' && answer.afterStopping);
    console.log(
      `reliability: sigterm — grace=${GRACE_MS}ms stop=${stopped?.ms ?? '?'}ms exit=${exitedAfterMs}ms handed-back=${handedBack} refused-while-stopping=${refusedWhileStopping.length} messages=${sent} missing=${missing} extra=${extra} duplicates=${duplicates} stored-twice=${storedTwice}`,
    );

    expect(exit).toEqual({ code: 0, signal: null });
    // The signal landed with pulls in flight (each takes > the grace): they were cut and handed back.
    expect(handedBack).toBeGreaterThan(0);
    // Within the grace plus the hand-back (abort, lease release, queue close) and process exit.
    expect(stopped?.ms).toBeLessThan(GRACE_MS + 3_000);
    expect(refusedWhileStopping.filter((answer) => answer.status < 300)).toEqual([]);
    for (const answer of refusedWhileStopping.filter((refused) => refused.status === 503)) expect(answer.retryAfter).toBe('5');
    expect(staying.running).toBe(true);
    expect({ missing, extra, duplicates, storedTwice }).toEqual({ missing: 0, extra: 0, duplicates: 0, storedTwice: 0 });
    expect(created.size).toBe(sent);
  });
});
