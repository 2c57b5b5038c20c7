// Shared retry/backoff for provider calls and engine jobs. Google's advice for Gmail:
// min(2^n s + random ≤ 1 s, 32–64 s); Graph: honour Retry-After on 429/503.
import { ThreadlinkError, toThreadlinkError } from '../errors.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';

export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
  random?: () => number;
}

/** Exponential backoff with full jitter on top: attempt 1 → ~base, doubling, capped. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 1_000;
  const max = options.maxMs ?? 32_000;
  const random = options.random ?? Math.random;
  const exponential = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return Math.round(Math.min(max, exponential + random() * Math.min(base, 1_000)));
}

/** Retry-After is seconds or an HTTP date. Returns ms, or undefined. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export interface RetryOptions extends BackoffOptions {
  attempts?: number;
  clock?: Clock;
  signal?: AbortSignal;
  /** Classify a thrown value; defaults to toThreadlinkError. */
  classify?: (error: unknown) => ThreadlinkError;
  /**
   * Narrows which retryable errors are retried here (e.g. throttling only, for a request that must
   * not run twice); the others are thrown unchanged, still marked retryable for the caller.
   */
  retryWhen?: (error: ThreadlinkError) => boolean;
  onRetry?: (error: ThreadlinkError, attempt: number, delayMs: number) => void;
}

/** Runs `task` until it succeeds, a non-retryable error is thrown, or attempts run out. */
export async function withRetry<T>(task: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  const clock = options.clock ?? systemClock;
  const classify = options.classify ?? toThreadlinkError;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await task(attempt);
    } catch (raw) {
      const error = classify(raw);
      if (!error.retryable || attempt >= attempts || options.signal?.aborted || options.retryWhen?.(error) === false) throw error;
      const delay = Math.max(error.retryAfterMs ?? 0, backoffDelay(attempt, options));
      options.onRetry?.(error, attempt, delay);
      await clock.sleep(delay, options.signal);
    }
  }
}

/** Maps HTTP status (+ Retry-After) from a provider to a typed error. */
export function httpStatusError(
  status: number,
  message: string,
  options: { retryAfterMs?: number; reason?: string; cause?: unknown; provider?: string } = {},
): ThreadlinkError {
  const details = { status, provider: options.provider ?? null, reason: options.reason ?? null };
  const base = { details, cause: options.cause, ...(options.retryAfterMs === undefined ? {} : { retryAfterMs: options.retryAfterMs }) };
  if (status === 429) return new ThreadlinkError('RATE_LIMITED', message, base);
  if (status === 401) return new ThreadlinkError('AUTH_REVOKED', message, base);
  if (status === 404) return new ThreadlinkError('NOT_FOUND', message, base);
  if (status >= 500 || status === 408) return new ThreadlinkError('PROVIDER_UNAVAILABLE', message, base);
  return new ThreadlinkError('PROVIDER_ERROR', message, base);
}
