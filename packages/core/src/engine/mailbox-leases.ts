// Who may work on a mailbox now. The store's lease keeps two workers (processes) off one mailbox;
// this adds what one engine knows about its own jobs. A job that finds the mailbox held by another
// job of this engine waits in memory and is handed the held lease when that job ends: no release
// and re-acquire, no lease-busy retry, no store round trip, and no gap in which a third job could
// slip in. Real-time work (sync, resync, renew, recreate) is handed the lease before back-fill, so
// history never delays a push by more than the page already running.
import { ThreadlinkError, toThreadlinkError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Job } from '../ports/job-queue.js';
import type { MetadataStore, PushLease, SyncContext, SyncLeaseRequest, SyncLeaseResult } from '../ports/metadata-store.js';
import type { Clock } from '../util/clock.js';
import { groupCommit } from '../util/group-commit.js';
import { covers } from './sync-scope.js';

/** How long a job refused by another process's lease waits before it is run again. */
export const LEASE_BUSY_RETRY_MS = 250;

/**
 * How long a job waits in memory for a lease held by this engine before it gives its worker slot
 * back and is retried like a refused one. A Gmail back-fill page at quota pace takes ~2 s; a
 * resync of a large mailbox can take minutes, and a waiter must not pin a worker slot that long.
 */
const LOCAL_WAIT_MS = 5_000;

/**
 * How long a lease intake took with a push's claim (`reserve`) waits for a job of its mailbox to
 * start here. The job was queued to start at once; if it does not (coalesced into a job that is
 * covered, a queue that filled up meanwhile), the lease goes back so no other instance waits long.
 */
const RESERVATION_MS = 2_000;

/** A job's hold on its connection lease, renewed in the background until the chain of jobs ends. */
export interface HeldLease {
  /** Throws LEASE_LOST when a renewal found the lease expired or taken: never commit then. */
  check(): void;
  readonly lost: boolean;
  stop(): void;
}

/** The lease as one job holds it; handed on unchanged (same owner, same heartbeat) to a waiting job. */
export interface MailboxHold {
  readonly connectionId: string;
  readonly key: string;
  readonly owner: string;
  readonly lease: HeldLease;
  /**
   * The connection with its policies, read by the statement that took the store's lease (null: the
   * connection is gone). Undefined for a hold handed over from another job: that job read it.
   */
  readonly context?: SyncContext | null;
}

interface Waiter {
  job: Job;
  settle(hold: MailboxHold | null): void;
  /** Asks for the lease again, as a new job would. */
  retry(): void;
}

interface LocalHold {
  key: string;
  owner: string;
  /** Null while the store is still being asked. */
  lease: HeldLease | null;
  waiters: Waiter[];
  /** The store's lease went with the job's last commit (`releaseWithCommit`): nothing left to hand over. */
  released: boolean;
  /**
   * A lease intake takes with a push's claim (`reserve`): 'pending' while the claim is in flight,
   * then, once taken, the context the claim read, held for the next job of the mailbox to start.
   */
  reservation?: 'pending' | { context: SyncContext | null; timer: ReturnType<typeof setTimeout> } | undefined;
}

export interface MailboxLeaseDeps {
  store: MetadataStore;
  clock: Clock;
  logger: Logger;
  leaseTtlMs: number;
  /** This engine's name; each chain of jobs holding a lease gets its own owner under it. */
  owner: string;
  signal: AbortSignal;
}

/** `covered`: an equal job already waits for the lease and will do this one's work (like the queue's coalescing). `busy`: retry later. */
export type LeaseOutcome = MailboxHold | 'covered' | 'busy';

const isRealTime = (job: Job): boolean => job.name !== 'backfill';

/**
 * The connection a push's claim read with its lease, for the sync job that push queued. Another
 * job taking the reserved lease (a back-fill page, a renewal) was queued by something else, maybe
 * by a change made after the claim's read (the connect flow moving `connecting` to `backfilling`):
 * it reads the connection afresh, as a job handed a lease does; so does a sync whose claim read a
 * connection still `connecting` (it may have finished connecting since).
 */
