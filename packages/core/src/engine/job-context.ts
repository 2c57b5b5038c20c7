// What a job handler (engine/jobs/*) works with: the engine's collaborators, the
// push pacing every pull spends from, and the engine operations a job calls back into.
import type { Connection, ConnectionHealthState } from '../domain/schemas.js';
import type { Job } from '../ports/job-queue.js';
import type { Change } from '../ports/mail-provider.js';
import type { ApplySyncResult, StoredPolicies } from '../ports/metadata-store.js';
import type { CommitOptions } from './commit.js';
import type { EngineDeps } from './engine-options.js';
import type { MailboxHold } from './mailbox-leases.js';
import type { PushPacing } from './push-pacing.js';

/**
 * Work a job leaves for after it has let go of its mailbox: jobs for the same mailbox enqueued
 * while the lease is still held would only find it busy (and wait out the lease-busy retry).
 */
type FollowUp = () => Promise<unknown>;

/** One job's run: its hold on the mailbox lease, and what to enqueue once it is let go. */
export interface JobRun {
  job: Job;
  hold: MailboxHold;
  later: FollowUp[];
  /** Aborted when the engine stops; the job's provider sessions are opened with it (`util/job-signal.ts`). */
  signal: AbortSignal;
  /**
   * The ingestion policies read with the connection when the job started (`getSyncContext`): the
   * job's first commit applies them instead of reading them again. Later pages read afresh.
   */
  policies?: StoredPolicies;
}

export interface JobContext {
  readonly deps: EngineDeps;
  readonly pacing: PushPacing;
  requestSync(connectionId: string, reason: string): Promise<boolean>;
  enqueue(name: Job['name'], connectionId: string, delayMs?: number, data?: Job['data']): Promise<boolean>;
  commit(connection: Connection, changes: Change[], options: CommitOptions): Promise<ApplySyncResult>;
  /**
   * `commit` for a job's last write: it also releases the job's lease in the same transaction when
   * no other job of this engine waits for the mailbox (one store round trip less per job).
   */
  commitLast(connection: Connection, changes: Change[], options: CommitOptions, hold: MailboxHold): Promise<ApplySyncResult>;
}

/** Health written by the commit that ends a successful sync or resync (in place of a separate write). */
export const succeededAt = (pullStartedAt: number): Partial<ConnectionHealthState> => ({ lastSyncAt: pullStartedAt, consecutiveErrors: 0 });
