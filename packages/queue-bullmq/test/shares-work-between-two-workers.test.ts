// BullMQ-specific (the in-process queue has one worker by definition): two queue instances on one
// Redis queue share its jobs, and each job runs exactly once.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { bullmqQueue } from '../src/index.js';

const redisUrl = process.env.REDIS_URL ?? (process.env.CI ? 'redis://127.0.0.1:6379' : undefined);
if (!redisUrl) console.warn('queue-bullmq tests skipped: set REDIS_URL (e.g. redis://127.0.0.1:6379) to run them');
const suite = redisUrl ? describe : describe.skip;

const queues: Array<ReturnType<typeof bullmqQueue>> = [];
afterEach(async () => {
  while (queues.length) await queues.pop()!.close();
});

suite('BullMQ job queue shared by two workers (real Redis)', () => {
  it('shares work between two workers on one queue, each job once', async () => {
    const name = `test-${randomUUID()}`;
    const a = bullmqQueue({ connection: redisUrl!, name });
    const b = bullmqQueue({ connection: redisUrl!, name });
    queues.push(a, b);
    const ran: string[] = [];
    a.process(async (job) => void ran.push(`a:${job.connectionId}`), { concurrency: 2 });
    b.process(async (job) => void ran.push(`b:${job.connectionId}`), { concurrency: 2 });
    for (let index = 0; index < 40; index += 1) await (index % 2 ? a : b).enqueue({ name: 'sync', connectionId: `c${index}` }, { key: `sync:c${index}` });
    await a.idle();
    const ids = ran.map((entry) => entry.slice(2)).sort();
    expect(ids).toEqual(Array.from({ length: 40 }, (_, index) => `c${index}`).sort());
  });
});
