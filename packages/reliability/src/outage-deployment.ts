// A small deployment for the infrastructure-fault tests: the Gmail emulator with a patient push
// retry (real Pub/Sub retries for days), one threadlink process on a PostgreSQL store reached
// through a TCP proxy the test can cut, and a log of every webhook answer. The verdict is the same
// ground truth the chaos run uses (`expectedGmail`), plus a physical duplicate count.
import { randomBytes } from 'node:crypto';
import { createMemoryResolver, createThreadlink, generateSealingKey, type PublicConnection, type Threadlink } from '@threadlink/core';
import { gmailProvider } from '@threadlink/gmail';
import { postgresStore, type SqlMetadataStore } from '@threadlink/storage-postgres';
import { serveWebHandler, startGmailEmulator, type GmailEmulator, type ServedHandler } from '@threadlink/testing';
import pg from 'pg';
import { expectedGmail } from './ground-truth.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

interface WebhookAnswer {
  status: number;
  retryAfter: string | null;
  /** What the test said was going on when the answer left (e.g. 'database-down'). */
  phase: string;
  /** The error code of a refused push (from the JSON body). */
  code: string | null;
}

export interface OutageDeployment {
  google: GmailEmulator;
  tl: Threadlink;
  store: SqlMetadataStore;
  proxy: TcpProxy;
  /** A direct pool (not through the proxy) for the test's own reads and pg_terminate_backend. */
  admin: pg.Pool;
  /** The application_name the store's connections carry, to find them in pg_stat_activity. */
  applicationName: string;
  schema: string;
  tenantId: string;
  answers: WebhookAnswer[];
  phase: string;
  connect(email: string): Promise<PublicConnection>;
  /** Terminates every server backend of the store's pool; returns how many. */
  terminateStoreBackends(): Promise<number>;
  /** Per mailbox: ids the provider holds that the store lacks, ids the store holds the provider does not. */
  verdict(connections: PublicConnection[]): Promise<{ missing: number; extra: number; duplicates: number; expected: number }>;
  close(): Promise<void>;
}

export async function startOutageDeployment(databaseUrl: string): Promise<OutageDeployment> {
  const direct = new URL(databaseUrl);
  const proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
  const applicationName = `tl-outage-${randomBytes(4).toString('hex')}`;
  const proxied = new URL(databaseUrl);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxy.port);
  proxied.searchParams.set('application_name', applicationName);
  const schema = `tl_outage_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const store = postgresStore({ connectionString: proxied.toString(), schema, poolConfig: { max: 6, connectionTimeoutMillis: 1_000 } });
  await store.init();
  const google = await startGmailEmulator({
    notificationIntervalMs: 20,
    // Scaled down from Pub/Sub's 10 s … 600 s backoff; never gives up within a test.
    pushRetry: { initialBackoffMs: 50, maxBackoffMs: 400, maxAttempts: 1_000 },
  });
  const tenantId = 't-outage';
  const answers: WebhookAnswer[] = [];
  let tl: Threadlink | undefined;
  const deployment = { phase: 'normal' } as OutageDeployment;
  const served: ServedHandler = await serveWebHandler(async (request) => {
    const response = await tl!.handler(request);
    const text = response.status >= 300 ? await response.clone().text() : '';
    const code = /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? null;
    answers.push({ status: response.status, retryAfter: response.headers.get('retry-after'), phase: deployment.phase, code });
    return response;
  });
  const publicUrl = `${served.url}/threadlink`;
  google.setPushEndpoint({ endpoint: `${publicUrl}/webhooks/gmail` });
  tl = createThreadlink({
    store,
    providers: [gmailProvider({ ...google.providerOptions, retry: { baseMs: 5, maxMs: 50 } })],
    resolver: createMemoryResolver(),
    sealingKeys: [{ id: 'k1', key: generateSealingKey() }],
    publicUrl,
    maintenanceIntervalMs: 0,
    // Retries spread over ~1.5 s: a short outage is outlived by the job itself, a longer one by the
    // push redelivery or the safety net.
    retryBackoff: { baseMs: 100, maxMs: 800 },
  });
  await tl.start();
  const threadlink = tl;

  return Object.assign(deployment, {
    google,
    tl: threadlink,
    store,
    proxy,
    admin,
    applicationName,
    schema,
    tenantId,
    answers,
    async connect(email: string) {
      const user = { tenantId, userId: `user-${email.split('@')[0]}` };
      const { url } = await threadlink.connect.start({ provider: 'gmail', ...user, loginHint: email });
      return threadlink.connect.complete(new URL(await google.authorize(url, { email })), user);
    },
    async terminateStoreBackends() {
      const result = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()', [
        applicationName,
      ]);
      return result.rowCount ?? 0;
    },
    async verdict(connections: PublicConnection[]) {
      let missing = 0;
      let extra = 0;
      let expectedCount = 0;
      for (const connection of connections) {
        const expected = new Set(expectedGmail(google, connection.accountEmail).keys());
        const stored = new Set(await store.listProviderMessageIds(connection.id));
        expectedCount += expected.size;
        for (const id of expected) if (!stored.has(id)) missing += 1;
        for (const id of stored) if (!expected.has(id)) extra += 1;
      }
      const duplicates = await admin.query(
        `SELECT count(*)::int AS n FROM (SELECT 1 FROM "${schema}".messages GROUP BY connection_id, provider_message_id HAVING count(*) > 1) d`,
      );
      return { missing, extra, duplicates: Number(duplicates.rows[0].n), expected: expectedCount };
    },
    async close() {
      await threadlink.stop().catch(() => undefined);
      await served.close();
      await google.close();
      await store.close().catch(() => undefined);
      await proxy.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    },
  });
}
