// The Microsoft identity platform stand-in (login.microsoftonline.com, v2.0
// endpoints): OIDC discovery, the authorize + consent page, the token endpoint
// (authorization_code with PKCE, refresh_token) and JWKS. Shapes follow
// learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow; errors
// carry AADSTS codes the way Entra ID sends them.
import { createHash, randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose';
import { type EmulatorRequest, type EmulatorResponse, Router } from '../common/server.js';
import { AppPermissions } from './app-permissions.js';
import { renderConsentPage, renderErrorPage, renderFormPost } from './consent-page.js';
import { newGuid, newOpaqueToken } from './ids.js';
import type { Mailbox, MailStore } from './mail-store.js';

/** The application id of Microsoft Graph: the `aud` of Graph access tokens. */
export const GRAPH_RESOURCE_APP_ID = '00000003-0000-0000-c000-000000000000';

/** OIDC scopes are answered by the identity platform itself, not by a resource. */
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

/** Authorization codes are short-lived (about 10 minutes) and single use. */
const CODE_LIFETIME_MS = 10 * 60 * 1000;

/** Refresh tokens for web apps live 90 days (sliding). */
const REFRESH_LIFETIME_MS = 90 * 24 * 60 * 60 * 1000;

interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  codeChallenge?: string;
  codeChallengeMethod?: string;
  nonce?: string;
  mailbox: string;
  expiresAt: number;
  redeemed: boolean;
}

interface RefreshGrant {
  clientId: string;
  mailbox: string;
  scopes: string[];
  generation: number;
  expiresAt: number;
}

interface AccessGrant {
  /** Empty for an app-only (client credentials) token. */
  mailbox: string;
  generation: number;
  clientId: string;
  scopes: string[];
  /** App-only tokens: the application roles (`roles` claim). */
  roles?: string[];
}

/** The Graph resource's `.default` scope: every application permission granted to the app. */
const GRAPH_DEFAULT_SCOPE = 'https://graph.microsoft.com/.default';

export type AccessCheck =
  | { ok: true; mailbox: Mailbox; clientId: string; scopes: string[] }
  | { ok: true; app: true; clientId: string; roles: string[] }
  | { ok: false; message: string };

export interface IdentityOptions {
  store: MailStore;
  now: () => number;
  clientId: string;
  clientSecret: string;
  tenantId: string;
  accessTokenLifetimeSeconds: number;
}

export class IdentityService {
  readonly router = new Router();
  private baseUrl = '';
  private privateKey!: CryptoKey;
  private publicKey!: CryptoKey;
  private publicJwk!: JWK;
  private readonly keyId = newOpaqueToken(12);
  private readonly codes = new Map<string, AuthorizationCode>();
  private readonly refreshGrants = new Map<string, RefreshGrant>();
  private readonly accessGrants = new Map<string, AccessGrant>();
  private readonly generations = new Map<string, number>();
  /** What each user consented to for the app: resource scopes (short names, lower case), unioned over sign-ins. */
  private readonly consents = new Map<string, Set<string>>();
  /** Application permissions: admin consent, roles, the access policy, groups and shared mailboxes. */
  readonly apps: AppPermissions;

  constructor(private readonly options: IdentityOptions) {
    this.apps = new AppPermissions(options.store);
    this.routes();
  }

