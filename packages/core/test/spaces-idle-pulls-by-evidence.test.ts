import { describe, expect, it } from 'vitest';
import type { ConnectionHealthState } from '../src/domain/schemas.js';
import { defaultEngineOptions } from '../src/engine/engine-options.js';
import { reconciliationBudgetMs, reconciliationIntervalMs, renewalDueAt, safetyNetIntervalMs } from '../src/engine/idle-cadence.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const CREATED = 1_700_000_000_000;

function connection(health: Partial<ConnectionHealthState>) {
  return {
    createdAt: CREATED,
    health: {
      lastPushAt: null,
      lastSyncAt: null,
      lastFullSyncAt: null,
      newestChangeAt: null,
      consecutiveErrors: 0,
      lastErrorCode: null,
      lastErrorAt: null,
      ...health,
    },
  };
}

describe('idle cadence: safety-net pulls and reconciliations spaced by evidence', () => {
  it('pulls right after a push on the shortest interval, and a mailbox quiet for longer less often, never beyond the cap', () => {
    const pushedAt = CREATED + DAY;
    expect(safetyNetIntervalMs(connection({ lastPushAt: pushedAt, lastSyncAt: pushedAt + 50 }), defaultEngineOptions)).toBe(10 * MINUTE);
    expect(safetyNetIntervalMs(connection({ lastPushAt: pushedAt, lastSyncAt: pushedAt + 20 * MINUTE }), defaultEngineOptions)).toBe(20 * MINUTE);
    expect(safetyNetIntervalMs(connection({ lastPushAt: pushedAt, lastSyncAt: pushedAt + 5 * DAY }), defaultEngineOptions)).toBe(30 * MINUTE);
  });

  it('goes back to the shortest interval while push is suspect: a missed push not followed by a push, or failing syncs', () => {
    const quietSince = CREATED + DAY;
    const quiet = { lastPushAt: quietSince, lastSyncAt: quietSince + 5 * DAY };
    expect(safetyNetIntervalMs(connection({ ...quiet, missedPushAt: quiet.lastSyncAt }), defaultEngineOptions)).toBe(10 * MINUTE);
    expect(safetyNetIntervalMs(connection({ ...quiet, consecutiveErrors: 2 }), defaultEngineOptions)).toBe(10 * MINUTE);
    // A push arrived after the miss: push works again and the mailbox earns its spacing anew.
    const repaired = { missedPushAt: quietSince + DAY, lastPushAt: quietSince + DAY + MINUTE, lastSyncAt: quietSince + DAY + MINUTE };
    expect(safetyNetIntervalMs(connection(repaired), defaultEngineOptions)).toBe(10 * MINUTE);
  });

  it('doubles the reconciliation interval while listings agree, and is daily again after one found drift', () => {
    expect(reconciliationIntervalMs(connection({}), defaultEngineOptions)).toBe(DAY);
    expect(reconciliationIntervalMs(connection({ lastFullSyncAt: CREATED + DAY }), defaultEngineOptions)).toBe(DAY);
    expect(reconciliationIntervalMs(connection({ lastFullSyncAt: CREATED + 4 * DAY }), defaultEngineOptions)).toBe(4 * DAY);
    expect(reconciliationIntervalMs(connection({ lastFullSyncAt: CREATED + 400 * DAY }), defaultEngineOptions)).toBe(32 * DAY);
    const drifted = { lastFullSyncAt: CREATED + 400 * DAY, missedPushAt: CREATED + 400 * DAY + 5 };
    expect(reconciliationIntervalMs(connection(drifted), defaultEngineOptions)).toBe(DAY);
  });

  it('stretches the reconciliation of a large mailbox so the ids it lists stay within the daily budget, and leaves small ones alone', () => {
    const agreed = { lastFullSyncAt: CREATED + 400 * DAY };
    // 1,000 ids a day by default: a mailbox of 50,000 is compared every 50 days, one of 10,000 keeps the 32-day cap.
    expect(reconciliationBudgetMs(50_000, defaultEngineOptions)).toBe(50 * DAY);
    expect(reconciliationIntervalMs(connection({ ...agreed, reconciledIds: 50_000 }), defaultEngineOptions)).toBe(50 * DAY);
    expect(reconciliationIntervalMs(connection({ ...agreed, reconciledIds: 10_000 }), defaultEngineOptions)).toBe(32 * DAY);
    expect(reconciliationIntervalMs(connection({ ...agreed, reconciledIds: 200 }), defaultEngineOptions)).toBe(32 * DAY);
    // Drift puts a small mailbox back on the daily floor; a large one only as far as its budget allows.
    const drifted = { lastFullSyncAt: CREATED + 400 * DAY, missedPushAt: CREATED + 400 * DAY + 5 };
    expect(reconciliationIntervalMs(connection({ ...drifted, reconciledIds: 200 }), defaultEngineOptions)).toBe(DAY);
    expect(reconciliationIntervalMs(connection({ ...drifted, reconciledIds: 10_000 }), defaultEngineOptions)).toBe(10 * DAY);
    // Before the first reconciliation the back-fill's count sizes it: no 50,000-id listing on day one.
    expect(reconciliationIntervalMs({ ...connection({}), backfill: { done: 50_000 } }, defaultEngineOptions)).toBe(50 * DAY);
    expect(reconciliationIntervalMs({ ...connection({}), backfill: { done: 200 } }, defaultEngineOptions)).toBe(DAY);
    // A budget of 0 turns it off.
    const unbudgeted = { ...defaultEngineOptions, reconciliationIdsPerDay: 0 };
    expect(reconciliationIntervalMs(connection({ ...agreed, reconciledIds: 50_000 }), unbudgeted)).toBe(32 * DAY);
  });

  it('keeps the ids a large mailbox lists per day within the budget over a year, its first month included', () => {
    for (const size of [50_000, 200_000]) {
      let at = CREATED;
      let last: number | null = null;
      let listed = 0;
      while (at < CREATED + 365 * DAY) {
        const interval = reconciliationIntervalMs(
          { ...connection({ lastFullSyncAt: last, reconciledIds: last === null ? null : size }), backfill: { done: size } },
          defaultEngineOptions,
        );
        at = (last ?? CREATED) + interval;
        if (at >= CREATED + 365 * DAY) break;
        last = at;
        listed += size;
      }
      expect(listed).toBeGreaterThan(0);
      expect(listed / 365).toBeLessThanOrEqual(defaultEngineOptions.reconciliationIdsPerDay);
    }
  });

  it('does not space at all when the cap is not above the floor (a floor of 0 pulls at every maintain())', () => {
    const quiet = connection({ lastSyncAt: CREATED + 5 * DAY, lastFullSyncAt: CREATED + 400 * DAY });
    const every = { ...defaultEngineOptions, safetyNetPullMs: 0, fullResyncIntervalMs: 1 };
    expect(safetyNetIntervalMs(quiet, every)).toBe(0);
    expect(safetyNetIntervalMs(quiet, { ...defaultEngineOptions, safetyNetPullMs: 7 * DAY })).toBe(7 * DAY);
    expect(reconciliationIntervalMs(quiet, { ...every, fullResyncMaxIntervalMs: 1 })).toBe(1);
  });

  it('renews a working push channel a margin before it expires, a suspect one at the provider renewAt', () => {
    // A Gmail watch: 7 days, the adapter asks for a daily renewal.
    const watch = { renewAt: CREATED + DAY, expiresAt: CREATED + 7 * DAY };
    const quiet = { lastPushAt: CREATED + DAY, lastSyncAt: CREATED + DAY + MINUTE };
    expect(renewalDueAt(connection(quiet), watch, defaultEngineOptions)).toBe(CREATED + 6 * DAY);
    expect(renewalDueAt(connection({ ...quiet, consecutiveErrors: 1 }), watch, defaultEngineOptions)).toBe(watch.renewAt);
    expect(renewalDueAt(connection({ ...quiet, missedPushAt: quiet.lastSyncAt }), watch, defaultEngineOptions)).toBe(watch.renewAt);
    // Never earlier than the provider asks, and the margin can be turned off.
    expect(renewalDueAt(connection(quiet), { renewAt: CREATED + 6.5 * DAY, expiresAt: CREATED + 7 * DAY }, defaultEngineOptions)).toBe(CREATED + 6.5 * DAY);
    expect(renewalDueAt(connection(quiet), watch, { ...defaultEngineOptions, renewalMarginMs: 0 })).toBe(watch.renewAt);
  });
});
