// @threadlink/queue-bullmq — the JobQueue port on BullMQ (Redis), for hosts running several
// instances and workers. Semantics match core's in-process queue:
// - dedupe by key while a job WAITS (a running job does not block one more): BullMQ's deduplication
//   in simple mode marks the key inside the add script (one Redis round trip per enqueue, where a
//   SET NX of our own and the add were two), and the worker removes the key the moment it starts
//   the job (`removeDeduplicationKey`, only if the key still names this job). Left in place, the key
//   would swallow enqueues while the job is active, losing the pull that must follow a burst.
// - delays and retries are BullMQ delayed jobs; the backoff strategy honours Retry-After.
// - a worker that dies mid-job loses its lock; BullMQ's stalled-job check hands the job to another
//   worker. Per-connection exclusivity still comes from the store's lease, not from here.
import { toThreadlinkError, type BackoffOptions, type EnqueueOptions, type Job, type JobHandler, type JobQueue } from '@threadlink/core';
import { backoffDelay, randomId } from '@threadlink/core/provider';
import { Queue, UnrecoverableError, Worker, type Job as BullJob } from 'bullmq';
import { Redis } from 'ioredis';

export interface BullmqQueueOptions {
  /** A Redis URL (redis://127.0.0.1:6379) or an ioredis client to duplicate. */
  connection: string | Redis;
  /** Queue name; every instance that should share work uses the same one. Default 'threadlink'. */
  name?: string;
  /** BullMQ key prefix. Default 'bull'. */
  prefix?: string;
  /** How long a worker's job lock lasts without renewal; a crashed worker's job is retried after it. */
  lockDurationMs?: number;
  /** How often workers look for stalled jobs. */
  stalledIntervalMs?: number;
  backoff?: BackoffOptions;
  /** Called when a job fails for good. */
  onFailed?: (job: Job, error: unknown) => void;
}

interface Payload {
  job: Job;
  /** Set by releases before BullMQ deduplication was used: their own "waiting" marker's key. */
  dedupeKey?: string | null;
}

// Clears an earlier release's "waiting" marker only if it still names this job (a newer job may own
// it): jobs queued by that release may still be waiting when this one's workers start.
const CLEAR_IF_OWNER = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export function bullmqQueue(options: BullmqQueueOptions): JobQueue {
  const name = options.name ?? 'threadlink';
  const prefix = options.prefix ?? 'bull';
  const make = (): Redis =>
    typeof options.connection === 'string'
      ? new Redis(options.connection, { maxRetriesPerRequest: null })
      : options.connection.duplicate({ maxRetriesPerRequest: null });
  const client = make();
  const queue = new Queue<Payload>(name, { connection: make(), prefix });
  let worker: Worker<Payload> | undefined;
  const waitingKey = (key: string): string => `${prefix}:${name}:threadlink-waiting:${key}`;

  return {
    name: `bullmq:${name}`,
    async enqueue(job: Job, enqueueOptions: EnqueueOptions = {}) {
      const id = randomId(12);
      const delay = Math.max(0, enqueueOptions.delayMs ?? 0);
      const key = enqueueOptions.key ?? null;
      const added = await queue.add(
        job.name,
        { job: { ...job, requestedAt: job.requestedAt ?? Date.now() } },
        {
          jobId: id,
          delay,
          attempts: enqueueOptions.attempts ?? 5,
          backoff: { type: 'threadlink' },
          removeOnComplete: true,
          removeOnFail: { count: 1000 },
          // Simple mode (no ttl): the key holds until the job starts (removed then, below), or
          // finishes; a key whose job is gone is recovered by BullMQ's add script.
          ...(key ? { deduplication: { id: key } } : {}),
        },
      );
      // A deduplicated add answers the id of the job already waiting under the key.
      return added.id === id;
    },
    process(handler: JobHandler, processOptions: { concurrency: number }) {
      if (worker) throw new Error('process() was already called on this queue');
      worker = new Worker<Payload>(
        name,
        async (bullJob: BullJob<Payload>) => {
          const { job, dedupeKey } = bullJob.data;
          if (bullJob.deduplicationId) await bullJob.removeDeduplicationKey();
          else if (dedupeKey) await client.eval(CLEAR_IF_OWNER, 1, waitingKey(dedupeKey), bullJob.id ?? '');
          try {
            await handler({ ...job, attempt: bullJob.attemptsMade + 1 });
          } catch (raw) {
            const error = toThreadlinkError(raw);
            if (!error.retryable) {
              options.onFailed?.(job, error);
              throw new UnrecoverableError(`${error.code}: ${error.message}`);
            }
            if (bullJob.attemptsMade + 1 >= (bullJob.opts.attempts ?? 1)) options.onFailed?.(job, error);
            throw error;
          }
        },
        {
          connection: make(),
          prefix,
          concurrency: Math.max(1, processOptions.concurrency),
          lockDuration: options.lockDurationMs ?? 30_000,
          stalledInterval: options.stalledIntervalMs ?? 15_000,
          maxStalledCount: 5,
          settings: {
            backoffStrategy: (attemptsMade: number, _type?: string, error?: Error) => {
              const retryAfter = (error as { retryAfterMs?: number } | undefined)?.retryAfterMs ?? 0;
              return Math.max(retryAfter, backoffDelay(attemptsMade, options.backoff));
            },
          },
        },
      );
      worker.on('error', () => {
        // Connection blips are retried by ioredis; surfacing them as unhandled errors would crash hosts.
      });
    },
    async idle() {
      // Settled when nothing waits, runs or is delayed twice in a row (jobs may enqueue follow-ups).
      let quiet = 0;
      while (quiet < 2) {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
        const pending = Object.values(counts).reduce((sum, value) => sum + value, 0);
        quiet = pending === 0 ? quiet + 1 : 0;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async close() {
      await worker?.close();
      await queue.close();
      client.disconnect();
    },
  };
}
