// One virtual clock shared by threadlink and both emulators. Wall time plus an offset: sleeping
// (provider backoff, Retry-After, pacing) jumps the offset instead of waiting, and the suite
// advances it to make leases lapse after a crash and to make renewals and safety nets due.
import type { Clock } from '@threadlink/core';

export interface VirtualClock extends Clock {
  advance(ms: number): void;
  /** Total virtual time skipped so far. */
  readonly skipped: number;
}

export function virtualClock(): VirtualClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    async sleep(ms: number) {
      if (ms > 0) offset += ms;
      // Still yield a macrotask so a retry loop never starves the HTTP servers it talks to.
      await new Promise((resolve) => setImmediate(resolve));
    },
    advance(ms: number) {
      offset += ms;
    },
    get skipped() {
      return offset;
    },
  };
}