const reservedContext = (job: Job, context: SyncContext | null): { context?: SyncContext | null } =>
  job.name === 'sync' && context?.connection.status !== 'connecting' ? { context } : {};

export const connectionLeaseKey = (connectionId: string): string => `connection:${connectionId}`;

export class MailboxLeases {
  private readonly holds = new Map<string, LocalHold>();
  private sequence = 0;
  /** Jobs starting together take their leases (with their sync context) in one store statement. */
  private readonly acquire: (request: SyncLeaseRequest) => Promise<{ acquired: boolean; context: SyncContext | null }>;

  constructor(private readonly deps: MailboxLeaseDeps) {
    this.acquire = groupCommit((requests: SyncLeaseRequest[]) => deps.store.acquireSyncLeases(requests));
    // A stopping engine starts no more jobs: leases taken for jobs that will not come go back now.
    deps.signal.addEventListener(
      'abort',
      () => {
        for (const [connectionId, local] of this.holds) if (typeof local.reservation === 'object') this.giveBack(connectionId, local);
      },
      { once: true },
    );
  }

  /**
   * For webhook intake, whose push claim can take the mailbox's lease in its own statement
   * (`PushClaim.lease`) for the sync job it queues to start here at once: the lease to ask for,
   * or null when a job of this engine already holds or waits for the mailbox. Registered at once,
   * so a job that starts before the claim is answered waits for the answer (`settleReservation`).
   */
  reserve(connectionId: string): PushLease | null {
    if (this.holds.has(connectionId) || this.deps.signal.aborted) return null;
    const hold = this.register(connectionId);
    hold.reservation = 'pending';
    return { key: hold.key, owner: hold.owner, ttlMs: this.deps.leaseTtlMs };
  }

  /**
   * The claim's answer for `reserve`'s lease (undefined: the claim was lost or failed, or the store
   * took no lease). Taken: handed to a job that came to wait meanwhile, or held for the next one to
   * start (for RESERVATION_MS at most). Not taken: jobs that came to wait ask the store themselves.
   */
  settleReservation(connectionId: string, owner: string, result: SyncLeaseResult | undefined): void {
    const local = this.holds.get(connectionId);
    if (!local || local.owner !== owner) {
      // Not registered (cannot happen through reserve): never leave a taken lease behind.
      if (result?.acquired) void this.releaseQuietly(connectionLeaseKey(connectionId), owner);
      return;
    }
    if (local.reservation !== 'pending') return;
    if (!result?.acquired) {
      // Nothing taken, nothing to give back: the chain ends here.
      this.holds.delete(connectionId);
      for (const waiter of local.waiters.splice(0)) waiter.retry();
      return;
    }
    if (this.deps.signal.aborted) {
      this.giveBack(connectionId, local);
      return;
    }
    local.lease = this.heartbeat(local.key, local.owner);
    const next = local.waiters.find((waiter) => isRealTime(waiter.job)) ?? local.waiters[0];
    if (next) {
      local.reservation = undefined;
      local.waiters.splice(local.waiters.indexOf(next), 1);
      next.settle({ connectionId, key: local.key, owner: local.owner, lease: local.lease, ...reservedContext(next.job, result.context) });
      return;
    }
    const timer = setTimeout(() => this.cancelReservation(connectionId, owner), RESERVATION_MS);
    timer.unref?.();
    local.reservation = { context: result.context, timer };
  }

  /** Intake could not queue the job the reservation was for: its lease, if taken and unused, goes back. */
  cancelReservation(connectionId: string, owner: string): void {
    const local = this.holds.get(connectionId);
    if (!local || local.owner !== owner) return;
    if (local.reservation === 'pending') this.settleReservation(connectionId, owner, undefined);
    else if (local.reservation) this.giveBack(connectionId, local);
  }

