// Gmail watch → Cloud Pub/Sub push to a node:http receiver: the envelope, the
// OIDC token (verified with google-auth-library against the emulator's certs),
// ack/redelivery, Gmail's one-per-second rule, and the delivery faults.
import type { gmail_v1 } from '@googleapis/gmail';
import { OAuth2Client } from 'google-auth-library';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PushSubscription } from '../src/pubsub/push.js';
import { startGmailEmulator, type DeliveredMessages, type GmailEmulator, type GmailEmulatorOptions } from '../src/gmail/index.js';
import { connect, gmailFor, GOOGLE, pushReceiver, type ReceivedPush } from './gmail-helpers.js';

let emulator: GmailEmulator;
let mailboxCounter = 0;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  emulator = await startGmailEmulator({ quotaUnitsPerSecond: 100_000 });
});
afterAll(() => emulator.close());
afterEach(async () => {
  await emulator.flushNotifications();
  Object.assign(emulator.faults, { dropNotifications: 0, duplicateNotifications: 0, reorderNotifications: false });
  while (closers.length > 0) await closers.pop()?.();
});

/** A fresh mailbox connected with gmail.metadata, and a receiver registered as the push endpoint. */
async function watched(
  target: GmailEmulator = emulator,
  respond?: (push: ReceivedPush, index: number) => number,
  watchRequest: gmail_v1.Schema$WatchRequest = {},
): Promise<{ email: string; gmail: gmail_v1.Gmail; received: ReceivedPush[]; url: string; watch: gmail_v1.Schema$WatchResponse }> {
  const email = `user${++mailboxCounter}@acme.example`;
  target.addMailbox({ email });
  const receiver = await pushReceiver(respond);
  closers.push(receiver.close);
  target.setPushEndpoint({ endpoint: receiver.url });
  const { gmail } = await connect(target, email, [`${GOOGLE}gmail.metadata`]);
  const { data: watch } = await gmail.users.watch({ userId: 'me', requestBody: { topicName: target.providerOptions.pubsubTopic, ...watchRequest } });
  return { email, gmail, received: receiver.received, url: receiver.url, watch };
}

async function startEmulator(options: GmailEmulatorOptions): Promise<GmailEmulator> {
  const started = await startGmailEmulator({ quotaUnitsPerSecond: 100_000, ...options });
  closers.push(() => started.close());
  return started;
}

