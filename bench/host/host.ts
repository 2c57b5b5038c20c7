// The SDK under test, in its own process: createThreadlink with the real providers, a store and
// a queue, served on 127.0.0.1 so the emulators' pushes reach tl.handler over HTTP. The bench
// process (which owns the emulators) drives it over IPC; everything this process measures
// (push arrival → message.matched, event-loop delay, RSS) is then the SDK's alone.
import { AsyncLocalStorage } from 'node:async_hooks';
import { appendFileSync } from 'node:fs';
import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import {
  createMemoryResolver,
  createThreadlink,
  generateSealingKey,
  toNodeHandler,
  type JobQueue,
  type MailProvider,
  type MemoryRecord,
  type MetadataStore,
  type Threadlink,
} from '@threadlink/core';
import { internalsOf } from '@threadlink/core/testing';
import { gmailProvider, type GmailProviderOptions } from '@threadlink/gmail';
import { outlookProvider, type OutlookProviderOptions } from '@threadlink/outlook';
import { memoryStore } from '@threadlink/storage-memory';
import { pgliteStore, postgresStore } from '@threadlink/storage-postgres';
import { Rpc } from '../lib/rpc.js';
import { connectOrg, trackOrgLive, type Authorize } from './org.js';
import { installSpanTimer, STORE_CALL_PREFIX, timeStoreCalls, type TimedSpan } from './spans.js';
import type { ConnectionTimeline, ConnectResult, CrmSpec, HostConfig, HostStats, MemorySnapshot, OrgConnectInput } from './protocol.js';

const rpc = new Rpc(process);
/** Consent pages are completed by the bench process, which owns the emulators. */
const authorize: Authorize = (input) => rpc.call<string>('authorize', input);
process.on('disconnect', () => process.exit(0));

// Epoch milliseconds with sub-millisecond resolution, aligned with Date.now() (which the
// emulators stamp messages with) by waiting for a Date.now() tick.
const epochOffset = ((): number => {
  const start = Date.now();
  let now = start;
  while (now === start) now = Date.now();
  return now - (performance.timeOrigin + performance.now());
})();
const epoch = (): number => performance.timeOrigin + performance.now() + epochOffset;

export function crmRecords(spec: CrmSpec): MemoryRecord[] {
  const records: MemoryRecord[] = [];
  for (let index = 0; index < spec.companies; index += 1) {
    records.push({ type: 'client', id: `client-${index}`, label: `Client ${index}`, domains: [`client${index}.example`] });
    records.push({ type: 'contact', id: `contact-${index}`, label: `Person ${index}`, emails: [`person@client${index}.example`] });
  }
  for (let index = 0; index < spec.projects; index += 1) {
    records.push({ type: 'project', id: `project-${index}`, label: `PRJ-${10_000 + index}`, references: [`PRJ-${10_000 + index}`] });
  }
  return records;
}

interface Armed {
  connectionId: string;
  armedAt: number;
  pushAt: number | null;
  done: Promise<{ pushAt: number; matchedAt: number }>;
  resolve(value: { pushAt: number; matchedAt: number }): void;
}

// Spans of the SDK's own telemetry, kept briefly so an armed sample can be broken down.
const recentSpans: TimedSpan[] = [];
installSpanTimer(
  () => epoch(),
  (span) => {
    recentSpans.push(span);
    if (recentSpans.length > 2_000) recentSpans.splice(0, recentSpans.length - 1_000);
  },
);

