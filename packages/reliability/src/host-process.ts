// One threadlink instance as a real process, for the deploy tests (SIGTERM under load): webhooks
// served on its own port and a worker on the shared BullMQ queue and PostgreSQL schema, with the
// real Gmail adapter pointed at the test's emulator. It does what a host's SIGTERM handler does
// (README, "Operations"): tl.stop() with the configured grace, close the store, exit 0.
// Started with `node --import tsx --conditions=source host-process.ts`, configured by the
// THREADLINK_HOST environment variable (JSON), reporting over the IPC channel:
//   ready { url }        serving webhooks and pulling jobs
//   stopping             SIGTERM received, tl.stop() began
//   stored               a message this process inserted (message.synced, created)
//   aborted              a provider read this process had in flight was cut by stop() past its grace
//   stopped { ms }       tl.stop() returned, ms after SIGTERM
import { createMemoryResolver, createThreadlink, type MailProvider } from '@threadlink/core';
import { gmailProvider, type GmailProviderOptions } from '@threadlink/gmail';
import { bullmqQueue } from '@threadlink/queue-bullmq';
import { postgresStore } from '@threadlink/storage-postgres';
import { serveWebHandler } from '@threadlink/testing';
import { childHostConfig } from '@threadlink/testing/child-host';

export interface HostConfig {
  hostId: string;
  redisUrl: string;
  queueName: string;
  databaseUrl: string;
  schema: string;
  sealingKey: string;
  publicUrl: string;
  provider: GmailProviderOptions;
  shutdownGraceMs: number;
}

export type HostReport =
  | { type: 'ready'; hostId: string; url: string }
  | { type: 'stopping'; hostId: string }
  | { type: 'stored'; hostId: string; connectionId: string; providerMessageId: string }
  | { type: 'aborted'; hostId: string; connectionId: string }
  /** A pull began (the SIGTERM test signals right after one, so the grace cuts it). */
  | { type: 'pulling'; hostId: string; connectionId: string }
  | { type: 'stopped'; hostId: string; ms: number };

const { config, report } = childHostConfig<HostConfig, HostReport>(
  'THREADLINK_HOST',
  'host-process.ts is started by the reliability deploy tests (THREADLINK_HOST env and an IPC channel)',
);
const { hostId } = config;

let stopping = false;
const gmail = gmailProvider(config.provider);
// Watches the pulls: one that fails after SIGTERM was in flight and cut by the grace's abort.
const provider: MailProvider = {
  ...gmail,
  async pullChanges(session, cursor) {
    report({ type: 'pulling', hostId, connectionId: session.connection.id });
    try {
      return await gmail.pullChanges(session, cursor);
    } catch (error) {
      if (stopping) report({ type: 'aborted', hostId, connectionId: session.connection.id });
      throw error;
    }
  },
};

const store = postgresStore({ connectionString: config.databaseUrl, schema: config.schema, poolConfig: { max: 6 } });
const tl = createThreadlink({
  store,
  providers: [provider],
  resolver: createMemoryResolver(),
  sealingKeys: [{ id: 'k1', key: config.sealingKey }],
  publicUrl: config.publicUrl,
  queue: bullmqQueue({ connection: config.redisUrl, name: config.queueName, backoff: { baseMs: 50, maxMs: 400 } }),
  engine: { leaseTtlMs: 30_000, concurrency: 4 },
  maintenanceIntervalMs: 0,
  shutdownGraceMs: config.shutdownGraceMs,
  logger: 'silent',
});
tl.on('message.synced', ({ message, created }) => {
  if (created) report({ type: 'stored', hostId, connectionId: message.connectionId, providerMessageId: message.providerMessageId });
});

const served = await serveWebHandler((request) => tl.handler(request));
process.once('SIGTERM', () => {
  const at = Date.now();
  stopping = true;
  report({ type: 'stopping', hostId });
  void (async () => {
    // The listener stays open through stop(): pushes meanwhile get 503 + Retry-After, not a reset.
    await tl.stop();
    report({ type: 'stopped', hostId, ms: Date.now() - at });
    await served.close();
    await store.close();
    process.exit(0);
  })();
});

await tl.start();
report({ type: 'ready', hostId, url: served.url });
