// Hostile webhooks against a live deployment: forged, expired, wrong-audience, wrong-issuer,
// wrong-account Pub/Sub tokens; wrong clientState, unknown subscriptions; oversized, broken and
// mistyped bodies; replays. Each is answered (within a bound), refused or harmlessly acked, and
// leaves no trace: no hint accepted, no job run, no provider call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectedWorld, type ConnectedWorld } from '../src/fixture.js';

let fixture: ConnectedWorld;
let validToken: string;
const now = (): number => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  fixture = await connectedWorld();
  validToken = await fixture.world.google.createJwt();
});
afterAll(() => fixture.world.close());

const envelope = (data: unknown, messageId = `${Math.floor(Math.random() * 1e15)}`): string =>
  JSON.stringify({
    message: { data: Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)).toString('base64'), messageId, publishTime: new Date().toISOString() },
    subscription: 'projects/threadlink-emulator/subscriptions/gmail-push',
  });

/** Sends, then proves nothing happened: no accepted hint, no queued work, no provider call. */
async function expectNoEffect(send: () => Promise<Response>, allowed: number[]): Promise<Response> {
  const { world } = fixture;
  const callsBefore = fixture.providerCalls();
  const acceptedBefore = fixture.eventCount('notification.received', (json) => !json.includes('"hints":0'));
  const syncedBefore = fixture.eventCount('message.synced');
  const response = await send();
  await response.arrayBuffer();
  await world.settle();
  expect(allowed).toContain(response.status);
  expect(fixture.eventCount('notification.received', (json) => !json.includes('"hints":0'))).toBe(acceptedBefore);
  expect(fixture.providerCalls()).toBe(callsBefore);
  expect(fixture.eventCount('message.synced')).toBe(syncedBefore);
  return response;
}

