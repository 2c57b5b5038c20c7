// The JobQueue port: where the engine's work runs. Dedupe by key is how bursts coalesce
// across instances: a job whose key is already waiting is not added again. Per-connection
// exclusivity never comes from the queue; it comes from the store's lease.

export const JOB_NAMES = ['sync', 'resync', 'backfill', 'renew', 'recreate'] as const;
export type JobName = (typeof JOB_NAMES)[number];

export interface Job {
  name: JobName;
  connectionId: string;
  /** Content-free data (ids, reasons). */
  data?: Record<string, string | number | boolean | null>;
  /** Attempt number, starting at 1 (set by the queue). */
  attempt?: number;
  /** When the work was first requested (latency metrics). */
  requestedAt?: number;
}

export interface EnqueueOptions {
  /** Dedupe key: while a job with this key waits, further enqueues are dropped. */
  key?: string;
  delayMs?: number;
  /** Max attempts for retryable failures (default 5). */
  attempts?: number;
}

export type JobHandler = (job: Job) => Promise<void>;

export interface JobQueue {
  readonly name: string;
  /**
   * True when a job enqueued now would start at once in this process, on the engine that
   * enqueued it (the in-process queue with a free slot and nothing waiting). Webhook intake then
   * takes the push's sync lease in its claim. A shared queue (BullMQ) leaves it out: another
   * worker may run the job.
   */
  readonly startsAtOnce?: boolean;
  /** Returns false when an equal-key job was already waiting (coalesced). */
  enqueue(job: Job, options?: EnqueueOptions): Promise<boolean>;
  process(handler: JobHandler, options: { concurrency: number }): void;
  /** Resolves when no job is waiting or running (tests, graceful drain). */
  idle(): Promise<void>;
  /** Stop taking jobs, finish running ones, release resources. */
  close(): Promise<void>;
}
