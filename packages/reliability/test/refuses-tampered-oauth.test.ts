// OAuth under attack: tampered, forged, expired and replayed `state`; a code swapped into another
// user's flow (PKCE mismatch); a missing or wrong code_verifier and a mismatched redirect at the
// token endpoint; an open-redirect `returnTo`. Each is refused and creates no connection.
import { generateSealingKey, isThreadlinkError, type Threadlink } from '@threadlink/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../src/random.js';
import { createWorld, type World } from '../src/world.js';

let world: World;
let tl: Threadlink;
const email = 'ana@acme.test';
const other = 'ben@acme.test';

beforeAll(async () => {
  world = await createWorld({ random: seededRandom(61), storeKind: 'memory' });
  world.google.addMailbox({ email });
  world.google.addMailbox({ email: other });
  world.microsoft.addMailbox({ email: 'cleo@contoso.test' });
  world.microsoft.addMailbox({ email: 'dan@contoso.test' });
  tl = world.any().tl;
});
afterAll(() => world.close());

const connections = async () => (await world.backend.primary.listConnections({})).length;
const tokenCalls = () => world.google.log.count({ operation: 'oauth.token' });

async function expectRefused(attempt: () => Promise<unknown>, code: string): Promise<void> {
  const before = await connections();
  try {
    await attempt();
  } catch (error) {
    expect(isThreadlinkError(error) ? error.code : String(error)).toBe(code);
    expect(await connections()).toBe(before);
    return;
  }
  throw new Error(`expected ${code}, but the attempt succeeded`);
}

/** The host's signed-in user completing a flow it started (connect.complete's session). */
const signedIn = (userId = 'u1') => ({ tenantId: world.tenantId, userId });

async function consent(provider: 'gmail' | 'outlook', mailbox: string, input: { userId?: string; returnTo?: string } = {}): Promise<URL> {
  const { url } = await tl.connect.start({
    provider,
    tenantId: world.tenantId,
    userId: input.userId ?? 'u1',
    loginHint: mailbox,
    ...(input.returnTo ? { returnTo: input.returnTo } : {}),
  });
  return new URL(provider === 'gmail' ? await world.google.authorize(url, { email: mailbox }) : await world.microsoft.authorize(url, { email: mailbox }));
}

describe('the state parameter', () => {
  it('refuses a tampered state before any token exchange', async () => {
    const redirect = await consent('gmail', email);
    const state = redirect.searchParams.get('state')!;
    const before = tokenCalls();
    for (const forged of [
      state.slice(0, -2) + (state.endsWith('AA') ? 'BB' : 'AA'),
      state.replace(/\.([^.]+)\./, '.x$1.'),
      `${state}x`,
      'tl1.k1.AAAA.BBBB',
      '',
    ]) {
      const url = new URL(redirect);
      url.searchParams.set('state', forged);
      await expectRefused(() => tl.connect.complete(url, signedIn()), 'OAUTH_STATE_INVALID');
    }
    expect(tokenCalls()).toBe(before);
  });

  it('refuses a state sealed by another deployment (another key)', async () => {
    const { createThreadlink } = await import('@threadlink/core');
    const { memoryStore } = await import('@threadlink/storage-memory');
    const { gmailProvider } = await import('@threadlink/gmail');
    const stranger = createThreadlink({
      store: memoryStore(),
      providers: [gmailProvider({ ...world.google.providerOptions })],
      resolver: { contactsByEmail: async () => [] },
      sealingKeys: [{ id: 'k1', key: generateSealingKey() }],
      publicUrl: world.publicUrl,
      maintenanceIntervalMs: 0,
    });
    const { url } = await stranger.connect.start({ provider: 'gmail', tenantId: world.tenantId, userId: 'attacker', loginHint: email });
    const redirect = new URL(await world.google.authorize(url, { email }));
    await expectRefused(() => tl.connect.complete(redirect, signedIn('attacker')), 'OAUTH_STATE_INVALID');
    await stranger.stop();
  });

  it('refuses a replayed callback (the state is single-use) and an expired one', async () => {
    const redirect = await consent('gmail', email);
    const connection = await tl.connect.complete(redirect, signedIn());
    expect(connection.status).not.toBe('needs_reauth');
    await expectRefused(() => tl.connect.complete(redirect, signedIn()), 'OAUTH_STATE_INVALID');

    const late = await consent('gmail', other);
    world.clock.advance(16 * 60_000);
    await expectRefused(() => tl.connect.complete(late, signedIn()), 'OAUTH_STATE_INVALID');
    await world.settle();
  });

  it('refuses a code swapped into another flow: the PKCE verifier in the state does not match', async () => {
    for (const [provider, mine, theirs] of [
      ['gmail', email, other],
      ['outlook', 'cleo@contoso.test', 'dan@contoso.test'],
    ] as const) {
      const victim = await consent(provider, mine, { userId: 'victim' });
      const attacker = await consent(provider, theirs, { userId: 'attacker' });
      const swapped = new URL(victim);
      swapped.searchParams.set('code', attacker.searchParams.get('code')!);
      await expectRefused(() => tl.connect.complete(swapped, signedIn('victim')), 'OAUTH_FAILED');
    }
  });

  it('never redirects the browser off-site: an off-site returnTo is refused at connect.start', async () => {
    // Regression: "/\evil.test" passed a "starts with one slash" check, and URL parsing reads it as //evil.test.
    for (const returnTo of ['https://evil.test/steal', '//evil.test/x', 'javascript:alert(1)', '/\\evil.test']) {
      await expect(consent('gmail', other, { returnTo })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    }
  });
});

describe('the token endpoint (PKCE and redirect binding, at the emulator)', () => {
  it('refuses a code without its code_verifier, with a wrong one, or for another redirect URI', async () => {
    const redirect = await consent('gmail', other);
    const code = redirect.searchParams.get('code')!;
    const { clientId, clientSecret, oauthEndpoints } = world.google.providerOptions;
    const exchange = (extra: Record<string, string>) =>
      fetch(oauthEndpoints.oauth2TokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uri: tl.urls.redirectUri,
          ...extra,
        }),
      });
    const missing = await exchange({});
    expect(missing.status).toBe(400);
    expect((await missing.json()).error).toBe('invalid_grant');
    const wrong = await exchange({ code_verifier: 'x'.repeat(64) });
    expect(wrong.status).toBe(400);
    const elsewhere = await exchange({ code_verifier: 'x'.repeat(64), redirect_uri: 'https://evil.test/callback' });
    expect(elsewhere.status).toBe(400);
    expect((await elsewhere.json()).error).toBe('redirect_uri_mismatch');
    // The honest flow still completes with the same code afterwards: failed attempts did not consume it.
    const connection = await tl.connect.complete(redirect, signedIn());
    expect(connection.accountEmail).toBe(other);
    await world.settle();
  });
});
