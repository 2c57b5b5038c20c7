import { request as httpsRequest } from 'node:https';
import { CryptoProvider, InteractionRequiredAuthError, ServerError } from '@azure/msal-node';
import { GraphError } from '@microsoft/microsoft-graph-client';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { startGraphEmulator, type GraphEmulator } from '../src/graph/index.js';
import { graphClient, msalApp, REDIRECT_URI, SCOPES, signIn } from './graph-clients.js';

const ANN = 'ann@contoso.test';

let emulator: GraphEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

function getText(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpsRequest(url, { ca }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    })
      .on('error', reject)
      .end();
  });
}

async function authCodeUrl(current: GraphEmulator, state = 'state-123'): Promise<{ url: string; verifier: string }> {
  const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
  const url = await msalApp(current).getAuthCodeUrl({
    scopes: SCOPES,
    redirectUri: REDIRECT_URI,
    codeChallenge: challenge,
    codeChallengeMethod: 'S256',
    state,
    loginHint: ANN,
  });
  return { url, verifier };
}

describe('Microsoft identity platform emulator with msal-node', () => {
  it('signs in through the consent page with PKCE, talking only to the emulator over trusted HTTPS', async () => {
    emulator = await startGraphEmulator();
    emulator.addMailbox({ email: ANN, name: 'Ann Example' });
    const seen: string[] = [];
    const { result } = await signIn(emulator, ANN, msalApp(emulator, seen));

    expect(result.account?.username).toBe(ANN);
    expect(result.account?.homeAccountId).toBe(`${emulator.userId(ANN)}.${emulator.tenantId}`);
    expect(result.idTokenClaims).toMatchObject({
      oid: emulator.userId(ANN),
      tid: emulator.tenantId,
      aud: emulator.providerOptions.clientId,
      preferred_username: ANN,
    });
    expect(result.accessToken.split('.')).toHaveLength(3);
    expect(result.scopes.map((scope) => scope.toLowerCase())).toEqual(expect.arrayContaining(SCOPES.slice(0, 3).map((scope) => scope.toLowerCase())));
    // knownAuthorities keeps msal-node off the public instance-discovery endpoint.
    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (const url of seen) expect(url.startsWith(emulator.identityUrl)).toBe(true);
    expect(seen.some((url) => url.includes('/discovery/instance'))).toBe(false);
    expect(seen[0]).toBe(`${emulator.identityUrl}/common/v2.0/.well-known/openid-configuration`);
    expect(emulator.log.count({ operation: 'identity.token' })).toBe(1);

    const me = (await graphClient(emulator, () => result.accessToken)
      .api('/me')
      .get()) as Record<string, unknown>;
    expect(me).toMatchObject({ id: emulator.userId(ANN), mail: ANN, userPrincipalName: ANN, displayName: 'Ann Example' });
  });

  it('serves an accessible consent form showing the account, and refuses an untrusted client', async () => {
    emulator = await startGraphEmulator();
    emulator.addMailbox({ email: ANN });
    const { url } = await authCodeUrl(emulator);
    const page = await getText(url, emulator.providerOptions.caCertificate);
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/<form method="post"/);
    expect(page.body).toMatch(/<label for="email">Email address<\/label>/);
    expect(page.body).toMatch(new RegExp(`<input id="email" name="email" type="email"[^>]*value="${ANN}"`));
    expect(page.body).toMatch(/<button type="submit" name="consent" value="accept">Accept<\/button>/);
    expect(page.body).toContain('Read and write access to your mail');

    // The CA is the only trust anchor: a client without it cannot even connect.
    await expect(getText(url, '')).rejects.toThrow();
  });

  it('redirects with access_denied and the state when the user cancels', async () => {
    emulator = await startGraphEmulator();
    emulator.addMailbox({ email: ANN });
    const { url } = await authCodeUrl(emulator, 'keep-me');
    const redirect = new URL(await emulator.authorize(url, { deny: true }));
    expect(`${redirect.origin}${redirect.pathname}`).toBe(REDIRECT_URI);
    expect(redirect.searchParams.get('error')).toBe('access_denied');
    expect(redirect.searchParams.get('error_description')).toMatch(/^AADSTS65004/);
    expect(redirect.searchParams.get('state')).toBe('keep-me');
    expect(redirect.searchParams.get('code')).toBeNull();
  });

  it('refuses a code redeemed with the wrong PKCE verifier, and a code redeemed twice', async () => {
    emulator = await startGraphEmulator();
    emulator.addMailbox({ email: ANN });
    const app = msalApp(emulator);
    const { url, verifier } = await authCodeUrl(emulator);
    const code = new URL(await emulator.authorize(url)).searchParams.get('code') ?? '';

    const wrong = await app
      .acquireTokenByCode({ code, scopes: SCOPES, redirectUri: REDIRECT_URI, codeVerifier: 'x'.repeat(43) })
      .catch((error: unknown) => error);
    expect(wrong).toBeInstanceOf(ServerError);
    expect((wrong as ServerError).errorCode).toBe('invalid_grant');
    expect((wrong as ServerError).errorMessage).toContain('AADSTS501481');

    await app.acquireTokenByCode({ code, scopes: SCOPES, redirectUri: REDIRECT_URI, codeVerifier: verifier });
    const reused = await app.acquireTokenByCode({ code, scopes: SCOPES, redirectUri: REDIRECT_URI, codeVerifier: verifier }).catch((error: unknown) => error);
    expect((reused as ServerError).errorCode).toBe('invalid_grant');
    expect((reused as ServerError).errorMessage).toContain('AADSTS54005');
  });

  it('refuses a wrong client secret with invalid_client', async () => {
    emulator = await startGraphEmulator({ clientId: 'my-app', clientSecret: 'right-secret' });
    emulator.addMailbox({ email: ANN });
    const { url, verifier } = await authCodeUrl(emulator);
    const code = new URL(await emulator.authorize(url)).searchParams.get('code') ?? '';
    const impostor = msalApp({ ...emulator, providerOptions: { ...emulator.providerOptions, clientSecret: 'wrong-secret' } });
    const error = await impostor
      .acquireTokenByCode({ code, scopes: SCOPES, redirectUri: REDIRECT_URI, codeVerifier: verifier })
      .catch((caught: unknown) => caught);
    expect((error as ServerError).errorCode).toBe('invalid_client');
    expect((error as ServerError).errorMessage).toContain('AADSTS7000215');
  });

  it('lets acquireTokenSilent refresh an access token that is about to expire', async () => {
    // msal-node renews tokens within 5 minutes of expiry, so a 2-minute lifetime always refreshes.
    emulator = await startGraphEmulator({ accessTokenLifetimeSeconds: 120 });
    emulator.addMailbox({ email: ANN });
    const { app, result } = await signIn(emulator, ANN);
    const account = result.account;
    if (!account) throw new Error('no account');
    const refreshed = await app.acquireTokenSilent({ account, scopes: SCOPES });
    expect(refreshed.accessToken).not.toBe(result.accessToken);
    expect(emulator.log.count({ operation: 'identity.token' })).toBe(2);
    const me = (await graphClient(emulator, () => refreshed.accessToken)
      .api('/me')
      .select('mail')
      .get()) as Record<string, unknown>;
    expect(me.mail).toBe(ANN);
  });

  it('refuses a refresh that asks for a scope the user never consented to (AADSTS65001 consent_required)', async () => {
    emulator = await startGraphEmulator();
    emulator.addMailbox({ email: ANN });
    const consented = SCOPES.filter((scope) => !scope.endsWith('/Mail.ReadWrite'));
    const { app, result } = await signIn(emulator, ANN, undefined, consented);
    const account = result.account;
    if (!account) throw new Error('no account');

    const widened = await app.acquireTokenSilent({ account, scopes: SCOPES, forceRefresh: true }).catch((error: unknown) => error);
    expect(widened).toBeInstanceOf(InteractionRequiredAuthError);
    expect((widened as InteractionRequiredAuthError).errorMessage).toContain('AADSTS65001');
    expect((widened as InteractionRequiredAuthError).subError).toBe('consent_required');

    // Within the consent the grant keeps working, and a later sign-in that consents more widens it.
    const same = await app.acquireTokenSilent({ account, scopes: consented, forceRefresh: true });
    const readWrite = (scopes: string[]): boolean => scopes.some((scope) => /(^|\/)mail\.readwrite$/i.test(scope));
    expect(readWrite(same.scopes)).toBe(false);
    const again = await signIn(emulator, ANN, app, SCOPES);
    const wider = await app.acquireTokenSilent({ account: again.result.account ?? account, scopes: SCOPES, forceRefresh: true });
    expect(readWrite(wider.scopes)).toBe(true);
  });

  it('answers a revoked grant with invalid_grant AADSTS50173 and revoked access tokens with 401', async () => {
    emulator = await startGraphEmulator();
    emulator.addMailbox({ email: ANN });
    const { app, result } = await signIn(emulator, ANN);
    const account = result.account;
    if (!account) throw new Error('no account');
    emulator.revokeTokens(ANN);

    const refresh = await app.acquireTokenSilent({ account, scopes: SCOPES, forceRefresh: true }).catch((error: unknown) => error);
    expect(refresh).toBeInstanceOf(InteractionRequiredAuthError);
    expect((refresh as InteractionRequiredAuthError).errorCode).toBe('invalid_grant');
    expect((refresh as InteractionRequiredAuthError).errorMessage).toContain('AADSTS50173');

    const graph = await graphClient(emulator, () => result.accessToken)
      .api('/me')
      .get()
      .catch((error: unknown) => error);
    expect(graph).toBeInstanceOf(GraphError);
    expect((graph as GraphError).statusCode).toBe(401);
    expect((graph as GraphError).code).toBe('InvalidAuthenticationToken');

    // A fresh consent works again.
    const again = await signIn(emulator, ANN);
    expect(
      (
        await graphClient(emulator, () => again.result.accessToken)
          .api('/me')
          .get()
      ).mail,
    ).toBe(ANN);
  });

  it('rejects an access token past its lifetime on the emulator clock', async () => {
    emulator = await startGraphEmulator();
    emulator.addMailbox({ email: ANN });
    const { result } = await signIn(emulator, ANN);
    emulator.advanceTime(2 * 60 * 60 * 1000);
    const error = (await graphClient(emulator, () => result.accessToken)
      .api('/me')
      .get()
      .catch((caught: unknown) => caught)) as GraphError;
    expect(error.statusCode).toBe(401);
    expect(error.code).toBe('InvalidAuthenticationToken');
    expect(error.message).toContain('expired');
  });

  it('serves the same Graph API over HTTPS to clients that trust the emulator CA', async () => {
    emulator = await startGraphEmulator();
    emulator.addMailbox({ email: ANN });
    const { result } = await signIn(emulator, ANN);
    const me = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      httpsRequest(
        `${emulator?.secureUrl ?? ''}/v1.0/me?$select=mail`,
        { ca: emulator?.providerOptions.caCertificate ?? '', headers: { authorization: `Bearer ${result.accessToken}` } },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        },
      )
        .on('error', reject)
        .end();
    });
    expect(me.status).toBe(200);
    expect(JSON.parse(me.body)).toMatchObject({ mail: ANN, '@odata.context': `${emulator.secureUrl}/v1.0/$metadata#users/$entity` });
  });

  it('publishes OIDC discovery and a JWKS that verifies the id token', async () => {
    emulator = await startGraphEmulator();
    emulator.addMailbox({ email: ANN });
    const ca = emulator.providerOptions.caCertificate;
    const configuration = JSON.parse((await getText(`${emulator.identityUrl}/common/v2.0/.well-known/openid-configuration`, ca)).body) as Record<
      string,
      unknown
    >;
    expect(configuration).toMatchObject({
      issuer: `${emulator.identityUrl}/{tenantid}/v2.0`,
      authorization_endpoint: `${emulator.identityUrl}/common/oauth2/v2.0/authorize`,
      token_endpoint: `${emulator.identityUrl}/common/oauth2/v2.0/token`,
      jwks_uri: `${emulator.identityUrl}/common/discovery/v2.0/keys`,
    });
    const { result } = await signIn(emulator, ANN);
    const keys = JSON.parse((await getText(String(configuration.jwks_uri), ca)).body) as JSONWebKeySet;
    const { payload, protectedHeader } = await jwtVerify(result.idToken, createLocalJWKSet(keys), {
      issuer: `${emulator.identityUrl}/${emulator.tenantId}/v2.0`,
      audience: emulator.providerOptions.clientId,
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({ oid: emulator.userId(ANN), email: ANN, preferred_username: ANN, tid: emulator.tenantId });
  });
});
