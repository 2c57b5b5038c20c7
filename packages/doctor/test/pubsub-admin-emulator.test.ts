// The Gmail emulator's Pub/Sub admin surface, which the doctor's Pub/Sub checks read: Google's
// JSON shapes (resources, IAM policies, errors), bearer-token auth with the Pub/Sub scopes, and
// the emulator's own push subscription reflecting (and steering) where pushes really go.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGmailEmulator, type GmailEmulator } from '@threadlink/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOUD_PLATFORM } from './support/deployment.js';

let google: GmailEmulator;
let token: string;
const TOPIC = 'projects/threadlink-emulator/topics/gmail';
const SUBSCRIPTION = 'projects/threadlink-emulator/subscriptions/gmail-push';

beforeAll(async () => {
  google = await startGmailEmulator();
  token = (await google.issueTokens({ email: 'ops@acme.example', scopes: [CLOUD_PLATFORM] })).access_token;
});
afterAll(() => google?.close());

async function call(method: string, path: string, body?: unknown, bearer: string | null = token): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${google.url}/v1/${path}`, {
    method,
    headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: await response.json() };
}

describe('Pub/Sub admin emulator', () => {
  it('starts with the topic Gmail publishes to, granting Gmail’s publisher', async () => {
    expect(await call('GET', TOPIC)).toEqual({ status: 200, body: { name: TOPIC } });
    const policy = await call('GET', `${TOPIC}:getIamPolicy`);
    expect(policy.status).toBe(200);
    expect(policy.body).toMatchObject({
      version: 1,
      bindings: [{ role: 'roles/pubsub.publisher', members: ['serviceAccount:gmail-api-push@system.gserviceaccount.com'] }],
      etag: expect.any(String),
    });
    expect(await call('GET', `${TOPIC}/subscriptions`)).toEqual({ status: 200, body: { subscriptions: [SUBSCRIPTION] } });
  });

  it('answers Google’s error shapes: 404, 401, insufficient scope, invalid name, unknown verb', async () => {
    expect(await call('GET', 'projects/threadlink-emulator/topics/nope')).toEqual({
      status: 404,
      body: { error: { code: 404, message: 'Resource not found (resource=nope).', status: 'NOT_FOUND' } },
    });
    expect(await call('GET', 'projects/threadlink-emulator/subscriptions/nope:getIamPolicy')).toMatchObject({ status: 404 });
    const anonymous = await call('GET', TOPIC, undefined, null);
    expect(anonymous).toMatchObject({ status: 401, body: { error: { code: 401, status: 'UNAUTHENTICATED' } } });
    const gmailOnly = (await google.issueTokens({ email: 'ops@acme.example', scopes: ['https://www.googleapis.com/auth/gmail.readonly'] })).access_token;
    expect(await call('GET', TOPIC, undefined, gmailOnly)).toEqual({
      status: 403,
      body: { error: { code: 403, message: 'Request had insufficient authentication scopes.', status: 'PERMISSION_DENIED' } },
    });
    expect(await call('GET', 'projects/threadlink-emulator/topics/x')).toMatchObject({
      status: 400,
      body: {
        error: {
          message:
            'Invalid resource name given (name=projects/threadlink-emulator/topics/x). Refer to https://cloud.google.com/pubsub/docs/pubsub-basics#resource_names for more information.',
        },
      },
    });
    // Pub/Sub maps getIamPolicy to GET; a POST is not a method.
    expect(await call('POST', `${TOPIC}:getIamPolicy`, {})).toEqual({
      status: 404,
      body: { error: { code: 404, message: 'Method not found.', status: 'NOT_FOUND' } },
    });
  });

  it('creates topics and subscriptions over REST, with an etag-guarded setIamPolicy', async () => {
    const topic = 'projects/threadlink-emulator/topics/rest-made';
    expect(await call('PUT', topic, {})).toEqual({ status: 200, body: { name: topic } });
    expect((await call('PUT', topic, {})).body).toEqual({
      error: { code: 409, message: 'Resource already exists in the project (resource=rest-made).', status: 'ALREADY_EXISTS' },
    });
    expect(await call('GET', `${topic}:getIamPolicy`)).toEqual({ status: 200, body: { etag: 'ACAB' } });
    const set = await call('POST', `${topic}:setIamPolicy`, {
      policy: { bindings: [{ role: 'roles/pubsub.publisher', members: ['serviceAccount:gmail-api-push@system.gserviceaccount.com'] }], etag: 'ACAB' },
    });
    expect(set.status).toBe(200);
    const stale = await call('POST', `${topic}:setIamPolicy`, { policy: { bindings: [], etag: 'ACAB' } });
    expect(stale).toMatchObject({ status: 409, body: { error: { status: 'ABORTED' } } });

    const subscription = 'projects/threadlink-emulator/subscriptions/rest-made-push';
    const created = await call('PUT', subscription, {
      topic,
      pushConfig: {
        pushEndpoint: 'https://crm.acme.example/threadlink/webhooks/gmail',
        oidcToken: { serviceAccountEmail: 'push@acme.iam.gserviceaccount.com', audience: 'aud-1' },
      },
    });
    expect(created).toEqual({
      status: 200,
      body: {
        name: subscription,
        topic,
        pushConfig: {
          pushEndpoint: 'https://crm.acme.example/threadlink/webhooks/gmail',
          oidcToken: { serviceAccountEmail: 'push@acme.iam.gserviceaccount.com', audience: 'aud-1' },
        },
        ackDeadlineSeconds: 10,
        messageRetentionDuration: '604800s',
        expirationPolicy: { ttl: '2678400s' },
        state: 'ACTIVE',
      },
    });
    expect(await call('DELETE', topic)).toEqual({ status: 200, body: {} });
    expect(await call('GET', subscription)).toMatchObject({ status: 200, body: { topic: '_deleted-topic_', state: 'RESOURCE_ERROR' } });
  });

  it('shows the live push endpoint and audience, and modifyPushConfig moves real pushes', async () => {
    google.setPushEndpoint({ endpoint: 'https://crm.acme.example/threadlink/webhooks/gmail', audience: 'configured-audience' });
    expect((await call('GET', SUBSCRIPTION)).body).toMatchObject({
      pushConfig: {
        pushEndpoint: 'https://crm.acme.example/threadlink/webhooks/gmail',
        oidcToken: { serviceAccountEmail: google.providerOptions.pushServiceAccount, audience: 'configured-audience' },
      },
    });

    const received: IncomingHttpHeaders[] = [];
    const receiver = createServer((request, response) => {
      received.push(request.headers);
      request.resume();
      request.on('end', () => response.writeHead(204).end());
    });
    await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
    const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/push`;
    const modified = await call('POST', `${SUBSCRIPTION}:modifyPushConfig`, {
      pushConfig: { pushEndpoint: endpoint, oidcToken: { serviceAccountEmail: google.providerOptions.pushServiceAccount, audience: 'new-audience' } },
    });
    expect(modified).toEqual({ status: 200, body: {} });
    expect(google.providerOptions.pushAudience).toBe('new-audience');

    google.addMailbox({ email: 'ana@acme.example' });
    const { access_token } = await google.issueTokens({ email: 'ana@acme.example', scopes: ['https://www.googleapis.com/auth/gmail.metadata'] });
    const watch = await fetch(`${google.url}/gmail/v1/users/me/watch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ topicName: TOPIC }),
    });
    expect(watch.status).toBe(200);
    await google.flushNotifications();
    expect(received.length).toBeGreaterThan(0);
    const [, payload] = (received[0]?.authorization ?? '').replace('Bearer ', '').split('.');
    expect(JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'))).toMatchObject({
      aud: 'new-audience',
      email: google.providerOptions.pushServiceAccount,
    });
    await new Promise<void>((done) => receiver.close(() => done()));
  });
});
