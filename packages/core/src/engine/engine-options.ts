// What the engine is built from: its tunables (with the defaults hosts get) and the collaborators
// createThreadlink() hands it. Kept apart from the orchestrator so the job handlers can name them.
import type EventEmitter from 'eventemitter3';
import type { Connection } from '../domain/schemas.js';
import type { ThreadlinkEvents } from '../events.js';
import type { Logger } from '../logger.js';
import type { Matcher } from '../matching/index.js';
import type { Telemetry } from '../observability/telemetry.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { MailProvider, ProviderSession } from '../ports/mail-provider.js';
import type { MetadataStore } from '../ports/metadata-store.js';
import type { RecordResolver } from '../ports/record-resolver.js';
import type { Clock } from '../util/clock.js';

export interface EngineOptions {
  /** How long a connection lease lasts without renewal. */
  leaseTtlMs: number;
  /**
   * A pull for every live connection when nothing synced it for this long (Gmail drops pushes > 1/s):
   * the shortest safety-net interval, used right after activity and whenever push looks broken.
   */
  safetyNetPullMs: number;
  /**
   * A push not followed by a sync for this long is taken for lost work — its job vanished with a
   * Redis restarted without persistence, or with a process's in-process queue — and maintain()
   * pulls the mailbox. With the default maintenance interval (60 s) a mailbox whose queued work was
   * lost is pulled again within about 3 minutes, not the safety net's 10.
   */
  pendingPushPullMs: number;
  /** A full reconciliation (resync) this often per connection. 0 disables. */
  fullResyncIntervalMs: number;
  /**
   * The longest a connection's label directory (label / folder names) goes unread. Providers push
   * no rename, so this bounds how long an old name can show: one labels.list (Gmail: 1 quota unit)
   * per mailbox per interval. New or unknown label ids trigger a read sooner on their own.
   */
  labelRefreshIntervalMs: number;
  /**
   * The longest safety-net interval, reached by a mailbox whose pulls keep finding nothing that push
   * missed (see idle-cadence.ts). A dropped push is caught within this long plus one maintain()
   * period. Keep it below `stalledAfterMs`, or a quiet mailbox would read as stalled between pulls.
   */
  safetyNetMaxPullMs: number;
  /** The longest interval between reconciliations, reached by doubling while each finds nothing to fix. */
  fullResyncMaxIntervalMs: number;
  /**
   * The most message ids the periodic reconciliation may list per mailbox per day, on average: a
   * mailbox of N messages is reconciled at most every N / this many days (idle-cadence.ts), so its
   * idle cost does not grow with its size. 1,000 ids a day is 10 Gmail units (messages.list: 5 units
   * per 500 ids) or one Graph delta page: a 50,000-message mailbox is fully compared every 50 days,
   * one under 32,000 messages keeps the `fullResyncMaxIntervalMs` cadence. 0: no budget.
   */
  reconciliationIdsPerDay: number;
  /**
   * A push channel (Gmail watch, Graph subscriptions) whose push shows no sign of failure is renewed
   * this long before it expires, not at the provider's own renewAt (Gmail: daily; Graph: at 75 % of
   * its life): see idle-cadence.ts. A channel suspected dead is renewed at renewAt, or at once when a
   * pull finds mail no push announced. 0: always at renewAt.
   */
  renewalMarginMs: number;
  /** How far back back-fill goes (ms); 0 = everything. */
  backfillWindowMs: number;
  backfillPageSize: number;
  /** Max pull rounds per sync job before yielding the lease to others. */
  maxRoundsPerJob: number;
  concurrency: number;
  /** When a connection counts as stalled: no push and no successful sync for this long. */
  stalledAfterMs: number;
  /**
   * Push pacing per mailbox, a token bucket: up to `pushPullBurst` pulls at once, refilled at
   * `pushPullsPerSecond`. A push finding the bucket empty waits for the next token, coalesced with the
   * pushes behind it, so a burst of 100 messages costs a handful of pulls (Graph allows a mailbox
   * about 16 requests/s per app) while mail arriving at everyday rates is never delayed.
   * `pushPullsPerSecond: 0` disables pacing.
   */
  pushPullsPerSecond: number;
  pushPullBurst: number;
}

export const defaultEngineOptions: EngineOptions = {
  leaseTtlMs: 60_000,
  safetyNetPullMs: 10 * 60_000,
  pendingPushPullMs: 2 * 60_000,
  fullResyncIntervalMs: 24 * 60 * 60_000,
  labelRefreshIntervalMs: 60 * 60_000,
  safetyNetMaxPullMs: 30 * 60_000,
  fullResyncMaxIntervalMs: 32 * 24 * 60 * 60_000,
  reconciliationIdsPerDay: 1_000,
  renewalMarginMs: 24 * 60 * 60_000,
  backfillWindowMs: 0,
  backfillPageSize: 100,
  maxRoundsPerJob: 20,
  concurrency: 8,
  stalledAfterMs: 60 * 60_000,
  pushPullsPerSecond: 10,
  pushPullBurst: 5,
};

export interface EngineDeps {
  store: MetadataStore;
  providers: Map<string, MailProvider>;
  queue: JobQueue;
  matcher: Matcher;
  resolver: RecordResolver;
  sessionFor(connection: Connection, signal?: AbortSignal): Promise<ProviderSession>;
  events: EventEmitter<{ [K in keyof ThreadlinkEvents]: (payload: ThreadlinkEvents[K]) => void }>;
  logger: Logger;
  clock: Clock;
  options: EngineOptions;
  telemetry: Telemetry;
}
