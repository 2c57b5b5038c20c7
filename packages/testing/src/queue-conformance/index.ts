// runQueueConformance: the one suite every JobQueue must pass (the Auth.js adapter pattern, as
// runStoreConformance is for stores). It drives the port only — enqueue, process, idle, close —
// so the in-process queue and the BullMQ one are held to the same promises:
// - dedupe by key while a job WAITS (delayed included); once it starts, the key is free again,
//   because the pull that must follow a burst may not be swallowed by the one already running;
// - retryable ThreadlinkErrors are retried up to `attempts`, numbered from 1, after at least the
//   error's Retry-After; non-retryable ones fail at once; either way onFailed hears it once;
// - at most `concurrency` handlers run at a time; idle() waits for waiting, delayed and running
//   jobs (and follow-ups they enqueue); close() lets running jobs finish and starts no new one.
// Time is real (a queue backed by Redis has no injectable clock): every wait is for an event the
// queue causes, with delays of tens of milliseconds, and bounds are checked from below only.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ThreadlinkError, type Job, type JobQueue } from '@threadlink/core';

export interface QueueConformanceHooks {
  /** Pass to the queue's own `onFailed` option: the suite checks when a job fails for good. */
  onFailed: (job: Job, error: unknown) => void;
}

export interface QueueConformanceOptions<Queue extends JobQueue = JobQueue> {
  /** Shown in the suite title, e.g. "in-process" or "bullmq (Redis)". */
  name: string;
  /**
   * A fresh, empty queue for each test (the suite closes it). Configure a short retry backoff
   * (e.g. `{ baseMs: 10, maxMs: 40 }`): the retry cases wait for it in real time.
   */
  makeQueue: (hooks: QueueConformanceHooks) => Queue | Promise<Queue>;
  /** Registers the suite as skipped, e.g. when the backend (Redis) is not configured. */
  skip?: boolean;
}

interface Current {
  queue: JobQueue;
  failed: Array<{ job: Job; error: unknown }>;
  closed: boolean;
  /** Gates a job waits on: all opened after the test, so a failed assertion cannot leave close() waiting. */
  gates: Array<() => void>;
}

