// One quota budget per mailbox, shared by every Gmail call this provider makes for it.
//
// Gmail charges each call in quota units and refuses a user's calls past 15,000 units/min, which
// it enforces as a moving average of 250 units/s that allows only short bursts: what gets refused
// is too many units inside about one second, whichever code path sent them
// (developers.google.com/workspace/gmail/api/reference/quota). Pulls, back-fill, watch renewals,
// bodies and replies therefore draw on one budget; separate buckets each pacing "their" share add
// up past the quota (the back-fill bench saw 8 refusals at connect that way).
//
// The budget keeps a ledger of the units it let out over the last second plus ARRIVAL_SLACK_MS,
// and lets a call out only while the ledger plus the call stay within the quota. The slack covers
// requests that leave early and reach Google late (a slower round trip than the next request):
// Google counts arrivals, this side counts departures.
//
// Every unit let out also advances one pace: the rate the ledger can sustain. Live calls (pulls,
// bodies, replies, watch/stop) go first and wait only for the ledger; back-fill takes what remains:
// never while a live call waits, and only when the pace, pushed on by live spending, allows. So back-
// fill yields the units live calls just spent, goes out smoothly (one small batch about every
// BACKFILL_SLICE_MS) instead of filling the window in one go, and its units leave the ledger a few
// at a time: a live call arriving mid-page waits for one slice, not for a page.
//
// A refusal (429, or 403 rateLimitExceeded/userRateLimitExceeded) means Gmail counted more than
// the ledger did — another instance or another app on the same account: every call of the
// mailbox then waits out the Retry-After before the budget lets anything else out.
import type { Clock, ProviderSession } from '@threadlink/core';
import { ThreadlinkError } from '@threadlink/core';
import type { ResolvedGmailOptions } from './options.js';

/** Units per call (developers.google.com/workspace/gmail/api/reference/quota). A batch is charged per part. */
export const UNITS = {
  getProfile: 1,
  'history.list': 2,
  'messages.list': 5,
  'messages.get': 5,
  'messages.send': 100,
  'users.watch': 100,
  'users.stop': 50,
} as const;

export type QuotaOperation = keyof typeof UNITS;

/** `live`: real-time pulls and anything a user waits for. `backfill`: history listings (back-fill, resync). */
export type Priority = 'live' | 'backfill';

/** How much later than its departure a request may reach Google and still be counted in the right second. */
const ARRIVAL_SLACK_MS = 50;
const WINDOW_MS = 1_000 + ARRIVAL_SLACK_MS;
/** Back-fill batches carry about this much of the quota (2 messages.get at 250 units/s). */
const BACKFILL_SLICE_MS = 40;

/** One mailbox's budget as one kind of caller sees it. */
export interface Lane {
  /** messages.get per batch request for this lane. */
  readonly batchSize: number;
  /** Waits until `units` may be spent, then counts them as spent. */
  take(units: number, signal?: AbortSignal): Promise<void>;
  /**
   * Gmail refused a call as over quota: nothing of this mailbox is let out until its Retry-After has
   * passed (without one, for a first backoff step: `retry.baseMs`, 1 s by default).
   */
  refused(retryAfterMs: number | undefined): void;
}

export interface QuotaBudgets {
  lane(session: ProviderSession, priority: Priority): Lane;
}

interface Limits {
  /** Units per window for everything (the quota). */
  units: number;
  /** Units per window back-fill may bring the ledger up to. */
  backfillUnits: number;
  /** The mailbox's pace in units per ms, and how far ahead of it one back-fill batch may run. */
  perMs: number;
  backfillAheadMs: number;
}

interface Waiter {
  units: number;
  grant(): void;
}

interface Spent {
  at: number;
  units: number;
}

class MailboxBudget {
  private readonly spent: Spent[] = [];
  private inWindow = 0;
  private pausedUntil = 0;
  /** When the pace allows the next units (a virtual-scheduling token bucket that only back-fill waits for). */
  private paceDueAt = 0;
  private readonly waiting: Record<Priority, Waiter[]> = { live: [], backfill: [] };
  private wake: { at: number; cancel: AbortController } | undefined;

  constructor(
    private readonly limits: Limits,
    private readonly clock: Clock,
  ) {}

