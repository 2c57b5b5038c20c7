// Issue 21: a burst of pushed mail costs PostgreSQL at most two transactions per synced message,
// everything included: one per store call, at most five per sync job (lease, the connection with
// its policies, the page's threads, the one applySync, lease) and about one per push (the claim
// with lastPushAt; the mailbox look-up is remembered for the burst), with the real Gmail
// adapter against the Gmail + Pub/Sub emulator over HTTP. Transactions are counted on the SQL
// client (every statement outside a transaction is one, every transaction one), store calls on
// the store, so the test also proves each store call is a single transaction.
import { createThreadlink, generateSealingKey, type MailProvider, type MetadataStore, type RecordResolver, type Threadlink } from '@threadlink/core';
import { gmailProvider } from '@threadlink/gmail';
import { serveWebHandler, startGmailEmulator, type GmailEmulator, type ServedHandler } from '@threadlink/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqlStore, poolClient, type SqlClient } from '../src/index.js';
import { postgresBackend, postgresPool, randomSchema, trackSchema } from './backends.js';

const BURST = 24;
const PUSH_AUDIENCE = 'https://crm.example.test/threadlink/webhooks/gmail';
/** Store calls made by webhook intake; every other call of the burst is a sync job's. */
const INTAKE = new Set(['listConnections', 'claimPush']);

const resolver: RecordResolver = {
  async contactsByEmail(_tenantId, addresses) {
    return addresses.filter((address) => address.endsWith('@bigco.test')).map((address) => ({ type: 'contact', id: address, emails: [address] }));
  },
};

/** Counts transactions as PostgreSQL does (`xact_commit`): a bare statement is one, a transaction one. */
function transactionCounter(inner: SqlClient): { client: SqlClient; count: () => number } {
  let transactions = 0;
  const client: SqlClient = {
    dialect: inner.dialect,
    query: (sql, params) => {
      transactions += 1;
      return inner.query(sql, params);
    },
    exec: (sql) => {
      transactions += 1;
      return inner.exec(sql);
    },
    transaction: (fn) => {
      transactions += 1;
      return inner.transaction(fn);
    },
    close: () => inner.close(),
  };
  return { client, count: () => transactions };
}

/** Store calls by method name. */
function callCounter(inner: MetadataStore): { store: MetadataStore; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.set(String(property), (calls.get(String(property)) ?? 0) + 1);
        return (value as (...rest: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, calls };
}

describe.skipIf(!postgresBackend.available)('PostgreSQL transactions per synced message in a burst', () => {
  let google: GmailEmulator;
  let served: ServedHandler;
  let tl: Threadlink;
  let transactions: () => number;
  let calls: Map<string, number>;
  let pulls = 0;
  let raw: MetadataStore;

  beforeAll(async () => {
    // notificationIntervalMs 0: every delivered message is its own push, as in the scale benchmark.
    google = await startGmailEmulator({ notificationIntervalMs: 0 });
    served = await serveWebHandler((request) => tl.handler(request));
    const publicUrl = `${served.url}/threadlink`;
    google.setPushEndpoint({ endpoint: `${publicUrl}/webhooks/gmail`, audience: PUSH_AUDIENCE });
    const counter = transactionCounter(poolClient(postgresPool(), false));
    transactions = counter.count;
    raw = createSqlStore(counter.client, { schema: trackSchema(randomSchema()) });
    const counted = callCounter(raw);
    calls = counted.calls;
    const gmail = gmailProvider({ ...google.providerOptions, retry: { baseMs: 5, maxMs: 50 } });
    const provider: MailProvider = {
      ...gmail,
      pullChanges: (session, cursor, options) => {
        pulls += 1;
        return gmail.pullChanges(session, cursor, options);
      },
    };
    tl = createThreadlink({
      store: counted.store,
      providers: [provider],
      resolver,
      sealingKeys: [{ id: 'k1', key: generateSealingKey() }],
      publicUrl,
      logger: 'silent',
      maintenanceIntervalMs: 0,
      retryBackoff: { baseMs: 5, maxMs: 50 },
    });
    await tl.start();
  }, 60_000);

  afterAll(async () => {
    await tl?.stop();
    await served?.close();
    await google?.close();
  });

  const settle = async (): Promise<void> => {
    for (let round = 0; round < 20; round += 1) {
      const before = google.pushLog.attempts;
      await google.flushNotifications();
      await tl.idle();
      if (google.pushLog.attempts === before) return;
    }
  };

  it('stores a burst of pushed messages with at most five transactions per sync job and one per store call', async () => {
    const email = 'burst@acme.test';
    google.addMailbox({ email });
    const { url } = await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1', loginHint: email });
    const connection = await tl.connect.complete(new URL(await google.authorize(url, { email })), { tenantId: 't1', userId: 'u1' });
    await settle();

    const stored: string[] = [];
    tl.on('message.synced', ({ message, created }) => {
      if (created) stored.push(message.providerMessageId);
    });
    calls.clear();
    pulls = 0;
    const transactionsBefore = transactions();
    const pushesBefore = google.pushLog.delivered;
    await Promise.all(
      Array.from({ length: BURST }, (_, index) => google.deliver({ to: email, from: `client${index % 3}@bigco.test`, subject: `Order ${index}` })),
    );
    await settle();
    const spent = transactions() - transactionsBefore;
    const pushes = google.pushLog.delivered - pushesBefore;

    // What a user sees: every message of the burst is stored, once.
    expect(stored).toHaveLength(BURST);
    expect(new Set(stored).size).toBe(BURST);

    const byMethod = Object.fromEntries(calls);
    const total = Object.values(byMethod).reduce((sum, count) => sum + count, 0);
    const intake = Object.entries(byMethod)
      .filter(([method]) => INTAKE.has(method))
      .reduce((sum, [, count]) => sum + count, 0);
    const jobs = total - intake;
    expect((await raw.listProviderMessageIds(connection.id)).sort()).toEqual(
      google
        .messages(email)
        .map((message) => message.id)
        .sort(),
    );
    // Every store call is one transaction (nothing else touched the database).
    expect(spent, JSON.stringify(byMethod)).toBe(total);
    // Intake: the claim that also records lastPushAt, and the mailbox look-up once per burst (not per push).
    expect(byMethod.claimPush, JSON.stringify(byMethod)).toBe(pushes);
    expect(byMethod.listConnections ?? 0, JSON.stringify(byMethod)).toBeLessThanOrEqual(Math.ceil(pushes / 4));
    expect(intake, JSON.stringify(byMethod)).toBeLessThan(2 * pushes);
    expect(byMethod.patchConnection ?? 0, JSON.stringify(byMethod)).toBe(0);
    // Sync jobs: the connection and its policies in one read, no label-directory read for known labels.
    expect(byMethod.getConnection ?? 0, JSON.stringify(byMethod)).toBe(0);
    expect(byMethod.getPolicies ?? 0, JSON.stringify(byMethod)).toBe(0);
    expect(byMethod.listLabels ?? 0, JSON.stringify(byMethod)).toBe(0);
    expect(jobs, JSON.stringify(byMethod)).toBeLessThanOrEqual(5 * pulls);
    // The sync path (jobs) costs at most one transaction per synced message in a burst.
    expect(jobs / BURST, JSON.stringify({ byMethod, pulls, pushes })).toBeLessThanOrEqual(1);
    // Everything included (intake and jobs): the target of at most two per synced message.
    expect(spent / BURST, JSON.stringify({ byMethod, pulls, pushes })).toBeLessThanOrEqual(2);
  }, 120_000);
});
