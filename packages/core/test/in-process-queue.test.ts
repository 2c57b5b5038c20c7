import { inProcessQueue, ThreadlinkError, type Job } from '@threadlink/core';
import { describe, expect, it } from 'vitest';

describe('in-process job queue', () => {
  it('dedupes by key while a job waits, but accepts one more while it runs', async () => {
    const queue = inProcessQueue();
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let running!: () => void;
    const firstRuns = new Promise<void>((resolve) => (running = resolve));
    expect(await queue.enqueue({ name: 'sync', connectionId: 'a' }, { key: 'sync:a' })).toBe(true);
    expect(await queue.enqueue({ name: 'sync', connectionId: 'a' }, { key: 'sync:a' })).toBe(false);
    queue.process(async (job: Job) => {
      seen.push(job.connectionId);
      if (seen.length === 1) {
        running();
        await gate;
      }
    }, { concurrency: 1 });
    await firstRuns;
    expect(await queue.enqueue({ name: 'sync', connectionId: 'a' }, { key: 'sync:a' })).toBe(true);
    expect(await queue.enqueue({ name: 'sync', connectionId: 'a' }, { key: 'sync:a' })).toBe(false);
    release();
    await queue.idle();
    expect(seen).toEqual(['a', 'a']);
    await queue.close();
  });

  it('retries retryable failures with backoff and gives up on permanent ones', async () => {
    const failed: string[] = [];
    const queue = inProcessQueue({ backoff: { baseMs: 1, maxMs: 4 }, onFailed: (job) => failed.push(job.connectionId) });
    const attempts = new Map<string, number>();
    queue.process(async (job) => {
      attempts.set(job.connectionId, job.attempt ?? 0);
      if (job.connectionId === 'flaky' && (job.attempt ?? 1) < 3) throw new ThreadlinkError('PROVIDER_UNAVAILABLE', '503');
      if (job.connectionId === 'broken') throw new ThreadlinkError('PROVIDER_ERROR', '400');
    }, { concurrency: 2 });
    await queue.enqueue({ name: 'sync', connectionId: 'flaky' });
    await queue.enqueue({ name: 'sync', connectionId: 'broken' });
    await queue.idle();
    expect(attempts.get('flaky')).toBe(3);
    expect(attempts.get('broken')).toBe(1);
    expect(failed).toEqual(['broken']);
    await queue.close();
  });

  it('runs delayed jobs from one scheduler in due order', async () => {
    const queue = inProcessQueue();
    const order: string[] = [];
    queue.process(async (job) => void order.push(job.connectionId), { concurrency: 1 });
    await queue.enqueue({ name: 'renew', connectionId: 'late' }, { delayMs: 30 });
    await queue.enqueue({ name: 'renew', connectionId: 'early' }, { delayMs: 5 });
    await queue.idle();
    expect(order).toEqual(['early', 'late']);
    await queue.close();
  });
});