/** Time inside each span name between two instants (overlapping spans of one name are merged). */
function breakdown(from: number, to: number): Record<string, number> {
  const byName = new Map<string, Array<[number, number]>>();
  for (const span of recentSpans) {
    if (span.end < from || span.start > to || span.name.startsWith(STORE_CALL_PREFIX)) continue;
    const list = byName.get(span.name) ?? [];
    list.push([Math.max(span.start, from), Math.min(span.end, to)]);
    byName.set(span.name, list);
  }
  const result: Record<string, number> = {};
  for (const [name, intervals] of byName) {
    intervals.sort((left, right) => left[0] - right[0]);
    let total = 0;
    let current: [number, number] | null = null;
    for (const interval of intervals) {
      if (current && interval[0] <= current[1]) current[1] = Math.max(current[1], interval[1]);
      else {
        if (current) total += current[1] - current[0];
        current = [...interval];
      }
    }
    if (current) total += current[1] - current[0];
    result[name.replace(/^threadlink\./, '')] = total;
  }
  return result;
}

/**
 * BENCH_TIMELINE: one armed sample as text, appended to the file: its push→matched time, then every
 * span (the SDK's and, timed by timeStoreCalls, each store call) as start..end in ms from the push.
 */
function writeTimeline(file: string, from: number, to: number): void {
  const lines = recentSpans
    .filter((span) => span.end >= from && span.start <= to)
    .sort((left, right) => left.start - right.start)
    .map((span) => `${(span.start - from).toFixed(2)}..${(span.end - from).toFixed(2)} ${span.name.replace(/^threadlink\./, '')}`);
  appendFileSync(file, `--- push→matched ${(to - from).toFixed(2)} ms\n${lines.join('\n')}\n`);
}

const arrivalContext = new AsyncLocalStorage<{ arrivedAt: number }>();
let tl: Threadlink | undefined;
let store: MetadataStore | undefined;
let server: Server | undefined;
let publicUrl = '';
let label = 'host';
let armed: Armed | null = null;

// Streaming attribution for load runs: each matched message is charged to the first push for
// its mailbox that arrived at or after the message was received by the provider.
const arrivals = new Map<string, number[]>();
const syncedAt = new Map<string, number>();
const timelines = new Map<string, ConnectionTimeline>();
/** `connection.live` times of org mailboxes, per org. */
let orgLive = new Map<string, number[]>();
const timelineByEmail = new Map<string, ConnectionTimeline>();

// Outgoing HTTP requests per origin, whichever client made them (gaxios and msal use node:http,
// the Graph client fetch/undici): the real number of round trips, batches counted once.
const outgoing = new Map<string, number>();
// The latest request lines, so the bench can replay the SDK's own requests (same parameters) as floors.
const recentRequests: Array<{ origin: string; method: string; path: string }> = [];
const countOutgoing = (origin: string, method: string, path: string): void => {
  outgoing.set(origin, (outgoing.get(origin) ?? 0) + 1);
  recentRequests.push({ origin, method, path });
  if (recentRequests.length > 400) recentRequests.splice(0, recentRequests.length - 200);
};
diagnostics.subscribe('http.client.request.start', (message) => {
  const request = (message as { request: ClientRequest }).request;
  countOutgoing(`${request.protocol}//${String(request.getHeader('host') ?? request.host)}`, request.method, request.path);
});
diagnostics.subscribe('undici:request:create', (message) => {
  const request = (message as { request: { origin: string; method: string; path: string } }).request;
  countOutgoing(request.origin, request.method, request.path);
});

const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
const counters = { matched: 0, synced: 0, notifications: 0, syncErrors: {} as Record<string, number>, latencies: [] as number[], matchedTimes: [] as number[] };
const memoryPeaks = { rss: 0, heapUsed: 0 };
let cpuStart = process.cpuUsage();
let wallStart = performance.now();
setInterval(() => {
  const usage = process.memoryUsage();
  memoryPeaks.rss = Math.max(memoryPeaks.rss, usage.rss);
  memoryPeaks.heapUsed = Math.max(memoryPeaks.heapUsed, usage.heapUsed);
}, 200).unref();

function resetStats(): void {
  counters.matched = 0;
  counters.synced = 0;
  counters.notifications = 0;
  counters.syncErrors = {};
  counters.latencies = [];
  counters.matchedTimes = [];
  loopDelay.reset();
  loopDelay.enable();
  const usage = process.memoryUsage();
  memoryPeaks.rss = usage.rss;
  memoryPeaks.heapUsed = usage.heapUsed;
  cpuStart = process.cpuUsage();
  wallStart = performance.now();
}

