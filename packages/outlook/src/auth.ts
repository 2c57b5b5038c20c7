// Microsoft identity platform: authorization code + PKCE through msal-node's
// ConfidentialClientApplication, the MSAL token cache kept (sealed by core) inside
// ProviderTokens.cache, and silent refresh from that cache on each call.
//
// Scopes, least privilege first (https://learn.microsoft.com/graph/permissions-reference):
// - Mail.ReadBasic  delta queries, message subscriptions and every metadata field we keep;
//                   it excludes body, bodyPreview, uniqueBody and attachments by design.
// - Mail.Read       full mode only: the body and attachment names on demand (fetchBody) and
//                   attachment names during sync. Never requested in metadata mode.
// - Mail.ReadWrite  full mode with `replies: 'draft'` (its default) only: replies as createReply
//                   draft + send, which yields the sent message's id at once (send.ts). Never
//                   requested in metadata mode or with `replies: 'direct'`, where replies go
//                   through /reply with Mail.Send alone and the id comes with delta.
// - Mail.Send       POST /me/messages/{id}/send and /reply.
// - offline_access  a refresh token, so sync keeps working without the user present.
// - User.Read       GET /me: the mailbox address and display name at connect.
import { randomUUID } from 'node:crypto';
import { request as httpsRequest, Agent } from 'node:https';
import {
  ConfidentialClientApplication,
  LogLevel,
  type AuthenticationResult,
  type Configuration,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse,
} from '@azure/msal-node';
import {
  systemClock,
  ThreadlinkError,
  type AuthorizeUrlInput,
  type ExchangeCodeInput,
  type ExchangedAccount,
  type ProviderSession,
  type ProviderTokens,
} from '@threadlink/core/provider';
import { silentLogger } from '@threadlink/core';
import { createGraphSession, type OutlookContext } from './client.js';
import { appTokenSource } from './app-auth.js';
import { msalError } from './errors.js';
import type { ResolvedOutlookOptions } from './options.js';
import { deleteSubscriptions, fetchProfile } from './subscribe.js';

const METADATA_SCOPES = ['Mail.ReadBasic', 'Mail.Send', 'offline_access', 'User.Read'];
const FULL_SCOPES = [...METADATA_SCOPES, 'Mail.Read'];

/**
 * Scopes added after connections already existed. A refresh asks for one only when the connection
 * was granted it: Entra ID refuses a refresh that widens the consent (AADSTS65001,
 * consent_required), which would send every older connection to needs_reauth. Those connections
 * keep working as before (replies through /reply) until the user reconnects.
 */
const LATER_SCOPES: readonly string[] = ['Mail.ReadWrite'];

/** Public and national-cloud login hosts, which MSAL knows (metadata hard-coded, no discovery call). */
const MICROSOFT_LOGIN_HOSTS = new Set([
  'login.microsoftonline.com',
  'login.microsoft.com',
  'login.windows.net',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
]);

/** Access tokens are used only while they have this much life left (MSAL's own renewal offset is 5 min). */
const TOKEN_SAFETY_MS = 5 * 60 * 1000;

/** The delegated scopes asked for: per mode, plus Mail.ReadWrite when full-mode replies go through drafts. */
export function scopesFor(mode: ResolvedOutlookOptions['mode'], replies: ResolvedOutlookOptions['replies'] = mode === 'full' ? 'draft' : 'direct'): string[] {
  if (mode === 'metadata') return [...METADATA_SCOPES];
  return replies === 'draft' ? [...FULL_SCOPES, 'Mail.ReadWrite'] : [...FULL_SCOPES];
}

/**
 * Whether a granted scope list holds `scope`; Entra ID may name Graph scopes in full
 * (`https://graph.microsoft.com/Mail.Read`). An org mailbox's app token lists application roles,
 * and `Mail.Read.All` allows what `Mail.Read` allows (in every mailbox the app may reach).
 */