  /** A new chain of jobs on the mailbox, registered here before the store is asked for its lease. */
  private register(connectionId: string): LocalHold {
    const hold: LocalHold = {
      key: connectionLeaseKey(connectionId),
      owner: `${this.deps.owner}:${(this.sequence += 1)}`,
      lease: null,
      waiters: [],
      released: false,
    };
    this.holds.set(connectionId, hold);
    return hold;
  }

  /** An unused reservation's lease back to the store; a job waiting for it (none, normally) asks afresh. */
  private giveBack(connectionId: string, local: LocalHold): void {
    if (typeof local.reservation === 'object') clearTimeout(local.reservation.timer);
    local.reservation = undefined;
    this.holds.delete(connectionId);
    local.lease?.stop();
    void this.releaseQuietly(local.key, local.owner);
    for (const waiter of local.waiters.splice(0)) waiter.retry();
  }

  private async releaseQuietly(key: string, owner: string): Promise<void> {
    try {
      await this.deps.store.releaseLease(key, owner);
    } catch (error) {
      // Expiry is the backstop: the lease frees itself one TTL later.
      this.deps.logger.warn('could not release an unused lease', { key, code: toThreadlinkError(error).code });
    }
  }

  /**
   * The lease `hold` names, for the job's last commit to release (`SyncBatch.releaseLease`: one
   * transaction less per job), or undefined when a job of this engine waits for the hold (it is
   * handed the lease instead) or the hold is not this engine's current one.
   */
  releaseWithCommit(hold: MailboxHold): { key: string; owner: string } | undefined {
    const local = this.holds.get(hold.connectionId);
    if (!local || local.owner !== hold.owner || local.waiters.length > 0 || this.deps.signal.aborted) return undefined;
    return { key: hold.key, owner: hold.owner };
  }

  /** The commit that carried `releaseWithCommit`'s lease succeeded: the store's lease is gone. */
  releasedWithCommit(hold: MailboxHold): void {
    const local = this.holds.get(hold.connectionId);
    if (local && local.owner === hold.owner) local.released = true;
    hold.lease.stop();
  }

  async obtain(job: Job): Promise<LeaseOutcome> {
    const connectionId = job.connectionId;
    const local = this.holds.get(connectionId);
    if (local && typeof local.reservation === 'object' && local.lease) {
      // The lease intake took with this mailbox's push claim, and the connection read with it.
      const { context, timer } = local.reservation;
      clearTimeout(timer);
      local.reservation = undefined;
      return { connectionId, key: local.key, owner: local.owner, lease: local.lease, ...reservedContext(job, context) };
    }
    if (local) return this.waitFor(local, job);
    // Registered before the store is asked, so a second job of this engine waits here rather than
    // being refused by the store and retried. The owner names this chain of jobs, not the engine:
    // the store refuses a live lease to its own owner too, and jobs of one engine must not share it.
    const hold = this.register(connectionId);
    let acquired = false;
    let context: SyncContext | null = null;
    try {
      // The connection and its policies come back with the lease: a job's start is one statement.
      ({ acquired, context } = await this.acquire({ key: hold.key, owner: hold.owner, ttlMs: this.deps.leaseTtlMs, now: this.deps.clock.now(), connectionId }));
    } finally {
      if (!acquired) this.abandon(connectionId, hold);
    }
    if (!acquired) return 'busy';
    hold.lease = this.heartbeat(hold.key, hold.owner);
    return { connectionId, key: hold.key, owner: hold.owner, lease: hold.lease, context };
  }