function stats(): HostStats {
  const usage = process.memoryUsage();
  const cpu = process.cpuUsage(cpuStart);
  const ms = (nanoseconds: number): number => Math.round((nanoseconds / 1e6) * 1000) / 1000;
  return {
    label,
    matched: counters.matched,
    synced: counters.synced,
    notifications: counters.notifications,
    syncErrors: { ...counters.syncErrors },
    latencies: counters.latencies,
    matchedTimes: counters.matchedTimes,
    eventLoopDelay: { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max), mean: ms(loopDelay.mean) },
    memory: { rssPeak: memoryPeaks.rss, rssNow: usage.rss, heapUsedNow: usage.heapUsed, heapUsedPeak: memoryPeaks.heapUsed },
    cpu: { userMs: cpu.user / 1000, systemMs: cpu.system / 1000, wallMs: performance.now() - wallStart },
  };
}

async function makeStore(config: HostConfig): Promise<MetadataStore> {
  switch (config.store.kind) {
    case 'memory':
      return memoryStore();
    case 'pglite':
      return pgliteStore();
    case 'postgres':
      return postgresStore({ connectionString: config.store.url, schema: config.store.schema, poolConfig: { max: config.store.poolMax ?? 10 } });
  }
}

async function makeQueue(config: HostConfig): Promise<JobQueue | undefined> {
  if (!config.queue) return undefined;
  const { bullmqQueue } = await import('@threadlink/queue-bullmq');
  return bullmqQueue({ connection: config.queue.url, name: config.queue.name });
}

