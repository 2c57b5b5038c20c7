// A whole deployment on one machine: the Gmail and Graph emulators, one or more threadlink
// processes (each with its own providers, queue and store object) on one shared store, a
// "load balancer" in front of their handlers, and the means to kill a process mid-pull or
// mid-commit and start a new one on the same store.
import {
  createThreadlink,
  generateSealingKey,
  inProcessQueue,
  type Job,
  type JobHandler,
  type JobQueue,
  ThreadlinkError,
  type EngineOptions,
  type Logger,
  type MailProvider,
  type MetadataStore,
  type OrgSelectionInput,
  type PublicConnection,
  type RecordResolver,
  type SealingKey,
  type Threadlink,
  THREADLINK_EVENT_NAMES,
  type ThreadlinkEventName,
} from '@threadlink/core';
import { gmailProvider } from '@threadlink/gmail';
import { outlookProvider } from '@threadlink/outlook';
import { serveWebHandler, startGmailEmulator, startGraphEmulator, type GmailEmulator, type GraphEmulator, type ServedHandler } from '@threadlink/testing';
import { virtualClock, type VirtualClock } from './clock.js';
import type { SeededRandom } from './random.js';
import { createStoreBackend, type StoreBackend, type StoreKind } from './stores.js';

/** The CRM the suite pretends to be: a few clients by address, a company by domain, projects by reference. */
export const CLIENTS = [
  { address: 'buyer@bigco.test', id: 'c-bigco', label: 'BigCo' },
  { address: 'ops@globex.test', id: 'c-globex', label: 'Globex' },
  { address: 'anna.schmidt@muster.test', id: 'c-muster', label: 'Muster GmbH' },
] as const;
export const COMPANY_DOMAIN = { domain: 'initech.test', id: 'co-initech', label: 'Initech' } as const;
/** PRJ-1000 … PRJ-1019 exist in the CRM; other numbers (PRJ-9xxx) match the pattern but no project. */
export const KNOWN_PROJECTS = Array.from({ length: 20 }, (_, index) => `PRJ-${1000 + index}`);
const REFERENCE_PATTERN = /\bPRJ-\d{4,}\b/;

const resolver: RecordResolver = {
  async contactsByEmail(_tenantId, addresses) {
    return CLIENTS.filter((client) => addresses.includes(client.address)).map((client) => ({
      type: 'client',
      id: client.id,
      label: client.label,
      emails: [client.address],
    }));
  },
  async companiesByDomain(_tenantId, domains) {
    return domains.includes(COMPANY_DOMAIN.domain)
      ? [{ type: 'company', id: COMPANY_DOMAIN.id, label: COMPANY_DOMAIN.label, domains: [COMPANY_DOMAIN.domain] }]
      : [];
  },
  async projectsByReference(_tenantId, references) {
    return references
      .filter((reference) => KNOWN_PROJECTS.includes(reference))
      .map((reference) => ({ type: 'project', id: `p-${reference}`, label: reference, references: [reference] }));
  },
};

interface CapturedLogger extends Logger {
  lines: string[];
}

