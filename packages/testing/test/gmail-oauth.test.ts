// Google OAuth through the emulator with google-auth-library's OAuth2Client:
// consent page, PKCE code exchange, id_token verification, refresh, revoke.
import { CodeChallengeMethod } from 'google-auth-library';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGmailEmulator, type GmailEmulator } from '../src/gmail/index.js';
import { connect, failure, gmailFor, GOOGLE, oauthClient, REDIRECT_URI } from './gmail-helpers.js';

let emulator: GmailEmulator;

beforeAll(async () => {
  emulator = await startGmailEmulator();
  emulator.addMailbox({ email: 'ana@acme.example', name: 'Ana Lima' });
});
afterAll(() => emulator.close());

async function authorizeUrl(options: { prompt?: string; scopes?: string[]; email?: string } = {}): Promise<{ url: string; codeVerifier: string }> {
  const auth = oauthClient(emulator);
  const { codeVerifier, codeChallenge } = await auth.generateCodeVerifierAsync();
  const url = auth.generateAuthUrl({
    access_type: 'offline',
    scope: options.scopes ?? ['openid', 'email', `${GOOGLE}gmail.metadata`],
    state: 'opaque-state',
    code_challenge: codeChallenge ?? '',
    code_challenge_method: CodeChallengeMethod.S256,
    login_hint: options.email ?? 'ana@acme.example',
    ...(options.prompt !== undefined ? { prompt: options.prompt } : {}),
  });
  return { url, codeVerifier };
}

describe('consent page', () => {
  it('serves an accessible HTML form that shows the account and lets the user change it', async () => {
    const { url } = await authorizeUrl();
    expect(url.startsWith(`${emulator.url}/o/oauth2/v2/auth?`)).toBe(true);
    const page = await fetch(url);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(html).toContain('<html lang="en">');
    expect(html).toMatch(/<form method="post" action="\/o\/oauth2\/v2\/auth\/consent">/);
    expect(html).toMatch(/<label for="email">[^<]+<\/label>/);
    expect(html).toMatch(/<input id="email" name="email" type="email"[^>]*value="ana@acme.example"/);
    expect(html).toMatch(/<button type="submit" name="decision" value="allow">Allow<\/button>/);
    expect(html).toContain('gmail.metadata');
  });

  it('redirects back with code, state and granted scopes on Allow', async () => {
    const { url } = await authorizeUrl();
    const redirect = new URL(await emulator.authorize(url));
    expect(`${redirect.origin}${redirect.pathname}`).toBe(REDIRECT_URI);
    expect(redirect.searchParams.get('state')).toBe('opaque-state');
    expect(redirect.searchParams.get('code')).toMatch(/^4\/0A/);
    expect(redirect.searchParams.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['openid', `${GOOGLE}userinfo.email`, `${GOOGLE}gmail.metadata`]));
  });

  it('redirects with error=access_denied when the user cancels', async () => {
    const { url } = await authorizeUrl();
    const redirect = new URL(await emulator.authorize(url, { deny: true }));
    expect(redirect.searchParams.get('error')).toBe('access_denied');
    expect(redirect.searchParams.get('state')).toBe('opaque-state');
    expect(redirect.searchParams.has('code')).toBe(false);
  });

  it('creates the mailbox for an address the user types', async () => {
    const { url } = await authorizeUrl({ email: 'ana@acme.example' });
    const redirect = new URL(await emulator.authorize(url, { email: 'Bruno@Acme.example' }));
    expect(redirect.searchParams.get('code')).toBeTruthy();
    expect(emulator.messages('bruno@acme.example')).toEqual([]);
  });

  it('shows an error page (no redirect) for an unknown client', async () => {
    const page = await fetch(
      `${emulator.url}/o/oauth2/v2/auth?client_id=nope&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&response_type=code&scope=openid`,
      { redirect: 'manual' },
    );
    expect(page.status).toBe(401);
    expect(await page.text()).toContain('invalid_client');
  });
});

