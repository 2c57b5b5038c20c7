// Two threadlink instances (two SyncEngines, each with its own in-process queue) on one
// PostgreSQL database, behind a round-robin "load balancer", with the real Gmail adapter and the
// Gmail + Pub/Sub emulator. 1,000 pushed notifications across 50 mailboxes: every message is
// stored exactly once, both engines do work, and no mailbox is ever pulled by two at once.
import {
  createThreadlink,
  generateSealingKey,
  type MailProvider,
  type MetadataStore,
  type PublicConnection,
  type RecordResolver,
  type Threadlink,
} from '@threadlink/core';
import { mapWithConcurrency } from '@threadlink/core/provider';
import { gmailProvider } from '@threadlink/gmail';
import { serveWebHandler, startGmailEmulator, type GmailEmulator, type ServedHandler } from '@threadlink/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresStore, type SqlMetadataStore } from '../src/index.js';
import { postgresBackend, postgresPool, randomSchema, trackSchema } from './backends.js';

const MAILBOXES = 50;
const MESSAGES = 1_000;
const PUSH_AUDIENCE = 'https://crm.example.test/threadlink/webhooks/gmail';

const resolver: RecordResolver = {
  async contactsByEmail(_tenantId, addresses) {
    return addresses.filter((address) => address.endsWith('@bigco.test')).map((address) => ({ type: 'contact', id: address, emails: [address] }));
  },
};

/** Shared across both instances (one process): what "at the same time" means for a mailbox. */
interface Monitor {
  inFlight: Map<string, number>;
  maxInFlight: number;
  leaseHolders: Map<string, string>;
  leaseOverlaps: string[];
  pulls: number[];
}

/** The provider, counting concurrent pulls per connection. */
function watchedProvider(provider: MailProvider, monitor: Monitor, instance: number): MailProvider {
  const guard =
    <Args extends unknown[], Result>(run: (session: Parameters<MailProvider['pullChanges']>[0], ...args: Args) => Promise<Result>) =>
    async (session: Parameters<MailProvider['pullChanges']>[0], ...args: Args): Promise<Result> => {
      const id = session.connection.id;
      const running = (monitor.inFlight.get(id) ?? 0) + 1;
      monitor.inFlight.set(id, running);
      monitor.maxInFlight = Math.max(monitor.maxInFlight, running);
      monitor.pulls[instance] = (monitor.pulls[instance] ?? 0) + 1;
      try {
        return await run(session, ...args);
      } finally {
        monitor.inFlight.set(id, (monitor.inFlight.get(id) ?? 1) - 1);
      }
    };
  return {
    ...provider,
    pullChanges: guard((session, cursor: string) => provider.pullChanges(session, cursor)),
    fullSync: guard((session, resume: string | null, options: Parameters<MailProvider['fullSync']>[2]) => provider.fullSync(session, resume, options)),
  };
}

/** The store, checking that a granted lease is never already held by another owner. */
function watchedStore(store: SqlMetadataStore, monitor: Monitor): MetadataStore {
  return {
    ...store,
    async acquireLease(request) {
      const granted = await store.acquireLease(request);
      if (granted) {
        const holder = monitor.leaseHolders.get(request.key);
        if (holder !== undefined) monitor.leaseOverlaps.push(`${request.key}: ${holder} and ${request.owner}`);
        monitor.leaseHolders.set(request.key, request.owner);
      }
      return granted;
    },
    async releaseLease(key, owner) {
      if (monitor.leaseHolders.get(key) === owner) monitor.leaseHolders.delete(key);
      await store.releaseLease(key, owner);
    },
  };
}