/** A promise with its resolver outside, for "wait until the queue did X". */
function signal<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function runQueueConformance<Queue extends JobQueue>(options: QueueConformanceOptions<Queue>): void {
  const suite = options.skip ? describe.skip : describe;
  suite(`JobQueue conformance: ${options.name}`, () => {
    let current: Current | undefined;
    const the = (): Current => {
      if (!current) throw new Error('The queue is only available inside a test');
      return current;
    };
    /** A gate a job can wait on until the test opens it (or the test ends). */
    const gate = (): { promise: Promise<void>; resolve: () => void } => {
      const opened = signal();
      the().gates.push(() => opened.resolve());
      return opened;
    };
    const close = async (): Promise<void> => {
      const running = the();
      running.closed = true;
      await running.queue.close();
    };

    beforeEach(async () => {
      const failed: Current['failed'] = [];
      const queue = await options.makeQueue({ onFailed: (job, error) => failed.push({ job, error }) });
      current = { queue, failed, closed: false, gates: [] };
    });

    afterEach(async () => {
      const finished = current;
      current = undefined;
      for (const open of finished?.gates ?? []) open();
      if (finished && !finished.closed) await finished.queue.close();
    });

    describe('enqueue and process', () => {
      it('runs an enqueued job once, with its name, connection and data, as attempt 1 with its request time', async () => {
        const { queue } = the();
        const seen: Job[] = [];
        const before = Date.now();
        queue.process(async (job) => void seen.push(job), { concurrency: 1 });
        expect(await queue.enqueue({ name: 'backfill', connectionId: 'a', data: { reason: 'connect', page: 2, full: true, after: null } })).toBe(true);
        await queue.idle();
        expect(seen).toHaveLength(1);
        expect(seen[0]).toMatchObject({ name: 'backfill', connectionId: 'a', data: { reason: 'connect', page: 2, full: true, after: null }, attempt: 1 });
        expect(seen[0]!.requestedAt).toBeGreaterThanOrEqual(before - 1);
        expect(seen[0]!.requestedAt).toBeLessThanOrEqual(Date.now());
      });

      it('keeps a requestedAt the caller set (latency is measured from the first request)', async () => {
        const { queue } = the();
        const seen: Job[] = [];
        queue.process(async (job) => void seen.push(job), { concurrency: 1 });
        await queue.enqueue({ name: 'sync', connectionId: 'a', requestedAt: 1_234 });
        await queue.idle();
        expect(seen.map((job) => job.requestedAt)).toEqual([1_234]);
      });

      it('runs jobs enqueued before process() was called once a handler is there', async () => {
        const { queue } = the();
        const seen: string[] = [];
        await queue.enqueue({ name: 'sync', connectionId: 'early-1' });
        await queue.enqueue({ name: 'sync', connectionId: 'early-2' });
        queue.process(async (job) => void seen.push(job.connectionId), { concurrency: 1 });
        await queue.idle();
        expect(seen.sort()).toEqual(['early-1', 'early-2']);
      });
    });

    describe('dedupe by key', () => {
      it('drops an enqueue (false) while an equal-key job waits, but accepts one more while it runs', async () => {
        const { queue } = the();
        const seen: string[] = [];
        const started = signal();
        const release = gate();
        expect(await queue.enqueue({ name: 'sync', connectionId: 'a' }, { key: 'sync:a' })).toBe(true);
        expect(await queue.enqueue({ name: 'sync', connectionId: 'a' }, { key: 'sync:a' })).toBe(false);
        queue.process(
          async (job) => {
            seen.push(job.connectionId);
            if (seen.length === 1) {
              started.resolve();
              await release.promise;
            }
          },
          { concurrency: 1 },
        );
        await started.promise;
        // Running does not block: the pull that follows a burst must not be swallowed.
        expect(await queue.enqueue({ name: 'sync', connectionId: 'a' }, { key: 'sync:a' })).toBe(true);
        expect(await queue.enqueue({ name: 'sync', connectionId: 'a' }, { key: 'sync:a' })).toBe(false);
        release.resolve();
        await queue.idle();
        expect(seen).toEqual(['a', 'a']);
      });

      it('frees the key once the job finished, and never coalesces different keys or keyless jobs', async () => {
        const { queue } = the();
        const seen: string[] = [];
        queue.process(async (job) => void seen.push(`${job.connectionId}:${String(job.data?.n)}`), { concurrency: 1 });
        expect(await queue.enqueue({ name: 'sync', connectionId: 'a', data: { n: 1 } }, { key: 'sync:a' })).toBe(true);
        await queue.idle();
        expect(await queue.enqueue({ name: 'sync', connectionId: 'a', data: { n: 2 } }, { key: 'sync:a' })).toBe(true);
        expect(await queue.enqueue({ name: 'sync', connectionId: 'b', data: { n: 3 } }, { key: 'sync:b' })).toBe(true);
        expect(await queue.enqueue({ name: 'sync', connectionId: 'c', data: { n: 4 } })).toBe(true);
        expect(await queue.enqueue({ name: 'sync', connectionId: 'c', data: { n: 5 } })).toBe(true);
        await queue.idle();
        expect(seen.sort()).toEqual(['a:1', 'a:2', 'b:3', 'c:4', 'c:5']);
      });

      it('counts a delayed job as waiting: its key drops further enqueues until it runs', async () => {
        const { queue } = the();
        const seen: string[] = [];
        queue.process(async (job) => void seen.push(String(job.data?.n)), { concurrency: 1 });
        expect(await queue.enqueue({ name: 'renew', connectionId: 'a', data: { n: 1 } }, { key: 'renew:a', delayMs: 100 })).toBe(true);
        expect(await queue.enqueue({ name: 'renew', connectionId: 'a', data: { n: 2 } }, { key: 'renew:a' })).toBe(false);
        await queue.idle();
        expect(seen).toEqual(['1']);
      });
    });

    describe('delays', () => {
      it('runs delayed jobs when due (not before), in due order', async () => {
        const { queue } = the();
        const ran: Array<{ id: string; at: number }> = [];
        queue.process(async (job) => void ran.push({ id: job.connectionId, at: Date.now() }), { concurrency: 1 });
        const enqueuedAt = Date.now();
        await queue.enqueue({ name: 'renew', connectionId: 'late' }, { delayMs: 300 });
        await queue.enqueue({ name: 'renew', connectionId: 'early' }, { delayMs: 80 });
        await queue.enqueue({ name: 'renew', connectionId: 'now' });
        await queue.idle();
        expect(ran.map((entry) => entry.id)).toEqual(['now', 'early', 'late']);
        // A few ms of slack for timer granularity; a due job is never run early.
        expect(ran[1]!.at - enqueuedAt).toBeGreaterThanOrEqual(75);
        expect(ran[2]!.at - enqueuedAt).toBeGreaterThanOrEqual(295);
      });
    });

    describe('retries', () => {
      it('retries a retryable failure with attempts numbered from 1 until it succeeds, without reporting it failed', async () => {
        const { queue, failed } = the();
        const attempts: number[] = [];
        queue.process(
          async (job) => {
            attempts.push(job.attempt ?? 0);
            if ((job.attempt ?? 1) < 3) throw new ThreadlinkError('PROVIDER_UNAVAILABLE', '503 from the provider');
          },
          { concurrency: 1 },
        );
        await queue.enqueue({ name: 'sync', connectionId: 'flaky' });
        await queue.idle();
        expect(attempts).toEqual([1, 2, 3]);
        expect(failed).toEqual([]);
      });

      it('gives up after `attempts` and reports the job failed once', async () => {
        const { queue, failed } = the();
        const attempts: number[] = [];
        queue.process(
          async (job) => {
            attempts.push(job.attempt ?? 0);
            throw new ThreadlinkError('PROVIDER_UNAVAILABLE', '503 from the provider');
          },
          { concurrency: 1 },
        );
        await queue.enqueue({ name: 'sync', connectionId: 'down' }, { attempts: 3 });
        await queue.idle();
        expect(attempts).toEqual([1, 2, 3]);
        expect(failed.map((entry) => entry.job.connectionId)).toEqual(['down']);
        expect(failed[0]!.error).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
      });

      it("waits at least a failure's Retry-After before the next attempt", async () => {
        const { queue } = the();
        const startedAt: number[] = [];
        queue.process(
          async (job) => {
            startedAt.push(Date.now());
            if ((job.attempt ?? 1) < 3) throw new ThreadlinkError('RATE_LIMITED', '429 from the provider', { retryAfterMs: 150 });
          },
          { concurrency: 1 },
        );
        await queue.enqueue({ name: 'sync', connectionId: 'limited' });
        await queue.idle();
        expect(startedAt).toHaveLength(3);
        expect(startedAt[1]! - startedAt[0]!).toBeGreaterThanOrEqual(140);
        expect(startedAt[2]! - startedAt[1]!).toBeGreaterThanOrEqual(140);
      });

      it('does not retry a non-retryable failure and reports it failed at once, while a retryable one beside it is retried', async () => {
        const { queue, failed } = the();
        const attempts = new Map<string, number[]>();
        queue.process(
          async (job) => {
            attempts.set(job.connectionId, [...(attempts.get(job.connectionId) ?? []), job.attempt ?? 0]);
            if (job.connectionId === 'flaky' && (job.attempt ?? 1) < 2) throw new ThreadlinkError('RATE_LIMITED', '429');
            if (job.connectionId === 'broken') throw new ThreadlinkError('PROVIDER_ERROR', '400 from the provider');
          },
          { concurrency: 2 },
        );
        await queue.enqueue({ name: 'sync', connectionId: 'flaky' });
        await queue.enqueue({ name: 'sync', connectionId: 'broken' });
        await queue.idle();
        expect(attempts.get('broken')).toEqual([1]);
        expect(attempts.get('flaky')).toEqual([1, 2]);
        expect(failed.map((entry) => entry.job.connectionId)).toEqual(['broken']);
        expect(failed[0]!.error).toMatchObject({ code: 'PROVIDER_ERROR' });
      });
    });

    describe('concurrency', () => {
      it('never runs more than `concurrency` jobs at once, and does use that many', async () => {
        const { queue } = the();
        let running = 0;
        let busiest = 0;
        const done: string[] = [];
        queue.process(
          async (job) => {
            running += 1;
            busiest = Math.max(busiest, running);
            await pause(30);
            running -= 1;
            done.push(job.connectionId);
          },
          { concurrency: 2 },
        );
        for (let index = 0; index < 6; index += 1) await queue.enqueue({ name: 'sync', connectionId: `c${index}` });
        await queue.idle();
        expect(done.sort()).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5']);
        expect(busiest).toBe(2);
      });
    });

    describe('idle and close', () => {
      it('idle() resolves only once nothing waits, is delayed or runs, follow-ups included', async () => {
        const { queue } = the();
        const events: string[] = [];
        queue.process(
          async (job) => {
            if (job.connectionId === 'first') {
              await pause(60);
              // A job that enqueues its follow-up (a back-fill page queues the next one).
              await queue.enqueue({ name: 'backfill', connectionId: 'follow-up' }, { delayMs: 60 });
            }
            events.push(`done:${job.connectionId}`);
          },
          { concurrency: 1 },
        );
        await queue.enqueue({ name: 'backfill', connectionId: 'first' });
        await queue.enqueue({ name: 'renew', connectionId: 'delayed' }, { delayMs: 100 });
        await queue.idle().then(() => events.push('idle'));
        expect(events.sort()).toEqual(['done:delayed', 'done:first', 'done:follow-up', 'idle']);
        expect(events.at(-1)).toBe('idle');
      });

      it('idle() resolves at once on an empty queue', async () => {
        const { queue } = the();
        queue.process(async () => undefined, { concurrency: 1 });
        await queue.idle();
      });

      it('close() lets the running job finish and starts no waiting one', async () => {
        const { queue } = the();
        const events: string[] = [];
        const started = signal();
        queue.process(
          async (job) => {
            events.push(`start:${job.connectionId}`);
            if (job.connectionId === 'running') {
              started.resolve();
              await pause(80);
            }
            events.push(`end:${job.connectionId}`);
          },
          { concurrency: 1 },
        );
        await queue.enqueue({ name: 'sync', connectionId: 'running' });
        await queue.enqueue({ name: 'sync', connectionId: 'waiting' });
        await started.promise;
        await close();
        events.push('closed');
        expect(events).toEqual(['start:running', 'end:running', 'closed']);
      });
    });
  });
}
