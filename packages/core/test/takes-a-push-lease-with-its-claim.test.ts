// Issue 21: webhook intake takes the sync lease of the job a push starts here in the push's claim
// (PushClaim.lease), so a push into a quiet mailbox costs two transactions, not three. MailboxLeases
// keeps that lease for the job (`reserve` / `settleReservation`) and must never strand it: a job
// that starts while the claim is in flight is handed it, one whose claim took nothing asks the store,
// and a lease no job came for goes back after a short wait or when the engine stops.
import { describe, expect, it } from 'vitest';
import { MailboxLeases } from '../src/engine/mailbox-leases.js';
import type { Job } from '../src/ports/job-queue.js';
import type { MetadataStore, SyncContext, SyncLeaseRequest } from '../src/ports/metadata-store.js';

/** The lease calls MailboxLeases makes, on one in-memory table, with every call counted. */
function leaseStore() {
  const leases = new Map<string, { owner: string; expiresAt: number }>();
  const calls: string[] = [];
  const take = (request: { key: string; owner: string; now: number; ttlMs: number }): boolean => {
    const held = leases.get(request.key);
    if (held && held.expiresAt > request.now) return false;
    leases.set(request.key, { owner: request.owner, expiresAt: request.now + request.ttlMs });
    return true;
  };
  const store = {
    async acquireSyncLeases(requests: SyncLeaseRequest[]) {
      calls.push('acquireSyncLeases');
      return requests.map((request) => ({ acquired: take(request), context: null }));
    },
    async releaseLease(key: string, owner: string) {
      calls.push('releaseLease');
      if (leases.get(key)?.owner === owner) leases.delete(key);
    },
    async renewLease() {
      return true;
    },
  } as unknown as MetadataStore;
  return { store, leases, calls, take };
}

const context = (connectionId: string): SyncContext =>
  ({ connection: { id: connectionId, cursor: 'c-1' }, policies: { tenant: null, connection: null } }) as unknown as SyncContext;
const job = (connectionId: string): Job => ({ name: 'sync', connectionId, data: { reason: 'push' } });

