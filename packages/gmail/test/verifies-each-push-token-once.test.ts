// Pub/Sub reuses one OIDC token for many pushes (tokens "may be up to an hour old",
// cloud.google.com/pubsub/docs/authenticate-push-subscriptions): its RS256 signature is checked
// once, its time window on every push, and the tokens remembered are bounded.
import { OAuth2Client } from 'google-auth-library';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_VERIFIED_PUSH_TOKENS } from '../src/notifications.js';
import { startHarness, type Harness } from './harness.js';

const ANA = 'ana@acme.test';

function envelope(emailAddress: string, messageId: string): string {
  const data = Buffer.from(JSON.stringify({ emailAddress, historyId: 123 })).toString('base64');
  return JSON.stringify({
    message: { data, messageId, publishTime: new Date().toISOString() },
    subscription: 'projects/threadlink-emulator/subscriptions/gmail-push',
  });
}

describe('push token verification', () => {
  let harness: Harness;
  let pushes = 0;
  beforeAll(async () => {
    harness = await startHarness();
    await harness.connect(ANA);
  });
  afterAll(async () => {
    await harness.close();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  async function push(token: string, emailAddress = ANA): Promise<number> {
    pushes += 1;
    const response = await fetch(harness.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: envelope(emailAddress, `token-test-${pushes}`),
    });
    await harness.tl.idle();
    return response.status;
  }

  it('checks a token signature once, however many pushes carry the token', async () => {
    const verifications = vi.spyOn(OAuth2Client.prototype, 'verifyIdToken');
    const token = await harness.google.createJwt({ jti: 'reused' });
    const pulledBefore = harness.google.log.count({ operation: 'history.list' });
    expect([await push(token), await push(token), await push(token)]).toEqual([202, 202, 202]);
    expect(verifications).toHaveBeenCalledTimes(1);
    // Each push is still a push: every one of them pulled.
    expect(harness.google.log.count({ operation: 'history.list' }) - pulledBefore).toBe(3);
  });

  it('refuses a verified token once it has expired (checked on every push)', async () => {
    const token = await harness.google.createJwt({ jti: 'expiring' });
    expect(await push(token)).toBe(202);
    // Past exp (an hour) and google-auth-library's five minutes of skew.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 3_600_000 + 301_000 });
    const rejectedBefore = harness.eventsNamed('notification.rejected').length;
    expect(await push(token)).toBe(401);
    expect(harness.eventsNamed('notification.rejected').slice(rejectedBefore)).toEqual([{ provider: 'gmail', code: 'WEBHOOK_UNAUTHORIZED', status: 401 }]);
  });

  it('remembers a bounded number of tokens: past the bound the oldest is verified again', async () => {
    const first = await harness.google.createJwt({ jti: 'bound-0' });
    expect(await push(first, 'stranger@elsewhere.test')).toBe(202);
    for (let index = 1; index <= MAX_VERIFIED_PUSH_TOKENS; index += 1) {
      expect(await push(await harness.google.createJwt({ jti: `bound-${index}` }), 'stranger@elsewhere.test')).toBe(202);
    }
    const verifications = vi.spyOn(OAuth2Client.prototype, 'verifyIdToken');
    expect(await push(first, 'stranger@elsewhere.test')).toBe(202);
    expect(verifications).toHaveBeenCalledTimes(1);
  });
});
