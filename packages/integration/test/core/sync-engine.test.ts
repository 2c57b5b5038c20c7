import { ThreadlinkError, type MetadataStore } from '@threadlink/core';
import { memoryStore } from '@threadlink/storage-memory';
import { internalsOf } from '@threadlink/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { connectedHarness } from './support/harness.js';
import { scriptedMailbox } from './support/scripted-provider.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

async function storedIds(store: MetadataStore, connectionId: string): Promise<string[]> {
  return (await store.listProviderMessageIds(connectionId)).sort();
}

/** Slows every pull by `delayMs` and records the most pulls ever in flight at once. */
function measureConcurrentPulls(mailbox: ReturnType<typeof scriptedMailbox>, delayMs: number): { readonly max: number } {
  let inFlight = 0;
  const seen = { max: 0 };
  const original = mailbox.provider.pullChanges.bind(mailbox.provider);
  mailbox.provider.pullChanges = async (session, cursor) => {
    inFlight += 1;
    seen.max = Math.max(seen.max, inFlight);
    // The slow pull being modelled (it must overlap whatever else runs), not a wait for something.
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    try {
      return await original(session, cursor);
    } finally {
      inFlight -= 1;
    }
  };
  return seen;
}

describe('sync engine', () => {
  it('goes live on connect and back-fills existing mail with progress', async () => {
    const mailbox = scriptedMailbox();
    for (let index = 0; index < 250; index += 1) mailbox.add({ subject: `old ${index}` });
    const progress: number[] = [];
    const { tl, store, connection } = await connectedHarness({ engine: { backfillPageSize: 100 } }, mailbox);
    stops.push(() => tl.stop());
    tl.on('backfill.progress', (event) => progress.push(event.done));
    expect(await storedIds(store, connection.id)).toEqual(mailbox.ids());
    const after = await tl.connections.get(connection.id, { tenantId: 't1', as: 'admin' });
    expect(after.status).toBe('live');
    expect(after.backfill).toMatchObject({ state: 'done', done: 250 });
    expect('sealedTokens' in after).toBe(false);
  });

  it('coalesces a burst: ten notifications during a running sync cause at most one more pull', async () => {
    const { tl, mailbox, store, connection } = await connectedHarness();
    stops.push(() => tl.stop());
    let release!: () => void;
    mailbox.gate = new Promise<void>((resolve) => (release = resolve));
    mailbox.add({ subject: 'first' });
    const pullsBefore = mailbox.calls.pull;
    await internalsOf(tl).engine.requestSync(connection.id, 'push');
    // The first sync is pulling, held open at the gate: the burst below arrives while it runs.
    await vi.waitFor(() => expect(mailbox.calls.pull).toBe(pullsBefore + 1), { timeout: 5_000, interval: 2 });
    for (let index = 0; index < 10; index += 1) {
      mailbox.add({ subject: `burst ${index}` });
      await internalsOf(tl).engine.requestSync(connection.id, 'push');
    }
    release();
    mailbox.gate = null;
    await tl.idle();
    expect(mailbox.calls.pull - pullsBefore).toBeLessThanOrEqual(2);
    expect(await storedIds(store, connection.id)).toEqual(mailbox.ids());
  });

  it('paces a burst of pushes with a per-mailbox token bucket, and still syncs every message', async () => {
    const burst = async (pushPullsPerSecond: number): Promise<{ pulls: number; elapsedMs: number }> => {
      const { tl, mailbox, store, connection } = await connectedHarness({ engine: { pushPullsPerSecond, pushPullBurst: 2 } });
      stops.push(() => tl.stop());
      const pullsBefore = mailbox.calls.pull;
      const started = Date.now();
      // 30 messages, one push each, 10 ms apart: a 300 ms burst into one mailbox.
      for (let index = 0; index < 30; index += 1) {
        mailbox.add({ subject: `burst ${index}` });
        await internalsOf(tl).engine.requestSync(connection.id, 'push');
        await new Promise((resolve) => setTimeout(resolve, 10)); // the burst's spacing is the traffic under test
      }
      const elapsedMs = Date.now() - started;
      await tl.idle();
      expect(await storedIds(store, connection.id)).toEqual(mailbox.ids());
      return { pulls: mailbox.calls.pull - pullsBefore, elapsedMs };
    };
    const paced = await burst(5);
    const unpaced = await burst(0);
    // Two pulls at once (the bucket), then five a second for as long as the burst lasted (however
    // long a loaded machine stretched it), plus the one that picks up the tail.
    expect(paced.pulls).toBeLessThanOrEqual(2 + Math.ceil((paced.elapsedMs * 5) / 1000) + 1);
    // Unpaced, every push of an idle mailbox pulls at once.
    expect(unpaced.pulls).toBeGreaterThan(paced.pulls * 2);
  });

  it('coalesces a scoped push only into a waiting sync whose scope covers it; other reasons pull everything', async () => {
    const { tl, mailbox, store, connection } = await connectedHarness();
    stops.push(() => tl.stop());
    const scopes: Array<string | null> = [];
    const original = mailbox.provider.pullChanges.bind(mailbox.provider);
    mailbox.provider.pullChanges = async (session, cursor, options) => {
      scopes.push(options?.scope ? options.scope.join(',') : null);
      return original(session, cursor, options);
    };
    let release!: () => void;
    mailbox.gate = new Promise<void>((resolve) => (release = resolve));
    const engine = internalsOf(tl).engine;
    try {
      // Running (held at the gate): a push for the inbox.
      await engine.requestSync(connection.id, 'push', undefined, ['inbox']);
      await vi.waitFor(() => expect(scopes).toHaveLength(1), { timeout: 5_000, interval: 2 });
      mailbox.add({ subject: 'while running' });
      // Waiting (in the queue or for the lease): one inbox job absorbs the repeat; a push for the
      // other folder must not be absorbed by it, nor a push for both by either.
      await engine.requestSync(connection.id, 'push', undefined, ['inbox']);
      await engine.requestSync(connection.id, 'push', undefined, ['inbox']);
      await engine.requestSync(connection.id, 'push', undefined, ['sentitems']);
      await engine.requestSync(connection.id, 'push', undefined, ['sentitems', 'inbox', 'sentitems']);
      await engine.requestSync(connection.id, 'push', undefined, ['inbox', 'sentitems']);
      // A safety-net pull is never narrowed, nor absorbed by a narrowed job.
      await engine.requestSync(connection.id, 'safety-net');
      // Paced pushes sit in the queue for a moment: release only once every one is in the engine.
      const queue = internalsOf(tl).queue as ReturnType<typeof internalsOf>['queue'] & { readonly waiting: number };
      await vi.waitFor(() => expect(queue.waiting).toBe(0), { timeout: 5_000, interval: 2 });
    } finally {
      release();
      mailbox.gate = null;
    }
    await tl.idle();
    expect(scopes[0]).toBe('inbox');
    expect(scopes.slice(1).sort()).toEqual(['inbox', 'inbox,sentitems', 'sentitems', null].sort());
    expect(await storedIds(store, connection.id)).toEqual(mailbox.ids());
  });

  it('replays after a crash between pull and commit: nothing lost, nothing duplicated', async () => {
    const store = memoryStore();
    let crash = true;
    const crashing: MetadataStore = {
      ...store,
      async applySync(connectionId, batch) {
        if (crash && batch.cursor !== undefined && batch.upserts.length > 0) {
          crash = false;
          throw new Error('process killed mid-commit');
        }
        return store.applySync(connectionId, batch);
      },
    };
    const mailbox = scriptedMailbox();
    const first = await connectedHarness({ store: crashing }, mailbox);
    stops.push(() => first.tl.stop());
    const cursorBefore = (await store.getConnection(first.connection.id))!.cursor;
    mailbox.add({ subject: 'arrives during crash' });
    mailbox.add({ subject: 'also during crash' });
    await internalsOf(first.tl).engine.requestSync(first.connection.id, 'push');
    await first.tl.idle();
    // The commit failed as a whole: the cursor did not move past rows that were never written.
    expect((await store.getConnection(first.connection.id))!.cursor).toBe(cursorBefore);
    expect(await storedIds(store, first.connection.id)).toEqual([]);
    await first.tl.stop();

    // A new process on the same store pulls from the stored cursor again.
    const second = await connectedHarness({ store }, mailbox);
    stops.push(() => second.tl.stop());
    await internalsOf(second.tl).engine.requestSync(first.connection.id, 'push');
    await second.tl.idle();
    const ids = await storedIds(store, first.connection.id);
    expect(ids).toEqual(mailbox.ids());
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps a back-fill page when adopting its final cursor loses a compare-and-set race', async () => {
    const store = memoryStore();
    let raced = false;
    const racing: MetadataStore = {
      ...store,
      async applySync(connectionId, batch) {
        if (!raced && batch.cursor !== undefined && batch.connection?.backfill?.state === 'done') {
          raced = true;
          // Another job moved the live cursor between this job's read and its commit.
          await store.patchConnection(connectionId, { cursor: 'moved-by-a-live-sync' });
        }
        return store.applySync(connectionId, batch);
      },
    };
    const mailbox = scriptedMailbox();
    for (let index = 0; index < 3; index += 1) mailbox.add({ subject: `old ${index}` });
    // Subscribe hands out a cursor that differs from the listing's, so the final page tries to adopt.
    const subscribe = mailbox.provider.subscribe.bind(mailbox.provider);
    mailbox.provider.subscribe = async (session) => ({ ...(await subscribe(session)), cursor: '0' });
    const { tl, connection } = await connectedHarness({ store: racing }, mailbox);
    stops.push(() => tl.stop());
    expect(raced).toBe(true);
    expect(await storedIds(store, connection.id)).toEqual(mailbox.ids());
    const after = (await store.getConnection(connection.id))!;
    expect(after.cursor).toBe('moved-by-a-live-sync');
    expect(after.backfill.state).toBe('done');
  });

  it('backs off on retryable errors, honouring Retry-After, then succeeds', async () => {
    const { tl, mailbox, store, connection } = await connectedHarness();
    stops.push(() => tl.stop());
    const errors: string[] = [];
    tl.on('sync.error', (event) => errors.push(`${event.code}:${event.attempt}`));
    mailbox.failPulls.push(new ThreadlinkError('RATE_LIMITED', 'slow down', { retryAfterMs: 60 }), new ThreadlinkError('PROVIDER_UNAVAILABLE', '503'));
    mailbox.add({ subject: 'after throttling' });
    const started = Date.now();
    await internalsOf(tl).engine.requestSync(connection.id, 'push');
    await tl.idle();
    expect(Date.now() - started).toBeGreaterThanOrEqual(60);
    expect(errors).toEqual(['RATE_LIMITED:1', 'PROVIDER_UNAVAILABLE:2']);
    expect(await storedIds(store, connection.id)).toEqual(mailbox.ids());
    expect((await store.getConnection(connection.id))!.health.consecutiveErrors).toBe(0);
  });

  it('resyncs on CURSOR_EXPIRED without losing manual links, and deletes what the provider lost', async () => {
    const mailbox = scriptedMailbox();
    const keep = mailbox.add({ subject: 'kept' });
    const gone = mailbox.add({ subject: 'will be deleted while the cursor is expired' });
    const { tl, store, connection } = await connectedHarness({}, mailbox);
    stops.push(() => tl.stop());
    const kept = (await store.getMessageByProviderId(connection.id, keep))!;
    await tl.matching.link(kept.id, { type: 'project', id: 'p-77', label: 'PRJ-0077' }, { tenantId: 't1', userId: 'u1' });
    mailbox.remove(gone);
    mailbox.add({ subject: 'new while expired' });
    // Every cursor issued so far is now too old (like a Gmail historyId older than a week).
    mailbox.expireBefore = mailbox.position();
    await internalsOf(tl).engine.requestSync(connection.id, 'push');
    await tl.idle();
    expect(mailbox.calls.fullSync).toBeGreaterThanOrEqual(2);
    expect(await storedIds(store, connection.id)).toEqual(mailbox.ids());
    const explained = await tl.matching.explain(kept.id, { tenantId: 't1', as: 'admin' });
    expect(explained.some((link) => link.manual && link.record.id === 'p-77')).toBe(true);
  });

  it('marks a revoked grant needs_reauth once and stops retrying', async () => {
    const { tl, mailbox, store, connection } = await connectedHarness();
    stops.push(() => tl.stop());
    const reauth: string[] = [];
    tl.on('connection.needs_reauth', (event) => reauth.push(event.connection.id));
    mailbox.failPulls.push(new ThreadlinkError('AUTH_REVOKED', 'invalid_grant'));
    await internalsOf(tl).engine.requestSync(connection.id, 'push');
    await tl.idle();
    const pulls = mailbox.calls.pull;
    await internalsOf(tl).engine.requestSync(connection.id, 'push');
    await tl.idle();
    expect(mailbox.calls.pull).toBe(pulls);
    expect(reauth).toEqual([connection.id]);
    expect((await store.getConnection(connection.id))!.status).toBe('needs_reauth');
  });

  it('never syncs one connection from two engines at once (lease)', async () => {
    const store = memoryStore();
    const mailbox = scriptedMailbox();
    const a = await connectedHarness({ store }, mailbox);
    const b = await connectedHarness({ store }, mailbox);
    stops.push(
      () => a.tl.stop(),
      () => b.tl.stop(),
    );
    const pulls = measureConcurrentPulls(mailbox, 5);
    for (let index = 0; index < 20; index += 1) {
      mailbox.add({ subject: `m${index}` });
      await internalsOf((index % 2 ? a : b).tl).engine.requestSync(a.connection.id, 'push');
    }
    await Promise.all([a.tl.idle(), b.tl.idle()]);
    await Promise.all([a.tl.idle(), b.tl.idle()]);
    expect(pulls.max).toBe(1);
    expect(await storedIds(store, a.connection.id)).toEqual(mailbox.ids());
  });

  it('keeps its lease while a job outlives the lease TTL, so a second engine never overlaps it', async () => {
    const store = memoryStore();
    const mailbox = scriptedMailbox();
    const engine = { leaseTtlMs: 90 };
    const a = await connectedHarness({ store, engine }, mailbox);
    const b = await connectedHarness({ store, engine }, mailbox);
    stops.push(
      () => a.tl.stop(),
      () => b.tl.stop(),
    );
    // Each pull lasts three lease lifetimes: without a heartbeat the other engine would take the lease mid-pull.
    const pulls = measureConcurrentPulls(mailbox, 300);
    mailbox.add({ subject: 'slow pull' });
    const first = internalsOf(a.tl).engine.run({ name: 'sync', connectionId: a.connection.id });
    // Time passing is the point: 150 ms is past one lease TTL (90 ms) into the 300 ms pull.
    await new Promise((resolve) => setTimeout(resolve, 150));
    mailbox.add({ subject: 'second' });
    // Past one TTL into the first pull: the second engine must still find the lease held.
    await internalsOf(b.tl).engine.run({ name: 'sync', connectionId: a.connection.id });
    await first;
    await Promise.all([a.tl.idle(), b.tl.idle()]);
    await internalsOf(b.tl).engine.run({ name: 'sync', connectionId: a.connection.id });
    expect(pulls.max).toBe(1);
    expect(await storedIds(store, a.connection.id)).toEqual(mailbox.ids());
  });

  it('maintain() renews due watches and runs the safety-net pull with one scheduler', async () => {
    // Real time plus a jump we control, so the queue's own timers still fire.
    let offset = 0;
    const clock = { now: () => Date.now() + offset, sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.min(ms, 5))) };
    const { tl, mailbox, store, connection } = await connectedHarness({ clock });
    stops.push(() => tl.stop());
    mailbox.add({ subject: 'push was dropped' });
    // Past the watch's renewal time for a mailbox whose push shows no failure: a renewal margin
    // (1 day) before its 7-day expiry, not the adapter's daily renewAt (idle-cadence.ts).
    offset += 6 * 86_400_000 + 3600_000;
    const report = await tl.maintain();
    await tl.idle();
    expect(report.renewals).toBe(1);
    expect(report.pulls).toBe(1);
    expect(mailbox.calls.renew).toBeGreaterThanOrEqual(1);
    expect(await storedIds(store, connection.id)).toEqual(mailbox.ids());
    // Mail that only the safety net found means push is broken: reported, and push re-established.
    const health = await tl.health(connection.id, { tenantId: 't1', as: 'admin' });
    expect(health.verdict).toBe('degraded');
    expect(health.reason).toMatch(/safety-net/);
    // The next real push proves push works again.
    await tl.handler(
      new Request('https://crm.example.test/threadlink/webhooks/gmail', {
        method: 'POST',
        body: JSON.stringify({ account: 'ana@acme.com', id: 'after-renew' }),
      }),
    );
    await tl.idle();
    expect((await tl.health(connection.id, { tenantId: 't1', as: 'admin' })).verdict).toBe('healthy');
  });

  it('reports a mailbox with no push and no sync past the threshold as stalled, and emits it', async () => {
    let offset = 0;
    const clock = { now: () => Date.now() + offset, sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.min(ms, 5))) };
    const { tl, connection } = await connectedHarness({ clock, engine: { stalledAfterMs: 3600_000, safetyNetPullMs: 7 * 86_400_000 } });
    stops.push(() => tl.stop());
    expect((await tl.health(connection.id, { tenantId: 't1', as: 'admin' })).verdict).toBe('healthy');
    offset += 2 * 3600_000;
    const stalled: string[] = [];
    tl.on('connection.stalled', (event) => stalled.push(event.reason));
    const health = await tl.health(connection.id, { tenantId: 't1', as: 'admin' });
    expect(health.verdict).toBe('stalled');
    await tl.maintain();
    expect(stalled).toHaveLength(1);
    expect((await tl.health.all({ tenantId: 't1', as: 'admin' })).map((entry) => entry.verdict)).toEqual(['stalled']);
  });
});