  /** The job holding `hold` is done: hand the lease to the next waiting job, or release it. */
  async letGo(hold: MailboxHold): Promise<void> {
    const local = this.holds.get(hold.connectionId);
    if (!local || local.owner !== hold.owner) {
      // Not tracked (cannot happen through obtain); release what the store holds for this owner.
      hold.lease.stop();
      await this.deps.store.releaseLease(hold.key, hold.owner);
      return;
    }
    if (local.released) {
      // The last commit released the store's lease; a job that came to wait meanwhile asks the
      // store afresh (the mailbox is free unless another process just took it).
      this.holds.delete(hold.connectionId);
      for (const waiter of local.waiters.splice(0)) waiter.retry();
      return;
    }
    const next = local.waiters.find((waiter) => isRealTime(waiter.job)) ?? local.waiters[0];
    if (next && !hold.lease.lost && !this.deps.signal.aborted) {
      local.waiters.splice(local.waiters.indexOf(next), 1);
      next.settle({ connectionId: hold.connectionId, key: hold.key, owner: hold.owner, lease: hold.lease });
      return;
    }
    this.holds.delete(hold.connectionId);
    hold.lease.stop();
    try {
      await this.deps.store.releaseLease(hold.key, hold.owner);
    } finally {
      // Only when the lease was lost or the engine stops: whoever holds it now is not ours to wait for.
      for (const waiter of local.waiters.splice(0)) waiter.settle(null);
    }
  }

  private waitFor(local: LocalHold, job: Job): Promise<LeaseOutcome> {
    // An equal job that has not started yet pulls from the stored cursor once it runs, which
    // covers whatever this one was enqueued for — if its scope includes this one's (a sync
    // narrowed to one folder does not cover a push for another).
    if (local.waiters.some((waiter) => covers(waiter.job, job))) return Promise.resolve('covered');
    return new Promise<LeaseOutcome>((resolve) => {
      const leave = (): void => {
        const index = local.waiters.indexOf(waiter);
        if (index >= 0) local.waiters.splice(index, 1);
        waiter.settle(null);
      };
      const timer = setTimeout(leave, LOCAL_WAIT_MS);
      timer.unref?.();
      const finish = (): void => {
        clearTimeout(timer);
        this.deps.signal.removeEventListener('abort', leave);
      };
      const waiter: Waiter = {
        job,
        settle: (hold) => {
          finish();
          resolve(hold ?? 'busy');
        },
        retry: () => {
          finish();
          this.obtain(job).then(resolve, () => resolve('busy'));
        },
      };
      this.deps.signal.addEventListener('abort', leave, { once: true });
      local.waiters.push(waiter);
    });
  }

  private abandon(connectionId: string, local: LocalHold): void {
    if (this.holds.get(connectionId) === local) this.holds.delete(connectionId);
    for (const waiter of local.waiters.splice(0)) waiter.settle(null);
  }

  /**
   * Renews the lease every third of its TTL while the chain of jobs runs. A job may legitimately
   * outlast one TTL (up to maxRoundsPerJob quota-paced pulls, a slow provider); without renewal the
   * lease would expire under it and another worker would pull the same mailbox at the same time. A
   * holder that dies (or an engine that stops) stops renewing, so its mailbox frees up one TTL
   * later. If a renewal finds the lease gone (this process stalled past the TTL), the job must
   * not commit.
   *
   * Real timers, not clock.sleep(): a virtual clock may jump forward on every sleep, and a
   * heartbeat would then race time ahead. Renewals are stamped with clock.now(), so a clock that
   * jumps past the TTL still expires the lease.
   */
  private heartbeat(key: string, owner: string): HeldLease {
    const { store, clock, leaseTtlMs, logger, signal } = this.deps;
    const every = Math.max(1, Math.floor(leaseTtlMs / 3));
    let lost = false;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const schedule = (): void => {
      if (stopped || lost || signal.aborted) return;
      timer = setTimeout(() => {
        if (stopped || signal.aborted) return;
        store.renewLease({ key, owner, ttlMs: leaseTtlMs, now: clock.now() }).then(
          (renewed) => {
            if (!renewed) lost = true;
            schedule();
          },
          (error: unknown) => {
            // A store blip: the next beat tries again, and expiry remains the backstop.
            logger.warn('lease renewal failed', { key, code: toThreadlinkError(error).code });
            schedule();
          },
        );
      }, every);
      timer.unref?.();
    };
    schedule();
    return {
      check() {
        if (lost) throw new ThreadlinkError('LEASE_LOST', 'Lost the connection lease; another worker may hold the mailbox');
      },
      get lost() {
        return lost;
      },
      stop() {
        stopped = true;
        clearTimeout(timer);
      },
    };
  }
}