describe('a push claim takes the sync lease of the job it starts here', () => {
  const setUp = () => {
    const backing = leaseStore();
    const abort = new AbortController();
    const mailboxes = new MailboxLeases({
      store: backing.store,
      clock: { now: () => Date.now(), sleep: async () => {} },
      logger: { debug() {}, info() {}, warn() {}, error() {} } as never,
      leaseTtlMs: 60_000,
      owner: 'engine-a',
      signal: abort.signal,
    });
    return { ...backing, mailboxes, abort };
  };
  /** What the claim statement does with the reserved lease when its claim is won. */
  const claimTakes = (backing: ReturnType<typeof leaseStore>, lease: { key: string; owner: string; ttlMs: number }, connectionId = 'conn-1') => ({
    acquired: backing.take({ ...lease, now: Date.now() }),
    context: context(connectionId),
  });

  it('hands the lease and the context read with it to the next job, which asks the store nothing; its end releases it', async () => {
    const backing = setUp();
    const lease = backing.mailboxes.reserve('conn-1')!;
    expect(lease).toMatchObject({ key: 'connection:conn-1', ttlMs: 60_000 });
    // One reservation per mailbox: a second push meanwhile claims without a lease.
    expect(backing.mailboxes.reserve('conn-1')).toBeNull();
    backing.mailboxes.settleReservation('conn-1', lease.owner, claimTakes(backing, lease));
    const hold = await backing.mailboxes.obtain(job('conn-1'));
    expect(hold).toMatchObject({ owner: lease.owner, context: context('conn-1') });
    expect(backing.calls).toEqual([]);
    if (typeof hold === 'string') throw new Error('no hold');
    hold.lease.check();
    await backing.mailboxes.letGo(hold);
    expect(backing.calls).toEqual(['releaseLease']);
    expect(backing.leases.size).toBe(0);
    // The mailbox is free in this engine too: the next push reserves again.
    expect(backing.mailboxes.reserve('conn-1')).not.toBeNull();
  });

  it('gives another job that takes the lease (a back-fill page) no context: it reads the connection afresh', async () => {
    // The claim's read may predate what queued that job (the connect flow moving `connecting` to
    // `backfilling`): a back-fill page that trusted it skipped its work and never went live.
    const backing = setUp();
    const lease = backing.mailboxes.reserve('conn-1')!;
    backing.mailboxes.settleReservation('conn-1', lease.owner, claimTakes(backing, lease));
    const hold = await backing.mailboxes.obtain({ name: 'backfill', connectionId: 'conn-1' });
    expect(hold).toMatchObject({ owner: lease.owner });
    expect((hold as { context?: unknown }).context).toBeUndefined();
    // Nor a sync whose claim read a connection still connecting.
    const connecting = backing.mailboxes.reserve('conn-2')!;
    const stale = {
      acquired: backing.take({ ...connecting, now: Date.now() }),
      context: { ...context('conn-2'), connection: { id: 'conn-2', status: 'connecting' } },
    };
    backing.mailboxes.settleReservation('conn-2', connecting.owner, stale as never);
    expect((await backing.mailboxes.obtain(job('conn-2'))) as { context?: unknown }).not.toHaveProperty('context');
    expect(backing.calls).toEqual([]);
  });

  it('hands the lease to a job that started while the claim was in flight', async () => {
    const backing = setUp();
    const lease = backing.mailboxes.reserve('conn-1')!;
    const waiting = backing.mailboxes.obtain(job('conn-1'));
    backing.mailboxes.settleReservation('conn-1', lease.owner, claimTakes(backing, lease));
    expect(await waiting).toMatchObject({ owner: lease.owner, context: context('conn-1') });
    expect(backing.calls).toEqual([]);
  });

  it('lets a waiting job ask the store itself when the claim took no lease (lost, failed, or held elsewhere)', async () => {
    const backing = setUp();
    const lease = backing.mailboxes.reserve('conn-1')!;
    const waiting = backing.mailboxes.obtain(job('conn-1'));
    backing.mailboxes.settleReservation('conn-1', lease.owner, undefined);
    const hold = await waiting;
    expect(backing.calls).toEqual(['acquireSyncLeases']);
    expect(hold).toMatchObject({ key: 'connection:conn-1' });
    expect((hold as { owner: string }).owner).not.toBe(lease.owner);
  });

  it('gives an unused lease back when intake cannot queue the job, when the engine stops, and when no job comes within two seconds', async () => {
    const backing = setUp();
    const first = backing.mailboxes.reserve('conn-1')!;
    backing.mailboxes.settleReservation('conn-1', first.owner, claimTakes(backing, first));
    expect(backing.leases.has('connection:conn-1')).toBe(true);
    backing.mailboxes.cancelReservation('conn-1', first.owner);
    await new Promise((resolve) => setImmediate(resolve));
    expect(backing.leases.has('connection:conn-1')).toBe(false);

    const idle = backing.mailboxes.reserve('conn-2')!;
    backing.mailboxes.settleReservation('conn-2', idle.owner, claimTakes(backing, idle, 'conn-2'));
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    expect(backing.leases.has('connection:conn-2')).toBe(false);
    // The next job of the mailbox takes the lease from the store as usual.
    expect(await backing.mailboxes.obtain(job('conn-2'))).toMatchObject({ key: 'connection:conn-2' });

    const stopping = backing.mailboxes.reserve('conn-3')!;
    backing.mailboxes.settleReservation('conn-3', stopping.owner, claimTakes(backing, stopping, 'conn-3'));
    backing.abort.abort();
    await new Promise((resolve) => setImmediate(resolve));
    expect(backing.leases.has('connection:conn-3')).toBe(false);
    // A stopping engine reserves nothing, and a claim answered after the stop keeps no lease.
    expect(backing.mailboxes.reserve('conn-4')).toBeNull();
  });

  it('returns a lease the claim took after the engine began to stop', async () => {
    const backing = setUp();
    const lease = backing.mailboxes.reserve('conn-1')!;
    backing.abort.abort();
    backing.mailboxes.settleReservation('conn-1', lease.owner, claimTakes(backing, lease));
    await new Promise((resolve) => setImmediate(resolve));
    expect(backing.leases.has('connection:conn-1')).toBe(false);
  });
});
