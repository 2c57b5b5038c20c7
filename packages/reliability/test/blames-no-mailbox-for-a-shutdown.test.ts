// Issue 23, deploys: a job cut by stop() past its grace is the instance's doing, not the mailbox's.
// The engine turns whatever the aborted provider call failed with into a retryable SHUTTING_DOWN
// hand-back (sync-engine.ts, `run`): the connection's health is not charged with an error, no
// `sync.error` reaches the CRM, and the next instance on the same store brings the mail in.
// Without that conversion the aborted Gmail read is recorded as a failure of the mailbox
// (consecutiveErrors 1, lastErrorCode set, a sync.error event): this test fails.
// Memory store, the real Gmail adapter against the emulator with every read slower than the grace.
import { generateSealingKey, type Threadlink } from '@threadlink/core';
import { memoryStore } from '@threadlink/storage-memory';
import { startGmailEmulator } from '@threadlink/testing';
import { afterEach, expect, it, vi } from 'vitest';
import { expectedGmail } from '../src/ground-truth.js';
import { servePushEndpoint, startGmailInstance } from '../src/infra-setup.js';

const EMAIL = 'ana@acme.test';
const GRACE_MS = 100;
const GMAIL_LATENCY_MS = 1_500;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

it('a pull aborted by stop() is handed back as SHUTTING_DOWN: no error on the mailbox, no sync.error, the next instance syncs it', async () => {
  const google = await startGmailEmulator({ notificationIntervalMs: 0, pushRetry: { initialBackoffMs: 50, maxBackoffMs: 200, maxAttempts: 1_000 } });
  cleanups.push(() => google.close());
  const store = memoryStore();
  const endpoint = await servePushEndpoint(google, cleanups);
  const pushes = endpoint.statuses;
  google.addMailbox({ email: EMAIL });
  const sealingKeys = [{ id: 'k1', key: generateSealingKey() }];
  const instance = (): Promise<Threadlink> =>
    startGmailInstance(
      google,
      {
        store,
        sealingKeys,
        publicUrl: endpoint.publicUrl,
        maintenanceIntervalMs: 0,
        shutdownGraceMs: GRACE_MS,
        // A push taken but not yet covered by a sync is pulled by the next maintain() at once.
        engine: { pendingPushPullMs: 0 },
        logger: 'silent',
      },
      cleanups,
    );

  const first = await instance();
  endpoint.route(first);
  const user = { tenantId: 't-deploy', userId: 'user-ana' };
  const { url } = await first.connect.start({ provider: 'gmail', ...user, loginHint: EMAIL });
  const connection = await first.connect.complete(new URL(await google.authorize(url, { email: EMAIL })), user);
  await first.idle();
  await google.flushNotifications();
  await first.idle();
  const errors: string[] = [];
  first.on('sync.error', (event) => errors.push(event.code));

  // Every Gmail read now outlasts the grace: the push's pull is on the wire when stop() begins.
  google.faults.latencyMs = GMAIL_LATENCY_MS;
  await google.deliver({ from: 'buyer@bigco.test', to: EMAIL, subject: 'Cut by a deploy', text: 'hello' });
  await google.flushNotifications();
  await vi.waitFor(() => expect(pushes.filter((status) => status < 300).length).toBeGreaterThan(0), { timeout: 5_000, interval: 10 });
  await new Promise((resolve) => setTimeout(resolve, 200));
  const stopping = Date.now();
  await first.stop();
  const stopMs = Date.now() - stopping;
  endpoint.route(undefined);

  // What the user sees of the mailbox: healthy, no error, nothing reported to the CRM.
  const health = await first.health(connection.id, user);
  expect(stopMs).toBeLessThan(GMAIL_LATENCY_MS);
  expect(errors).toEqual([]);
  expect({ consecutiveErrors: health.consecutiveErrors, lastErrorCode: health.lastErrorCode }).toEqual({ consecutiveErrors: 0, lastErrorCode: null });
  expect(await store.listProviderMessageIds(connection.id)).not.toContain([...expectedGmail(google, EMAIL).keys()].at(-1));

  // The next instance on the same store brings the message in: the push it never covered is pulled.
  google.faults.latencyMs = 0;
  const second = await instance();
  endpoint.route(second);
  await second.maintain();
  await second.idle();
  const held = new Set(await store.listProviderMessageIds(connection.id));
  expect([...expectedGmail(google, EMAIL).keys()].filter((id) => !held.has(id))).toEqual([]);
  expect((await second.health(connection.id, user)).consecutiveErrors).toBe(0);
});