/** Listens on a free loopback port; the server is closed after the test. */
async function listenClosedAfter(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

function verifier(target: GmailEmulator = emulator): OAuth2Client {
  return new OAuth2Client({ endpoints: target.providerOptions.oauthEndpoints });
}

const bearer = (push: ReceivedPush | undefined): string => (push?.headers.authorization ?? '').replace(/^Bearer /, '');

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('push delivery', () => {
  it('a successful watch pushes one notification at once, in the real Pub/Sub envelope', async () => {
    const { email, received, watch } = await watched();
    await emulator.flushNotifications();
    expect(received).toHaveLength(1);
    const [push] = received;
    expect(push?.headers['content-type']).toBe('application/json');
    expect(push?.headers['user-agent']).toContain('APIs-Google');
    expect(push?.body).toEqual({
      message: {
        attributes: {},
        data: expect.any(String),
        messageId: expect.stringMatching(/^\d+$/),
        message_id: push?.body.message.messageId,
        publishTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        publish_time: push?.body.message.publishTime,
      },
      subscription: 'projects/threadlink-emulator/subscriptions/gmail-push',
    });
    expect(push?.notification).toEqual({ emailAddress: email, historyId: Number(watch.historyId) });
    expect(emulator.pushLog.delivered).toBeGreaterThanOrEqual(1);
  });

  it('notifies each mailbox change (new message, label change, delete) with the current historyId', async () => {
    const { email, gmail, received } = await watched();
    await emulator.flushNotifications();
    const message = await emulator.deliver({ from: 'client@bigco.example', to: email, subject: 'Push me', text: 'x' });
    await emulator.flushNotifications();
    emulator.modifyLabels(email, message.id, ['STARRED'], []);
    await emulator.flushNotifications();
    emulator.deleteMessage(email, message.id);
    await emulator.flushNotifications();
    expect(received).toHaveLength(4);
    const historyIds = received.map((push) => Number(push.notification.historyId));
    expect(historyIds).toEqual([...historyIds].sort((left, right) => left - right));
    expect(historyIds[1]).toBe(Number(message.historyId));
    expect(historyIds[3]).toBe(Number((await gmail.users.getProfile({ userId: 'me' })).data.historyId));
  });

  it('delivers asynchronously: the API call returns while the endpoint is still busy', async () => {
    const email = `user${++mailboxCounter}@acme.example`;
    emulator.addMailbox({ email });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let arrived = 0;
    const server = createServer((_request, response) => {
      arrived++;
      void held.then(() => response.writeHead(204).end());
    });
    const port = await listenClosedAfter(server);
    emulator.setPushEndpoint({ endpoint: `http://127.0.0.1:${port}/push` });
    const { gmail } = await connect(emulator, email, [`${GOOGLE}gmail.metadata`]);
    const watch = await gmail.users.watch({ userId: 'me', requestBody: { topicName: emulator.providerOptions.pubsubTopic } });
    expect(watch.status).toBe(200);
    await waitFor(() => arrived === 1);
    release();
    await emulator.flushNotifications();
  });

  it('stops publishing after users.stop and after expireWatch', async () => {
    const { email, gmail, received } = await watched();
    await emulator.flushNotifications();
    await gmail.users.stop({ userId: 'me' });
    await emulator.deliver({ from: 'client@bigco.example', to: email, subject: 'After stop', text: 'x' });
    await emulator.flushNotifications();
    expect(received).toHaveLength(1);

    await gmail.users.watch({ userId: 'me', requestBody: { topicName: emulator.providerOptions.pubsubTopic } });
    await emulator.flushNotifications();
    expect(received).toHaveLength(2);
    emulator.expireWatch(email);
    await emulator.deliver({ from: 'client@bigco.example', to: email, subject: 'After expiry', text: 'x' });
    await emulator.flushNotifications();
    expect(received).toHaveLength(2);
    expect(emulator.watchOf(email)).toBeNull();
  });

  it("an INBOX watch skips other labels but still fires for SENT (Gmail's leaky filter)", async () => {
    const { email, received } = await watched(emulator, undefined, { labelIds: ['INBOX'], labelFilterBehavior: 'include' });
    await emulator.flushNotifications();
    await emulator.deliver({ from: 'spammer@bad.example', to: email, subject: 'Spam', text: 'x', labelIds: ['SPAM'] });
    await emulator.flushNotifications();
    expect(received).toHaveLength(1);
    await emulator.deliver({ from: email, to: 'client@bigco.example', subject: 'Outbound', text: 'x' });
    await emulator.flushNotifications();
    expect(received).toHaveLength(2);
    await emulator.deliver({ from: 'client@bigco.example', to: email, subject: 'Inbound', text: 'x' });
    await emulator.flushNotifications();
    expect(received).toHaveLength(3);
  });
});

describe('push authentication', () => {
  it('signs an OIDC token that google-auth-library verifies against the emulator certs', async () => {
    const { received, url } = await watched();
    await emulator.flushNotifications();
    const ticket = await verifier().verifyIdToken({ idToken: bearer(received[0]), audience: url });
    const payload = ticket.getPayload();
    expect(payload).toMatchObject({
      iss: 'https://accounts.google.com',
      aud: url,
      email: emulator.providerOptions.pushServiceAccount,
      email_verified: true,
    });
    expect((payload?.exp ?? 0) - (payload?.iat ?? 0)).toBe(3600);
    expect(ticket.getEnvelope()).toMatchObject({ alg: 'RS256', kid: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(emulator.providerOptions.pushAudience).toBe(url);
  });

  it('carries the configured audience when the subscription sets one', async () => {
    const { email } = await watched();
    await emulator.flushNotifications();
    const receiver = await pushReceiver();
    closers.push(receiver.close);
    emulator.setPushEndpoint({ endpoint: receiver.url, audience: 'https://crm.example/webhooks/gmail' });
    await emulator.deliver({ from: 'client@bigco.example', to: email, subject: 'Audience', text: 'x' });
    await emulator.flushNotifications();
    expect(emulator.providerOptions.pushAudience).toBe('https://crm.example/webhooks/gmail');
    const ticket = await verifier().verifyIdToken({ idToken: bearer(receiver.received[0]), audience: 'https://crm.example/webhooks/gmail' });
    expect(ticket.getPayload()?.aud).toBe('https://crm.example/webhooks/gmail');
  });

  it('reuses one token per audience for up to an hour, as Pub/Sub does, then signs a new one', async () => {
    let wall = Date.now();
    const target = await startEmulator({ wallClock: () => wall });
    const { email, received, url } = await watched(target);
    await target.flushNotifications();
    // Half an hour later: a token signed now would differ (its iat), the reused one does not.
    wall += 1_800_000;
    await target.deliver({ from: 'client@bigco.example', to: email, subject: 'Second push', text: 'x' });
    await target.flushNotifications();
    expect(received).toHaveLength(2);
    expect(bearer(received[1])).toBe(bearer(received[0]));
    const claims = (push: ReceivedPush | undefined) => JSON.parse(Buffer.from(bearer(push).split('.')[1] ?? '', 'base64url').toString('utf8'));
    wall += 1_800_000;
    await target.deliver({ from: 'client@bigco.example', to: email, subject: 'An hour later', text: 'x' });
    await target.flushNotifications();
    expect(received).toHaveLength(3);
    expect(bearer(received[2])).not.toBe(bearer(received[0]));
    expect(claims(received[2]).iat - claims(received[0]).iat).toBe(3600);
    // Another audience never gets a token minted for the first.
    target.setPushEndpoint({ endpoint: url, audience: 'https://crm.example/webhooks/gmail' });
    await target.deliver({ from: 'client@bigco.example', to: email, subject: 'New audience', text: 'x' });
    await target.flushNotifications();
    expect(claims(received[3]).aud).toBe('https://crm.example/webhooks/gmail');
  });

  it('keeps push tokens verifiable when the emulator clock is moved (they carry wall-clock iat/exp)', async () => {
    const { email, received, url } = await watched();
    await emulator.flushNotifications();
    emulator.advanceClock(8 * 86_400_000);
    try {
      expect(emulator.watchOf(email)).toBeNull();
      // Eight days later (emulator time) the host renews the watch with a fresh token.
      const auth = new OAuth2Client({ endpoints: emulator.providerOptions.oauthEndpoints });
      auth.setCredentials(await emulator.issueTokens({ email, scopes: [`${GOOGLE}gmail.metadata`] }));
      await gmailFor(emulator, auth).users.watch({ userId: 'me', requestBody: { topicName: emulator.providerOptions.pubsubTopic } });
      await emulator.flushNotifications();
      expect(received).toHaveLength(2);
      await expect(verifier().verifyIdToken({ idToken: bearer(received[1]), audience: url })).resolves.toBeTruthy();
    } finally {
      emulator.advanceClock(-8 * 86_400_000);
    }
  });

  it('rejects tampered, expired, wrong-audience, wrong-issuer and foreign-key tokens', async () => {
    const { received, url } = await watched();
    await emulator.flushNotifications();
    const genuine = bearer(received[0]);
    const check = (idToken: string, audience = url): Promise<unknown> => verifier().verifyIdToken({ idToken, audience });
    await expect(check(genuine)).resolves.toBeTruthy();

    const [header, payload, signature] = genuine.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')), email: 'attacker@evil.example' }),
    ).toString('base64url');
    await expect(check(`${header}.${forgedPayload}.${signature}`)).rejects.toThrow(/Invalid token signature/);

    const nowSeconds = Math.floor(Date.now() / 1000);
    await expect(check(await emulator.createJwt({ aud: url, iat: nowSeconds - 7200, exp: nowSeconds - 3600 }))).rejects.toThrow(/Token used too late/);
    await expect(check(genuine, 'https://someone-else.example/push')).rejects.toThrow(/Wrong recipient/);
    await expect(check(await emulator.createJwt({ aud: url, iss: 'https://evil.example' }))).rejects.toThrow(/Invalid issuer/);
    await expect(check(await emulator.createJwt({ aud: url }, { signWith: 'foreign' }))).rejects.toThrow(/No pem found/);
    const kid = JSON.parse(Buffer.from(header ?? '', 'base64url').toString('utf8')).kid as string;
    await expect(check(await emulator.createJwt({ aud: url }, { signWith: 'foreign', header: { kid } }))).rejects.toThrow(/Invalid token signature/);
    // A token the emulator signs with the right claims passes: the negative cases fail for their reason only.
    await expect(check(await emulator.createJwt({ aud: url }))).resolves.toBeTruthy();
  });
});

describe('acknowledgement and redelivery', () => {
  it('redelivers the same message after a 500 until the endpoint acks', async () => {
    const target = await startEmulator({ pushRetry: { initialBackoffMs: 20 } });
    const { received } = await watched(target, (_push, index) => (index < 2 ? 500 : 204));
    await target.flushNotifications();
    expect(received).toHaveLength(3);
    expect(new Set(received.map((push) => push.body.message.messageId)).size).toBe(1);
    expect(target.pushLog.status).toEqual([500, 500, 204]);
    expect(target.pushLog).toMatchObject({ attempts: 3, delivered: 1, abandoned: 0 });
    expect(target.pushLog.history.map((attempt) => attempt.attempt)).toEqual([1, 2, 3]);
  });

  it('treats 102/200/201/202/204 as ack and anything else, or no answer, as nack', async () => {
    const target = await startEmulator({ pushRetry: { initialBackoffMs: 5, maxAttempts: 3 } });
    const { received } = await watched(target, () => 302);
    await target.flushNotifications();
    expect(received).toHaveLength(3);
    expect(target.pushLog).toMatchObject({ delivered: 0, abandoned: 1 });

    target.setPushEndpoint({ endpoint: 'http://127.0.0.1:9/closed' });
    const email = `user${++mailboxCounter}@acme.example`;
    target.addMailbox({ email });
    const { gmail } = await connect(target, email, [`${GOOGLE}gmail.metadata`]);
    await gmail.users.watch({ userId: 'me', requestBody: { topicName: target.providerOptions.pubsubTopic } });
    await target.flushNotifications();
    expect(target.pushLog.status.slice(-3)).toEqual([0, 0, 0]);
    expect(target.pushLog.abandoned).toBe(2);
  });
});

describe('push ack deadline', () => {
  it('an endpoint that never answers is a nack once the ack deadline passes, redelivered, and nothing is left pending', async () => {
    const silent = createServer(() => {
      // Never answers: Pub/Sub counts it as a nack at the subscription's ack deadline.
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    closers.push(async () => silent.closeAllConnections());
    const target = await startEmulator({ pushAckDeadlineMs: 150, pushRetry: { initialBackoffMs: 5, maxAttempts: 2 } });
    target.setPushEndpoint({ endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/push` });
    const email = `user${++mailboxCounter}@acme.example`;
    target.addMailbox({ email });
    const { gmail } = await connect(target, email, [`${GOOGLE}gmail.metadata`]);
    await gmail.users.watch({ userId: 'me', requestBody: { topicName: target.providerOptions.pubsubTopic } });
    await target.flushNotifications();
    expect(target.pushLog.status.slice(-2)).toEqual([0, 0]);
    expect(target.pushLog.history.slice(-2).map((attempt) => attempt.error)).toEqual([
      'The push was not acknowledged in time',
      'The push was not acknowledged in time',
    ]);
    expect(target.pushLog).toMatchObject({ delivered: 0, abandoned: 1 });
  });
});

describe('Gmail notification rate', () => {
  it('coalesces a burst into one trailing notification with the latest historyId', async () => {
    const target = await startEmulator({ notificationIntervalMs: 150 });
    const { email, received } = await watched(target);
    await target.flushNotifications();
    const burst: DeliveredMessages[] = [];
    for (let index = 0; index < 3; index++) burst.push(await target.deliver({ from: 'client@bigco.example', to: email, subject: `Burst ${index}`, text: 'x' }));
    // No flush: the trailing push arrives on its own once the window closes.
    await waitFor(() => received.length === 2);
    expect(received[1]?.notification.historyId).toBe(Number(burst[2]?.historyId));
    expect(target.pushLog.rateLimited).toBe(3);
  });

  it('drop mode loses notifications beyond one per second, as Gmail does', async () => {
    const target = await startEmulator({ notificationRateMode: 'drop' });
    const { email, received } = await watched(target);
    await target.flushNotifications();
    await target.deliver({ from: 'client@bigco.example', to: email, subject: 'Dropped 1', text: 'x' });
    await target.deliver({ from: 'client@bigco.example', to: email, subject: 'Dropped 2', text: 'x' });
    await target.flushNotifications();
    expect(received).toHaveLength(1);
    expect(target.pushLog.rateLimited).toBe(2);
  });
});

describe('delivery faults', () => {
  it('dropNotifications = 1 publishes but never pushes', async () => {
    emulator.faults.dropNotifications = 1;
    const dropsBefore = emulator.pushLog.dropped;
    const { received } = await watched();
    await emulator.flushNotifications();
    expect(received).toHaveLength(0);
    expect(emulator.pushLog.dropped).toBe(dropsBefore + 1);
  });

  it('duplicateNotifications = 1 pushes every message twice with the same messageId', async () => {
    emulator.faults.duplicateNotifications = 1;
    const { received } = await watched();
    await emulator.flushNotifications();
    expect(received).toHaveLength(2);
    expect(received[0]?.body.message.messageId).toBe(received[1]?.body.message.messageId);
    expect(received[0]?.notification).toEqual(received[1]?.notification);
  });

  it('reorderNotifications pushes a newer notification before an older one', async () => {
    const target = await startEmulator({ notificationIntervalMs: 0 });
    target.faults.reorderNotifications = true;
    const { email, received, watch } = await watched(target);
    const message = await target.deliver({ from: 'client@bigco.example', to: email, subject: 'Reordered', text: 'x' });
    await target.flushNotifications();
    expect(received.map((push) => Number(push.notification.historyId))).toEqual([Number(message.historyId), Number(watch.historyId)]);
  });
});

describe('many pushes in flight', () => {
  it('holds one ack deadline per push in flight without a MaxListenersExceededWarning', async () => {
    // Twenty pushes are answered only once all twenty have arrived: twenty deadlines are linked to
    // the subscription's close signal at once (Node warns past 10 listeners on a signal by default).
    const waiting: Array<() => void> = [];
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        waiting.push(() => response.writeHead(204).end());
        if (waiting.length === 20) for (const answer of waiting.splice(0)) answer();
      });
    });
    const port = await listenClosedAfter(server);
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning.name);
    };
    process.on('warning', onWarning);
    const subscription = new PushSubscription({
      subscription: 'projects/p/subscriptions/s',
      signToken: async () => 'token',
      faults: { dropNotifications: 0, duplicateNotifications: 0, reorderNotifications: false },
    });
    try {
      subscription.setEndpoint(`http://127.0.0.1:${port}/push`);
      for (let index = 0; index < 20; index += 1) subscription.publish(`{"n":${index}}`);
      await subscription.flush();
      // Process warnings are emitted on a later tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(subscription.log.delivered).toBe(20);
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
      subscription.close();
    }
  });
});
