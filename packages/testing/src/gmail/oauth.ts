// Google's OAuth 2.0 / OpenID endpoints, enough for google-auth-library's OAuth2Client:
//   GET  /o/oauth2/v2/auth          consent page (a real HTML form); POST …/consent redirects with code+state
//   POST /token                     authorization_code (PKCE S256/plain), refresh_token and, for a
//                                   Workspace service account, jwt-bearer grants (workspace.ts)
//   POST /revoke                    token=… (access or refresh); revokes the whole grant
//   GET  /oauth2/v1/certs           signing keys as PEM certificates (what Node's verifyIdToken fetches)
//   GET  /oauth2/v3/certs           the same keys as a JWK set
//   GET  /oauth2/v3/userinfo, /oauth2/v2/userinfo, GET|POST /tokeninfo
// Error bodies follow Google: {"error":"invalid_grant","error_description":"Bad Request"}.
// developers.google.com/identity/protocols/oauth2/web-server
import { createHash, randomUUID } from 'node:crypto';
import type { EmulatorRequest, EmulatorResponse, Router } from '../common/server.js';
import { opaqueToken } from './ids.js';
import { signJwt, type SigningKey } from './keys.js';
import type { AssertionCheck } from './workspace.js';
import { normalizeScopes, SCOPE_DESCRIPTIONS, SCOPES } from './scopes.js';

/** Google's access tokens live one hour; the token endpoint says 3599. */
const ACCESS_TOKEN_LIFETIME_SECONDS = 3599;
const CODE_LIFETIME_MS = 10 * 60_000;
const ISSUER = 'https://accounts.google.com';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface Grant {
  id: string;
  clientId: string;
  email: string;
  scopes: string[];
  refreshTokens: Set<string>;
  revoked: boolean;
  nonce?: string;
}

export interface AccessTokenRecord {
  token: string;
  grant: Grant;
  scopes: string[];
  expiresAt: number;
}

interface PendingAuthorization {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state?: string;
  codeChallenge?: string;
  codeChallengeMethod?: string;
  accessType: string;
  prompt: string;
  loginHint?: string;
  nonce?: string;
  includeGrantedScopes: boolean;
}

interface AuthorizationCode extends PendingAuthorization {
  email: string;
  expiresAt: number;
  used: boolean;
}

export interface OAuthContext {
  clientId: string;
  clientSecret: string;
  /** Allowed redirect URIs; empty = any (the emulator has no console to register them). */
  redirectUris: readonly string[];
  now: () => number;
  /** iat/exp of signed JWTs: the wall clock, because verifiers (google-auth-library, jose) read the real one. */
  wallClock: () => number;
  key: () => SigningKey;
  /** The account shown first on the consent page. */
  defaultEmail: () => string | undefined;
  /** Called when the user approves with an address the emulator does not know yet. */
  ensureMailbox: (email: string) => { sub: string; name: string };
  /** Domain-wide delegation: verifies a service account's JWT-bearer assertion (workspace.ts). */
  checkAssertion: (assertion: string) => Promise<AssertionCheck>;
}

/** `email` is known for an expired or revoked token, so refusals still count against the mailbox in the log. */
export type TokenCheck = { ok: true; record: AccessTokenRecord } | { ok: false; reason: 'missing' | 'invalid'; email?: string };

const escapeHtml = (value: string): string =>
  value.replace(/[&<>"']/g, (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character] ?? character);

const oauthError = (status: number, error: string, description: string): EmulatorResponse => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache, no-store, max-age=0, must-revalidate', pragma: 'no-cache' },
  body: { error, error_description: description },
});

const html = (status: number, body: string): EmulatorResponse => ({
  status,
  headers: { 'content-type': 'text/html; charset=utf-8' },
  body: `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in - Google Accounts (threadlink emulator)</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#202124}button{font-size:1rem;padding:.5rem 1.25rem;margin-right:.5rem}input{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box}.error{color:#b3261e}</style></head><body><main>${body}</main></body></html>`,
});