describe.skipIf(!postgresBackend.available)('two engines on one PostgreSQL database', () => {
  const monitor: Monitor = { inFlight: new Map(), maxInFlight: 0, leaseHolders: new Map(), leaseOverlaps: [], pulls: [] };
  const created: string[][] = [[], []];
  let google: GmailEmulator;
  let served: ServedHandler;
  let instances: Threadlink[] = [];
  let stores: SqlMetadataStore[] = [];

  const settle = async (): Promise<void> => {
    // Pulls can trigger new history and pushes; loop until a round changes nothing.
    for (let round = 0; round < 20; round += 1) {
      const before = google.pushLog.attempts;
      await google.flushNotifications();
      await Promise.all(instances.map((instance) => instance.idle()));
      if (google.pushLog.attempts === before) return;
    }
  };

  beforeAll(async () => {
    // notificationIntervalMs 0: every mailbox change is its own push (no 1/s coalescing).
    google = await startGmailEmulator({ notificationIntervalMs: 0 });
    let turn = 0;
    served = await serveWebHandler((request) => {
      const instance = instances[turn++ % Math.max(1, instances.length)];
      return instance ? instance.handler(request) : Promise.resolve(new Response(null, { status: 503 }));
    });
    const publicUrl = `${served.url}/threadlink`;
    google.setPushEndpoint({ endpoint: `${publicUrl}/webhooks/gmail`, audience: PUSH_AUDIENCE });

    const schema = trackSchema(randomSchema());
    const sealingKeys = [{ id: 'k1', key: generateSealingKey() }];
    stores = [0, 1].map(() => postgresStore({ pool: postgresPool(), schema }));
    instances = stores.map((store, index) => {
      const tl = createThreadlink({
        store: watchedStore(store, monitor),
        providers: [watchedProvider(gmailProvider({ ...google.providerOptions, retry: { baseMs: 5, maxMs: 50 } }), monitor, index)],
        resolver,
        sealingKeys,
        publicUrl,
        logger: 'silent',
        maintenanceIntervalMs: 0,
        retryBackoff: { baseMs: 5, maxMs: 50 },
      });
      tl.on('message.synced', ({ message, created: isNew }) => {
        if (isNew) created[index]!.push(`${message.connectionId}/${message.providerMessageId}`);
      });
      return tl;
    });
    // Both start at once: the store migrations race and must serialise.
    await Promise.all(instances.map((instance) => instance.start()));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    await served?.close();
    await google?.close();
  });

  it('stores each of 1,000 pushed messages across 50 mailboxes exactly once, never pulling a mailbox twice at a time', async () => {
    const emails = Array.from({ length: MAILBOXES }, (_, index) => `user${index}@acme.test`);
    // Consent starts on one instance and completes on the other: OAuth state lives in the shared store.
    const connections: PublicConnection[] = await mapWithConcurrency(emails, 10, async (email, index) => {
      google.addMailbox({ email });
      const starter = instances[index % 2]!;
      const finisher = instances[(index + 1) % 2]!;
      const { url } = await starter.connect.start({ provider: 'gmail', tenantId: 't1', userId: `u${index}`, loginHint: email });
      return finisher.connect.complete(new URL(await google.authorize(url, { email })), { tenantId: 't1', userId: `u${index}` });
    });
    await settle();
    expect(new Set(connections.map((connection) => connection.id)).size).toBe(MAILBOXES);

    const pushesBefore = google.pushLog.attempts;
    await mapWithConcurrency(
      Array.from({ length: MESSAGES }, (_, index) => index),
      25,
      (index) => google.deliver({ to: emails[index % MAILBOXES]!, from: `client${index % 7}@bigco.test`, subject: `Order ${index}` }),
    );
    await settle();

    // At least one push per delivered message went through the load balancer. A thousand pushes
    // at once overrun the loopback listener and some first attempts fail at the network level;
    // Pub/Sub redelivers those, so what counts is that every notification ended acknowledged and
    // no answer was an error status.
    const log = google.pushLog;
    expect(log.attempts - pushesBefore).toBeGreaterThanOrEqual(MESSAGES);
    expect({ abandoned: log.abandoned, unacknowledged: log.published - log.delivered }).toEqual({ abandoned: 0, unacknowledged: 0 });
    expect(log.status.filter((status) => status !== 0 && (status < 200 || status > 299))).toEqual([]);

    // Every message of every mailbox is stored, once.
    for (const [index, connection] of connections.entries()) {
      const expected = google
        .messages(emails[index]!)
        .map((message) => message.id)
        .sort();
      expect(expected).toHaveLength(MESSAGES / MAILBOXES);
      expect([...(await stores[0]!.listProviderMessageIds(connection.id))].sort()).toEqual(expected);
    }
    const rows = await stores[0]!.sql.query<{ count: string | number }>(`SELECT count(*) AS count FROM "${stores[0]!.schema}".messages`);
    expect(Number(rows.rows[0]?.count)).toBe(MESSAGES);
    const inserts = [...created[0]!, ...created[1]!];
    expect(inserts).toHaveLength(MESSAGES);
    expect(new Set(inserts).size).toBe(MESSAGES);

    // The work was split, and never overlapped on a mailbox.
    expect(created[0]!.length).toBeGreaterThan(0);
    expect(created[1]!.length).toBeGreaterThan(0);
    expect(monitor.maxInFlight).toBe(1);
    expect(monitor.leaseOverlaps).toEqual([]);
  }, 180_000);
});
