// Issue 23: a push must never be answered 2xx unless its work was handed on, and a push refused
// after its notification id was claimed must not be taken for a duplicate when it comes back.
//   - The queue fails at enqueue (Redis gone): 503 + Retry-After, the claim is released, and the
//     Pub/Sub redelivery (same messageId) syncs the message once the queue is back.
//   - The in-process queue and stop(): a push that arrives while the instance stops used to be
//     answered 202 into a closed queue and lost; now 503, and the next instance on the same store
//     takes the redelivery.
// Memory store and the real Gmail adapter against the emulator; the safety net never runs here,
// so only the redelivery can bring the message in.
import {
  createMemoryResolver,
  createThreadlink,
  generateSealingKey,
  inProcessQueue,
  type JobQueue,
  type MetadataStore,
  type Threadlink,
  ThreadlinkError,
} from '@threadlink/core';
import { gmailProvider } from '@threadlink/gmail';
import { memoryStore } from '@threadlink/storage-memory';
import { serveWebHandler, startGmailEmulator, type GmailEmulator, type ServedHandler } from '@threadlink/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { expectedGmail } from '../src/ground-truth.js';

const EMAIL = 'ana@acme.test';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

interface Setup {
  google: GmailEmulator;
  store: ReturnType<typeof memoryStore>;
  answers: Array<{ status: number; retryAfter: string | null; code: string | null }>;
  route(tl: Threadlink | undefined): void;
  instance(queue: JobQueue, store?: MetadataStore): Promise<Threadlink>;
}

async function setup(): Promise<Setup> {
  const google = await startGmailEmulator({ notificationIntervalMs: 0, pushRetry: { initialBackoffMs: 50, maxBackoffMs: 200, maxAttempts: 1_000 } });
  cleanups.push(() => google.close());
  const store = memoryStore();
  const answers: Setup['answers'] = [];
  let target: Threadlink | undefined;
  const served: ServedHandler = await serveWebHandler(async (request) => {
    if (!target) return new Response(null, { status: 502 });
    const response = await target.handler(request);
    const text = response.status >= 300 ? await response.clone().text() : '';
    answers.push({ status: response.status, retryAfter: response.headers.get('retry-after'), code: /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? null });
    return response;
  });
  cleanups.push(() => served.close());
  const publicUrl = `${served.url}/threadlink`;
  google.setPushEndpoint({ endpoint: `${publicUrl}/webhooks/gmail` });
  google.addMailbox({ email: EMAIL });
  const sealingKeys = [{ id: 'k1', key: generateSealingKey() }];
  return {
    google,
    store,
    answers,
    route: (tl) => {
      target = tl;
    },
    async instance(queue, instanceStore = store) {
      const tl = createThreadlink({
        store: instanceStore,
        queue,
        providers: [gmailProvider({ ...google.providerOptions, retry: { baseMs: 5, maxMs: 50 } })],
        resolver: createMemoryResolver(),
        sealingKeys,
        publicUrl,
        maintenanceIntervalMs: 0,
        shutdownGraceMs: 1_000,
        retryBackoff: { baseMs: 5, maxMs: 50 },
      });
      cleanups.push(() => tl.stop());
      await tl.start();
      return tl;
    },
  };
}

async function connect(s: Setup, tl: Threadlink) {
  const user = { tenantId: 't-intake', userId: 'user-ana' };
  const { url } = await tl.connect.start({ provider: 'gmail', ...user, loginHint: EMAIL });
  const connection = await tl.connect.complete(new URL(await s.google.authorize(url, { email: EMAIL })), user);
  await tl.idle();
  await s.google.flushNotifications();
  await tl.idle();
  s.answers.length = 0;
  return connection;
}

const synced = async (s: Setup, connectionId: string): Promise<{ missing: number; stored: number }> => {
  const stored = new Set(await s.store.listProviderMessageIds(connectionId));
  const expected = [...expectedGmail(s.google, EMAIL).keys()];
  return { missing: expected.filter((id) => !stored.has(id)).length, stored: stored.size };
};