export function hasScope(granted: readonly string[], scope: string): boolean {
  const wanted = scope.toLowerCase();
  return granted.some((candidate) => {
    const name = candidate.toLowerCase().replace(/^https:\/\/graph\.microsoft\.com\//, '');
    return name === wanted || name === `${wanted}.all`;
  });
}

/** What the connection was granted: the latest token response's `scope`, else the scopes recorded at connect. */
export function grantedScopes(tokens: ProviderTokens, connectionScopes: readonly string[]): string[] {
  return tokens.scope === undefined ? [...connectionScopes] : tokens.scope.split(/\s+/).filter((scope) => scope.length > 0);
}

/** OpenID discovery documents do not change between calls; each per-call MSAL app would refetch them. */
const DISCOVERY_PATH = /\/\.well-known\/openid-configuration$|\/discovery\/instance$/;

/**
 * An msal-node network client over node:https whose agent trusts one extra CA (a local
 * emulator's self-signed certificate). It talks to the authority's origin only.
 */
function createTrustingNetworkClient(authorityOrigin: string, caCertificate: string): INetworkModule {
  const agent = new Agent({ ca: caCertificate, keepAlive: true });
  const discovery = new Map<string, NetworkResponse<unknown>>();

  const send = <T>(method: 'GET' | 'POST', url: string, options: NetworkRequestOptions | undefined, timeoutMs?: number): Promise<NetworkResponse<T>> => {
    const target = new URL(url);
    if (target.origin !== authorityOrigin) {
      return Promise.reject(new ThreadlinkError('CONFIG_INVALID', `MSAL tried to reach ${target.origin}, outside the configured authority`));
    }
    const cacheKey = method === 'GET' && DISCOVERY_PATH.test(target.pathname.split('?')[0] ?? '') ? url : null;
    const cached = cacheKey === null ? undefined : discovery.get(cacheKey);
    if (cached) return Promise.resolve(cached as NetworkResponse<T>);
    return new Promise((resolve, reject) => {
      const body = method === 'POST' ? (options?.body ?? '') : undefined;
      const headers: Record<string, string> = { ...(options?.headers ?? {}) };
      if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
      const outgoing = httpsRequest(target, { method, agent, headers, ...(timeoutMs ? { timeout: timeoutMs } : {}) }, (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', reject);
        incoming.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text.length === 0 ? {} : JSON.parse(text);
          } catch (cause) {
            reject(new ThreadlinkError('PROVIDER_ERROR', `The authority answered ${incoming.statusCode ?? 0} with a non-JSON body`, { cause }));
            return;
          }
          const responseHeaders: Record<string, string> = {};
          for (const [name, value] of Object.entries(incoming.headers)) {
            if (value !== undefined) responseHeaders[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
          }
          const response: NetworkResponse<T> = { headers: responseHeaders, body: parsed as T, status: incoming.statusCode ?? 0 };
          if (cacheKey !== null && response.status === 200) discovery.set(cacheKey, response);
          resolve(response);
        });
      });
      outgoing.on('timeout', () => outgoing.destroy(new Error('Request timeout')));
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  };

  return {
    sendGetRequestAsync: <T>(url: string, options?: NetworkRequestOptions, timeout?: number) => send<T>('GET', url, options, timeout),
    sendPostRequestAsync: <T>(url: string, options?: NetworkRequestOptions) => send<T>('POST', url, options),
  };
}

export interface OutlookAuth {
  readonly scopes: string[];
  authorizeUrl(input: AuthorizeUrlInput): Promise<string>;
  /** Redeems the code; returns the tokens to persist and the MSAL result (account claims). */
  exchangeCode(input: ExchangeCodeInput): Promise<{ tokens: ProviderTokens; result: AuthenticationResult }>;
  /** A token source bound to one session: refreshes through MSAL and persists the new cache (app-only tokens when `session.grant` is set). */
  tokenSource(session: ProviderSession): TokenSource;
  /** An MSAL app whose authority is `${authorityHost}/${tenant}` (client credentials in a customer's tenant: app-auth.ts). */
  clientApp(tenant: string): ConfidentialClientApplication;
}

export interface TokenSource {
  /** `rejected`: the token Graph just answered 401 to; a refresh is forced unless another request already replaced it. */
  accessToken(options?: { rejected?: string }): Promise<string>;
}

export function createOutlookAuth(config: ResolvedOutlookOptions): OutlookAuth {
  const scopes = scopesFor(config.mode, config.replies);
  const authorityOrigin = new URL(config.authorityHost).origin;
  const authorityHost = new URL(config.authorityHost).host;
  const networkClient = config.caCertificate ? createTrustingNetworkClient(authorityOrigin, config.caCertificate) : undefined;

  // One app per call: MSAL's in-memory cache is per app, and each connection's cache must stay
  // its own. Discovery is hard-coded in MSAL for login.microsoftonline.com and memoised above
  // for a custom authority, so a fresh app costs no round trip.
  const createApp = (tenant: string = config.tenant): ConfidentialClientApplication => {
    const configuration: Configuration = {
      auth: {
        clientId: config.clientId,
        clientSecret: config.clientSecret,
        authority: `${authorityOrigin}/${tenant}`,
        // A host outside Microsoft's clouds (an emulator, a proxy) must be declared, or MSAL runs
        // instance discovery against login.microsoftonline.com and rejects it.
        ...(MICROSOFT_LOGIN_HOSTS.has(authorityHost) ? {} : { knownAuthorities: [authorityHost] }),
      },
      system: {
        loggerOptions: { loggerCallback: () => undefined, piiLoggingEnabled: false, logLevel: LogLevel.Error },
        ...(networkClient ? { networkClient } : {}),
      },
    };
    return new ConfidentialClientApplication(configuration);
  };

  const toTokens = (result: AuthenticationResult, cache: string): ProviderTokens => ({
    accessToken: result.accessToken,
    ...(result.expiresOn ? { expiresAt: result.expiresOn.getTime() } : {}),
    scope: result.scopes.join(' '),
    cache,
  });

  const auth: OutlookAuth = {
    scopes,

    async authorizeUrl(input) {
      try {
        return await createApp().getAuthCodeUrl({
          scopes,
          redirectUri: input.redirectUri,
          state: input.state,
          codeChallenge: input.codeChallenge,
          codeChallengeMethod: 'S256',
          responseMode: 'query',
          ...(input.loginHint ? { loginHint: input.loginHint } : {}),
        });
      } catch (error) {
        throw msalError(error, 'exchange');
      }
    },

    async exchangeCode(input) {
      const app = createApp();
      let result: AuthenticationResult;
      try {
        result = await app.acquireTokenByCode({ code: input.code, redirectUri: input.redirectUri, scopes, codeVerifier: input.codeVerifier });
      } catch (error) {
        throw msalError(error, 'exchange');
      }
      if (!result.account) throw new ThreadlinkError('OAUTH_FAILED', 'Microsoft returned no account (id_token / client_info missing)');
      return { tokens: toTokens(result, app.getTokenCache().serialize()), result };
    },

    clientApp: (tenant) => createApp(tenant),

    tokenSource(session) {
      if (session.grant)
        return appTokenSource(auth, session.grant, { initial: session.tokens(), clock: session.clock, persist: (tokens) => session.updateTokens(tokens) });
      let current = session.tokens();
      let refreshing: Promise<string> | null = null;
      // A token this call obtained is used for the rest of the call, even when the tenant issues
      // lifetimes shorter than the safety margin; only a 401 forces another refresh.
      let refreshedInCall = false;

      const refresh = async (forceRefresh: boolean): Promise<string> => {
        if (!current.cache) throw new ThreadlinkError('AUTH_REVOKED', 'No MSAL token cache stored for this connection; reconnect');
        const app = createApp();
        const cache = app.getTokenCache();
        let result: AuthenticationResult;
        try {
          cache.deserialize(current.cache);
          const [account] = await cache.getAllAccounts();
          if (!account) throw new ThreadlinkError('AUTH_REVOKED', 'The stored MSAL cache holds no account; reconnect');
          const granted = grantedScopes(current, session.connection.scopes);
          const refreshScopes = scopes.filter((scope) => !LATER_SCOPES.includes(scope) || hasScope(granted, scope));
          result = await app.acquireTokenSilent({ account, scopes: refreshScopes, forceRefresh });
        } catch (error) {
          throw msalError(error, 'refresh');
        }
        current = toTokens(result, cache.serialize());
        refreshedInCall = true;
        await session.updateTokens(current);
        return result.accessToken;
      };

      return {
        async accessToken(options = {}) {
          if (refreshing) return refreshing;
          const forceRefresh = options.rejected !== undefined;
          if (forceRefresh && options.rejected !== current.accessToken) return current.accessToken;
          const fresh = refreshedInCall || current.expiresAt === undefined || current.expiresAt - TOKEN_SAFETY_MS > session.clock.now();
          if (!forceRefresh && fresh) return current.accessToken;
          // Concurrent requests of one call share a single refresh.
          refreshing = refresh(forceRefresh).finally(() => {
            refreshing = null;
          });
          return refreshing;
        },
      };
    },
  };
  return auth;
}

export function authorizeUrl(context: OutlookContext, input: AuthorizeUrlInput): Promise<string> {
  return context.auth.authorizeUrl(input);
}

/** Redeems the code, then reads the mailbox's address and name from Graph /me with the new token. */
export async function exchangeCode(context: OutlookContext, input: ExchangeCodeInput): Promise<ExchangedAccount> {
  const { tokens, result } = await context.auth.exchangeCode(input);
  // No connection exists yet: a gate of its own (nothing else runs for this mailbox), no session to log to.
  const graph = createGraphSession({
    graphBaseUrl: context.options.graphBaseUrl,
    tokens: { accessToken: async () => tokens.accessToken },
    gates: context.gates,
    mailbox: `connect:${randomUUID()}`,
    clock: systemClock,
    logger: silentLogger,
    maxInlineRetryMs: context.options.maxInlineRetryMs,
    requestTimeoutMs: context.options.requestTimeoutMs,
  });
  const profile = await fetchProfile(graph);
  return {
    accountEmail: profile.accountEmail,
    displayName: profile.displayName ?? result.account?.name ?? null,
    tokens,
    scopes: result.scopes,
  };
}

/**
 * Microsoft has no endpoint that revokes one app's refresh token (RFC 7009 is not offered):
 * deleting the subscriptions is what stops data flowing, and the engine purges the sealed
 * MSAL cache. See the README for what hosts should do (revoke sessions / remove consent).
 */
export function revoke(context: OutlookContext, session: ProviderSession): Promise<void> {
  return deleteSubscriptions(context, session, 'revoke');
}
