// The batched calls that keep a synced message at about two transactions (issue 21): sync leases
// with their context, several push claims in one write, the page's thread links computed inside
// applySync, and the job's lease released by its last commit.
import { describe, expect, it } from 'vitest';
import { TenantPolicy, type Connection, type StoredMessage, type SyncBatch } from '@threadlink/core/store';
import { expectError, type ConformanceContext } from '../context.js';
import { makeConnection, makeLink, makeManualLink, makeMessage, makeRecord, uniqueId } from '../fixtures.js';

/** A batch that only moves the cursor from history-1 to history-2 and lets `owner`'s lease `key` go with it. */
const cursorAndLetGo = (key: string, owner: string): SyncBatch => ({
  upserts: [],
  deletes: [],
  links: [],
  cursor: 'history-2',
  expectedCursor: 'history-1',
  releaseLease: { key, owner },
});

export function syncRoundTripCases(t: ConformanceContext): void {
  /** A connection with a tenant policy saved, and another whose lease 'engine-b' holds from time 0 for `ttlMs`. */
  async function policedAndHeld(ttlMs: number): Promise<{ connection: Connection; held: Connection }> {
    const connection = makeConnection();
    await t.store.saveConnection(connection);
    await t.store.savePolicy(connection.tenantId, null, TenantPolicy.parse({ exclude: ['*.hr.example.com'] }));
    const held = makeConnection();
    await t.store.saveConnection(held);
    expect(await t.store.acquireLease({ key: `connection:${held.id}`, owner: 'engine-b', now: 0, ttlMs })).toBe(true);
    return { connection, held };
  }

  describe('acquireSyncLeases', () => {
    const request = (connectionId: string, owner: string, now: number, key = `connection:${connectionId}`) => ({ key, owner, now, ttlMs: 1_000, connectionId });

    it('takes each free lease with its connection and policies, refuses live ones, and answers in the order asked', async () => {
      const { connection, held: busy } = await policedAndHeld(1_000);
      const gone = uniqueId('gone');
      const results = await t.store.acquireSyncLeases([
        request(busy.id, 'engine-a', 10),
        request(connection.id, 'engine-a', 10),
        request(gone, 'engine-a', 10),
      ]);
      expect(results).toEqual([
        { acquired: false, context: null },
        { acquired: true, context: await t.store.getSyncContext(connection.id) },
        { acquired: true, context: null },
      ]);
      expect(results[1]?.context?.policies.tenant).not.toBeNull();
      // Held now, by the owner it named: not re-entrant, released by that owner only.
      expect(await t.store.acquireLease({ key: `connection:${connection.id}`, owner: 'engine-a', now: 20, ttlMs: 1_000 })).toBe(false);
      expect(await t.store.renewLease({ key: `connection:${connection.id}`, owner: 'engine-a', now: 20, ttlMs: 1_000 })).toBe(true);
      // Expired: taken over, as acquireLease does.
      expect(await t.store.acquireSyncLeases([request(busy.id, 'engine-a', 1_000)])).toEqual([
        { acquired: true, context: await t.store.getSyncContext(busy.id) },
      ]);
      expect(await t.store.acquireSyncLeases([])).toEqual([]);
    });

    it('grants one key asked twice in one call, or by concurrent calls, to exactly one request', async () => {
      const connection = makeConnection();
      await t.store.saveConnection(connection);
      const twice = await t.store.acquireSyncLeases([request(connection.id, 'engine-a', 0), request(connection.id, 'engine-b', 0)]);
      expect(twice.map((result) => result.acquired)).toEqual([true, false]);
      const other = makeConnection();
      await t.store.saveConnection(other);
      const concurrent = await Promise.all(Array.from({ length: 6 }, (_, index) => t.store.acquireSyncLeases([request(other.id, `engine-${index}`, 0)])));
      expect(concurrent.flat().filter((result) => result.acquired)).toHaveLength(1);
    });
  });

  describe('claimPushes', () => {
    it('claims several pushes in one call as claimPush does each, the same key twice won once, the latest lastPushAt recorded', async () => {
      const connection = makeConnection();
      await t.store.saveConnection(connection);
      await t.store.patchConnection(connection.id, { health: { lastSyncAt: 5_000 } });
      const key = (name: string) => `notification:gmail:${connection.id}:${uniqueId(name)}`;
      const [first, second, taken] = [key('a'), key('b'), key('c')];
      expect(await t.store.claimOnce(taken, 100_000, 0)).toBe(true);
      const push = (claimKey: string, at: number | null) => ({ key: claimKey, expiresAt: 100_000, now: 10_000, connectionId: connection.id, lastPushAt: at });
      expect(await t.store.claimPushes([push(first, 10_000), push(taken, 30_000), push(second, 12_000), push(first, 20_000)])).toEqual([
        true,
        false,
        true,
        false,
      ]);
      expect((await t.store.getConnection(connection.id))!.health).toMatchObject({ lastPushAt: 12_000, lastSyncAt: 5_000 });
      // Redeliveries: lost, and nothing recorded.
      expect(await t.store.claimPushes([push(second, 40_000), push(key('d'), null)])).toEqual([false, true]);
      expect((await t.store.getConnection(connection.id))!.health.lastPushAt).toBe(12_000);
      expect(await t.store.claimPushes([])).toEqual([]);
      // A connection that is gone: the claim is still taken.
      expect(await t.store.claimPushes([{ ...push(key('e'), 1), connectionId: uniqueId('gone') }])).toEqual([true]);
    });

    it("claimPushesForAccounts (when the store has it): the claims as claimPushes takes them, and each account's connections that take pushes, read with them", async (context) => {
      const claimPushesForAccounts = t.store.claimPushesForAccounts?.bind(t.store);
      if (!claimPushesForAccounts) return context.skip();
      const address = `${uniqueId('shared')}@mail.example.com`;
      // Two tenants' connections of one address, one of it reconnecting, one disconnected, one Outlook account of the same address.
      const [first, second, reauth, gone] = [
        makeConnection({ accountEmail: address }),
        makeConnection({ accountEmail: address, status: 'backfilling' }),
        makeConnection({ accountEmail: address, status: 'needs_reauth' }),
        makeConnection({ accountEmail: address, status: 'disconnected' }),
      ];
      const outlook = makeConnection({ accountEmail: address, provider: 'outlook' });
      const connecting = makeConnection({ accountEmail: address, status: 'connecting' });
      for (const connection of [first, second, reauth, gone, outlook, connecting]) await t.store.saveConnection(connection);
      const other = makeConnection();
      await t.store.saveConnection(other);
      const claimKey = `notification:gmail:${first.id}:${uniqueId('push')}`;
      const push = { key: claimKey, expiresAt: 100_000, now: 10_000, connectionId: first.id, lastPushAt: 10_000 };
      const answer = await claimPushesForAccounts(
        [push, push],
        [
          { provider: 'gmail', accountEmail: address.toUpperCase() },
          { provider: 'gmail', accountEmail: other.accountEmail },
          { provider: 'gmail', accountEmail: `${uniqueId('nobody')}@mail.example.com` },
        ],
      );
      expect(answer.won).toEqual([true, false]);
      expect(answer.connectionIds).toEqual([[first.id, second.id, connecting.id].sort(), [other.id], []]);
      expect((await t.store.getConnection(first.id))!.health.lastPushAt).toBe(10_000);
      // A redelivery loses its claim and still reads the account.
      expect(await claimPushesForAccounts([push], [{ provider: 'outlook', accountEmail: address }])).toEqual({ won: [false], connectionIds: [[outlook.id]] });
      expect(await claimPushesForAccounts([], [])).toEqual({ won: [], connectionIds: [] });
    });

    it('claimPushesForAccounts (when the store has it): a won claim takes the lease it carries, with its connection and policies, in the same transaction', async (context) => {
      const claimPushesForAccounts = t.store.claimPushesForAccounts?.bind(t.store);
      if (!claimPushesForAccounts) return context.skip();
      const { connection, held } = await policedAndHeld(1_000_000);
      const lease = (connectionId: string, owner: string) => ({ key: `connection:${connectionId}`, owner, ttlMs: 60_000 });
      const push = (connectionId: string, withLease?: string) => ({
        key: `notification:gmail:${connectionId}:${uniqueId('push')}`,
        expiresAt: 100_000,
        now: 10_000,
        connectionId,
        lastPushAt: 10_000,
        ...(withLease ? { lease: lease(connectionId, withLease) } : {}),
      });
      const first = push(connection.id, 'engine-a:1');
      const gone = uniqueId('gone');
      const answer = await claimPushesForAccounts([first, push(held.id, 'engine-a:2'), push(connection.id), push(gone, 'engine-a:3')], []);
      expect(answer.won).toEqual([true, true, true, true]);
      // Taken with the connection as acquireSyncLeases reads it; refused where another owner holds it; none asked, none answered.
      expect(answer.leases?.[0]).toMatchObject({ acquired: true, context: { connection: { id: connection.id, cursor: connection.cursor } } });
      expect(answer.leases?.[0]?.context?.policies.tenant).toMatchObject({ exclude: ['*.hr.example.com'] });
      expect(answer.leases?.[1]).toEqual({ acquired: false, context: null });
      expect(answer.leases?.[2]).toBeUndefined();
      expect(answer.leases?.[3]).toEqual({ acquired: true, context: null });
      // Held for the claim's owner now: refused to anyone else until released.
      const asked = { key: `connection:${connection.id}`, owner: 'engine-c', now: 10_001, ttlMs: 1_000, connectionId: connection.id };
      expect(await t.store.acquireSyncLeases([asked])).toEqual([{ acquired: false, context: null }]);
      // A redelivery loses its claim and takes no lease, even a free one.
      await t.store.releaseLease(`connection:${connection.id}`, 'engine-a:1');
      const again = await claimPushesForAccounts([{ ...first, lease: lease(connection.id, 'engine-a:4') }], []);
      expect(again).toEqual({ won: [false], connectionIds: [], leases: [{ acquired: false, context: null }] });
      expect(await t.store.acquireSyncLeases([asked])).toMatchObject([{ acquired: true }]);
      // Without any lease asked, the answer has no leases.
      expect(await claimPushesForAccounts([push(connection.id)], [])).toEqual({ won: [true], connectionIds: [] });
    });

    it('takes concurrent batches naming the same mailboxes in other orders and subsets without failing (instances, one burst)', {
      timeout: 30_000,
    }, async () => {
      // Several instances' group commits of one burst, each recording pushes in its own subset of the
      // mailboxes in its own order. Row locks taken in whatever order the statement's join produced
      // deadlocked (40P01: a 503 to Pub/Sub) once two batches met on two mailboxes in opposite orders.
      const connections = Array.from({ length: 24 }, () => makeConnection());
      for (const connection of connections) await t.store.saveConnection(connection);
      let seed = 7;
      const random = (): number => {
        seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
        return seed / 2_147_483_648;
      };
      const subset = (): typeof connections => connections.filter(() => random() < 0.6).sort(() => random() - 0.5);
      let last = 0;
      for (let round = 0; round < 80; round += 1) {
        const batches = Array.from({ length: 6 }, (_, side) =>
          subset().map((connection) => ({
            key: `notification:gmail:${connection.id}:${side}-${round}`,
            expiresAt: 100_000,
            now: 10_000,
            connectionId: connection.id,
            lastPushAt: 10_000 + round,
          })),
        );
        const results = await Promise.all(batches.map((claims) => t.store.claimPushes(claims)));
        expect(results.flat().every(Boolean)).toBe(true);
        last = 10_000 + round;
      }
      const recorded = await Promise.all(connections.map(async (connection) => (await t.store.getConnection(connection.id))!.health.lastPushAt));
      expect(Math.max(...recorded.map((at) => at ?? 0))).toBe(last);
    });
  });

  describe('applySync in one write', () => {
    it('computes linksFromThreads from the stored threads of this connection read before the write, and applies them as batch links', async () => {
      const connection = makeConnection();
      await t.store.saveConnection(connection);
      const project = makeRecord('project');
      const client = makeRecord('client');
      const root = makeMessage(connection, { receivedAt: 1_000 });
      await t.store.applySync(connection.id, { upserts: [root], deletes: [], links: [makeLink(root, project, { rule: 'reference' })] });
      await t.store.saveManualLink(connection.tenantId, makeManualLink(root, client));
      // The same thread id in another connection of the tenant is not this mailbox's thread.
      const other = makeConnection({ tenantId: connection.tenantId });
      await t.store.saveConnection(other);
      const foreign = makeMessage(other, { threadId: root.threadId });
      await t.store.applySync(other.id, { upserts: [foreign], deletes: [], links: [] });

      const reply = makeMessage(connection, { threadId: root.threadId, receivedAt: 2_000 });
      const fresh = makeMessage(connection, { receivedAt: 3_000 });
      let seen: StoredMessage[] = [];
      const result = await t.store.applySync(connection.id, {
        upserts: [reply, fresh],
        deletes: [],
        links: [makeLink(fresh, client)],
        linksFromThreads: {
          threadIds: [root.threadId, fresh.threadId],
          build: (stored) => {
            seen = stored;
            return stored.flatMap((message) => message.links.map((link) => makeLink(reply, link.record, { rule: 'thread', confidence: 0.8 })));
          },
        },
      });
      expect([...result.inserted].sort()).toEqual([reply.id, fresh.id].sort());
      expect(seen.map((message) => message.id)).toEqual([root.id]);
      expect(seen[0]?.links.map((link) => link.record.type).sort()).toEqual(['client', 'project']);
      const stored = await t.store.getMessages(connection.tenantId, [reply.id, fresh.id]);
      expect(stored[0]?.links.map((link) => `${link.record.type}:${link.rule}`).sort()).toEqual(['client:thread', 'project:thread']);
      expect(stored[1]?.links.map((link) => link.record.type)).toEqual(['client']);
    });

    it('refuses built links that are manual or name no upsert, and writes nothing when build throws', async () => {
      const connection = makeConnection();
      await t.store.saveConnection(connection);
      const message = makeMessage(connection);
      const record = makeRecord('client');
      const batch = (build: (stored: StoredMessage[]) => ReturnType<typeof makeLink>[]) => ({
        upserts: [message],
        deletes: [],
        links: [],
        cursor: 'history-2',
        linksFromThreads: { threadIds: [message.threadId], build },
      });
      await expectError(
        t.store.applySync(
          connection.id,
          batch(() => [makeManualLink(message, record)]),
        ),
        'INVALID_INPUT',
      );
      await expectError(
        t.store.applySync(
          connection.id,
          batch(() => [makeLink('msg_elsewhere', record)]),
        ),
        'INVALID_INPUT',
      );
      await expect(
        t.store.applySync(
          connection.id,
          batch(() => {
            throw new Error('matcher failed');
          }),
        ),
      ).rejects.toThrow();
      expect(await t.store.listProviderMessageIds(connection.id)).toEqual([]);
      expect((await t.store.getConnection(connection.id))?.cursor).toBe(connection.cursor);
    });

    it('releases the lease named by releaseLease with the commit, only its owner, and keeps it when the batch is refused', async () => {
      const connection = makeConnection({ cursor: 'history-1' });
      await t.store.saveConnection(connection);
      const key = `connection:${connection.id}`;
      expect(await t.store.acquireLease({ key, owner: 'engine-a', now: 0, ttlMs: 60_000 })).toBe(true);
      const refused = { upserts: [makeMessage(connection)], deletes: [], links: [], expectedCursor: 'history-0', releaseLease: { key, owner: 'engine-a' } };
      await expectError(t.store.applySync(connection.id, refused), 'CURSOR_CONFLICT');
      expect(await t.store.acquireLease({ key, owner: 'engine-b', now: 10, ttlMs: 60_000 })).toBe(false);
      // Another owner's lease is left alone.
      await t.store.applySync(connection.id, { upserts: [], deletes: [], links: [], releaseLease: { key, owner: 'engine-b' } });
      expect(await t.store.acquireLease({ key, owner: 'engine-b', now: 20, ttlMs: 60_000 })).toBe(false);
      await t.store.applySync(connection.id, cursorAndLetGo(key, 'engine-a'));
      expect(await t.store.acquireLease({ key, owner: 'engine-b', now: 30, ttlMs: 60_000 })).toBe(true);
    });
  });

  describe('a page prepared while the provider reads it (prepareSync, when the store has it)', () => {
    /** A mailbox with a linked thread, and the page a push brings into it: a reply in that thread and a new thread. */
    async function pushedPage() {
      const connection = makeConnection({ cursor: 'history-1' });
      await t.store.saveConnection(connection);
      const project = makeRecord('project');
      const root = makeMessage(connection, { receivedAt: 1_000 });
      await t.store.applySync(connection.id, { upserts: [root], deletes: [], links: [makeLink(root, project, { rule: 'reference' })] });
      const key = `connection:${connection.id}`;
      expect(await t.store.acquireLease({ key, owner: 'engine-a', now: 0, ttlMs: 60_000 })).toBe(true);
      const reply = makeMessage(connection, { threadId: root.threadId, receivedAt: 2_000 });
      const fresh = makeMessage(connection, { receivedAt: 3_000 });
      const preview = { threadIds: [root.threadId, fresh.threadId], messages: [reply, fresh].map(({ id, providerMessageId }) => ({ id, providerMessageId })) };
      const batch = (expectedCursor = 'history-1'): SyncBatch => ({
        upserts: [reply, fresh],
        deletes: [],
        links: [],
        cursor: 'history-2',
        expectedCursor,
        releaseLease: { key, owner: 'engine-a' },
        linksFromThreads: {
          threadIds: [root.threadId, fresh.threadId],
          build: (stored) => stored.flatMap((message) => message.links.map((link) => makeLink(reply, link.record, { rule: 'thread', confidence: 0.8 }))),
        },
      });
      // A store may prepare only when no applySync began lately (PostgreSQL: 50 ms): let it be quiet.
      await new Promise((resolve) => setTimeout(resolve, 150));
      return { connection, root, reply, fresh, key, preview, batch };
    }

    it('commits the page as applySync alone would: rows, thread links from the stored thread, cursor and the lease let go', async (context) => {
      const prepareSync = t.store.prepareSync?.bind(t.store);
      if (!prepareSync) return context.skip();
      const { connection, reply, fresh, key, preview, batch } = await pushedPage();
      const prepared = prepareSync(connection.id, preview);
      const result = await t.store.applySync(connection.id, batch(), { prepared });
      prepared?.release();
      expect([...result.inserted].sort()).toEqual([reply.id, fresh.id].sort());
      const stored = await t.store.getMessages(connection.tenantId, [reply.id, fresh.id]);
      expect(stored[0]?.links.map((link) => `${link.record.type}:${link.rule}`)).toEqual(['project:thread']);
      expect(stored[1]?.links).toEqual([]);
      expect((await t.store.getConnection(connection.id))?.cursor).toBe('history-2');
      expect(await t.store.acquireLease({ key, owner: 'engine-b', now: 10, ttlMs: 60_000 })).toBe(true);
    });

    it('refuses a stale cursor through a prepared page as without it, writes nothing, and leaves the row free', async (context) => {
      const prepareSync = t.store.prepareSync?.bind(t.store);
      if (!prepareSync) return context.skip();
      const { connection, root, preview, batch } = await pushedPage();
      const prepared = prepareSync(connection.id, preview);
      await expectError(t.store.applySync(connection.id, batch('history-0'), { prepared }), 'CURSOR_CONFLICT');
      prepared?.release();
      expect(await t.store.listProviderMessageIds(connection.id)).toEqual([root.providerMessageId]);
      // The row is not held: the page with the right cursor commits at once.
      expect((await t.store.applySync(connection.id, batch())).inserted).toHaveLength(2);
    });

    it('commits a page the preview did not cover, a page of another handle, and a page after release, each as without one', async (context) => {
      const prepareSync = t.store.prepareSync?.bind(t.store);
      if (!prepareSync) return context.skip();
      const first = await pushedPage();
      // The preview named only the reply: the new thread was not read for.
      const narrow = prepareSync(first.connection.id, {
        threadIds: [first.root.threadId],
        messages: [{ id: first.reply.id, providerMessageId: first.reply.providerMessageId }],
      });
      expect((await t.store.applySync(first.connection.id, first.batch(), { prepared: narrow })).inserted).toHaveLength(2);
      narrow?.release();
      const second = await pushedPage();
      const released = prepareSync(second.connection.id, second.preview);
      released?.release();
      released?.release();
      expect((await t.store.applySync(second.connection.id, second.batch(), { prepared: released })).inserted).toHaveLength(2);
      const third = await pushedPage();
      const held = prepareSync(third.connection.id, third.preview);
      // Another connection's page commits meanwhile; the held page's own call without its handle does not wait on it.
      expect((await t.store.applySync(third.connection.id, third.batch())).inserted).toHaveLength(2);
      held?.release();
      expect((await t.store.getMessages(third.connection.tenantId, [third.reply.id]))[0]?.links.map((link) => link.rule)).toEqual(['thread']);
    });
  });

  describe('applySync calls made together', () => {
    it('answers calls of several connections made in the same turn each on its own: reads, writes, leases, refusals and failures stay with their call', async () => {
      const project = makeRecord('project');
      // threaded: its page inherits from its stored thread (the read of its own call).
      const threaded = makeConnection({ cursor: 'history-1' });
      // pruned: deletes a stored message (the ids its own deletes removed).
      const pruned = makeConnection({ cursor: 'history-1' });
      // stale: its expectedCursor is behind; refused alone, nothing of it written.
      const stale = makeConnection({ cursor: 'history-5' });
      // quiet: only a cursor and its lease (no read at all), between calls that read.
      const quiet = makeConnection({ cursor: 'history-1' });
      // broken: its thread-link build throws; refused alone, nothing of it written.
      const broken = makeConnection({ cursor: 'history-1' });
      for (const connection of [threaded, pruned, stale, quiet, broken]) await t.store.saveConnection(connection);
      const root = makeMessage(threaded, { receivedAt: 1_000 });
      await t.store.applySync(threaded.id, { upserts: [root], deletes: [], links: [makeLink(root, project, { rule: 'reference' })] });
      const old = makeMessage(pruned, { receivedAt: 1_000 });
      const kept = makeMessage(pruned, { receivedAt: 1_500 });
      await t.store.applySync(pruned.id, { upserts: [old, kept], deletes: [], links: [] });
      const key = `connection:${quiet.id}`;
      expect(await t.store.acquireLease({ key, owner: 'engine-a', now: 0, ttlMs: 60_000 })).toBe(true);

      const reply = makeMessage(threaded, { threadId: root.threadId, receivedAt: 2_000 });
      const late = makeMessage(stale);
      const unbuilt = makeMessage(broken);
      const added = makeMessage(pruned, { receivedAt: 2_000 });
      let threadedRead: StoredMessage[] = [];
      const outcomes = await Promise.allSettled([
        t.store.applySync(threaded.id, {
          upserts: [reply],
          deletes: [],
          links: [],
          cursor: 'history-2',
          expectedCursor: 'history-1',
          linksFromThreads: {
            threadIds: [root.threadId],
            build: (stored) => {
              threadedRead = stored;
              return stored.flatMap((message) => message.links.map((link) => makeLink(reply, link.record, { rule: 'thread', confidence: 0.8 })));
            },
          },
        }),
        t.store.applySync(stale.id, { upserts: [late], deletes: [], links: [], cursor: 'history-9', expectedCursor: 'history-4' }),
        t.store.applySync(quiet.id, cursorAndLetGo(key, 'engine-a')),
        t.store.applySync(pruned.id, { upserts: [added], deletes: [old.providerMessageId], links: [], cursor: 'history-2', expectedCursor: 'history-1' }),
        t.store.applySync(uniqueId('gone'), { upserts: [], deletes: [], links: [], cursor: 'history-2' }),
        t.store.applySync(broken.id, {
          upserts: [unbuilt],
          deletes: [],
          links: [],
          cursor: 'history-2',
          linksFromThreads: {
            threadIds: [unbuilt.threadId],
            build: () => {
              throw new Error('matcher failed');
            },
          },
        }),
      ]);
      const [threadedOutcome, staleOutcome, quietOutcome, prunedOutcome, goneOutcome, brokenOutcome] = outcomes;
      expect(threadedOutcome).toEqual({ status: 'fulfilled', value: { inserted: [reply.id], updated: [], deleted: [] } });
      expect(staleOutcome).toMatchObject({ status: 'rejected', reason: { name: 'ThreadlinkError', code: 'CURSOR_CONFLICT' } });
      expect(quietOutcome).toEqual({ status: 'fulfilled', value: { inserted: [], updated: [], deleted: [] } });
      expect(prunedOutcome).toEqual({ status: 'fulfilled', value: { inserted: [added.id], updated: [], deleted: [old.id] } });
      expect(goneOutcome).toMatchObject({ status: 'rejected', reason: { name: 'ThreadlinkError', code: 'CONNECTION_NOT_FOUND' } });
      expect(brokenOutcome?.status).toBe('rejected');
      expect(await t.store.listProviderMessageIds(broken.id)).toEqual([]);
      expect((await t.store.getConnection(broken.id))?.cursor).toBe('history-1');

      // Each call read its own connection's thread, and its links landed on its own message.
      expect(threadedRead.map((message) => message.id)).toEqual([root.id]);
      expect((await t.store.getMessages(threaded.tenantId, [reply.id]))[0]?.links.map((link) => `${link.record.type}:${link.rule}`)).toEqual([
        'project:thread',
      ]);
      expect((await t.store.listProviderMessageIds(pruned.id)).sort()).toEqual([kept.providerMessageId, added.providerMessageId].sort());
      // Cursors moved where the call was accepted; the refused call wrote nothing.
      expect((await t.store.getConnection(threaded.id))?.cursor).toBe('history-2');
      expect((await t.store.getConnection(pruned.id))?.cursor).toBe('history-2');
      expect((await t.store.getConnection(quiet.id))?.cursor).toBe('history-2');
      expect((await t.store.getConnection(stale.id))?.cursor).toBe('history-5');
      expect(await t.store.listProviderMessageIds(stale.id)).toEqual([]);
      // The quiet call let its lease go with its commit.
      expect(await t.store.acquireLease({ key, owner: 'engine-b', now: 10, ttlMs: 60_000 })).toBe(true);
    });
  });

  describe('listConnections by accountEmails', () => {
    it('answers the connections of any of the addresses, case-insensitively; an empty list finds nothing', async () => {
      const tenantId = uniqueId('tenant');
      const ana = makeConnection({ tenantId, accountEmail: `ana.${uniqueId('a')}@acme.example` });
      const bo = makeConnection({ tenantId, accountEmail: `bo.${uniqueId('b')}@acme.example` });
      const cy = makeConnection({ tenantId, accountEmail: `cy.${uniqueId('c')}@acme.example` });
      for (const connection of [ana, bo, cy]) await t.store.saveConnection(connection);
      const found = await t.store.listConnections({ tenantId, accountEmails: [ana.accountEmail.toUpperCase(), cy.accountEmail, 'nobody@acme.example'] });
      expect(found.map((connection) => connection.id).sort()).toEqual([ana.id, cy.id].sort());
      expect(await t.store.listConnections({ tenantId, accountEmails: [] })).toEqual([]);
    });
  });
}
