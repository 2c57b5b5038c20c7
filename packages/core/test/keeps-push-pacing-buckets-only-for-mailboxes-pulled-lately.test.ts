// Push pacing keeps a token bucket per mailbox. A bucket that has refilled to the burst behaves
// exactly like no bucket (a missing one starts full), so such buckets are dropped as pacing goes on:
// mailboxes that were disconnected, or went quiet, do not each keep a bucket for the life of the
// process (a long-running host with connection churn grew one per connection ever pulled).
import { describe, expect, it } from 'vitest';
import { PushPacing } from '../src/engine/push-pacing.js';

function manualClock() {
  let now = 1_700_000_000_000;
  return {
    clock: { now: () => now, sleep: async () => {} },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('push pacing buckets', () => {
  it('are dropped once refilled, with the same pacing as if they had been kept', async () => {
    const { clock, advance } = manualClock();
    const options = { pushPullsPerSecond: 2, pushPullBurst: 3 };
    const pacing = new PushPacing(options, clock);
    // 5,000 mailboxes pulled once each, 1 ms apart (a churning host): each spends a token.
    for (let index = 0; index < 5_000; index += 1) {
      pacing.spend(`conn_${index}`);
      advance(1);
    }
    // A bucket refills one token in 500 ms, so only the last ~500 mailboxes can still be short.
    expect(pacing.size).toBeLessThan(1_600);
    advance(10_000);
    for (let index = 0; index < 1_024; index += 1) pacing.delayFor('conn_busy');
    // Everything refilled was dropped; only the mailbox in use has a bucket.
    expect(pacing.size).toBe(1);

    // Pacing is unchanged: a mailbox that spends its burst waits for the next token, dropped or not.
    const kept = new PushPacing(options, clock);
    for (const subject of [pacing, kept]) {
      for (let index = 0; index < 3; index += 1) subject.spend('conn_paced');
      expect(subject.delayFor('conn_paced')).toBe(500);
      advance(250);
      expect(subject.delayFor('conn_paced')).toBe(250);
      advance(250);
      expect(subject.delayFor('conn_paced')).toBe(0);
      advance(2_000);
    }
  });
});