describe('token endpoint', () => {
  it('exchanges a code with its PKCE verifier for tokens and a verifiable id_token', async () => {
    const { url, codeVerifier } = await authorizeUrl({ prompt: 'consent' });
    const code = new URL(await emulator.authorize(url)).searchParams.get('code') ?? '';
    const auth = oauthClient(emulator);
    const { tokens } = await auth.getToken({ code, codeVerifier });
    expect(tokens.access_token).toMatch(/^ya29\./);
    expect(tokens.refresh_token).toMatch(/^1\/\//);
    expect(tokens.token_type).toBe('Bearer');
    expect(tokens.expiry_date).toBeGreaterThan(Date.now() + 3500_000);
    expect(tokens.scope?.split(' ')).toContain(`${GOOGLE}gmail.metadata`);

    const ticket = await auth.verifyIdToken({ idToken: tokens.id_token ?? '', audience: emulator.providerOptions.clientId });
    const payload = ticket.getPayload();
    expect(payload?.iss).toBe('https://accounts.google.com');
    expect(payload?.email).toBe('ana@acme.example');
    expect(payload?.email_verified).toBe(true);
    expect(payload?.sub).toMatch(/^\d{21}$/);

    // The JWK endpoint publishes the same key as the PEM endpoint.
    const jwks = createRemoteJWKSet(new URL(emulator.providerOptions.oauthEndpoints.oauth2FederatedSignonJwkCertsUrl));
    const verified = await jwtVerify(tokens.id_token ?? '', jwks, { issuer: 'https://accounts.google.com', audience: emulator.providerOptions.clientId });
    expect(verified.payload.email).toBe('ana@acme.example');
  });

  it('refuses a wrong PKCE verifier, a reused code and a wrong client secret', async () => {
    const { url, codeVerifier } = await authorizeUrl();
    const code = new URL(await emulator.authorize(url)).searchParams.get('code') ?? '';
    const wrongVerifier = await failure(oauthClient(emulator).getToken({ code, codeVerifier: `${codeVerifier}x` }));
    expect(wrongVerifier.status).toBe(400);
    expect(wrongVerifier.body).toMatchObject({ error: 'invalid_grant', error_description: 'Invalid code verifier.' });

    await oauthClient(emulator).getToken({ code, codeVerifier });
    const reused = await failure(oauthClient(emulator).getToken({ code, codeVerifier }));
    expect(reused.body).toMatchObject({ error: 'invalid_grant' });

    const second = await authorizeUrl();
    const secondCode = new URL(await emulator.authorize(second.url)).searchParams.get('code') ?? '';
    const response = await fetch(emulator.providerOptions.oauthEndpoints.oauth2TokenUrl, {
      method: 'POST',
      body: new URLSearchParams({
        code: secondCode,
        code_verifier: second.codeVerifier,
        grant_type: 'authorization_code',
        redirect_uri: REDIRECT_URI,
        client_id: emulator.providerOptions.clientId,
        client_secret: 'wrong',
      }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('issues a refresh token only on first offline consent or when prompt=consent', async () => {
    await connect(emulator, 'carla@acme.example', [`${GOOGLE}gmail.metadata`]);
    const again = oauthClient(emulator);
    const pkce = await again.generateCodeVerifierAsync();
    const exchange = async (prompt?: string): Promise<string | null | undefined> => {
      const url = again.generateAuthUrl({
        access_type: 'offline',
        scope: [`${GOOGLE}gmail.metadata`],
        code_challenge: pkce.codeChallenge ?? '',
        code_challenge_method: CodeChallengeMethod.S256,
        login_hint: 'carla@acme.example',
        ...(prompt ? { prompt } : {}),
      });
      const code = new URL(await emulator.authorize(url)).searchParams.get('code') ?? '';
      return (await again.getToken({ code, codeVerifier: pkce.codeVerifier })).tokens.refresh_token;
    };
    expect(await exchange()).toBeUndefined();
    expect(await exchange('consent')).toMatch(/^1\/\//);
  });

  it('refreshes an expired access token (the client retries the 401 after refreshing)', async () => {
    emulator.addMailbox({ email: 'dora@acme.example' });
    const { gmail, auth } = await connect(emulator, 'dora@acme.example', [`${GOOGLE}gmail.metadata`], { forceRefreshOnFailure: true });
    const firstToken = auth.credentials.access_token;
    await gmail.users.getProfile({ userId: 'me' });
    emulator.advanceClock(3600_000);
    try {
      const profile = await gmail.users.getProfile({ userId: 'me' });
      expect(profile.data.emailAddress).toBe('dora@acme.example');
      expect(auth.credentials.access_token).not.toBe(firstToken);
      const statuses = emulator.log.entries
        .filter((entry) => entry.mailbox === 'dora@acme.example' || entry.operation === 'oauth.token')
        .slice(-3)
        .map((entry) => `${entry.operation}:${entry.status}`);
      expect(statuses).toEqual(['getProfile:401', 'oauth.token:200', 'getProfile:200']);
    } finally {
      emulator.advanceClock(-3600_000);
    }
  });

  it('answers token info for an access token', async () => {
    const { auth } = await connect(emulator, 'ana@acme.example', ['email', `${GOOGLE}gmail.readonly`]);
    const info = await auth.getTokenInfo(auth.credentials.access_token ?? '');
    expect(info.scopes).toEqual(expect.arrayContaining([`${GOOGLE}gmail.readonly`, `${GOOGLE}userinfo.email`]));
    expect(info.email).toBe('ana@acme.example');
    expect(info.aud).toBe(emulator.providerOptions.clientId);
  });
});

describe('revocation', () => {
  it('revoking the access token also kills its refresh token', async () => {
    emulator.addMailbox({ email: 'eva@acme.example' });
    const { auth } = await connect(emulator, 'eva@acme.example', [`${GOOGLE}gmail.metadata`]);
    const { access_token: accessToken, refresh_token: refreshToken } = auth.credentials;
    await auth.revokeToken(accessToken ?? '');

    const staleAuth = oauthClient(emulator);
    staleAuth.setCredentials({ access_token: accessToken ?? null });
    const stale = gmailFor(emulator, staleAuth);
    const refresher = oauthClient(emulator);
    refresher.setCredentials({ refresh_token: refreshToken ?? null });
    const refresh = await failure(refresher.refreshAccessToken());
    expect(refresh.status).toBe(400);
    expect(refresh.body).toMatchObject({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });

    const revokedCall = await failure(stale.users.getProfile({ userId: 'me' }));
    expect(revokedCall.status).toBe(401);

    const again = await fetch(`${emulator.providerOptions.oauthEndpoints.oauth2RevokeUrl}?token=${accessToken}`, { method: 'POST' });
    expect(again.status).toBe(400);
    expect(await again.json()).toEqual({ error: 'invalid_token', error_description: 'Token expired or revoked' });
  });

  it('revokeTokens() makes API calls 401 and refreshes invalid_grant', async () => {
    emulator.addMailbox({ email: 'fabio@acme.example' });
    const { auth, gmail } = await connect(emulator, 'fabio@acme.example', [`${GOOGLE}gmail.metadata`]);
    emulator.revokeTokens('fabio@acme.example');
    const call = await failure(gmail.users.getProfile({ userId: 'me' }));
    expect(call.status).toBe(401);
    expect(call.body.error).toMatchObject({ code: 401, status: 'UNAUTHENTICATED', errors: [{ reason: 'authError', domain: 'global' }] });
    const refresh = await failure(auth.refreshAccessToken());
    expect(refresh.body).toMatchObject({ error: 'invalid_grant' });
  });
});

describe('userinfo', () => {
  it('answers the OpenID userinfo endpoint for a token with the email scope', async () => {
    const { auth } = await connect(emulator, 'ana@acme.example', ['openid', 'email', 'profile']);
    const response = await fetch(`${emulator.url}/oauth2/v3/userinfo`, { headers: { authorization: `Bearer ${auth.credentials.access_token}` } });
    expect(await response.json()).toMatchObject({ email: 'ana@acme.example', email_verified: true, name: 'Ana Lima' });
  });
});