/** Keeps every record (debug included) as JSON text, so leaks can be searched for. */
function capturingLogger(lines: string[] = []): CapturedLogger {
  const write =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push(
        JSON.stringify({ level, message, fields }, (_key, value: unknown) =>
          value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value,
        ),
      );
    };
  return { lines, debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

export type CrashPoint = 'pull' | 'before-commit' | 'after-commit';

/** One threadlink process. */
interface Instance {
  readonly number: number;
  readonly tl: Threadlink;
  /** False once the process "died": every store call it makes from then on fails. */
  readonly alive: boolean;
  /** How this process died, when it did. */
  readonly crashedAt: CrashPoint | null;
  /** The next pull / commit that does real work kills the process at that point. */
  arm(point: CrashPoint): void;
  disarm(): void;
  /** What this process's queue is doing right now (for a settle that timed out). */
  describeQueue(): string;
}

export interface WorldOptions {
  random: SeededRandom;
  storeKind: StoreKind;
  /** Processes running at once on the shared store (two = the "exactly once" check). */
  engines?: number;
  tenantId?: string;
  engine?: Partial<EngineOptions>;
  /** Sealing keys for new processes (rotation tests swap them between restarts). */
  sealingKeys?: SealingKey[];
  /** The emulated Google Workspace's primary domain (organization tests). */
  workspaceDomain?: string;
}

export interface World {
  clock: VirtualClock;
  google: GmailEmulator;
  microsoft: GraphEmulator;
  backend: StoreBackend;
  tenantId: string;
  publicUrl: string;
  instances: Instance[];
  /** Every event any process emitted, as JSON text (for leak greps) and by name (for counts). */
  events: Array<{ name: ThreadlinkEventName; json: string; process: number }>;
  logs: string[];
  /** Every process death so far, in order. */
  crashes: CrashPoint[];
  /** Store calls every process made, by method name (a counting wrapper: amplification checks). */
  storeCalls: Map<string, number>;
  sealingKeys: SealingKey[];
  alive(): Instance[];
  /** Any live process (round robin), for API calls a host would make. */
  any(): Instance;
  /** Starts one more process on the shared store. */
  spawn(): Promise<Instance>;
  /** Replaces every dead process with a fresh one, after its leases had time to lapse. */
  restartDead(): Promise<number>;
  /** The consent flow, through a live process: authorize URL → emulator consent → complete. */
  connect(provider: 'gmail' | 'outlook', email: string, scope?: { userId?: string; tenantId?: string }): Promise<PublicConnection>;
  /**
   * An organization's admin consent, as the admin's browser does it: tl.org.connect.start, the
   * emulator's admin-consent page, then the redirect back to /connect/org/callback through the load
   * balancer with the connect cookie. Returns the org id the callback redirected with.
   */
  connectOrganization(input: { admin: string; selection: OrgSelectionInput; tenantId?: string }): Promise<string>;
  /** A graceful restart of every process (new ones read `sealingKeys` afresh). */
  restartAll(): Promise<void>;
  /** Pushes delivered and every live process idle, repeated until no new push went out. */
  settle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const LOAD_BALANCER_BUSY = (): Response =>
  new Response(JSON.stringify({ error: { code: 'SHUTTING_DOWN' } }), { status: 503, headers: { 'content-type': 'application/json' } });

export async function createWorld(options: WorldOptions): Promise<World> {
  const clock = virtualClock();
  const tenantId = options.tenantId ?? 't-chaos';
  const emulatorRandom = options.random.fork('emulators');
  const google = await startGmailEmulator({
    now: clock.now,
    random: emulatorRandom.next,
    notificationIntervalMs: 20,
    pushRetry: { initialBackoffMs: 20, maxBackoffMs: 200, maxAttempts: 5 },
    pushAckDeadlineMs: 5_000,
    ...(options.workspaceDomain ? { workspaceDomain: options.workspaceDomain } : {}),
  });
  // Graph rolls its own fork, so its jitter and errorRate draws never shift Gmail's (or back):
  // a seed then fixes which request meets which injected fault on either provider.
  const microsoft = await startGraphEmulator({
    now: clock.now,
    random: emulatorRandom.fork('graph').next,
    notificationRetryDelaysMs: [20, 100],
    validationTimeoutMs: 5_000,
  });
  const backend = await createStoreBackend(options.storeKind);
  const instances: Instance[] = [];
  const events: World['events'] = [];
  const logs: string[] = [];
  const crashes: CrashPoint[] = [];
  const storeCalls = new Map<string, number>();
  let deathWaiters: Array<() => void> = [];
  const nextDeath = (): Promise<void> => new Promise((resolve) => deathWaiters.push(resolve));
  let roundRobin = 0;
  let spawned = 0;

  const alive = (): Instance[] => instances.filter((instance) => instance.alive);
  const served: ServedHandler = await serveWebHandler((request) => {
    const live = alive();
    if (live.length === 0) return Promise.resolve(LOAD_BALANCER_BUSY());
    roundRobin += 1;
    return live[roundRobin % live.length]!.tl.handler(request);
  });
  const publicUrl = `${served.url}/threadlink`;
  google.setPushEndpoint({ endpoint: `${publicUrl}/webhooks/gmail` });
  const sealingKeys = options.sealingKeys ?? [{ id: 'k1', key: generateSealingKey() }];

  async function spawn(): Promise<Instance> {
    spawned += 1;
    const number = spawned;
    let dead = false;
    let crashedAt: CrashPoint | null = null;
    let armed: CrashPoint | null = null;
    const die = (point: CrashPoint): ThreadlinkError => {
      dead = true;
      crashedAt = point;
      armed = null;
      crashes.push(point);
      const waiters = deathWaiters;
      deathWaiters = [];
      for (const wake of waiters) wake();
      return new ThreadlinkError('INTERNAL', `process ${number} crashed (${point})`);
    };
    const base = backend.open();
    // A dead process cannot write (or read): every store call fails, its leases stay behind.
    const store = new Proxy(base, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        const method = value as (...inner: unknown[]) => unknown;
        // Not an async wrapper: exportConnection is an async generator and must stay iterable.
        return (...args: unknown[]) => {
          if (typeof property === 'string') storeCalls.set(property, (storeCalls.get(property) ?? 0) + 1);
          if (dead) {
            // prepareSync answers at once, never a promise: a dead process opens nothing.
            if (property === 'prepareSync') return null;
            const error = new ThreadlinkError('INTERNAL', `process ${number} is dead`);
            if (property === 'exportConnection') throw error;
            return Promise.reject(error);
          }
          if (property === 'applySync' && armed && armed !== 'pull') {
            const batch = args[1] as { upserts: unknown[]; deletes: unknown[] };
            if (batch.upserts.length + batch.deletes.length > 0) {
              if (armed === 'before-commit') return Promise.reject(die('before-commit'));
              return (method.apply(target, args) as Promise<unknown>).then(() => {
                throw die('after-commit');
              });
            }
          }
          return method.apply(target, args);
        };
      },
    }) as MetadataStore;

    const crashDuringPull = (provider: MailProvider): MailProvider => ({
      ...provider,
      async pullChanges(session, cursor) {
        if (armed !== 'pull') return provider.pullChanges(session, cursor);
        const pending = provider.pullChanges(session, cursor);
        // The process dies while the provider call is on the wire; whatever it returns is lost.
        const error = die('pull');
        await pending.catch(() => undefined);
        throw error;
      },
    });

    const logger = capturingLogger(logs);
    const queue = tracedQueue(inProcessQueue({ clock, backoff: { baseMs: 5, maxMs: 50 } }), clock);
    const tl = createThreadlink({
      store,
      queue,
      providers: [
        crashDuringPull(gmailProvider({ ...google.providerOptions, retry: { baseMs: 5, maxMs: 50 }, requestTimeoutMs: 15_000 })),
        crashDuringPull(outlookProvider({ ...microsoft.providerOptions })),
      ],
      resolver,
      sealingKeys: world.sealingKeys,
      publicUrl,
      matching: { referencePatterns: [REFERENCE_PATTERN] },
      logger,
      clock,
      maintenanceIntervalMs: 0,
      retryBackoff: { baseMs: 5, maxMs: 50 },
      engine: { backfillPageSize: 10, ...(options.engine ?? {}) },
    });
    for (const name of THREADLINK_EVENT_NAMES) tl.on(name, (payload: unknown) => events.push({ name, json: JSON.stringify(payload), process: number }));
    await tl.start();
    const instance: Instance = {
      number,
      tl,
      describeQueue: () => queue.describe(),
      get alive() {
        return !dead;
      },
      get crashedAt() {
        return crashedAt;
      },
      arm(point) {
        armed = point;
      },
      disarm() {
        armed = null;
      },
    };
    instances.push(instance);
    return instance;
  }

  const world: World = {
    clock,
    google,
    microsoft,
    backend,
    tenantId,
    publicUrl,
    instances,
    events,
    logs,
    crashes,
    storeCalls,
    sealingKeys,
    alive,
    any() {
      const live = alive();
      if (live.length === 0) throw new Error('no live threadlink process');
      roundRobin += 1;
      return live[roundRobin % live.length]!;
    },
    spawn,
    async restartDead() {
      const dead = instances.filter((instance) => !instance.alive);
      if (dead.length === 0) return 0;
      for (const instance of dead) {
        await instance.tl.stop();
        instances.splice(instances.indexOf(instance), 1);
      }
      // A killed process never released its leases: they lapse after leaseTtlMs.
      clock.advance((options.engine?.leaseTtlMs ?? 60_000) + 1_000);
      for (let index = 0; index < dead.length; index += 1) await spawn();
      return dead.length;
    },
    async connect(provider, email, scope = {}) {
      const { tl } = world.any();
      const user = { tenantId: scope.tenantId ?? tenantId, userId: scope.userId ?? `user-${email.split('@')[0]}` };
      const { url } = await tl.connect.start({ provider, ...user, loginHint: email });
      const redirect = provider === 'gmail' ? await google.authorize(url, { email }) : await microsoft.authorize(url, { email });
      // The host completing the flow itself: its signed-in user is the one who started it.
      return tl.connect.complete(new URL(redirect), user);
    },
    async connectOrganization(input) {
      const { tl } = world.any();
      const { url, cookie } = await tl.org.connect.start({
        tenantId: input.tenantId ?? tenantId,
        userId: `user-${input.admin.split('@')[0]}`,
        provider: 'outlook',
        selection: input.selection,
        returnTo: '/settings/organization',
      });
      const location = await microsoft.authorize(url, { email: input.admin });
      const response = await fetch(location, { redirect: 'manual', headers: { cookie: `${cookie.name}=${cookie.value}` } });
      const landed = new URL(response.headers.get('location') ?? '', publicUrl);
      const orgId = landed.searchParams.get('org');
      if (response.status !== 302 || !orgId) throw new Error(`admin consent failed: ${response.status} ${landed.search}`);
      return orgId;
    },
    async restartAll() {
      const running = instances.splice(0);
      for (const instance of running) await instance.tl.stop();
      for (let index = 0; index < running.length; index += 1) await spawn();
    },
    async settle(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (let round = 0; round < 30; round += 1) {
        // A death ends the wait at once: the survivors would otherwise spin on the dead
        // process's lease until it lapses — which, on the virtual clock, is never (their lease-busy
        // retries wait in wall time) — so the process is replaced (and the lease aged) now. Deaths
        // before this settle began (a crash while the suite was still delivering mail) count too.
        const death = nextDeath();
        if ((await world.restartDead()) > 0) continue;
        const before = google.pushLog.attempts + microsoft.deliveries().length;
        await withDeadline(google.flushNotifications(), deadline, 'gmail push flush');
        await withDeadline(microsoft.flushNotifications(), deadline, 'graph notification flush');
        await withDeadline(Promise.race([Promise.all(alive().map((instance) => instance.tl.idle())), death]), deadline, 'engine idle', () =>
          alive()
            .map((instance) => `process ${instance.number}: ${instance.describeQueue()}`)
            .join('; '),
        );
        if ((await world.restartDead()) > 0) continue;
        if (google.pushLog.attempts + microsoft.deliveries().length === before) return;
      }
    },
    async close() {
      for (const instance of instances) await instance.tl.stop().catch(() => undefined);
      await served.close();
      await google.close();
      await microsoft.close();
      await backend.close();
    },
  };
  const engines = options.engines ?? 1;
  for (let index = 0; index < engines; index += 1) await spawn();
  return world;
}