  take(units: number, priority: Priority, signal?: AbortSignal): Promise<void> {
    if (units <= 0) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(shuttingDown());
    return new Promise<void>((resolve, reject) => {
      const queue = this.waiting[priority];
      const onAbort = (): void => {
        const index = queue.indexOf(waiter);
        if (index >= 0) queue.splice(index, 1);
        reject(shuttingDown());
        this.pump();
      };
      const waiter: Waiter = {
        units,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
      this.pump();
    });
  }

  refused(waitMs: number): void {
    const until = this.clock.now() + Math.max(0, waitMs);
    this.pausedUntil = Math.max(this.pausedUntil, until);
    // No catch-up burst after the pause: back-fill resumes at its pace from there.
    this.paceDueAt = Math.max(this.paceDueAt, this.pausedUntil);
    this.pump();
  }

  /** Lets out every waiter that may go now, in priority order; sleeps until the first that may not. */
  private pump(): void {
    for (;;) {
      const priority: Priority | undefined = this.waiting.live.length > 0 ? 'live' : this.waiting.backfill.length > 0 ? 'backfill' : undefined;
      if (priority === undefined) {
        this.wake?.cancel.abort();
        this.wake = undefined;
        return;
      }
      const waiter = this.waiting[priority][0]!;
      const now = this.clock.now();
      const readyAt = this.readyAt(waiter.units, priority, now);
      if (readyAt > now) {
        this.sleepUntil(readyAt, now);
        return;
      }
      this.waiting[priority].shift();
      this.spent.push({ at: now, units: waiter.units });
      this.inWindow += waiter.units;
      this.paceDueAt = Math.max(this.paceDueAt, now) + waiter.units / this.limits.perMs;
      waiter.grant();
    }
  }

  private readyAt(units: number, priority: Priority, now: number): number {
    this.expire(now);
    const limit = priority === 'live' ? this.limits.units : this.limits.backfillUnits;
    // A call larger than the whole window can only wait for an empty one.
    const need = Math.min(units, limit);
    let at = Math.max(now, this.pausedUntil, this.windowFreeAt(need, limit));
    if (priority === 'backfill') at = Math.max(at, this.paceDueAt - this.limits.backfillAheadMs);
    return at;
  }

  /** When enough of the ledger will have left the window for `need` more units to fit under `limit`. */
  private windowFreeAt(need: number, limit: number): number {
    let remaining = this.inWindow;
    if (remaining + need <= limit) return 0;
    for (const entry of this.spent) {
      remaining -= entry.units;
      if (remaining + need <= limit) return entry.at + WINDOW_MS;
    }
    return 0;
  }

  private expire(now: number): void {
    while (this.spent.length > 0 && this.spent[0]!.at + WINDOW_MS <= now) {
      this.inWindow -= this.spent.shift()!.units;
    }
  }

  /** One pending wake-up at a time; a sooner one replaces it (a live call arriving behind back-fill). */
  private sleepUntil(at: number, now: number): void {
    if (this.wake && this.wake.at <= at) return;
    this.wake?.cancel.abort();
    const wake = { at, cancel: new AbortController() };
    this.wake = wake;
    void this.clock.sleep(Math.ceil(at - now), wake.cancel.signal).then(() => {
      if (this.wake !== wake) return;
      this.wake = undefined;
      this.pump();
    });
  }
}

function shuttingDown(): ThreadlinkError {
  return new ThreadlinkError('SHUTTING_DOWN', 'The Gmail call was cancelled while it waited for quota', { details: { provider: 'gmail' } });
}

export function createQuotaBudgets(options: ResolvedGmailOptions): QuotaBudgets {
  const quota = options.quotaUnitsPerSecond;
  const backfillUnits = quota * options.backfillQuotaShare;
  const backfillBatch = Math.max(1, Math.min(options.batchSize, Math.floor((backfillUnits * BACKFILL_SLICE_MS) / 1_000 / UNITS['messages.get'])));
  const perMs = backfillUnits / WINDOW_MS;
  const limits: Limits = {
    units: quota,
    backfillUnits,
    // The pace the ledger can sustain, so back-fill never has to stop and wait for a whole window.
    perMs,
    backfillAheadMs: (backfillBatch * UNITS['messages.get']) / perMs,
  };
  const batchSize: Record<Priority, number> = {
    // A live pull is committed as a whole, so only its last batch matters: big batches, few round trips.
    live: Math.max(1, Math.min(options.batchSize, Math.floor(quota / UNITS['messages.get']))),
    backfill: backfillBatch,
  };
  // Keyed by mailbox, not connection: two connections of one Gmail account share its quota. The
  // clock is the engine's (the same for every session); a session's abort signal is not captured.
  const budgets = new Map<string, MailboxBudget>();
  const budgetFor = (session: ProviderSession): MailboxBudget => {
    const mailbox = session.connection.accountEmail.toLowerCase();
    let budget = budgets.get(mailbox);
    if (!budget) {
      budget = new MailboxBudget(limits, session.clock);
      budgets.set(mailbox, budget);
    }
    return budget;
  };
  return {
    lane(session, priority) {
      const budget = budgetFor(session);
      return {
        batchSize: batchSize[priority],
        take: (units, signal) => budget.take(units, priority, signal),
        refused: (retryAfterMs) => budget.refused(retryAfterMs ?? options.retry.baseMs ?? 1_000),
      };
    },
  };
}
