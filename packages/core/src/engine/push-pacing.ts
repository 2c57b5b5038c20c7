// Push pacing, a token bucket per mailbox (see EngineOptions.pushPullsPerSecond): a push that finds
// its mailbox's bucket empty is delayed until the next token, and the queue coalesces the pushes
// behind it, so a burst of mail costs a handful of pulls instead of one per message.
// In memory and per process: a second process paces its own pushes, which the provider's own
// quota (and the store lease, one pull per mailbox at a time) bounds anyway.
import type { Clock } from '../util/clock.js';
import type { EngineOptions } from './engine-options.js';

interface Bucket {
  tokens: number;
  at: number;
}

/** Every this many bucket look-ups, buckets that have refilled are dropped (see sweep). */
const SWEEP_EVERY = 1_024;

export class PushPacing {
  private readonly buckets = new Map<string, Bucket>();
  private lookups = 0;

  constructor(
    private readonly options: Pick<EngineOptions, 'pushPullsPerSecond' | 'pushPullBurst'>,
    private readonly clock: Clock,
  ) {}

  /** How long a push must wait for its mailbox's next pull token. */
  delayFor(connectionId: string): number {
    const { pushPullsPerSecond: rate } = this.options;
    if (rate <= 0) return 0;
    const { tokens } = this.refilled(connectionId);
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * 1000) / rate);
  }

  /** Every pull spends a token, whatever asked for it: pushes pace against all of a mailbox's pulls. */
  spend(connectionId: string): void {
    if (this.options.pushPullsPerSecond <= 0) return;
    const bucket = this.refilled(connectionId);
    // No debt: after a long catch-up (many rounds) a push waits one token's time at most.
    bucket.tokens = Math.max(0, bucket.tokens - 1);
  }

  /** Buckets held now: one per mailbox pulled lately, not one per mailbox ever pulled. */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * Drops every bucket that has refilled to the burst: a missing bucket starts full, so dropping a
   * full one changes nothing, and a disconnected (or quiet) mailbox's bucket does not stay for good.
   */
  private sweep(now: number): void {
    const { pushPullsPerSecond: rate, pushPullBurst: burst } = this.options;
    for (const [connectionId, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) * rate) / 1000 >= burst) this.buckets.delete(connectionId);
    }
  }

  /** The mailbox's bucket, refilled up to now. */
  private refilled(connectionId: string): Bucket {
    const { pushPullsPerSecond: rate, pushPullBurst: burst } = this.options;
    const now = this.clock.now();
    this.lookups += 1;
    if (this.lookups % SWEEP_EVERY === 0) this.sweep(now);
    const bucket = this.buckets.get(connectionId) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * rate) / 1000);
    bucket.at = now;
    this.buckets.set(connectionId, bucket);
    return bucket;
  }
}
