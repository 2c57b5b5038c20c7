// The default JobQueue: in-process, with the same semantics as the BullMQ one — dedupe by key
// while a job waits (bursts coalesce), delays through the process's single scheduler, and
// retries with exponential backoff + jitter that honour a provider's Retry-After.
import { ThreadlinkError, toThreadlinkError } from '../errors.js';
import { Scheduler } from '../engine/scheduler.js';
import type { EnqueueOptions, Job, JobHandler, JobQueue } from '../ports/job-queue.js';
import { systemClock, type Clock } from '../util/clock.js';
import { backoffDelay, type BackoffOptions } from '../util/retry.js';

interface Waiting {
  job: Job;
  key: string | undefined;
  attempts: number;
}

export interface InProcessQueueOptions {
  clock?: Clock;
  backoff?: BackoffOptions;
  /** Called when a job fails for good (attempts exhausted or not retryable). */
  onFailed?: (job: Job, error: unknown) => void;
}

export function inProcessQueue(options: InProcessQueueOptions = {}): JobQueue & { readonly waiting: number; readonly running: number } {
  const clock = options.clock ?? systemClock;
  const scheduler = new Scheduler(clock);
  const ready: Waiting[] = [];
  const waitingKeys = new Set<string>();
  let delayed = 0;
  let running = 0;
  let concurrency = 0;
  let handler: JobHandler | undefined;
  let closed = false;
  let idleWaiters: Array<() => void> = [];

  const settleIdle = (): void => {
    if (ready.length === 0 && delayed === 0 && running === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  };

  const pump = (): void => {
    while (handler && !closed && running < concurrency && ready.length > 0) {
      const item = ready.shift()!;
      if (item.key) waitingKeys.delete(item.key);
      running += 1;
      const current = handler;
      void (async () => {
        try {
          await current(item.job);
        } catch (raw) {
          const error = toThreadlinkError(raw);
          const attempt = item.job.attempt ?? 1;
          if (error.retryable && attempt < item.attempts && !closed) {
            const delay = Math.max(error.retryAfterMs ?? 0, backoffDelay(attempt, options.backoff));
            schedule({ ...item, job: { ...item.job, attempt: attempt + 1 } }, delay);
          } else {
            options.onFailed?.(item.job, error);
          }
        } finally {
          running -= 1;
          pump();
          settleIdle();
        }
      })();
    }
  };

  const schedule = (item: Waiting, delayMs: number): void => {
    if (item.key) waitingKeys.add(item.key);
    if (delayMs <= 0) {
      ready.push(item);
      pump();
      return;
    }
    delayed += 1;
    scheduler.at(clock.now() + delayMs, () => {
      delayed -= 1;
      if (closed) return settleIdle();
      ready.push(item);
      pump();
      settleIdle();
    });
  };

  return {
    name: 'in-process',
    get waiting() {
      return ready.length + delayed;
    },
    get running() {
      return running;
    },
    get startsAtOnce() {
      return handler !== undefined && !closed && running < concurrency && ready.length === 0;
    },
    async enqueue(job: Job, enqueueOptions: EnqueueOptions = {}) {
      // Not `false`: that means "coalesced into a waiting job", and a webhook would answer 2xx for
      // a push nothing will ever pull. A throw makes intake answer 503 so the provider redelivers.
      if (closed) throw new ThreadlinkError('SHUTTING_DOWN', 'The queue is closed: the instance is stopping');
      const key = enqueueOptions.key;
      if (key && waitingKeys.has(key)) return false;
      schedule(
        { job: { ...job, attempt: job.attempt ?? 1, requestedAt: job.requestedAt ?? clock.now() }, key, attempts: enqueueOptions.attempts ?? 5 },
        enqueueOptions.delayMs ?? 0,
      );
      return true;
    },
    process(next: JobHandler, processOptions: { concurrency: number }) {
      handler = next;
      concurrency = Math.max(1, processOptions.concurrency);
      pump();
    },
    idle() {
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        settleIdle();
      });
    },
    async close() {
      closed = true;
      ready.length = 0;
      waitingKeys.clear();
      scheduler.stop();
      delayed = 0;
      while (running > 0) await new Promise((resolve) => setTimeout(resolve, 5));
      settleIdle();
    },
  };
}
