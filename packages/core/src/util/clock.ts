// Time and randomness are injected so tests control them.
import { randomBytes } from 'node:crypto';

export interface Clock {
  now(): number;
  /** Resolves after `ms` (a manual clock in tests may resolve when advanced). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (ms <= 0 || signal?.aborted) return resolve();
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}