describe('a push the instance cannot hand on', () => {
  it('queue down at enqueue: 503 + Retry-After, claim released, the redelivery syncs the message', async () => {
    const s = await setup();
    const inner = inProcessQueue({ backoff: { baseMs: 5, maxMs: 50 } });
    let queueDown = false;
    const flaky: JobQueue = {
      name: 'flaky',
      enqueue: (job, options) =>
        queueDown ? Promise.reject(new ThreadlinkError('STORE_ERROR', 'queue unreachable', { retryable: true })) : inner.enqueue(job, options),
      process: (handler, options) => inner.process(handler, options),
      idle: () => inner.idle(),
      close: () => inner.close(),
    };
    const tl = await s.instance(flaky);
    s.route(tl);
    const connection = await connect(s, tl);

    queueDown = true;
    await s.google.deliver({ from: 'buyer@bigco.test', to: EMAIL, subject: 'While the queue is down', text: 'hello' });
    await vi.waitFor(() => expect(s.answers.filter((answer) => answer.status === 503).length).toBeGreaterThanOrEqual(2), { timeout: 10_000, interval: 10 });
    expect(s.answers.filter((answer) => answer.status < 300)).toEqual([]);
    expect(s.answers[0]).toEqual({ status: 503, retryAfter: '5', code: 'STORE_ERROR' });
    expect(await synced(s, connection.id)).toMatchObject({ missing: 1 });

    queueDown = false;
    await s.google.flushNotifications();
    await tl.idle();
    expect(await synced(s, connection.id)).toEqual({ missing: 0, stored: 1 });
  });

  it('in-process queue: a push during stop() gets 503, and the next instance takes its redelivery', async () => {
    const s = await setup();
    const first = await s.instance(inProcessQueue({ backoff: { baseMs: 5, maxMs: 50 } }));
    s.route(first);
    const connection = await connect(s, first);

    const stopping = first.stop();
    expect(await first.health.instance({ tenantId: 't-intake', as: 'admin' })).toMatchObject({ status: 'stopping' });
    await s.google.deliver({ from: 'buyer@bigco.test', to: EMAIL, subject: 'Just before the deploy', text: 'hello' });
    await vi.waitFor(() => expect(s.answers.length).toBeGreaterThanOrEqual(1), { timeout: 10_000, interval: 10 });
    await stopping;
    expect(s.answers[0]).toEqual({ status: 503, retryAfter: '5', code: 'SHUTTING_DOWN' });
    expect(s.answers.filter((answer) => answer.status < 300)).toEqual([]);

    const second = await s.instance(inProcessQueue({ backoff: { baseMs: 5, maxMs: 50 } }));
    s.route(second);
    await s.google.flushNotifications();
    await second.idle();
    expect(await synced(s, connection.id)).toEqual({ missing: 0, stored: 1 });
  });

  it('in-process queue: a push already past the stopping check when stop() closes the queue gets 503, not 202', async () => {
    // The push is verified (its connection looked up) while stop() runs: the stopping check at the
    // door saw a running instance, so only the closed queue's throw stands between it and a 202
    // for work nothing will ever pull. Without that throw this test sees 202 and a missing message.
    const s = await setup();
    let gate: { reached: () => void; open: Promise<void> } | undefined;
    const gated: MetadataStore = {
      ...s.store,
      async listConnections(filter) {
        if (gate && (filter.accountEmail || filter.accountEmails)) {
          gate.reached();
          await gate.open;
        }
        return s.store.listConnections(filter);
      },
    };
    const first = await s.instance(inProcessQueue({ backoff: { baseMs: 5, maxMs: 50 } }), gated);
    s.route(first);
    const connection = await connect(s, first);

    let reached!: () => void;
    const atGate = new Promise<void>((resolve) => {
      reached = resolve;
    });
    let open!: () => void;
    gate = { reached, open: new Promise<void>((resolve) => (open = resolve)) };
    await s.google.deliver({ from: 'buyer@bigco.test', to: EMAIL, subject: 'Verified while the instance stops', text: 'hello' });
    await atGate;
    await first.stop();
    open();
    await vi.waitFor(() => expect(s.answers.length).toBeGreaterThanOrEqual(1), { timeout: 10_000, interval: 10 });
    gate = undefined;
    expect(s.answers[0]).toEqual({ status: 503, retryAfter: '5', code: 'SHUTTING_DOWN' });

    const second = await s.instance(inProcessQueue({ backoff: { baseMs: 5, maxMs: 50 } }));
    s.route(second);
    await s.google.flushNotifications();
    await second.idle();
    expect(await synced(s, connection.id)).toEqual({ missing: 0, stored: 1 });
  });
});
