import { randomUUID } from 'node:crypto';
import { ThreadlinkError, type Job } from '@threadlink/core';
import { afterEach, describe, expect, it } from 'vitest';
import { bullmqQueue } from '../src/index.js';

const redisUrl = process.env.REDIS_URL ?? (process.env.CI ? 'redis://127.0.0.1:6379' : undefined);
if (!redisUrl) console.warn('queue-bullmq tests skipped: set REDIS_URL (e.g. redis://127.0.0.1:6379) to run them');
const suite = redisUrl ? describe : describe.skip;

const queues: Array<ReturnType<typeof bullmqQueue>> = [];
afterEach(async () => {
  while (queues.length) await queues.pop()!.close();
});

function fresh(options: Partial<Parameters<typeof bullmqQueue>[0]> = {}) {
  const queue = bullmqQueue({ connection: redisUrl!, name: `test-${randomUUID()}`, backoff: { baseMs: 10, maxMs: 40 }, ...options });
  queues.push(queue);
  return queue;
}

suite('BullMQ job queue (real Redis)', () => {
  it('dedupes by key while a job waits, but accepts one more while it runs', async () => {
    const queue = fresh();
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    expect(await queue.enqueue({ name: 'sync', connectionId: 'a' }, { key: 'sync:a' })).toBe(true);
    expect(await queue.enqueue({ name: 'sync', connectionId: 'a' }, { key: 'sync:a' })).toBe(false);
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    queue.process(async (job: Job) => {
      seen.push(job.connectionId);
      if (seen.length === 1) {
        started();
        await gate;
      }
    }, { concurrency: 1 });
    await running;
    expect(await queue.enqueue({ name: 'sync', connectionId: 'a' }, { key: 'sync:a' })).toBe(true);
    expect(await queue.enqueue({ name: 'sync', connectionId: 'a' }, { key: 'sync:a' })).toBe(false);
    release();
    await queue.idle();
    expect(seen).toEqual(['a', 'a']);
  });

  it('retries retryable failures (honouring Retry-After) and fails permanent ones at once', async () => {
    const failed: string[] = [];
    const queue = fresh({ onFailed: (job) => failed.push(job.connectionId) });
    const attempts = new Map<string, number[]>();
    queue.process(async (job) => {
      attempts.set(job.connectionId, [...(attempts.get(job.connectionId) ?? []), Date.now()]);
      if (job.connectionId === 'flaky' && (job.attempt ?? 1) < 3) throw new ThreadlinkError('RATE_LIMITED', '429', { retryAfterMs: 150 });
      if (job.connectionId === 'broken') throw new ThreadlinkError('PROVIDER_ERROR', '400');
    }, { concurrency: 2 });
    await queue.enqueue({ name: 'sync', connectionId: 'flaky' });
    await queue.enqueue({ name: 'sync', connectionId: 'broken' });
    await queue.idle();
    const flaky = attempts.get('flaky')!;
    expect(flaky).toHaveLength(3);
    expect(flaky[1]! - flaky[0]!).toBeGreaterThanOrEqual(140);
    expect(attempts.get('broken')).toHaveLength(1);
    expect(failed).toEqual(['broken']);
  });

  it('runs delayed jobs when due, in due order', async () => {
    const queue = fresh();
    const order: string[] = [];
    queue.process(async (job) => void order.push(job.connectionId), { concurrency: 1 });
    await queue.enqueue({ name: 'renew', connectionId: 'late' }, { delayMs: 400 });
    await queue.enqueue({ name: 'renew', connectionId: 'early' }, { delayMs: 100 });
    await queue.idle();
    expect(order).toEqual(['early', 'late']);
  });

  it('shares work between two workers on one queue, each job once', async () => {
    const name = `test-${randomUUID()}`;
    const a = fresh({ name });
    const b = fresh({ name });
    const ran: string[] = [];
    a.process(async (job) => void ran.push(`a:${job.connectionId}`), { concurrency: 2 });
    b.process(async (job) => void ran.push(`b:${job.connectionId}`), { concurrency: 2 });
    for (let index = 0; index < 40; index += 1) await (index % 2 ? a : b).enqueue({ name: 'sync', connectionId: `c${index}` }, { key: `sync:c${index}` });
    await a.idle();
    const ids = ran.map((entry) => entry.slice(2)).sort();
    expect(ids).toEqual(Array.from({ length: 40 }, (_, index) => `c${index}`).sort());
  });
});
