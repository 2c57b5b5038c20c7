// How often an idle mailbox is pulled (safety net) and reconciled, spaced by evidence (issue 21).
//
// Invariants:
// - A change whose push was dropped is pulled within `safetyNetMaxPullMs` of the last successful
//   sync, plus one maintain() period: the interval never exceeds that cap, whatever the evidence.
// - Any sign that push failed (a pull or a reconciliation found changes no push announced, and no
//   push has arrived since) puts the mailbox back on the shortest cadence at once.
// - Both cadences are derived from the connection's stored health alone: no extra state, no extra
//   write, the same answer in every process.
//
// Why spacing by evidence is safe: every pull that finds nothing is evidence that push missed
// nothing since the one before. The interval after a quiet pull is as long as the mailbox has
// been quiet (doubling from `safetyNetPullMs`: 10, 20, 30 min with the defaults), so a mailbox
// whose mail just stopped is checked soon — a trailing push Gmail folded away (it drops pushes
// beyond one a second) is caught within `safetyNetPullMs` — while one quiet for hours costs a pull
// per `safetyNetMaxPullMs`. A mailbox receiving mail is synced by its pushes and never reaches its
// safety net. Reconciliations double the same way from `fullResyncIntervalMs` while each finds
// nothing to fix, up to `fullResyncMaxIntervalMs`: they exist to catch what the provider's change
// feed missed, and a mailbox whose feed has agreed with its listing for weeks has earned rarer checks.
//
// A reconciliation lists every id of the mailbox, so its cost grows with the mailbox (Gmail: 5 units
// per 500 ids). `reconciliationIdsPerDay` caps that spend: a mailbox of N messages is reconciled at
// most every N / reconciliationIdsPerDay days, whatever the evidence, so the ids listed per mailbox
// per day average at most that budget and idle cost stays flat in mailbox size. The size is the count
// the last reconciliation found (the back-fill's before the first), stored in health: no extra read.
// The budget never touches the safety-net pull, so the dropped-push guarantee above is unchanged.
//
// Renewals are spaced the same way: a push channel with no sign of failure is renewed
// `renewalMarginMs` before it expires (Gmail watches last 7 days, Graph message subscriptions at
// most 10,080 minutes), not daily: a channel that dies silently in between is caught by the
// safety net above (a pull that finds mail no push announced renews at once), so renewing early
// buys nothing the guarantee does not already give. A suspect channel keeps the provider's renewAt.
import type { Connection, SubscriptionState } from '../domain/schemas.js';
import type { EngineOptions } from './engine-options.js';

type CadenceOptions = Pick<
  EngineOptions,
  'safetyNetPullMs' | 'safetyNetMaxPullMs' | 'fullResyncIntervalMs' | 'fullResyncMaxIntervalMs' | 'reconciliationIdsPerDay' | 'renewalMarginMs'
>;
type CadenceConnection = Pick<Connection, 'createdAt' | 'health'> & { backfill?: Pick<Connection['backfill'], 'done'> };

const DAY_MS = 24 * 60 * 60_000;

/** Between `floor` and `cap`; no spacing when the floor is 0 (due at every maintain(), as tests ask) or the cap does not exceed it. */
function spaced(evidenceMs: number, floor: number, cap: number): number {
  if (floor <= 0 || cap <= floor) return floor;
  return Math.min(cap, Math.max(floor, evidenceMs));
}

/** Push failed and has not been seen working since: the mailbox is pulled on the shortest cadence. */
function pushSuspect(connection: CadenceConnection): boolean {
  const { missedPushAt, lastPushAt, consecutiveErrors } = connection.health;
  return consecutiveErrors > 0 || (missedPushAt != null && missedPushAt > (lastPushAt ?? 0));
}

/** How long after the last successful sync the safety-net pull is due. */
export function safetyNetIntervalMs(connection: CadenceConnection, options: CadenceOptions): number {
  const { safetyNetPullMs: floor, safetyNetMaxPullMs: cap } = options;
  const { lastSyncAt, lastPushAt, missedPushAt } = connection.health;
  if (lastSyncAt === null || pushSuspect(connection)) return floor;
  // Quiet for: from the last sign of activity (a push, a missed push, the connection itself) to the
  // last pull, which found nothing that any push had not already announced.
  const lastActivity = Math.max(connection.createdAt, lastPushAt ?? 0, missedPushAt ?? 0);
  return spaced(lastSyncAt - lastActivity, floor, cap);
}

/** The shortest interval at which reconciling a mailbox of `messages` ids stays within `reconciliationIdsPerDay` on average (0: no budget). */
export function reconciliationBudgetMs(messages: number, options: Pick<CadenceOptions, 'reconciliationIdsPerDay'>): number {
  const { reconciliationIdsPerDay: idsPerDay } = options;
  if (idsPerDay <= 0 || messages <= 0) return 0;
  return Math.ceil((messages / idsPerDay) * DAY_MS);
}

/** How long after the last full reconciliation the next one is due. */
export function reconciliationIntervalMs(connection: CadenceConnection, options: CadenceOptions): number {
  const { fullResyncIntervalMs: floor, fullResyncMaxIntervalMs: cap } = options;
  const { lastFullSyncAt, missedPushAt, reconciledIds } = connection.health;
  const budget = reconciliationBudgetMs(reconciledIds ?? connection.backfill?.done ?? 0, options);
  if (lastFullSyncAt === null) return Math.max(floor, budget);
  // Agreed for: from the last time a pull or reconciliation found changes the feed had not delivered
  // (or the connection's start) to the last reconciliation, which found nothing to fix.
  const lastDrift = Math.max(connection.createdAt, missedPushAt ?? 0);
  return Math.max(spaced(lastFullSyncAt - lastDrift, floor, cap), budget);
}

/** When an established push channel is renewed: as late as `renewalMarginMs` before it expires while push shows no sign of failure, else at the provider's renewAt. */
export function renewalDueAt(connection: CadenceConnection, subscription: Pick<SubscriptionState, 'renewAt' | 'expiresAt'>, options: CadenceOptions): number {
  if (options.renewalMarginMs <= 0 || pushSuspect(connection)) return subscription.renewAt;
  return Math.max(subscription.renewAt, subscription.expiresAt - options.renewalMarginMs);
}
