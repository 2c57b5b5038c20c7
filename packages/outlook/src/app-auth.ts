// App-only tokens for an organization's mailboxes (issue 19): the OAuth 2.0 client credentials
// grant in the customer's tenant through msal-node's acquireTokenByClientCredential, scope
// `https://graph.microsoft.com/.default` (every application permission the admin consented to;
// learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow). The token's
// `roles` claim lists those permissions (Mail.ReadBasic.All, Mail.Read.All, Mail.Send, …). MSAL's
// token cache lives in the org's sealed credentials (OrgCredentials.cache), not per mailbox.
import { AuthError, type AuthenticationResult } from '@azure/msal-node';
import { ThreadlinkError, type Clock, type OrgCredentials, type OrgGrant, type ProviderTokens } from '@threadlink/core/provider';
import type { OutlookAuth, TokenSource } from './auth.js';

export const GRAPH_DEFAULT_SCOPE = 'https://graph.microsoft.com/.default';

/** App tokens are reused while they have this much life left. */
const TOKEN_SAFETY_MS = 5 * 60 * 1000;

/**
 * Entra ID's answers that mean the org grant itself is gone: the app's service principal was
 * removed from the tenant (admin consent revoked: AADSTS7000229), the app is unknown there
 * (AADSTS700016) or disabled (AADSTS7000112), or it may not use this grant (unauthorized_client).
 * A wrong or expired client secret (AADSTS7000215 / 7000222) is the host's configuration instead.
 */
const REVOKED = /AADSTS(7000229|700016|7000112|65001)\b/;
const BAD_SECRET = /AADSTS(7000215|7000222|7000218)\b/;

function appAuthError(error: unknown): ThreadlinkError {
  if (error instanceof ThreadlinkError) return error;
  const code = error instanceof AuthError ? error.errorCode : '';
  const message = error instanceof Error ? error.message : String(error);
  const details = { provider: 'outlook', msalCode: code || null };
  if (BAD_SECRET.test(message)) {
    return new ThreadlinkError('CONFIG_INVALID', `The app's client secret was refused for client credentials: ${message}`, { cause: error, details });
  }
  if (REVOKED.test(message) || code === 'unauthorized_client' || code === 'invalid_client') {
    return new ThreadlinkError(
      'AUTH_REVOKED',
      'The organization no longer grants the app access (admin consent revoked or the app removed); an admin must consent again',
      {
        cause: error,
        details,
      },
    );
  }
  if (code === 'network_error' || code === 'endpoints_resolution_error' || code === 'temporarily_unavailable' || code === 'service_unavailable') {
    return new ThreadlinkError('PROVIDER_UNAVAILABLE', `Microsoft identity platform unavailable: ${message}`, { cause: error, details });
  }
  return new ThreadlinkError('PROVIDER_ERROR', `Client credentials failed: ${message}`, { cause: error, details });
}

/** The `roles` claim of an app-only access token (application permissions granted in the tenant). */
function rolesOf(accessToken: string): string[] {
  try {
    const payload = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { roles?: unknown };
    return Array.isArray(payload.roles) ? payload.roles.filter((role): role is string => typeof role === 'string') : [];
  } catch {
    return [];
  }
}

export interface AppTokenOptions {
  /** The last app token stored for this mailbox (session.tokens()). */
  initial?: ProviderTokens;
  clock: Clock;
  /** Persists a newly obtained token for the mailbox (session.updateTokens). */
  persist?: (tokens: ProviderTokens) => Promise<void>;
}

/** One client-credentials request in the org's tenant; the changed MSAL cache goes back into the org's credentials. */
export async function acquireAppToken(
  auth: OutlookAuth,
  grant: OrgGrant,
  cacheState: { cache: string | undefined },
  forceRefresh: boolean,
): Promise<ProviderTokens> {
  const app = auth.clientApp(grant.directoryId);
  const cache = app.getTokenCache();
  let result: AuthenticationResult | null;
  try {
    if (cacheState.cache) cache.deserialize(cacheState.cache);
    result = await app.acquireTokenByClientCredential({ scopes: [GRAPH_DEFAULT_SCOPE], skipCache: forceRefresh });
  } catch (error) {
    throw appAuthError(error);
  }
  if (!result) throw new ThreadlinkError('PROVIDER_ERROR', 'Client credentials returned no token', { details: { provider: 'outlook' } });
  const serialized = cache.serialize();
  if (serialized !== cacheState.cache) {
    cacheState.cache = serialized;
    const credentials: OrgCredentials = { kind: 'microsoft-app', cache: serialized };
    await grant.updateCredentials(credentials);
  }
  return {
    accessToken: result.accessToken,
    ...(result.expiresOn ? { expiresAt: result.expiresOn.getTime() } : {}),
    scope: rolesOf(result.accessToken).join(' '),
  };
}

/** A TokenSource for an org mailbox: the stored app token while fresh, else client credentials (shared by concurrent requests). */
export function appTokenSource(auth: OutlookAuth, grant: OrgGrant, options: AppTokenOptions): TokenSource {
  if (grant.credentials.kind !== 'microsoft-app') {
    throw new ThreadlinkError('CONFIG_INVALID', `An Outlook org mailbox needs microsoft-app credentials, not ${grant.credentials.kind}`);
  }
  const cacheState = { cache: grant.credentials.cache };
  let current: ProviderTokens | undefined = options.initial?.accessToken ? options.initial : undefined;
  let refreshing: Promise<string> | null = null;
  let obtainedInCall = false;

  const obtain = async (force: boolean): Promise<string> => {
    const tokens = await acquireAppToken(auth, grant, cacheState, force);
    current = tokens;
    obtainedInCall = true;
    await options.persist?.(tokens);
    return tokens.accessToken;
  };

  return {
    async accessToken(request = {}) {
      if (refreshing) return refreshing;
      const force = request.rejected !== undefined;
      if (force && current && request.rejected !== current.accessToken) return current.accessToken;
      const fresh = current !== undefined && (obtainedInCall || (current.expiresAt !== undefined && current.expiresAt - TOKEN_SAFETY_MS > options.clock.now()));
      if (!force && fresh && current) return current.accessToken;
      refreshing = obtain(force).finally(() => {
        refreshing = null;
      });
      return refreshing;
    },
  };
}