async function withDeadline<T>(promise: Promise<T>, deadline: number, what: string, describe?: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish in time${describe ? ` (${describe()})` : ''}`)), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The in-process queue, watched: which jobs run right now (and since when, in wall time) and how
 * the last few ended, so a settle that times out says what it was waiting for.
 */
function tracedQueue(inner: ReturnType<typeof inProcessQueue>, clock: VirtualClock): JobQueue & { describe(): string } {
  const running = new Map<number, { job: Job; since: number }>();
  const ended: string[] = [];
  let sequence = 0;
  return {
    name: inner.name,
    enqueue: (job, enqueueOptions) => inner.enqueue(job, enqueueOptions),
    idle: () => inner.idle(),
    close: () => inner.close(),
    process(handler: JobHandler, processOptions) {
      inner.process(async (job) => {
        const id = (sequence += 1);
        running.set(id, { job, since: Date.now() });
        let outcome = 'ok';
        try {
          await handler(job);
        } catch (error) {
          outcome = error instanceof ThreadlinkError ? error.code : 'error';
          throw error;
        } finally {
          running.delete(id);
          ended.push(`${job.name}:${job.connectionId}#${job.attempt ?? 1}=${outcome}`);
          if (ended.length > 8) ended.shift();
        }
      }, processOptions);
    },
    describe() {
      const now = Date.now();
      const jobs = [...running.values()].map(({ job, since }) => `${job.name}:${job.connectionId}(${String(job.data?.reason ?? '')}) for ${now - since} ms`);
      return `running [${jobs.join(', ')}], waiting ${inner.waiting}, virtual clock +${Math.round(clock.skipped / 1000)} s, last ended [${ended.join(', ')}]`;
    },
  };
}
