// Set-up shared by the infrastructure-fault tests (database outage, Redis restart, SIGTERM, soak,
// shutdown blame): a store on a schema of its own on the shared PostgreSQL, a queue name of its
// own on the shared Redis, the push endpoint in front of an instance, a threadlink instance on the
// Gmail emulator, and mailboxes connected through the real consent flow. Every resource registers
// its clean-up, in the order the tests' afterEach pops them (last in, first out).
import { randomBytes } from 'node:crypto';
import { createMemoryResolver, createThreadlink, generateSealingKey, type PublicConnection, type Threadlink, type ThreadlinkConfig } from '@threadlink/core';
import { mapWithConcurrency } from '@threadlink/core/provider';
import { gmailProvider } from '@threadlink/gmail';
import { postgresStore, type SqlMetadataStore } from '@threadlink/storage-postgres';
import { type GmailEmulator, serveWebHandler } from '@threadlink/testing';
import { Queue } from 'bullmq';

export type Cleanups = Array<() => Promise<void>>;

/** A name no other session's test uses on the shared servers. */
export const uniqueName = (prefix: string): string => `${prefix}${randomBytes(5).toString('hex')}`;

/** A PostgreSQL store on a schema of its own (`<prefix>_<hex>`), dropped at clean-up. */
export function isolatedPostgresStore(
  databaseUrl: string,
  options: { prefix: string; poolMax: number; applicationName?: string },
  cleanups: Cleanups,
): SqlMetadataStore {
  const url = new URL(databaseUrl);
  if (options.applicationName) url.searchParams.set('application_name', options.applicationName);
  const store = postgresStore({ connectionString: url.toString(), schema: uniqueName(`${options.prefix}_`), poolConfig: { max: options.poolMax } });
  cleanups.push(async () => {
    await store.sql.query(`DROP SCHEMA IF EXISTS "${store.schema}" CASCADE`);
    await store.close();
  });
  return store;
}

/** A BullMQ queue name of its own on the shared Redis, its keys obliterated at clean-up. */
export function isolatedQueueName(redisUrl: string, prefix: string, cleanups: Cleanups): string {
  const name = uniqueName(`${prefix}-`);
  cleanups.push(async () => {
    const queue = new Queue(name, { connection: { url: redisUrl } });
    await queue.obliterate({ force: true });
    await queue.close();
  });
  return name;
}

export interface PushEndpoint {
  /** The instance's publicUrl (`…/threadlink`); the emulator pushes to its Gmail webhook. */
  publicUrl: string;
  /** The status of every push answered, in order. */
  statuses: number[];
  /** Where pushes go from now on; none: 502, as a load balancer with no backend answers. */
  route(tl: Threadlink | undefined): void;
}

/**
 * An HTTP endpoint on 127.0.0.1 in front of an instance, set as the emulator's push endpoint (an
 * emulator in another process, `undefined` here, is handed `publicUrl` at its start instead).
 */
export async function servePushEndpoint(google: GmailEmulator | undefined, cleanups: Cleanups): Promise<PushEndpoint> {
  let target: Threadlink | undefined;
  const statuses: number[] = [];
  const served = await serveWebHandler(async (request) => {
    if (!target) return new Response(null, { status: 502 });
    const response = await target.handler(request);
    statuses.push(response.status);
    return response;
  });
  cleanups.push(() => served.close());
  const publicUrl = `${served.url}/threadlink`;
  google?.setPushEndpoint({ endpoint: `${publicUrl}/webhooks/gmail` });
  return {
    publicUrl,
    statuses,
    route: (tl) => {
      target = tl;
    },
  };
}

/**
 * createThreadlink with the real Gmail adapter on the emulator (fast retries), the memory resolver
 * and a fresh sealing key unless given; everything else from `config`. Started; stopped at clean-up.
 */
export async function startGmailInstance(
  google: Pick<GmailEmulator, 'providerOptions'>,
  config: Omit<ThreadlinkConfig, 'providers' | 'resolver' | 'sealingKeys'> & Partial<Pick<ThreadlinkConfig, 'sealingKeys'>>,
  cleanups: Cleanups,
): Promise<Threadlink> {
  const tl = createThreadlink({
    providers: [gmailProvider({ ...google.providerOptions, retry: { baseMs: 5, maxMs: 50 } })],
    resolver: createMemoryResolver(),
    sealingKeys: [{ id: 'k1', key: generateSealingKey() }],
    ...config,
  });
  cleanups.push(() => tl.stop());
  await tl.start();
  return tl;
}

/**
 * Adds each address to the emulator and connects it through the real consent flow (start →
 * the emulator's consent screen → complete), `concurrency` at a time; user ids are `user-<local part>`.
 */
export function connectGmailMailboxes(
  tl: Threadlink,
  google: GmailEmulator,
  emails: readonly string[],
  tenantId: string,
  concurrency = 1,
): Promise<PublicConnection[]> {
  return mapWithConcurrency([...emails], concurrency, async (email) => {
    google.addMailbox({ email });
    const user = { tenantId, userId: `user-${email.split('@')[0]}` };
    const { url } = await tl.connect.start({ provider: 'gmail', ...user, loginHint: email });
    return tl.connect.complete(new URL(await google.authorize(url, { email })), user);
  });
}