async function start(config: HostConfig): Promise<{ publicUrl: string }> {
  label = config.label;
  store = await makeStore(config);
  // BENCH_TIMELINE=<file>: each armed sample's spans and store calls, written there (see collect).
  if (process.env.BENCH_TIMELINE) timeStoreCalls(store, epoch, (span) => recentSpans.push(span));
  const providers: MailProvider[] = [];
  if (config.gmail) providers.push(gmailProvider(config.gmail as unknown as GmailProviderOptions));
  if (config.outlook) providers.push(outlookProvider(config.outlook as unknown as OutlookProviderOptions));
  const queue = await makeQueue(config);

  const node = toNodeHandler((request) => (tl ? tl.handler(request) : Promise.resolve(new Response(null, { status: 503 }))));
  server = createServer((request, response) => {
    // "Arriving at the handler": the moment node hands us the request, before the body is read.
    const arrivedAt = epoch();
    arrivalContext.run({ arrivedAt }, () => node(request, response));
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  publicUrl = `http://127.0.0.1:${port}/threadlink`;

  tl = createThreadlink({
    store,
    providers,
    resolver: createMemoryResolver(crmRecords(config.crm)),
    sealingKeys: [{ id: 'bench', key: config.sealingKey ?? generateSealingKey() }],
    publicUrl,
    matching: { referencePatterns: [/\bPRJ-\d{4,}\b/] },
    logger: 'silent',
    // The bench calls maintain() itself where a scenario needs it; a timer would add unrelated work.
    maintenanceIntervalMs: 0,
    runWorker: config.runWorker,
    ...(config.engine ? { engine: config.engine } : {}),
    ...(queue ? { queue } : {}),
  });

  orgLive = trackOrgLive(tl, epoch);
  tl.on('notification.received', ({ connectionIds }) => {
    const arrivedAt = arrivalContext.getStore()?.arrivedAt ?? epoch();
    counters.notifications += 1;
    for (const connectionId of connectionIds) {
      const list = arrivals.get(connectionId) ?? [];
      list.push(arrivedAt);
      if (list.length > 64) list.splice(0, list.length - 64);
      arrivals.set(connectionId, list);
      const timeline = timelines.get(connectionId);
      if (timeline && timeline.liveAt !== null && timeline.firstPushAt === null) timeline.firstPushAt = arrivedAt;
      if (armed && armed.pushAt === null && armed.connectionId === connectionId && arrivedAt >= armed.armedAt) armed.pushAt = arrivedAt;
    }
  });
  tl.on('message.synced', ({ message, created }) => {
    if (!created) return;
    const now = epoch();
    counters.synced += 1;
    syncedAt.set(message.providerMessageId, now);
    const timeline = timelines.get(message.connectionId);
    if (timeline && timeline.firstPushAt !== null && timeline.firstSyncedAt === null) timeline.firstSyncedAt = now;
  });
  tl.on('message.matched', ({ message }) => {
    const now = epoch();
    counters.matched += 1;
    counters.matchedTimes.push(now);
    const pushes = arrivals.get(message.connectionId) ?? [];
    const push = pushes.find((at) => at >= message.receivedAt);
    if (push !== undefined) counters.latencies.push(now - push);
    if (armed && armed.pushAt !== null && armed.connectionId === message.connectionId) {
      const done = armed;
      armed = null;
      done.resolve({ pushAt: done.pushAt as number, matchedAt: now });
    }
  });
  tl.on('connection.live', ({ connection }) => {
    const timeline = timelineByEmail.get(connection.accountEmail.toLowerCase());
    if (timeline && timeline.liveAt === null) {
      timeline.liveAt = epoch();
      timelines.set(connection.id, timeline);
      rpc.emit('live', { connectionId: connection.id, accountEmail: connection.accountEmail });
    }
  });
  tl.on('backfill.done', ({ connectionId }) => {
    const timeline = timelines.get(connectionId);
    if (timeline && timeline.backfillDoneAt === null) timeline.backfillDoneAt = epoch();
    rpc.emit('backfill.done', { connectionId, at: epoch() });
  });
  tl.on('sync.error', ({ code }) => {
    counters.syncErrors[code] = (counters.syncErrors[code] ?? 0) + 1;
  });
  await tl.start();
  return { publicUrl };
}

function requireTl(): Threadlink {
  if (!tl) throw new Error('host not started');
  return tl;
}

async function connect(input: { provider: 'gmail' | 'outlook'; email: string; tenantId?: string; userId?: string }): Promise<ConnectResult> {
  const instance = requireTl();
  const user = { tenantId: input.tenantId ?? 't1', userId: input.userId ?? 'u1' };
  const { url, cookie } = await instance.connect.start({ provider: input.provider, ...user, loginHint: input.email });
  const redirect = await rpc.call<string>('authorize', { provider: input.provider, url, email: input.email });
  const timeline: ConnectionTimeline = { callbackAt: epoch(), liveAt: null, firstPushAt: null, firstSyncedAt: null, backfillDoneAt: null };
  timelineByEmail.set(input.email.toLowerCase(), timeline);
  // The browser's GET of the redirect, through the host's own HTTP server like a real callback,
  // carrying the connect cookie the browser would have been given with the consent redirect.
  const response = await fetch(redirect, { headers: { cookie: `${cookie.name}=${cookie.value}` } });
  const answeredAt = epoch();
  const body = (await response.json()) as { connection?: { id: string; accountEmail: string }; error?: { code: string; message: string } };
  if (!response.ok || !body.connection) throw new Error(`OAuth callback answered ${response.status}: ${JSON.stringify(body.error ?? body)}`);
  const connection = await instance.connections.get(body.connection.id, user);
  return {
    connectionId: connection.id,
    accountEmail: connection.accountEmail,
    callbackMs: answeredAt - timeline.callbackAt,
    liveMs: (timeline.liveAt ?? answeredAt) - timeline.callbackAt,
    subscription: connection.subscription
      ? { renewAt: connection.subscription.renewAt, expiresAt: connection.subscription.expiresAt, items: connection.subscription.items.length }
      : null,
    connectedAt: connection.createdAt,
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

rpc.serve({
  start: (config: HostConfig) => start(config),
  connect: (input: { provider: 'gmail' | 'outlook'; email: string; tenantId?: string; userId?: string }) => connect(input),
  connectOrg: (input: OrgConnectInput) => connectOrg(requireTl(), orgLive, epoch, authorize, input),
  idle: async () => {
    await requireTl().idle();
    return true;
  },
  /** Arms a measurement: the next push for the connection, then the next message it matches. */
  arm: ({ connectionId }: { connectionId: string }) => {
    let resolve!: Armed['resolve'];
    const done = new Promise<{ pushAt: number; matchedAt: number }>((settle) => (resolve = settle));
    armed = { connectionId, armedAt: epoch(), pushAt: null, done, resolve };
    return true;
  },
  collect: async ({ timeoutMs }: { timeoutMs: number }) => {
    if (!armed) throw new Error('nothing armed');
    const result = await withTimeout(armed.done, timeoutMs, 'the armed push to be matched').catch((error: unknown) => {
      armed = null;
      throw error;
    });
    if (process.env.BENCH_TIMELINE) writeTimeline(process.env.BENCH_TIMELINE, result.pushAt, result.matchedAt);
    return { ...result, pushToMatchedMs: result.matchedAt - result.pushAt, spans: breakdown(result.pushAt, result.matchedAt) };
  },
  waitSynced: async ({ providerMessageId, timeoutMs }: { providerMessageId: string; timeoutMs: number }) => {
    const deadline = performance.now() + timeoutMs;
    while (!syncedAt.has(providerMessageId)) {
      if (performance.now() > deadline) throw new Error(`message ${providerMessageId} was not synced within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return syncedAt.get(providerMessageId);
  },
  timeline: ({ connectionId }: { connectionId: string }) => timelines.get(connectionId) ?? null,
  resetStats: () => {
    resetStats();
    return true;
  },
  stats: () => stats(),
  outgoing: () => Object.fromEntries(outgoing),
  recentRequests: () => [...recentRequests],
  counts: () => ({ matched: counters.matched, synced: counters.synced, notifications: counters.notifications, syncErrors: counters.syncErrors }),
  memory: ({ gc }: { gc: boolean }): MemorySnapshot => {
    const collect = (globalThis as { gc?: () => void }).gc;
    if (gc && collect) {
      collect();
      collect();
    }
    const usage = process.memoryUsage();
    return { rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external, arrayBuffers: usage.arrayBuffers };
  },
  /** Bytes of a connection as the store keeps it (sealed tokens included), serialized. */
  connectionBytes: async ({ connectionId }: { connectionId: string }) => Buffer.byteLength(JSON.stringify(await store?.getConnection(connectionId))),
  connection: ({ connectionId }: { connectionId: string }) => requireTl().connections.get(connectionId, { tenantId: 't1', as: 'admin' }),
  health: ({ connectionId }: { connectionId: string }) => requireTl().health(connectionId, { tenantId: 't1', as: 'admin' }),
  /** Periodic work on demand, exactly as maintain() would enqueue it. */
  operate: async ({ operation, connectionId }: { operation: 'sync' | 'resync' | 'renew' | 'maintain'; connectionId?: string }) => {
    const instance = requireTl();
    if (operation === 'maintain') return instance.maintain();
    if (!connectionId) throw new Error('connectionId is required');
    if (operation === 'sync') await internalsOf(instance).engine.requestSync(connectionId, 'safety-net');
    else if (operation === 'resync') await internalsOf(instance).engine.enqueue('resync', connectionId, 0, { reason: 'reconciliation' });
    else await internalsOf(instance).engine.enqueue(operation, connectionId);
    await instance.idle();
    return true;
  },
  startWorker: () => {
    internalsOf(requireTl()).engine.start();
    return true;
  },
  stop: async () => {
    if (tl) await tl.stop();
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    }
    if (store) await store.close();
    setTimeout(() => process.exit(0), 20).unref();
    return true;
  },
});

rpc.emit('ready');
