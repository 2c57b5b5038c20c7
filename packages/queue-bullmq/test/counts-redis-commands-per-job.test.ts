// Issue 21: Redis round trips per job, counted by the server (MONITOR, filtered to this test's
// queue). Enqueueing a keyed job is ONE command (BullMQ's add script marks the dedupe key itself;
// a SET NX of our own came first before), a coalesced enqueue one too; the worker's side (fetch,
// removing the key, finish) stays within four per job.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { bullmqQueue } from '../src/index.js';

const redisUrl = process.env.REDIS_URL ?? (process.env.CI ? 'redis://127.0.0.1:6379' : undefined);
if (!redisUrl) console.warn('queue-bullmq tests skipped: set REDIS_URL (e.g. redis://127.0.0.1:6379) to run them');
const suite = redisUrl ? describe : describe.skip;

const JOBS = 40;
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

/** Commands clients send that name this queue's keys, by command name. */
async function monitorQueue(name: string): Promise<{ counts: Map<string, number>; total: () => number }> {
  const monitor = await new Redis(redisUrl!).monitor();
  closers.push(async () => monitor.disconnect());
  const counts = new Map<string, number>();
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    // Round trips only: what a script runs inside Redis is listed too, from "lua".
    if (source === 'lua' || !args.some((arg) => arg.includes(`:${name}:`))) return;
    const command = String(args[0]).toLowerCase();
    counts.set(command, (counts.get(command) ?? 0) + 1);
  });
  return { counts, total: () => [...counts.values()].reduce((sum, count) => sum + count, 0) };
}

/** MONITOR streams after the fact: wait until the count stops moving. */
async function settled(total: () => number): Promise<number> {
  let last = -1;
  while (total() !== last) {
    last = total();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return last;
}

suite('Redis commands per job (real Redis)', () => {
  it('enqueues a keyed job in one Redis command, coalesces a waiting one in one, and runs it in at most four', async () => {
    const name = `count-${randomUUID()}`;
    const monitored = await monitorQueue(name);
    const queue = bullmqQueue({ connection: redisUrl!, name });
    closers.push(() => queue.close());

    // A first job loads the add script and writes the queue's metadata, once per queue.
    expect(await queue.enqueue({ name: 'sync', connectionId: 'warm-up' }, { key: 'sync:warm-up' })).toBe(true);
    const warm = await settled(monitored.total);
    const added = [];
    for (let index = 0; index < JOBS; index += 1) added.push(await queue.enqueue({ name: 'sync', connectionId: `c${index}` }, { key: `sync:c${index}` }));
    expect(added.every(Boolean)).toBe(true);
    const enqueued = await settled(monitored.total);
    expect((enqueued - warm) / JOBS, JSON.stringify(Object.fromEntries(monitored.counts))).toBe(1);

    // The same keys again while the jobs wait: coalesced (no job added), one command each.
    const again = [];
    for (let index = 0; index < JOBS; index += 1) again.push(await queue.enqueue({ name: 'sync', connectionId: `c${index}` }, { key: `sync:c${index}` }));
    expect(again.some(Boolean)).toBe(false);
    expect((await settled(monitored.total)) - enqueued).toBe(JOBS);

    const ran: string[] = [];
    const before = monitored.total();
    queue.process(async (job) => void ran.push(job.connectionId), { concurrency: 4 });
    while (ran.length < JOBS + 1) await new Promise((resolve) => setTimeout(resolve, 20));
    const worked = (await settled(monitored.total)) - before;
    expect(ran.sort()).toEqual([...Array.from({ length: JOBS }, (_, index) => `c${index}`), 'warm-up'].sort());
    // Fetch (moveToActive, or the finish that fetches the next), the key's removal, the finish; the
    // worker's start-up and idle polling are spread over the jobs.
    expect(worked / (JOBS + 1), JSON.stringify(Object.fromEntries(monitored.counts))).toBeLessThanOrEqual(4);

    // Started jobs freed their keys: the same keys enqueue again.
    expect(await queue.enqueue({ name: 'sync', connectionId: 'c0' }, { key: 'sync:c0' })).toBe(true);
  });
});
