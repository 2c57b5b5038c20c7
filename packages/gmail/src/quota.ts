// Per-user quota pacing. Gmail allows 15,000 units per user per minute ≈ 250/s and refuses
// bursts per second, not per minute; messages.list and messages.get cost 5 units, history.list 2,
// getProfile 1 (developers.google.com/workspace/gmail/api/reference/quota).
//
// Back-fill: a token bucket refilled at share × 250 units/s (225 at the default 0.9) whose burst
// is half the remaining headroom (12.5 units). In any one-second window back-fill spends at most
// burst + rate ≤ 237.5 units: real-time pulls keep their share and ~50 ms of network jitter (a
// request taken early but delivered late lands in a later window) is absorbed. Each batch is
// sized to fit the burst, so at the defaults a batch carries 2 messages.get and a few batches
// stay in flight to hold the pace at real round-trip times.
//
// Real time: a bucket at the full quota with a one-second burst, so a pull of a few hundred new
// messages spreads over seconds instead of collecting a wall of 429s.
import type { ProviderSession } from '@threadlink/core';
import { RateLimiter } from '@threadlink/core';
import type { ResolvedGmailOptions } from './options.js';

export const UNITS = { getProfile: 1, 'history.list': 2, 'messages.list': 5, 'messages.get': 5 } as const;

export interface Lane {
  limiterFor(session: ProviderSession): RateLimiter;
  /** Messages per batch request, so one request never needs more than the bucket holds. */
  readonly batchSize: number;
}

export interface QuotaPacing {
  backfill: Lane;
  realtime: Lane;
}

function lane(options: ResolvedGmailOptions, rate: number, burst: number): Lane {
  // One bucket per connection for the provider's lifetime, so consecutive calls share it. The
  // clock is the engine's (the same for every session); a session's abort signal is not captured.
  const limiters = new Map<string, RateLimiter>();
  return {
    batchSize: Math.max(1, Math.min(options.batchSize, Math.floor(burst / UNITS['messages.get']))),
    limiterFor(session) {
      let limiter = limiters.get(session.connection.id);
      if (!limiter) {
        const clock = session.clock;
        limiter = new RateLimiter(rate, burst, () => clock.now(), (ms) => clock.sleep(ms));
        limiters.set(session.connection.id, limiter);
      }
      return limiter;
    },
  };
}

export function createQuotaPacing(options: ResolvedGmailOptions): QuotaPacing {
  const quota = options.quotaUnitsPerSecond;
  const backfillRate = quota * options.backfillQuotaShare;
  return {
    backfill: lane(options, backfillRate, Math.max(UNITS['messages.get'], (quota - backfillRate) / 2)),
    realtime: lane(options, quota, Math.max(UNITS['messages.get'], quota)),
  };
}
