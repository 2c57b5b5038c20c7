// A threadlink worker process for the scale-out tests: createThreadlink on the shared Postgres
// schema and the shared BullMQ queue, with the real Gmail adapter pointed at the test's emulator.
// Started by the test with `node --import tsx --conditions=source worker.ts`; configured through
// the THREADLINK_WORKER environment variable (JSON) and reporting over the IPC channel:
//   ready                                  the engine is started and pulling jobs
//   job-start / job-end                    a job held / released a mailbox's lease (the engine's
//                                          exclusivity), with this process's Date.now() stamps
//   stored                                 a message this worker inserted (message.synced, created)
//   held                                   a provider call parked by a 'hold' order (see below)
//   sync-error                             a job failure (for diagnostics)
// It obeys two orders from the test: 'hold' parks every later provider read forever, so a
// SIGKILL lands while jobs are mid-flight (a pull takes milliseconds: a kill timed on a report
// would usually fall between jobs); 'stop' shuts down gracefully and exits 0.
import { createThreadlink, type MailProvider, type MetadataStore, type RecordResolver } from '@threadlink/core';
import { gmailProvider, type GmailProviderOptions } from '@threadlink/gmail';
import { postgresStore } from '@threadlink/storage-postgres';
import { childHostConfig } from '@threadlink/testing/child-host';
import { bullmqQueue } from '../../src/index.js';

export interface WorkerConfig {
  workerId: string;
  redisUrl: string;
  queueName: string;
  databaseUrl: string;
  schema: string;
  sealingKey: string;
  publicUrl: string;
  provider: GmailProviderOptions;
  leaseTtlMs: number;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
}

export type WorkerReport =
  | { type: 'ready'; workerId: string }
  | { type: 'job-start'; workerId: string; connectionId: string; owner: string; at: number }
  | { type: 'job-end'; workerId: string; connectionId: string; owner: string; at: number }
  | { type: 'stored'; workerId: string; connectionId: string; providerMessageId: string }
  | { type: 'held'; workerId: string; connectionId: string }
  | { type: 'sync-error'; workerId: string; connectionId: string; code: string };

export type WorkerOrder = { type: 'hold' } | { type: 'stop' };

const LEASE_PREFIX = 'connection:';

const { config, report } = childHostConfig<WorkerConfig, WorkerReport>(
  'THREADLINK_WORKER',
  'worker.ts is started by two-worker-processes.test.ts (THREADLINK_WORKER env and an IPC channel)',
);
const { workerId } = config;

const resolver: RecordResolver = {
  async contactsByEmail() {
    return [];
  },
};

const store = postgresStore({ connectionString: config.databaseUrl, schema: config.schema, poolConfig: { max: 10 } });

// Lease stamps: the start is taken after the grant and the end before the release, so a stamp
// pair from another process can only overlap ours if both really held the mailbox at once.
const watchedStore: MetadataStore = {
  ...store,
  async acquireLease(request) {
    const granted = await store.acquireLease(request);
    if (granted && request.key.startsWith(LEASE_PREFIX)) {
      report({ type: 'job-start', workerId, connectionId: request.key.slice(LEASE_PREFIX.length), owner: request.owner, at: Date.now() });
    }
    return granted;
  },
  // A sync job's lease is taken with its context in one statement.
  async acquireSyncLeases(requests) {
    const results = await store.acquireSyncLeases(requests);
    for (const [index, result] of results.entries()) {
      const request = requests[index]!;
      if (result.acquired && request.key.startsWith(LEASE_PREFIX))
        report({ type: 'job-start', workerId, connectionId: request.connectionId, owner: request.owner, at: Date.now() });
    }
    return results;
  },
  async releaseLease(key, owner) {
    if (key.startsWith(LEASE_PREFIX)) report({ type: 'job-end', workerId, connectionId: key.slice(LEASE_PREFIX.length), owner, at: Date.now() });
    await store.releaseLease(key, owner);
  },
  // ...and usually released by the job's last commit, atomically with it: the end is stamped before
  // that write (another process's acquire of the lease waits for its commit).
  async applySync(connectionId, batch) {
    const release = batch.releaseLease;
    if (release?.key.startsWith(LEASE_PREFIX)) report({ type: 'job-end', workerId, connectionId, owner: release.owner, at: Date.now() });
    return store.applySync(connectionId, batch);
  },
};

let holding = false;
const gmail = gmailProvider(config.provider);
const park = (connectionId: string): Promise<never> => {
  report({ type: 'held', workerId, connectionId });
  return new Promise<never>(() => {});
};
const provider: MailProvider = {
  ...gmail,
  pullChanges: (session, cursor) => (holding ? park(session.connection.id) : gmail.pullChanges(session, cursor)),
  fullSync: (session, resume, options) => (holding ? park(session.connection.id) : gmail.fullSync(session, resume, options)),
};

const tl = createThreadlink({
  store: watchedStore,
  providers: [provider],
  resolver,
  sealingKeys: [{ id: 'k1', key: config.sealingKey }],
  publicUrl: config.publicUrl,
  queue: bullmqQueue({
    connection: config.redisUrl,
    name: config.queueName,
    lockDurationMs: config.lockDurationMs,
    stalledIntervalMs: config.stalledIntervalMs,
    backoff: { baseMs: 20, maxMs: 200 },
  }),
  engine: { leaseTtlMs: config.leaseTtlMs, concurrency: config.concurrency },
  // maintain() belongs to one designated process; the test drives the scenario without it.
  maintenanceIntervalMs: 0,
  logger: 'silent',
});

tl.on('message.synced', ({ message, created }) => {
  if (created) report({ type: 'stored', workerId, connectionId: message.connectionId, providerMessageId: message.providerMessageId });
});
tl.on('sync.error', ({ connectionId, code }) => report({ type: 'sync-error', workerId, connectionId, code }));

process.on('message', (order: WorkerOrder) => {
  if (order.type === 'hold') holding = true;
  if (order.type === 'stop') {
    void (async () => {
      await tl.stop();
      await store.close();
      process.exit(0);
    })();
  }
});

await tl.start();
report({ type: 'ready', workerId });