const gmailPush =
  (body: string, headers: Record<string, string> = {}) =>
  () =>
    fixture.send('/webhooks/gmail', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${validToken}`, ...headers },
      body,
    });

const notification = () => ({ emailAddress: fixture.gmailEmail, historyId: 99 });

describe('Gmail Pub/Sub push', () => {
  const forged: Array<[string, () => Promise<string>]> = [
    ['a token signed by a key Google never published', () => fixture.world.google.createJwt({}, { signWith: 'foreign' })],
    ['an expired token', () => fixture.world.google.createJwt({ iat: now() - 7200, exp: now() - 3600 })],
    ['a token for another audience', () => fixture.world.google.createJwt({ aud: 'https://attacker.test/webhooks/gmail' })],
    ['a token from another issuer', () => fixture.world.google.createJwt({ iss: 'https://attacker.test' })],
    ['a token for another service account', () => fixture.world.google.createJwt({ email: 'push@attacker.iam.gserviceaccount.com' })],
    ['a token whose email is not verified', () => fixture.world.google.createJwt({ email_verified: false })],
    ['a token issued in the future', () => fixture.world.google.createJwt({ iat: now() + 7200, exp: now() + 10800 })],
    [
      'an unsigned token (alg none)',
      async () => {
        const payload = (await fixture.world.google.createJwt()).split('.')[1];
        const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
        return `${none}.${payload}.`;
      },
    ],
    [
      'a token with its payload swapped',
      async () => {
        const [header, , signature] = (await fixture.world.google.createJwt()).split('.');
        const payload = Buffer.from(
          JSON.stringify({ aud: 'x', iss: 'https://accounts.google.com', email: 'a@b.c', email_verified: true, exp: now() + 600, iat: now() }),
        ).toString('base64url');
        return `${header}.${payload}.${signature}`;
      },
    ],
    ['garbage', async () => 'not-a-jwt'],
  ];
  for (const [name, token] of forged) {
    it(`refuses ${name} with 401 and does nothing`, async () => {
      const bearer = await token();
      await expectNoEffect(gmailPush(envelope(notification()), { authorization: `Bearer ${bearer}` }), [401]);
    });
  }

  it('refuses a push without any Authorization header', async () => {
    await expectNoEffect(
      () => fixture.send('/webhooks/gmail', { method: 'POST', headers: { 'content-type': 'application/json' }, body: envelope(notification()) }),
      [401],
    );
  });

  it('refuses wrong content types without credentials (form, multipart, html, xml)', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/html', 'application/xml']) {
      await expectNoEffect(
        () => fixture.send('/webhooks/gmail', { method: 'POST', headers: { 'content-type': type }, body: 'emailAddress=ana%40acme.test&historyId=1' }),
        [401],
      );
    }
  });

  it('answers broken bodies with a valid token as 400, never 500', async () => {
    const bodies = [
      '{',
      '',
      'null',
      '[]',
      JSON.stringify({ message: {}, subscription: 's' }),
      JSON.stringify({ message: { data: '***not base64***' }, subscription: 's' }),
      envelope('this is not json'),
      envelope({ emailAddress: 'not an address', historyId: 1 }),
      envelope({ emailAddress: fixture.gmailEmail, historyId: '1; DROP TABLE messages' }),
      envelope({ emailAddress: fixture.gmailEmail, historyId: -5 }),
      envelope({ emailAddress: fixture.gmailEmail, historyId: '9'.repeat(400) }),
      JSON.stringify({ message: { data: Buffer.from(JSON.stringify(notification())).toString('base64') }, subscription: { $ne: null } }),
    ];
    for (const body of bodies) await expectNoEffect(gmailPush(body), [400]);
  });

  it('acknowledges a genuine push for a mailbox it does not know, and does nothing', async () => {
    await expectNoEffect(gmailPush(envelope({ emailAddress: 'stranger@elsewhere.test', historyId: 5 })), [200, 202, 204]);
  });

  it('refuses an oversized body with 413 before reading it all', async () => {
    const huge = envelope({ emailAddress: fixture.gmailEmail, historyId: 1, padding: 'x'.repeat(2 * 1024 * 1024) });
    await expectNoEffect(gmailPush(huge), [413]);
  });

  it('acts once on a push and acks its replays (same Pub/Sub messageId) without acting again', async () => {
    const body = envelope(notification(), 'replayed-4242');
    const callsBefore = fixture.providerCalls();
    const first = await gmailPush(body)();
    expect(first.status).toBeLessThan(300);
    await fixture.world.settle();
    expect(fixture.providerCalls()).toBeGreaterThan(callsBefore);
    for (let replay = 0; replay < 3; replay += 1) await expectNoEffect(gmailPush(body), [200, 202, 204]);
  });
});

describe('Graph change notifications', () => {
  const subscriptionOf = () => {
    const subscription = fixture.world.microsoft.subscriptions().find((entry) => entry.mailbox === fixture.outlookEmail);
    if (!subscription) throw new Error('no Graph subscription');
    return subscription;
  };
  const item = (overrides: Record<string, unknown> = {}) => ({
    subscriptionId: subscriptionOf().id,
    clientState: subscriptionOf().clientState ?? null,
    changeType: 'created',
    resource: `Users/x/Messages/${Math.random()}`,
    resourceData: { '@odata.type': '#Microsoft.Graph.Message', '@odata.etag': `W/"${Math.random()}"`, id: 'AAMk' },
    tenantId: fixture.world.microsoft.tenantId,
    ...overrides,
  });
  const graphPost =
    (body: string, route = '', type = 'application/json') =>
    () =>
      fixture.send(`/webhooks/outlook${route}`, { method: 'POST', headers: { 'content-type': type }, body });

  it('refuses a notification whose clientState is wrong or missing (401)', async () => {
    await expectNoEffect(graphPost(JSON.stringify({ value: [item({ clientState: 'guessed-secret' })] })), [401]);
    await expectNoEffect(graphPost(JSON.stringify({ value: [item({ clientState: null })] })), [401]);
    await expectNoEffect(graphPost(JSON.stringify({ value: [item({ clientState: undefined })] })), [401]);
  });

  it('refuses a lifecycle event with a wrong clientState (401)', async () => {
    await expectNoEffect(
      graphPost(JSON.stringify({ value: [{ ...item({ clientState: 'nope' }), lifecycleEvent: 'subscriptionRemoved' }] }), '/lifecycle'),
      [401],
    );
  });

  it('acknowledges notifications for unknown subscription ids and does nothing', async () => {
    await expectNoEffect(
      graphPost(JSON.stringify({ value: [item({ subscriptionId: '00000000-0000-0000-0000-000000000000', clientState: 'whatever' })] })),
      [202],
    );
    await expectNoEffect(graphPost(JSON.stringify({ value: [{ ...item({ subscriptionId: 'unknown' }), lifecycleEvent: 'missed' }] }), '/lifecycle'), [202]);
  });

  it('answers broken bodies with 400 and oversized ones with 413', async () => {
    for (const body of ['{', '', 'null', '{"value":[]}', '{"value":{}}', '{"value":[{"subscriptionId":""}]}', `{"value":[${'1,'.repeat(10)}1]}`]) {
      await expectNoEffect(graphPost(body), [400]);
    }
    await expectNoEffect(graphPost(JSON.stringify({ value: [item({ clientState: 'x'.repeat(2 * 1024 * 1024) })] })), [413]);
  });

  it('does nothing for wrong content types carrying forged notifications', async () => {
    for (const type of ['text/html', 'application/x-www-form-urlencoded', 'text/xml']) {
      await expectNoEffect(graphPost(JSON.stringify({ value: [item({ clientState: 'forged' })] }), '', type), [400, 401, 415]);
    }
  });

  it('acts once on a notification and acks its replays without acting again', async () => {
    const body = JSON.stringify({ value: [item({ resource: 'Users/x/Messages/replayed', resourceData: { '@odata.etag': 'W/"replayed"', id: 'AAMk' } })] });
    const callsBefore = fixture.providerCalls();
    const first = await graphPost(body)();
    expect(first.status).toBe(202);
    await fixture.world.settle();
    expect(fixture.providerCalls()).toBeGreaterThan(callsBefore);
    for (let replay = 0; replay < 3; replay += 1) await expectNoEffect(graphPost(body), [202]);
  });

  it('routes nothing else: unknown providers and routes are 404, other methods 405', async () => {
    await expectNoEffect(() => fixture.send('/webhooks/evilcorp', { method: 'POST', body: '{}' }), [404]);
    await expectNoEffect(() => fixture.send('/webhooks/outlook/evil', { method: 'POST', body: '{}' }), [404]);
    await expectNoEffect(() => fixture.send('/webhooks/gmail', { method: 'GET' }), [405]);
    await expectNoEffect(() => fixture.send('/webhooks/outlook', { method: 'PUT', body: '{}' }), [405]);
    await expectNoEffect(() => fixture.send('/../../etc/passwd', { method: 'GET' }), [404]);
  });
});

describe('Graph validation handshake', () => {
  const validate = (token: string) =>
    fixture.send(`/webhooks/outlook?validationToken=${encodeURIComponent(token)}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '' });

  it('echoes the token only as text/plain with nosniff, byte for byte, for markup and long tokens', async () => {
    const tokens = [
      '<script>alert(document.cookie)</script>',
      '"><img src=x onerror=alert(1)>',
      '<html><body onload="steal()">',
      'Validation: Testing client application reachability for subscription Request-Id: 8f1c',
      `${'A'.repeat(1_000)}<svg/onload=alert(1)>`,
      'ünïcödé ✓ \u202e',
    ];
    for (const token of tokens) {
      const response = await expectNoEffect(() => validate(token), [200]);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      const again = await validate(token);
      expect(again.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await again.text()).toBe(token);
    }
  });

  it('refuses to echo a token longer than 1,024 characters (Graph sends short opaque ones)', async () => {
    const token = `${'A'.repeat(6_000)}<svg/onload=alert(1)>`;
    await expectNoEffect(() => validate(token), [400]);
    const again = await validate(token);
    expect(again.status).toBe(400);
    expect(await again.text()).not.toContain('<svg');
  });
});

describe('the OAuth callback under attack', () => {
  it('answers without a 500 and connects nothing for garbage, tampered or missing state', async () => {
    const before = (await fixture.world.any().tl.connections.list({ tenantId: fixture.world.tenantId, as: 'admin' })).length;
    for (const query of [
      '',
      '?code=abc',
      '?state=abc&code=abc',
      `?state=${'A'.repeat(5000)}&code=x`,
      '?error=access_denied&state=x',
      '?state=%00%ff&code=%00',
    ]) {
      const response = await expectNoEffect(() => fixture.send(`/oauth/callback${query}`, { method: 'GET', redirect: 'manual' }), [302, 400, 401]);
      expect(response.status).not.toBe(500);
    }
    expect((await fixture.world.any().tl.connections.list({ tenantId: fixture.world.tenantId, as: 'admin' })).length).toBe(before);
  });
});
