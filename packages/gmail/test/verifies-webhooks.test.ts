import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';
import { PUSH_AUDIENCE } from './support.js';

const ANA = 'ana@acme.test';

function envelope(data: unknown, messageId = String(Math.floor(Math.random() * 1e15))): string {
  const encoded = typeof data === 'string' ? data : Buffer.from(JSON.stringify(data)).toString('base64');
  return JSON.stringify({
    message: { data: encoded, messageId, message_id: messageId, publishTime: new Date().toISOString(), attributes: {} },
    subscription: 'projects/threadlink-emulator/subscriptions/gmail-push',
  });
}

describe('Pub/Sub push verification', () => {
  let harness: Harness;
  let connectionId: string;
  beforeAll(async () => {
    harness = await startHarness();
    connectionId = (await harness.connect(ANA)).id;
  });
  afterAll(async () => {
    await harness.close();
  });

  async function post(body: string, token: string | null): Promise<Response> {
    return fetch(harness.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
      body,
    });
  }

  /** Posts and reports whether anything was pulled from Gmail or enqueued because of it. */
  async function deliverPush(body: string, token: string | null): Promise<{ status: number; pulled: number; received: number }> {
    await harness.tl.idle();
    const historyBefore = harness.google.log.count({ operation: 'history.list' });
    const receivedBefore = harness.eventsNamed('notification.received').length;
    const response = await post(body, token);
    await harness.tl.idle();
    return {
      status: response.status,
      pulled: harness.google.log.count({ operation: 'history.list' }) - historyBefore,
      received: harness.eventsNamed('notification.received').length - receivedBefore,
    };
  }

  const valid = { emailAddress: ANA, historyId: 123 };

  it('accepts a genuine push (historyId as number or string) and pulls from the stored cursor', async () => {
    const token = await harness.google.createJwt();
    expect(await deliverPush(envelope(valid), token)).toEqual({ status: 202, pulled: 1, received: 1 });
    expect(await deliverPush(envelope({ emailAddress: ANA.toUpperCase(), historyId: '99999999999' }), token)).toEqual({ status: 202, pulled: 1, received: 1 });
  });

  it.each([
    ['no bearer token', async (_harness: Harness) => null],
    ['a token signed by a key Google does not publish', async (harness: Harness) => harness.google.createJwt({}, { signWith: 'foreign' })],
    [
      'an expired token',
      async (harness: Harness) => harness.google.createJwt({ iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }),
    ],
    ['a token for another audience', async (harness: Harness) => harness.google.createJwt({ aud: 'https://attacker.example/push' })],
    ['a token from another service account', async (harness: Harness) => harness.google.createJwt({ email: 'someone@evil.iam.gserviceaccount.com' })],
    ['a token whose email is not verified', async (harness: Harness) => harness.google.createJwt({ email_verified: false })],
    ['a token from another issuer', async (harness: Harness) => harness.google.createJwt({ iss: 'https://evil.example' })],
  ])('answers 401 and enqueues nothing for %s', async (_label, makeToken) => {
    const rejectedBefore = harness.eventsNamed('notification.rejected').length;
    const outcome = await deliverPush(envelope(valid), await makeToken(harness));
    expect(outcome).toEqual({ status: 401, pulled: 0, received: 0 });
    expect(harness.eventsNamed('notification.rejected').slice(rejectedBefore)).toEqual([{ provider: 'gmail', code: 'WEBHOOK_UNAUTHORIZED', status: 401 }]);
  });

  it.each([
    ['a body that is not JSON', '{"message":'],
    ['an envelope without message data', JSON.stringify({ message: { messageId: '1' }, subscription: 'projects/p/subscriptions/s' })],
    ['data that is not base64', envelope('%%% not base64 %%%')],
    ['data that is not a Gmail notification', envelope({ hello: 'world' })],
    ['a notification without a usable historyId', envelope({ emailAddress: ANA, historyId: 'latest' })],
  ])('answers 400 and enqueues nothing for %s', async (_label, body) => {
    const outcome = await deliverPush(body, await harness.google.createJwt());
    expect(outcome).toEqual({ status: 400, pulled: 0, received: 0 });
  });

  it('acknowledges a push for a mailbox nobody connected, without pulling', async () => {
    const outcome = await deliverPush(envelope({ emailAddress: 'stranger@elsewhere.test', historyId: '5' }), await harness.google.createJwt());
    expect(outcome.status).toBeGreaterThanOrEqual(200);
    expect(outcome.status).toBeLessThan(300);
    expect(outcome.pulled).toBe(0);
  });

  it('refuses a genuine push in any content type but JSON with 415, after the token check', async () => {
    const token = await harness.google.createJwt();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx']) {
      await harness.tl.idle();
      const historyBefore = harness.google.log.count({ operation: 'history.list' });
      const response = await fetch(harness.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': type, authorization: `Bearer ${token}` },
        body: envelope(valid),
      });
      expect(response.status).toBe(415);
      expect(await response.json()).toMatchObject({ error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
      await harness.tl.idle();
      expect(harness.google.log.count({ operation: 'history.list' })).toBe(historyBefore);
    }
    // A charset parameter is still JSON; without a token the answer stays 401 whatever the type.
    expect((await deliverPush(envelope({ ...valid, historyId: 124 }), token)).status).toBeLessThan(300);
    const charset = await fetch(harness.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${token}` },
      body: envelope(valid),
    });
    expect(charset.status).toBeLessThan(300);
    const anonymous = await fetch(harness.webhookUrl, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: envelope(valid) });
    expect(anonymous.status).toBe(401);
  });

  it('checks the audience the host configured, not whatever the token claims', async () => {
    // The emulator signs with the subscription's audience; a token minted for the push URL itself is refused.
    const token = await harness.google.createJwt({ aud: harness.webhookUrl });
    expect(harness.webhookUrl).not.toBe(PUSH_AUDIENCE);
    expect((await deliverPush(envelope(valid), token)).status).toBe(401);
    expect(await harness.store.getConnection(connectionId)).not.toBeNull();
  });
});