  async init(): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    this.privateKey = privateKey;
    this.publicKey = publicKey;
    this.publicJwk = { ...(await exportJWK(publicKey)), kid: this.keyId, use: 'sig', kty: 'RSA', alg: 'RS256' };
  }

  /** Set once the HTTPS listener knows its port. */
  setBaseUrl(url: string): void {
    this.baseUrl = url;
  }

  revoke(mailboxEmail: string): void {
    const key = mailboxEmail.toLowerCase();
    this.generations.set(key, this.generation(key) + 1);
  }

  private generation(mailboxKey: string): number {
    return this.generations.get(mailboxKey) ?? 0;
  }

  /** Validates a Graph bearer token: signature, lifetime, and that it was not revoked. */
  async checkAccessToken(authorization: string | undefined): Promise<AccessCheck> {
    if (!authorization || !/^bearer\s+\S/i.test(authorization)) return { ok: false, message: 'Access token is empty.' };
    const token = authorization.replace(/^bearer\s+/i, '').trim();
    let payload: Record<string, unknown>;
    try {
      const verified = await jwtVerify(token, this.publicKey, {
        audience: GRAPH_RESOURCE_APP_ID,
        issuer: `https://sts.windows.net/${this.options.tenantId}/`,
        currentDate: new Date(this.options.now()),
      });
      payload = verified.payload;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ERR_JWT_EXPIRED') return { ok: false, message: 'Lifetime validation failed, the token is expired.' };
      return { ok: false, message: 'Invalid JWT token. The token is not valid.' };
    }
    const grant = this.accessGrants.get(String(payload.uti ?? ''));
    if (!grant) return { ok: false, message: 'Invalid JWT token. The token is not valid.' };
    if (grant.roles) {
      if (grant.generation !== this.apps.generation) return { ok: false, message: 'Access token has been revoked.' };
      return { ok: true, app: true, clientId: grant.clientId, roles: grant.roles };
    }
    if (grant.generation !== this.generation(grant.mailbox.toLowerCase())) {
      return { ok: false, message: 'Access token has been revoked.' };
    }
    const mailbox = this.options.store.mailbox(grant.mailbox);
    if (!mailbox) return { ok: false, message: 'Invalid JWT token. The user does not exist.' };
    return { ok: true, mailbox, clientId: grant.clientId, scopes: grant.scopes };
  }

  private authority(tenant: string): string {
    return `${this.baseUrl}/${tenant}`;
  }

  private issuerFor(tenant: string): string {
    // The multi-tenant endpoints advertise a templated issuer, like Entra ID does.
    return tenant === this.options.tenantId ? `${this.baseUrl}/${tenant}/v2.0` : `${this.baseUrl}/{tenantid}/v2.0`;
  }

  private knownTenant(tenant: string): boolean {
    return ['common', 'organizations', this.options.tenantId].includes(tenant.toLowerCase());
  }

  private routes(): void {
    const router = this.router;
    router.add('GET', '/:tenant/v2.0/.well-known/openid-configuration', (request) => this.openidConfiguration(request));
    router.add('GET', '/:tenant/oauth2/v2.0/authorize', (request) => this.authorizePage(request));
    router.add('POST', '/:tenant/oauth2/v2.0/authorize', (request) => this.consent(request));
    router.add('POST', '/:tenant/oauth2/v2.0/token', (request) => this.token(request));
    router.add('GET', '/:tenant/v2.0/adminconsent', (request) => this.adminConsentPage(request));
    router.add('POST', '/:tenant/v2.0/adminconsent', (request) => this.adminConsent(request));
    router.add('GET', '/:tenant/oauth2/v2.0/logout', (request) => this.logout(request));
    router.add('GET', '/:tenant/discovery/v2.0/keys', () => this.keys());
    router.add('GET', '/discovery/v2.0/keys', () => this.keys());
    router.add('GET', '/:tenant/discovery/instance', (request) => this.instanceDiscovery(request));
  }

  private keys(): EmulatorResponse {
    return { status: 200, body: { keys: [{ ...this.publicJwk, x5t: this.keyId }] } };
  }

  private openidConfiguration(request: EmulatorRequest): EmulatorResponse {
    const tenant = request.params.tenant ?? 'common';
    if (!this.knownTenant(tenant)) return this.tokenError(request, 400, 'invalid_tenant', 90002, `Tenant '${tenant}' not found.`);
    const authority = this.authority(tenant);
    return {
      status: 200,
      headers: { 'cache-control': 'max-age=86400, private', 'access-control-allow-origin': '*' },
      body: {
        token_endpoint: `${authority}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        jwks_uri: `${authority}/discovery/v2.0/keys`,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        issuer: this.issuerFor(tenant),
        request_uri_parameter_supported: false,
        userinfo_endpoint: `${this.baseUrl}/oidc/userinfo`,
        authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${authority}/oauth2/v2.0/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
        claims_supported: [
          'sub',
          'iss',
          'cloud_instance_name',
          'cloud_instance_host_name',
          'cloud_graph_host_name',
          'msgraph_host',
          'aud',
          'exp',
          'iat',
          'auth_time',
          'acr',
          'nonce',
          'preferred_username',
          'name',
          'tid',
          'ver',
          'at_hash',
          'c_hash',
          'email',
        ],
        kerberos_endpoint: `${authority}/kerberos`,
        tenant_region_scope: null,
        cloud_instance_name: 'microsoftonline.com',
        cloud_graph_host_name: 'graph.windows.net',
        msgraph_host: 'graph.microsoft.com',
        rbac_url: 'https://pas.windows.net',
      },
    };
  }

  private instanceDiscovery(request: EmulatorRequest): EmulatorResponse {
    const host = new URL(this.baseUrl).host;
    const tenant = request.params.tenant ?? 'common';
    return {
      status: 200,
      body: {
        tenant_discovery_endpoint: `${this.authority(tenant)}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      },
    };
  }

  private logout(request: EmulatorRequest): EmulatorResponse {
    const target = request.url.searchParams.get('post_logout_redirect_uri');
    if (target) return { status: 302, headers: { location: target }, body: null };
    return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: renderErrorPage('Signed out', 'You signed out of your account.') };
  }

  private htmlError(status: number, code: number, message: string): EmulatorResponse {
    return {
      status,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: renderErrorPage('Sorry, but we’re having trouble signing you in.', `AADSTS${code}: ${message}`),
    };
  }

  /** Reads the authorize parameters from the query (GET) or the submitted form (POST). */
  private authorizeParameters(request: EmulatorRequest): URLSearchParams {
    return request.method === 'POST' ? request.form() : request.url.searchParams;
  }

  private validateAuthorize(parameters: URLSearchParams, tenant: string): { redirectUri: string; scopes: string[]; responseMode: string } | EmulatorResponse {
    if (!this.knownTenant(tenant)) return this.htmlError(400, 90002, `Tenant '${tenant}' not found.`);
    const clientId = parameters.get('client_id');
    if (!clientId) return this.htmlError(400, 900144, "The request body must contain the following parameter: 'client_id'.");
    if (clientId !== this.options.clientId) {
      return this.htmlError(400, 700016, `Application with identifier '${clientId}' was not found in the directory '${this.options.tenantId}'.`);
    }
    const redirectUri = parameters.get('redirect_uri');
    if (!redirectUri || !URL.canParse(redirectUri)) {
      return this.htmlError(400, 50011, 'The redirect URI specified in the request does not match the redirect URIs configured for the application.');
    }
    const responseMode = parameters.get('response_mode') ?? 'query';
    const scopes = (parameters.get('scope') ?? '').split(/\s+/).filter((scope) => scope.length > 0);
    if (!(parameters.get('response_type') ?? '').split(' ').includes('code')) {
      return this.redirectError(
        redirectUri,
        responseMode,
        parameters.get('state'),
        'unsupported_response_type',
        'AADSTS700054: response_type must include code for this flow.',
      );
    }
    if (scopes.length === 0) {
      return this.redirectError(
        redirectUri,
        responseMode,
        parameters.get('state'),
        'invalid_request',
        "AADSTS900144: The request body must contain the following parameter: 'scope'.",
      );
    }
    const method = parameters.get('code_challenge_method');
    if (parameters.get('code_challenge') && method && method !== 'S256' && method !== 'plain') {
      return this.redirectError(redirectUri, responseMode, parameters.get('state'), 'invalid_request', 'AADSTS50149: Invalid Code_Challenge_method parameter.');
    }
    return { redirectUri, scopes, responseMode };
  }

  private authorizePage(request: EmulatorRequest): EmulatorResponse {
    const parameters = this.authorizeParameters(request);
    const tenant = request.params.tenant ?? 'common';
    const checked = this.validateAuthorize(parameters, tenant);
    if ('status' in checked) return checked;
    return this.consentPage(request, parameters, checked.scopes, parameters.get('login_hint') ?? '');
  }

  private consentPage(request: EmulatorRequest, parameters: URLSearchParams, scopes: string[], email: string, error?: string): EmulatorResponse {
    const hiddenFields: Record<string, string> = {};
    for (const [name, value] of parameters) {
      if (name === 'email' || name === 'consent') continue;
      hiddenFields[name] = value;
    }
    return {
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-frame-options': 'DENY' },
      body: renderConsentPage({
        action: request.path,
        clientId: this.options.clientId,
        scopes,
        hiddenFields,
        email,
        knownAccounts: this.options.store.allMailboxes().map((mailbox) => mailbox.email),
        ...(error === undefined ? {} : { error }),
      }),
    };
  }

  private consent(request: EmulatorRequest): EmulatorResponse {
    const parameters = this.authorizeParameters(request);
    const tenant = request.params.tenant ?? 'common';
    const checked = this.validateAuthorize(parameters, tenant);
    if ('status' in checked) return checked;
    const state = parameters.get('state');
    if (parameters.get('consent') !== 'accept') {
      return this.redirectError(
        checked.redirectUri,
        checked.responseMode,
        state,
        'access_denied',
        'AADSTS65004: User declined to consent to access the app.',
        'cancel',
      );
    }
    const email = (parameters.get('email') ?? '').trim();
    const mailbox = email ? this.options.store.mailbox(email) : undefined;
    if (!mailbox) {
      return this.consentPage(
        request,
        parameters,
        checked.scopes,
        email,
        'This username may be incorrect. Make sure you typed it correctly. Otherwise, contact your admin.',
      );
    }
    if (this.apps.isShared(mailbox)) {
      return this.consentPage(
        request,
        parameters,
        checked.scopes,
        email,
        'AADSTS50057: The user account is disabled. (A shared mailbox has no sign-in of its own.)',
      );
    }
    this.recordConsent(mailbox.email, checked.scopes);
    const code = `1.A${newOpaqueToken(48)}`;
    const challenge = parameters.get('code_challenge');
    const nonce = parameters.get('nonce');
    this.codes.set(code, {
      clientId: this.options.clientId,
      redirectUri: checked.redirectUri,
      scopes: checked.scopes,
      ...(challenge ? { codeChallenge: challenge, codeChallengeMethod: parameters.get('code_challenge_method') ?? 'plain' } : {}),
      ...(nonce ? { nonce } : {}),
      mailbox: mailbox.email,
      expiresAt: this.options.now() + CODE_LIFETIME_MS,
      redeemed: false,
    });
    const fields: Record<string, string> = { code };
    if (state !== null) fields.state = state;
    fields.session_state = newGuid();
    return this.redirect(checked.redirectUri, checked.responseMode, fields);
  }

  private redirectError(
    redirectUri: string,
    responseMode: string,
    state: string | null,
    error: string,
    description: string,
    subcode?: string,
  ): EmulatorResponse {
    const fields: Record<string, string> = { error };
    if (subcode) fields.error_subcode = subcode;
    fields.error_description = description;
    if (state !== null) fields.state = state;
    return this.redirect(redirectUri, responseMode, fields);
  }

  private redirect(redirectUri: string, responseMode: string, fields: Record<string, string>): EmulatorResponse {
    if (responseMode === 'form_post') {
      return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: renderFormPost(redirectUri, fields) };
    }
    const target = new URL(redirectUri);
    const encoded = new URLSearchParams(fields).toString();
    if (responseMode === 'fragment') target.hash = encoded;
    else for (const [name, value] of Object.entries(fields)) target.searchParams.set(name, value);
    return { status: 302, headers: { location: target.toString() }, body: null };
  }

  /** Entra ID's token error body: error, AADSTS description, error_codes, trace/correlation ids. */
  private tokenError(request: EmulatorRequest, status: number, error: string, code: number, description: string, suberror?: string): EmulatorResponse {
    const traceId = newGuid();
    const correlationId = headerValue(request, 'client-request-id') ?? newGuid();
    const timestamp = new Date(this.options.now())
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, 'Z');
    return {
      status,
      headers: { 'cache-control': 'no-store, no-cache', 'x-ms-request-id': traceId, 'client-request-id': correlationId },
      body: {
        error,
        error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
        error_codes: [code],
        timestamp,
        trace_id: traceId,
        correlation_id: correlationId,
        error_uri: `${this.baseUrl}/error?code=${code}`,
        ...(suberror ? { suberror } : {}),
      },
    };
  }

  private async token(request: EmulatorRequest): Promise<EmulatorResponse> {
    const tenant = request.params.tenant ?? 'common';
    if (!this.knownTenant(tenant)) return this.tokenError(request, 400, 'invalid_request', 90002, `Tenant '${tenant}' not found.`);
    const form = request.form();
    let clientId = form.get('client_id');
    let clientSecret = form.get('client_secret');
    const basic = /^basic\s+(.+)$/i.exec(headerValue(request, 'authorization') ?? '');
    if (basic) {
      const [id, secret] = Buffer.from(basic[1] ?? '', 'base64')
        .toString('utf8')
        .split(':');
      clientId ??= decodeURIComponent(id ?? '');
      clientSecret ??= decodeURIComponent(secret ?? '');
    }
    if (!clientId) {
      return this.tokenError(request, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
    }
    if (clientId !== this.options.clientId) {
      return this.tokenError(
        request,
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${this.options.tenantId}'.`,
      );
    }
    if (!clientSecret) {
      return this.tokenError(
        request,
        401,
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    }
    if (clientSecret !== this.options.clientSecret) {
      return this.tokenError(
        request,
        401,
        'invalid_client',
        7000215,
        'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app.',
      );
    }
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') return this.redeemCode(request, form);
    if (grantType === 'refresh_token') return this.redeemRefreshToken(request, form);
    if (grantType === 'client_credentials') return this.clientCredentials(request, form, tenant);
    return this.tokenError(request, 400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType ?? ''}'.`);
  }

  private async redeemCode(request: EmulatorRequest, form: URLSearchParams): Promise<EmulatorResponse> {
    const codeValue = form.get('code');
    if (!codeValue) return this.tokenError(request, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'code'.");
    const code = this.codes.get(codeValue);
    if (!code) return this.tokenError(request, 400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.');
    if (code.redeemed) {
      return this.tokenError(
        request,
        400,
        'invalid_grant',
        54005,
        'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
      );
    }
    if (code.expiresAt <= this.options.now()) {
      return this.tokenError(
        request,
        400,
        'invalid_grant',
        70008,
        'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
      );
    }
    if (form.get('redirect_uri') !== code.redirectUri) {
      return this.tokenError(
        request,
        400,
        'invalid_grant',
        50148,
        "The provided value for the 'redirect_uri' is not valid. The value must exactly match the redirect URI used to obtain the authorization code.",
      );
    }
    if (code.codeChallenge !== undefined) {
      const verifier = form.get('code_verifier');
      if (!verifier) {
        return this.tokenError(
          request,
          400,
          'invalid_grant',
          501481,
          'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
        );
      }
      const computed = code.codeChallengeMethod === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
      if (computed !== code.codeChallenge) {
        return this.tokenError(
          request,
          400,
          'invalid_grant',
          501481,
          'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
        );
      }
    }
    code.redeemed = true;
    const mailbox = this.options.store.requireMailbox(code.mailbox);
    return this.issue(request, form, mailbox, code.scopes, code.nonce);
  }

  private async redeemRefreshToken(request: EmulatorRequest, form: URLSearchParams): Promise<EmulatorResponse> {
    const value = form.get('refresh_token');
    if (!value) return this.tokenError(request, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'refresh_token'.");
    const grant = this.refreshGrants.get(value);
    if (!grant || grant.clientId !== form.get('client_id')) {
      return this.tokenError(request, 400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.');
    }
    if (grant.generation !== this.generation(grant.mailbox.toLowerCase())) {
      return this.tokenError(
        request,
        400,
        'invalid_grant',
        50173,
        "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '" +
          new Date(grant.expiresAt - REFRESH_LIFETIME_MS).toISOString() +
          "' and the TokensValidFrom date (before which tokens are not valid) for this user is '" +
          new Date(this.options.now()).toISOString() +
          "'.",
        'bad_token',
      );
    }
    if (grant.expiresAt <= this.options.now()) {
      return this.tokenError(request, 400, 'invalid_grant', 700082, 'The refresh token has expired due to inactivity.', 'bad_token');
    }
    const mailbox = this.options.store.mailbox(grant.mailbox);
    if (!mailbox) return this.tokenError(request, 400, 'invalid_grant', 50034, 'The user account does not exist in the directory.');
    const requested = (form.get('scope') ?? '').split(/\s+/).filter((scope) => scope.length > 0);
    // A refresh token cannot widen the grant: a scope the user never consented to needs an
    // interactive sign-in (incremental consent), which Entra ID signals with AADSTS65001.
    const unconsented = this.unconsented(mailbox.email, requested);
    if (unconsented.length > 0) {
      return this.tokenError(
        request,
        400,
        'invalid_grant',
        65001,
        `The user or administrator has not consented to use the application with ID '${this.options.clientId}' named 'threadlink emulator app'. Send an interactive authorization request for this user and resource. Missing: ${unconsented.join(' ')}.`,
        'consent_required',
      );
    }
    return this.issue(request, form, mailbox, requested.length > 0 ? requested : grant.scopes);
  }

  /**
   * GET /{tenant}/v2.0/adminconsent: an admin approves the app's application permissions for the
   * whole tenant. `scope` must name the resource's `.default` (or the configured permissions).
   */
  private adminConsentPage(request: EmulatorRequest): EmulatorResponse {
    const parameters = request.url.searchParams;
    const checked = this.validateAdminConsent(parameters, request.params.tenant ?? 'common');
    if ('status' in checked) return checked;
    return this.consentPage(request, parameters, this.apps.configuredRoles, parameters.get('login_hint') ?? '');
  }

  private validateAdminConsent(parameters: URLSearchParams, tenant: string): { redirectUri: string } | EmulatorResponse {
    if (!this.knownTenant(tenant)) return this.htmlError(400, 90002, `Tenant '${tenant}' not found.`);
    const clientId = parameters.get('client_id');
    if (clientId !== this.options.clientId) {
      return this.htmlError(400, 700016, `Application with identifier '${clientId ?? ''}' was not found in the directory '${this.options.tenantId}'.`);
    }
    const redirectUri = parameters.get('redirect_uri');
    if (!redirectUri || !URL.canParse(redirectUri)) {
      return this.htmlError(400, 50011, 'The redirect URI specified in the request does not match the redirect URIs configured for the application.');
    }
    if (!(parameters.get('scope') ?? '').split(/\s+/).includes(GRAPH_DEFAULT_SCOPE)) {
      return this.redirectError(
        redirectUri,
        'query',
        parameters.get('state'),
        'invalid_request',
        "AADSTS70011: The provided value for the input parameter 'scope' is not valid.",
      );
    }
    return { redirectUri };
  }

  /** POST of the admin consent form: an admin of the tenant accepts (or declines) for everyone. */
  private adminConsent(request: EmulatorRequest): EmulatorResponse {
    const parameters = request.form();
    const checked = this.validateAdminConsent(parameters, request.params.tenant ?? 'common');
    if ('status' in checked) return checked;
    const state = parameters.get('state');
    if (parameters.get('consent') !== 'accept') {
      return this.redirectError(checked.redirectUri, 'query', state, 'access_denied', 'AADSTS65004: User declined to consent to access the app.');
    }
    const email = (parameters.get('email') ?? '').trim();
    if (!this.options.store.mailbox(email)) {
      return this.consentPage(
        request,
        parameters,
        this.apps.configuredRoles,
        email,
        'This username may be incorrect. Make sure you typed it correctly. Otherwise, contact your admin.',
      );
    }
    if (!this.apps.isAdmin(email)) {
      return this.consentPage(
        request,
        parameters,
        this.apps.configuredRoles,
        email,
        'AADSTS90094: An administrator of the organization must grant these permissions. Sign in with an admin account.',
      );
    }
    this.apps.grant();
    const fields: Record<string, string> = { tenant: this.options.tenantId };
    if (state !== null) fields.state = state;
    fields.admin_consent = 'True';
    fields.scope = this.apps.configuredRoles.map((role) => `https://graph.microsoft.com/${role}`).join(' ');
    return this.redirect(checked.redirectUri, 'query', fields);
  }

  /** grant_type=client_credentials: an app-only token whose `roles` are what the admin granted in the tenant. */
  private async clientCredentials(request: EmulatorRequest, form: URLSearchParams, tenant: string): Promise<EmulatorResponse> {
    if (tenant.toLowerCase() !== this.options.tenantId) {
      return this.tokenError(
        request,
        400,
        'invalid_request',
        90002,
        `Tenant '${tenant}' not found. Use a tenant-specific endpoint for the client credentials flow.`,
      );
    }
    if (form.get('scope') !== GRAPH_DEFAULT_SCOPE) {
      return this.tokenError(
        request,
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope ${form.get('scope') ?? ''} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    const roles = this.apps.granted;
    if (roles === null) {
      return this.tokenError(
        request,
        401,
        'invalid_client',
        7000229,
        `The client application ${this.options.clientId} is missing service principal in the tenant ${this.options.tenantId}.`,
      );
    }
    const nowSeconds = Math.floor(this.options.now() / 1000);
    const lifetime = this.options.accessTokenLifetimeSeconds;
    const uti = newOpaqueToken(16);
    this.accessGrants.set(uti, { mailbox: '', generation: this.apps.generation, clientId: this.options.clientId, scopes: [], roles: [...roles] });
    const accessToken = await this.signAccessToken(
      {
        idtyp: 'app',
        oid: this.apps.servicePrincipalId,
        roles: [...roles],
        sub: this.apps.servicePrincipalId,
        uti,
      },
      nowSeconds,
      lifetime,
    );
    return {
      status: 200,
      headers: { 'cache-control': 'no-store, no-cache', pragma: 'no-cache', 'x-ms-request-id': newGuid() },
      body: { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken },
    };
  }

  /** A Graph access token (v1 format, as Entra issues for Graph) with the claims every token shares. */
  private signAccessToken(claims: Record<string, unknown>, nowSeconds: number, lifetime: number): Promise<string> {
    return new SignJWT({
      aud: GRAPH_RESOURCE_APP_ID,
      iss: `https://sts.windows.net/${this.options.tenantId}/`,
      app_displayname: 'threadlink emulator app',
      appid: this.options.clientId,
      tid: this.options.tenantId,
      ver: '1.0',
      ...claims,
    })
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', kid: this.keyId })
      .setIssuedAt(nowSeconds)
      .setNotBefore(nowSeconds)
      .setExpirationTime(nowSeconds + lifetime)
      .sign(this.privateKey);
  }

  private consentKey(mailboxEmail: string): string {
    return `${mailboxEmail.toLowerCase()}\n${this.options.clientId}`;
  }

  private recordConsent(mailboxEmail: string, scopes: string[]): void {
    const key = this.consentKey(mailboxEmail);
    const consented = this.consents.get(key) ?? new Set<string>();
    for (const scope of resourceScopeNames(scopes)) consented.add(scope);
    this.consents.set(key, consented);
  }

  private unconsented(mailboxEmail: string, scopes: string[]): string[] {
    const consented = this.consents.get(this.consentKey(mailboxEmail)) ?? new Set<string>();
    return resourceScopeNames(scopes).filter((scope) => !consented.has(scope));
  }

  private async issue(
    _request: EmulatorRequest,
    form: URLSearchParams,
    mailbox: Mailbox,
    requestedScopes: string[],
    nonce?: string,
  ): Promise<EmulatorResponse> {
    const now = this.options.now();
    const nowSeconds = Math.floor(now / 1000);
    const lifetime = this.options.accessTokenLifetimeSeconds;
    const lowered = requestedScopes.map((scope) => scope.toLowerCase());
    const resourceScopes = unique(requestedScopes.filter((scope) => !OIDC_SCOPES.has(scope.toLowerCase())));
    const shortScopes = resourceScopes.map((scope) => scope.replace(/^https:\/\/graph\.microsoft\.com\//i, ''));
    const mailboxKey = mailbox.email.toLowerCase();
    const generation = this.generation(mailboxKey);
    const uti = newOpaqueToken(16);
    this.accessGrants.set(uti, { mailbox: mailbox.email, generation, clientId: this.options.clientId, scopes: shortScopes });
    const accessToken = await this.signAccessToken(
      {
        idtyp: 'user',
        name: mailbox.name,
        oid: mailbox.userId,
        scp: shortScopes.join(' '),
        sub: pairwiseSubject(mailbox.userId, GRAPH_RESOURCE_APP_ID),
        unique_name: mailbox.email,
        upn: mailbox.email,
        uti,
      },
      nowSeconds,
      lifetime,
    );

    const responseScopes = [...resourceScopes];
    for (const oidc of ['openid', 'profile', 'email']) if (lowered.includes(oidc)) responseScopes.push(oidc);
    const body: Record<string, unknown> = {
      token_type: 'Bearer',
      scope: responseScopes.join(' '),
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: accessToken,
    };
    // Entra ID only returns a refresh token when offline_access was requested.
    if (lowered.includes('offline_access')) {
      const refreshToken = `1.A${newOpaqueToken(96)}`;
      this.refreshGrants.set(refreshToken, {
        clientId: this.options.clientId,
        mailbox: mailbox.email,
        scopes: requestedScopes,
        generation,
        expiresAt: now + REFRESH_LIFETIME_MS,
      });
      body.refresh_token = refreshToken;
    }
    if (lowered.includes('openid')) {
      body.id_token = await new SignJWT({
        aud: this.options.clientId,
        iss: `${this.baseUrl}/${this.options.tenantId}/v2.0`,
        name: mailbox.name,
        oid: mailbox.userId,
        preferred_username: mailbox.email,
        email: mailbox.email,
        rh: `0.${newOpaqueToken(24)}.`,
        sub: pairwiseSubject(mailbox.userId, this.options.clientId),
        tid: this.options.tenantId,
        uti: newOpaqueToken(16),
        ver: '2.0',
        ...(nonce ? { nonce } : {}),
      })
        .setProtectedHeader({ typ: 'JWT', alg: 'RS256', kid: this.keyId })
        .setIssuedAt(nowSeconds)
        .setNotBefore(nowSeconds)
        .setExpirationTime(nowSeconds + 3600)
        .sign(this.privateKey);
    }
    // client_info lets MSAL build the account's home id (uid.utid).
    if (form.get('client_info') === '1') {
      body.client_info = Buffer.from(JSON.stringify({ uid: mailbox.userId, utid: this.options.tenantId })).toString('base64url');
    }
    return {
      status: 200,
      headers: { 'cache-control': 'no-store, no-cache', pragma: 'no-cache', 'x-ms-request-id': newGuid() },
      body,
    };
  }
}

function pairwiseSubject(userId: string, audience: string): string {
  return createHash('sha256').update(`${userId}:${audience}`).digest('base64url').slice(0, 43);
}

/** Graph resource scopes by short name in lower case (`https://graph.microsoft.com/Mail.Read` → `mail.read`); OIDC scopes dropped. */
function resourceScopeNames(scopes: string[]): string[] {
  return unique(
    scopes.filter((scope) => !OIDC_SCOPES.has(scope.toLowerCase())).map((scope) => scope.replace(/^https:\/\/graph\.microsoft\.com\//i, '').toLowerCase()),
  );
}

function unique(values: string[]): string[] {
  const seen = new Set<string>();
  return values.filter((value) => {
    const key = value.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function headerValue(request: EmulatorRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A random client secret in the shape Entra ID shows once in the portal. */
export function newClientSecret(): string {
  return `${randomBytes(3).toString('hex').slice(0, 3)}8Q~${randomBytes(28).toString('base64url').slice(0, 37)}`;
}
