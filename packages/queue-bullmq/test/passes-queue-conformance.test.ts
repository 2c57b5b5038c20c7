// The BullMQ queue passes the JobQueue conformance suite every queue must pass, on the real Redis.
import { randomUUID } from 'node:crypto';
import { runQueueConformance } from '@threadlink/testing/conformance';
import { bullmqQueue } from '../src/index.js';

const redisUrl = process.env.REDIS_URL ?? (process.env.CI ? 'redis://127.0.0.1:6379' : undefined);
if (!redisUrl) console.warn('queue-bullmq conformance skipped: set REDIS_URL (e.g. redis://127.0.0.1:6379) to run it');
// One prefix per run, one queue name per test: runs and tests never see each other's keys.
const prefix = `threadlink-conformance-${randomUUID()}`;

runQueueConformance({
  name: 'bullmq (Redis)',
  skip: !redisUrl,
  makeQueue: ({ onFailed }) => bullmqQueue({ connection: redisUrl!, prefix, name: `q-${randomUUID()}`, backoff: { baseMs: 10, maxMs: 40 }, onFailed }),
});
