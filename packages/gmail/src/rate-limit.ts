// One quota budget per mailbox, shared by every Gmail call this provider makes for it.
//
// Gmail charges each call in quota units and refuses a user's calls past 15,000 units/min, which
// it enforces as a moving average of 250 units/s that allows only short bursts: what gets refused
// is too many units inside about one second, whichever code path sent them
// (developers.google.com/workspace/gmail/api/reference/quota). Pulls, back-fill, watch renewals,
// bodies and replies therefore draw on one budget; separate buckets each pacing "their" share add
// up past the quota (the back-fill bench saw 8 refusals at connect that way).
//
// The budget keeps a ledger of the units it let out and lets a call out only while the ledger plus
// the call stay within the quota. Google counts a call in the second after it arrives, and it has
// arrived by the time its answer is back, so an entry leaves the ledger one second after its
// answer: exact whatever the round trip, and a request held up on the way (a busy host, a slow
// network) stays counted as long as Google may still count it.
//
// Every unit let out also advances one pace: the rate the ledger can sustain at the round trips
// seen. Live calls (pulls, bodies, replies, watch/stop) go first and wait only for the ledger;
// back-fill takes what remains: never while a live call waits, and only when the pace, pushed on by
// live spending, allows. So back-fill yields the units live calls just spent, goes out smoothly (one
// small batch about every BACKFILL_SLICE_MS) instead of filling the window in one go, and its units
// leave the ledger a few at a time: a live call arriving mid-page waits for one slice, not a page.
//
// A refusal (429, or 403 rateLimitExceeded/userRateLimitExceeded) means Gmail counted more than
// the ledger did — another instance or another app on the same account: every call of the
// mailbox then waits out the Retry-After before the budget lets anything else out.
import type { Clock, ProviderSession } from '@threadlink/core/provider';
import { ThreadlinkError } from '@threadlink/core/provider';
import type { ResolvedGmailOptions } from './options.js';

/** Units per call (developers.google.com/workspace/gmail/api/reference/quota). A batch is charged per part. */
export const UNITS = {
  getProfile: 1,
  'history.list': 2,
  'labels.list': 1,
  'labels.get': 1,
  'messages.list': 5,
  'messages.get': 5,
  'messages.attachments.get': 5,
  'messages.send': 100,
  'users.watch': 100,
  'users.stop': 50,
} as const;

export type QuotaOperation = keyof typeof UNITS;

/** `live`: real-time pulls and anything a user waits for. `backfill`: history listings (back-fill, resync). */
type Priority = 'live' | 'backfill';

/** Google's window: units count for a second. */
const WINDOW_MS = 1_000;
/** The round trip assumed until some are seen; then a moving average of them sets the pace. */
const INITIAL_ROUND_TRIP_MS = 50;
/** Back-fill batches carry about this much of the quota (2 messages.get at 250 units/s). */
const BACKFILL_SLICE_MS = 40;

/** The request's answer (or failure) is in: its units leave the ledger one second from now. */
type Answered = () => void;

/** One mailbox's budget as one kind of caller sees it. */
export interface Lane {
  /** messages.get per batch request for this lane. */
  readonly batchSize: number;
  /** Waits until `units` may be spent and counts them; call the returned `answered` once the request is over. */
  take(units: number, signal?: AbortSignal): Promise<Answered>;
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
  /** Units per window back-fill may bring the ledger up to; the pace is derived from it. */
  backfillUnits: number;
  /** How far ahead of the pace one back-fill batch may go, in units. */
  backfillAheadUnits: number;
}

interface Waiter {
  units: number;
  grant(answered: Answered): void;
}

interface Spent {
  units: number;
  grantedAt: number;
  /** Set once the answer is in; the entry is counted until a window after it. */
  answeredAt?: number;
}

class MailboxBudget {
  private spent: Spent[] = [];
  private inWindow = 0;
  private roundTripMs = INITIAL_ROUND_TRIP_MS;
  private pausedUntil = 0;
  /** When the pace allows the next units (a virtual-scheduling token bucket that only back-fill waits for). */
  private paceDueAt = 0;
  private readonly waiting: Record<Priority, Waiter[]> = { live: [], backfill: [] };
  private wake: { at: number; cancel: AbortController } | undefined;

  constructor(
    private readonly limits: Limits,
    private readonly clock: Clock,
  ) {}

  take(units: number, priority: Priority, signal?: AbortSignal): Promise<Answered> {
    if (units <= 0) return Promise.resolve(() => {});
    if (signal?.aborted) return Promise.reject(shuttingDown());
    return new Promise<Answered>((resolve, reject) => {
      const queue = this.waiting[priority];
      const onAbort = (): void => {
        const index = queue.indexOf(waiter);
        if (index >= 0) queue.splice(index, 1);
        reject(shuttingDown());
        this.pump();
      };
      const waiter: Waiter = {
        units,
        grant: (answered) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(answered);
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
      const entry: Spent = { units: waiter.units, grantedAt: now };
      this.spent.push(entry);
      this.inWindow += entry.units;
      this.paceDueAt = Math.max(this.paceDueAt, now) + entry.units / this.unitsPerMs();
      waiter.grant(() => this.answered(entry));
    }
  }

  private answered(entry: Spent): void {
    if (entry.answeredAt !== undefined) return;
    entry.answeredAt = this.clock.now();
    this.roundTripMs = 0.8 * this.roundTripMs + 0.2 * (entry.answeredAt - entry.grantedAt);
    this.pump();
  }

  /** The pace the ledger sustains when each entry stays a round trip plus a window. */
  private unitsPerMs(): number {
    return this.limits.backfillUnits / (WINDOW_MS + this.roundTripMs);
  }

  private readyAt(units: number, priority: Priority, now: number): number {
    this.expire(now);
    const limit = priority === 'live' ? this.limits.units : this.limits.backfillUnits;
    // A call larger than the whole window can only wait for an empty one.
    const need = Math.min(units, limit);
    let at = Math.max(now, this.pausedUntil, this.windowFreeAt(need, limit));
    if (priority === 'backfill') at = Math.max(at, this.paceDueAt - this.limits.backfillAheadUnits / this.unitsPerMs());
    return at;
  }

  /**
   * When enough of the ledger will have left the window for `need` more units to fit under `limit`;
   * Infinity when that takes answers still outstanding (an answer pumps again).
   */
  private windowFreeAt(need: number, limit: number): number {
    let remaining = this.inWindow;
    if (remaining + need <= limit) return 0;
    const leaving = this.spent.filter((entry) => entry.answeredAt !== undefined).sort((left, right) => left.answeredAt! - right.answeredAt!);
    for (const entry of leaving) {
      remaining -= entry.units;
      if (remaining + need <= limit) return entry.answeredAt! + WINDOW_MS;
    }
    return Number.POSITIVE_INFINITY;
  }

  private expire(now: number): void {
    const counted: Spent[] = [];
    for (const entry of this.spent) {
      if (entry.answeredAt !== undefined && entry.answeredAt + WINDOW_MS <= now) this.inWindow -= entry.units;
      else counted.push(entry);
    }
    this.spent = counted;
  }

  /** One pending wake-up at a time; a sooner one replaces it (a live call arriving behind back-fill). */
  private sleepUntil(at: number, now: number): void {
    if (at === Number.POSITIVE_INFINITY) return;
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
  const limits: Limits = { units: quota, backfillUnits, backfillAheadUnits: backfillBatch * UNITS['messages.get'] };
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