const errorPage = (status: number, error: string, description: string): EmulatorResponse =>
  html(
    status,
    `<h1>Access blocked: authorization error</h1><p class="error" role="alert">Error ${status}: ${escapeHtml(error)}</p><p>${escapeHtml(description)}</p>`,
  );

function redirect(target: string, parameters: Record<string, string | undefined>): EmulatorResponse {
  const url = new URL(target);
  for (const [name, value] of Object.entries(parameters)) if (value !== undefined) url.searchParams.set(name, value);
  return { status: 302, headers: { location: url.toString(), 'cache-control': 'no-store' } };
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

export class OAuthServer {
  private readonly pending = new Map<string, PendingAuthorization>();
  private readonly codes = new Map<string, AuthorizationCode>();
  private readonly grants = new Map<string, Grant>();
  private readonly accessTokens = new Map<string, AccessTokenRecord>();
  private readonly refreshTokens = new Map<string, Grant>();

  constructor(private readonly context: OAuthContext) {}

  register(router: Router): void {
    router
      .add('GET', '/o/oauth2/v2/auth', (request) => this.authorizePage(request))
      .add('GET', '/o/oauth2/auth', (request) => this.authorizePage(request))
      .add('POST', '/o/oauth2/v2/auth/consent', (request) => this.consent(request))
      .add('POST', '/token', (request) => this.token(request))
      .add('POST', '/revoke', (request) => this.revoke(request))
      .add('GET', '/oauth2/v1/certs', () => this.pemCerts())
      .add('GET', '/oauth2/v3/certs', () => this.jwkCerts())
      .add('GET', '/oauth2/v3/userinfo', (request) => this.userinfo(request, 'v3'))
      .add('GET', '/oauth2/v2/userinfo', (request) => this.userinfo(request, 'v2'))
      .add('GET', '/tokeninfo', (request) => this.tokeninfo(request))
      .add('POST', '/tokeninfo', (request) => this.tokeninfo(request));
  }

  /** Validates a bearer token from an API request. */
  check(authorization: string | undefined): TokenCheck {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!match) return { ok: false, reason: 'missing' };
    const record = this.accessTokens.get(match[1] ?? '');
    if (!record) return { ok: false, reason: 'invalid' };
    if (record.grant.revoked || record.expiresAt <= this.context.now()) return { ok: false, reason: 'invalid', email: record.grant.email };
    return { ok: true, record };
  }

  /** Issues tokens without the consent dance (for seeding tests); same records as the real flow. */
  issue(input: { email: string; scopes: string[]; clientId?: string; offline?: boolean }): Promise<Record<string, unknown>> {
    const grant = this.grantFor(input.clientId ?? this.context.clientId, input.email, normalizeScopes(input.scopes.join(' ')), false);
    return this.tokenResponse(grant, grant.scopes, input.offline ?? true);
  }

  /** Revokes every grant of a mailbox (refresh → invalid_grant, API → 401). */
  revokeMailbox(email: string): void {
    for (const grant of this.grants.values()) if (grant.email === email.toLowerCase()) this.revokeGrant(grant);
  }

  private revokeGrant(grant: Grant): void {
    grant.revoked = true;
    this.grants.delete(`${grant.clientId} ${grant.email}`);
  }

  // ---- authorization endpoint ----

  private validateAuthorization(query: URLSearchParams): PendingAuthorization | EmulatorResponse {
    const clientId = query.get('client_id');
    if (!clientId) return errorPage(400, 'invalid_request', 'Missing required parameter: client_id');
    if (clientId !== this.context.clientId) return errorPage(401, 'invalid_client', 'The OAuth client was not found.');
    const redirectUri = query.get('redirect_uri');
    if (!redirectUri) return errorPage(400, 'invalid_request', 'Missing required parameter: redirect_uri');
    if (this.context.redirectUris.length > 0 && !this.context.redirectUris.includes(redirectUri)) {
      return errorPage(
        400,
        'redirect_uri_mismatch',
        `You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. redirect_uri=${redirectUri}`,
      );
    }
    try {
      new URL(redirectUri);
    } catch {
      return errorPage(400, 'invalid_request', `Invalid parameter value for redirect_uri: ${redirectUri}`);
    }
    const responseType = query.get('response_type');
    if (!responseType) return errorPage(400, 'invalid_request', 'Required parameter is missing: response_type');
    if (responseType !== 'code') return errorPage(400, 'unsupported_response_type', `Invalid response_type: ${responseType}`);
    const scope = query.get('scope');
    if (!scope) return errorPage(400, 'invalid_request', 'Missing required parameter: scope');
    const method = query.get('code_challenge_method') ?? undefined;
    const challenge = query.get('code_challenge') ?? undefined;
    if (challenge !== undefined && method !== undefined && method !== 'S256' && method !== 'plain') {
      return errorPage(400, 'invalid_request', 'Invalid code_challenge_method value.');
    }
    const pending: PendingAuthorization = {
      clientId,
      redirectUri,
      scopes: normalizeScopes(scope),
      accessType: query.get('access_type') ?? 'online',
      prompt: query.get('prompt') ?? '',
      includeGrantedScopes: query.get('include_granted_scopes') === 'true',
    };
    const state = query.get('state');
    if (state !== null) pending.state = state;
    if (challenge !== undefined) {
      pending.codeChallenge = challenge;
      pending.codeChallengeMethod = method ?? 'plain';
    }
    const loginHint = query.get('login_hint');
    if (loginHint) pending.loginHint = loginHint;
    const nonce = query.get('nonce');
    if (nonce) pending.nonce = nonce;
    return pending;
  }

  private authorizePage(request: EmulatorRequest): EmulatorResponse {
    const pending = this.validateAuthorization(request.url.searchParams);
    if ('status' in pending) return pending;
    const email = pending.loginHint ?? this.context.defaultEmail() ?? '';
    if (pending.prompt.split(' ').includes('none')) {
      // No UI allowed: succeed only for an account that already granted these scopes.
      const grant = email ? this.grants.get(`${pending.clientId} ${email.toLowerCase()}`) : undefined;
      if (!grant || !pending.scopes.every((scope) => grant.scopes.includes(scope))) {
        return redirect(pending.redirectUri, { error: 'consent_required', state: pending.state });
      }
      return this.approve(pending, email);
    }
    const requestId = randomUUID();
    this.pending.set(requestId, pending);
    const scopes = pending.scopes
      .map((scope) => `<li><code>${escapeHtml(scope)}</code> — ${escapeHtml(SCOPE_DESCRIPTIONS[scope] ?? 'Access to your Google Account')}</li>`)
      .join('');
    return html(
      200,
      `<h1>threadlink emulator wants to access your Google Account</h1>
<p>Signing in as <strong data-testid="account-email">${escapeHtml(email || 'no account yet')}</strong></p>
<form method="post" action="/o/oauth2/v2/auth/consent">
<input type="hidden" name="request" value="${requestId}">
<p><label for="email">Google Account email</label><br>
<input id="email" name="email" type="email" autocomplete="username" required value="${escapeHtml(email)}"></p>
<h2>This will allow the app to:</h2>
<ul>${scopes}</ul>
<p>Client: <code>${escapeHtml(pending.clientId)}</code></p>
<button type="submit" name="decision" value="deny">Cancel</button>
<button type="submit" name="decision" value="allow">Allow</button>
</form>`,
    );
  }

  private consent(request: EmulatorRequest): EmulatorResponse {
    const form = request.form();
    const pending = this.pending.get(form.get('request') ?? '');
    if (!pending) return errorPage(400, 'invalid_request', 'This sign-in request has expired or was already used. Start again.');
    this.pending.delete(form.get('request') ?? '');
    if (form.get('decision') !== 'allow') {
      return redirect(pending.redirectUri, { error: 'access_denied', state: pending.state });
    }
    const email = (form.get('email') ?? '').trim().toLowerCase();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) return errorPage(400, 'invalid_request', "Couldn't find your Google Account: enter a valid email address.");
    return this.approve(pending, email);
  }

  private approve(pending: PendingAuthorization, email: string): EmulatorResponse {
    this.context.ensureMailbox(email);
    const code = opaqueToken('4/0A', 48);
    this.codes.set(code, { ...pending, email: email.toLowerCase(), expiresAt: this.context.now() + CODE_LIFETIME_MS, used: false });
    return redirect(pending.redirectUri, {
      state: pending.state,
      iss: ISSUER,
      code,
      scope: pending.scopes.join(' '),
      authuser: '0',
      prompt: 'consent',
    });
  }

  /** Performs the consent as a user would (GET the page, submit the form) and returns the redirect URL. */
  async authorize(serverUrl: string, authorizeUrl: string, input: { email?: string; deny?: boolean } = {}): Promise<string> {
    const target = new URL(authorizeUrl);
    const local = new URL(target.pathname + target.search, serverUrl);
    const page = await fetch(local, { redirect: 'manual' });
    if (page.status === 302) return page.headers.get('location') ?? '';
    const text = await page.text();
    if (page.status !== 200)
      throw new Error(
        `The consent page refused the request (${page.status}): ${text
          .replace(/<[^>]+>/g, ' ')
          .replace(/\s+/g, ' ')
          .trim()}`,
      );
    const requestId = /name="request" value="([^"]+)"/.exec(text)?.[1];
    const prefilled = /id="email" name="email"[^>]*value="([^"]*)"/.exec(text)?.[1] ?? '';
    if (!requestId) throw new Error('The consent page has no form');
    const form = new URLSearchParams({ request: requestId, email: input.email ?? prefilled.replace(/&amp;/g, '&'), decision: input.deny ? 'deny' : 'allow' });
    const answer = await fetch(new URL('/o/oauth2/v2/auth/consent', serverUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
      redirect: 'manual',
    });
    const location = answer.headers.get('location');
    if (answer.status !== 302 || !location) throw new Error(`Consent did not redirect (${answer.status}): ${await answer.text()}`);
    return location;
  }

  // ---- token endpoint ----

  private clientFrom(request: EmulatorRequest, form: URLSearchParams): { id: string; secret: string } | undefined {
    const basic = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (basic) {
      const [id = '', secret = ''] = Buffer.from(basic[1] ?? '', 'base64')
        .toString('utf8')
        .split(':');
      return { id: decodeURIComponent(id), secret: decodeURIComponent(secret) };
    }
    const id = form.get('client_id');
    if (id === null) return undefined;
    return { id, secret: form.get('client_secret') ?? '' };
  }

  private async token(request: EmulatorRequest): Promise<EmulatorResponse> {
    const form = request.form();
    // A service account authenticates by the assertion's signature, not a client secret.
    if (form.get('grant_type') === JWT_BEARER) return this.jwtBearer(form);
    const client = this.clientFrom(request, form);
    if (!client) return oauthError(400, 'invalid_request', 'Could not determine client ID from request.');
    if (client.id !== this.context.clientId) return oauthError(401, 'invalid_client', 'The OAuth client was not found.');
    if (client.secret !== this.context.clientSecret) return oauthError(401, 'invalid_client', 'Unauthorized');
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') return this.exchangeCode(form);
    if (grantType === 'refresh_token') return this.refresh(form);
    if (!grantType) return oauthError(400, 'unsupported_grant_type', 'Invalid grant_type: ');
    return oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grantType}`);
  }

  private async exchangeCode(form: URLSearchParams): Promise<EmulatorResponse> {
    const code = this.codes.get(form.get('code') ?? '');
    if (!code) return oauthError(400, 'invalid_grant', 'Malformed auth code.');
    if (code.used || code.expiresAt <= this.context.now()) return oauthError(400, 'invalid_grant', 'Bad Request');
    if (form.get('redirect_uri') !== code.redirectUri) return oauthError(400, 'redirect_uri_mismatch', 'Bad Request');
    const verifier = form.get('code_verifier');
    if (code.codeChallenge === undefined) {
      if (verifier) return oauthError(400, 'invalid_request', 'code_verifier or verifier is not needed.');
    } else {
      if (!verifier) return oauthError(400, 'invalid_grant', 'Missing code verifier.');
      const computed = code.codeChallengeMethod === 'S256' ? s256(verifier) : verifier;
      if (computed !== code.codeChallenge) return oauthError(400, 'invalid_grant', 'Invalid code verifier.');
    }
    code.used = true;
    const forceConsent = code.prompt.split(' ').includes('consent');
    const grant = this.grantFor(code.clientId, code.email, code.scopes, code.includeGrantedScopes);
    if (code.nonce !== undefined) grant.nonce = code.nonce;
    else delete grant.nonce;
    // A refresh token comes with the first offline consent, or again when prompt=consent forces it.
    const offline = code.accessType === 'offline' && (grant.refreshTokens.size === 0 || forceConsent);
    return { status: 200, headers: { 'cache-control': 'no-store', pragma: 'no-cache' }, body: await this.tokenResponse(grant, code.scopes, offline) };
  }

  private async jwtBearer(form: URLSearchParams): Promise<EmulatorResponse> {
    const check = await this.context.checkAssertion(form.get('assertion') ?? '');
    if (!check.ok) return oauthError(check.status, check.error, check.description);
    // No refresh token: the holder of the key signs a new assertion when the hour is up.
    const grant = this.grantFor(check.clientId, check.email, check.scopes, false);
    return { status: 200, headers: { 'cache-control': 'no-store', pragma: 'no-cache' }, body: await this.tokenResponse(grant, check.scopes, false) };
  }

  private async refresh(form: URLSearchParams): Promise<EmulatorResponse> {
    const grant = this.refreshTokens.get(form.get('refresh_token') ?? '');
    if (!grant || grant.revoked) return oauthError(400, 'invalid_grant', 'Token has been expired or revoked.');
    const requested = form.get('scope');
    let scopes = grant.scopes;
    if (requested) {
      scopes = normalizeScopes(requested);
      if (!scopes.every((scope) => grant.scopes.includes(scope))) return oauthError(400, 'invalid_scope', 'Some requested scopes were invalid.');
    }
    delete grant.nonce;
    return { status: 200, headers: { 'cache-control': 'no-store', pragma: 'no-cache' }, body: await this.tokenResponse(grant, scopes, false) };
  }

  private grantFor(clientId: string, email: string, scopes: string[], includeGranted: boolean): Grant {
    const key = `${clientId} ${email.toLowerCase()}`;
    const existing = this.grants.get(key);
    if (existing) {
      existing.scopes = includeGranted ? [...new Set([...existing.scopes, ...scopes])] : scopes;
      return existing;
    }
    const grant: Grant = { id: randomUUID(), clientId, email: email.toLowerCase(), scopes, refreshTokens: new Set(), revoked: false };
    this.grants.set(key, grant);
    return grant;
  }

  private async tokenResponse(grant: Grant, scopes: string[], withRefreshToken: boolean): Promise<Record<string, unknown>> {
    const accessToken = opaqueToken('ya29.a0', 96);
    const now = this.context.now();
    this.accessTokens.set(accessToken, { token: accessToken, grant, scopes, expiresAt: now + ACCESS_TOKEN_LIFETIME_SECONDS * 1000 });
    const body: Record<string, unknown> = {
      access_token: accessToken,
      expires_in: ACCESS_TOKEN_LIFETIME_SECONDS,
      scope: scopes.join(' '),
      token_type: 'Bearer',
    };
    if (withRefreshToken) {
      const refreshToken = opaqueToken('1//0g', 72);
      grant.refreshTokens.add(refreshToken);
      this.refreshTokens.set(refreshToken, grant);
      body['refresh_token'] = refreshToken;
    }
    if (scopes.includes(SCOPES.openid)) body['id_token'] = await this.idToken(grant, scopes, accessToken, this.context.wallClock());
    return body;
  }

  private async idToken(grant: Grant, scopes: string[], accessToken: string, now: number): Promise<string> {
    const account = this.context.ensureMailbox(grant.email);
    const iat = Math.floor(now / 1000);
    const digest = createHash('sha256').update(accessToken).digest();
    const claims: Record<string, unknown> = {
      iss: ISSUER,
      azp: grant.clientId,
      aud: grant.clientId,
      sub: account.sub,
      at_hash: digest.subarray(0, 16).toString('base64url'),
      iat,
      exp: iat + 3600,
    };
    if (scopes.includes(SCOPES.email)) {
      claims['email'] = grant.email;
      claims['email_verified'] = true;
    }
    if (scopes.includes(SCOPES.profile)) {
      claims['name'] = account.name;
      const [given, ...family] = account.name.split(' ');
      claims['given_name'] = given ?? account.name;
      if (family.length > 0) claims['family_name'] = family.join(' ');
    }
    if (grant.nonce !== undefined) claims['nonce'] = grant.nonce;
    return signJwt(this.context.key(), claims);
  }

  // ---- revoke / certs / userinfo / tokeninfo ----

  private revoke(request: EmulatorRequest): EmulatorResponse {
    const token = request.url.searchParams.get('token') ?? request.form().get('token') ?? '';
    const grant = this.accessTokens.get(token)?.grant ?? this.refreshTokens.get(token);
    if (!grant || grant.revoked) return oauthError(400, 'invalid_token', 'Token expired or revoked');
    this.revokeGrant(grant);
    return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: {} };
  }

  private pemCerts(): EmulatorResponse {
    const key = this.context.key();
    return { status: 200, headers: { 'cache-control': 'public, max-age=3600, must-revalidate, no-transform' }, body: { [key.kid]: key.certificate } };
  }

  private jwkCerts(): EmulatorResponse {
    return { status: 200, headers: { 'cache-control': 'public, max-age=3600, must-revalidate, no-transform' }, body: { keys: [this.context.key().jwk] } };
  }

  private userinfo(request: EmulatorRequest, version: 'v2' | 'v3'): EmulatorResponse {
    const check = this.check(request.headers.authorization);
    if (!check.ok) {
      return {
        status: 401,
        headers: { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
        body: { error: 'invalid_request', error_description: 'Invalid Credentials' },
      };
    }
    const { grant, scopes } = check.record;
    const account = this.context.ensureMailbox(grant.email);
    const body: Record<string, unknown> = version === 'v3' ? { sub: account.sub } : { id: account.sub };
    if (scopes.includes(SCOPES.email)) {
      body['email'] = grant.email;
      body[version === 'v3' ? 'email_verified' : 'verified_email'] = true;
    }
    if (scopes.includes(SCOPES.profile)) body['name'] = account.name;
    return { status: 200, body };
  }

  private tokeninfo(request: EmulatorRequest): EmulatorResponse {
    const token = request.url.searchParams.get('access_token') ?? (request.method === 'POST' ? request.form().get('access_token') : null);
    const check = this.check(token ? `Bearer ${token}` : request.headers.authorization);
    if (!check.ok) return oauthError(400, 'invalid_token', 'Invalid Value');
    const { grant, scopes, expiresAt } = check.record;
    const body: Record<string, unknown> = {
      azp: grant.clientId,
      aud: grant.clientId,
      sub: this.context.ensureMailbox(grant.email).sub,
      scope: scopes.join(' '),
      exp: String(Math.floor(expiresAt / 1000)),
      expires_in: String(Math.max(0, Math.floor((expiresAt - this.context.now()) / 1000))),
      access_type: grant.refreshTokens.size > 0 ? 'offline' : 'online',
    };
    if (scopes.includes(SCOPES.email)) {
      body['email'] = grant.email;
      body['email_verified'] = 'true';
    }
    return { status: 200, body };
  }
}
