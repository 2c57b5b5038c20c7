// One Gmail client per provider call: an OAuth2Client holding the session's unsealed tokens,
// the generated Gmail API on top, and `call()`, the one path every API request takes
// (quota units taken from the mailbox's budget before every attempt, classification, refresh-once
// on 401, backoff on throttling fed back into the budget, refreshed tokens persisted).
import { gmail, type gmail_v1 } from '@googleapis/gmail';
import type { ProviderSession, ProviderTokens } from '@threadlink/core/provider';
import { deadlineMissed, linkedSignal, ThreadlinkError, withRetry, type BackoffOptions } from '@threadlink/core/provider';
import { OAuth2Client, type Credentials } from 'google-auth-library';
import { createDelegatedClient, delegatedScopes } from './delegation.js';
import type { VerifiedPushTokens } from './notifications.js';
import { classifyGoogleError, statusOf } from './errors.js';
import type { ResolvedGmailOptions } from './options.js';
import { UNITS, type Lane, type QuotaBudgets, type QuotaOperation } from './rate-limit.js';
import { nodeHttpGet } from './transport.js';

/**
 * What every operation of one gmailProvider instance shares, built once by index.ts and passed
 * first to each operation (Outlook's OutlookContext has the same place): the parsed options and
 * the per-mailbox quota budgets
 * and the push verifier.
 */
export interface GmailContext {
  readonly options: ResolvedGmailOptions;
  readonly quota: QuotaBudgets;
  /**
   * Checks Pub/Sub push tokens (notifications.ts); one per instance keeps Google's certs and the
   * tokens already verified (each token's signature is checked once, its expiry on every push).
   */
  readonly pushVerifier: { readonly client: OAuth2Client; readonly verified: VerifiedPushTokens };
}

/** A metered Gmail method, or a batch (whose parts are charged one by one: pass `units`). */
type Operation = QuotaOperation | 'batch';

interface CallOptions {
  /** Retry throttled/unavailable answers (default true). Off for non-idempotent calls such as send. */
  retry?: boolean | 'rate-limit-only';
  /** Quota units one attempt costs; defaults to the operation's (a batch must say). */
  units?: number;
}

/**
 * What gaxios accepts per request; the generated methods take it as their second argument. The
 * signal carries the request's deadline (`requestTimeoutMs`) and the session's abort; gaxios's own
 * `timeout` is off (see `requestDeadline`).
 */
export interface RequestOptions {
  signal: AbortSignal;
  timeout: 0;
  retry: false;
}

/**
 * One attempt's deadline and the session's abort in one signal, dropped as soon as the answer is in.
 * Given `timeout` and a signal, gaxios builds `AbortSignal.any([signal, AbortSignal.timeout(t)])`
 * for every request: about 0.2 ms of CPU per call on the bench box (two calls per synced message),
 * and the timeout still fires `requestTimeoutMs` after each answered request (a DOMException and
 * an abort event apiece), so a host kept paying for its last half-minute of traffic while idle.
 * Here the timer is cleared and the listener on the session's signal removed when the attempt ends
 * (core's `linkedSignal`).
 */
function requestDeadline(timeoutMs: number, session: AbortSignal | undefined): { request: RequestOptions; clear(): void } {
  const linked = linkedSignal(session, { ms: timeoutMs, reason: deadlineMissed });
  return { request: { signal: linked.signal, timeout: 0, retry: false }, clear: linked.release };
}

export interface GmailClient {
  readonly api: gmail_v1.Gmail;
  readonly oauth: OAuth2Client;
  readonly session: ProviderSession;
  readonly options: ResolvedGmailOptions;
  /** The mailbox's quota budget at this task's priority. */
  readonly lane: Lane;
  /** Runs one request: `run` is called again on retry, so it must build its request afresh. */
  call<T>(operation: Operation, run: (request: RequestOptions) => Promise<{ data: T }>, callOptions?: CallOptions): Promise<T>;
  /**
   * A GET below `gmail/v1/users/me/` with a query string built once by the caller, sent through the
   * auth client (token, refresh on 401) without the generated method's per-call work: the sync path's
   * history.list and messages.get, one or two per synced message (see `meGet`).
   */
  get<T>(path: string, query: string, request: RequestOptions): Promise<{ data: T }>;
}

/**
 * The generated methods rebuild every request from their parameter schema (URL template, deep
 * copies of the options, qs, user-agent headers): about 0.2 ms of CPU per call on the bench box,
 * twice per synced message. The hot path sends the same request line through the same client,
 * and over node:http rather than node-fetch (transport.ts).
 */
function meGet(oauth: OAuth2Client, apiRootUrl: string) {
  const base = new URL('gmail/v1/users/me/', apiRootUrl).toString();
  return <T>(path: string, query: string, request: RequestOptions): Promise<{ data: T }> =>
    oauth.request<T>({ url: `${base}${path}${query ? `?${query}` : ''}`, method: 'GET', responseType: 'json', adapter: nodeHttpGet, ...request });
}

export function createOAuthClient(options: ResolvedGmailOptions, redirectUri?: string): OAuth2Client {
  const endpoints = Object.fromEntries(Object.entries(options.oauthEndpoints ?? {}).filter(([, url]) => url !== undefined)) as Partial<
    Record<keyof NonNullable<ResolvedGmailOptions['oauthEndpoints']>, string>
  >;
  return new OAuth2Client({
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    endpoints,
    ...(redirectUri === undefined ? {} : { redirectUri }),
  });
}

export function createGmailApi(options: ResolvedGmailOptions, oauth: OAuth2Client): gmail_v1.Gmail {
  return gmail({
    version: 'v1',
    // googleapis-common pins its own google-auth-library patch version; the class is the same at runtime.
    auth: oauth as unknown as gmail_v1.Options['auth'],
    rootUrl: options.apiRootUrl,
    // gaxios would otherwise retry 429/5xx on its own, under our backoff, doubling the attempts.
    retry: false,
    timeout: options.requestTimeoutMs,
  } as gmail_v1.Options);
}

export function backoffOptions(options: ResolvedGmailOptions): BackoffOptions {
  return {
    ...(options.retry.baseMs === undefined ? {} : { baseMs: options.retry.baseMs }),
    ...(options.retry.maxMs === undefined ? {} : { maxMs: options.retry.maxMs }),
  };
}

function toCredentials(tokens: ProviderTokens): Credentials {
  return {
    access_token: tokens.accessToken,
    refresh_token: tokens.refreshToken ?? null,
    // With a refresh token an expiry is always set: without one google-auth-library refreshes on
    // *any* 401/403, including a 403 rateLimitExceeded. Unknown expiry → refresh once up front.
    expiry_date: tokens.expiresAt ?? (tokens.refreshToken ? 1 : null),
    ...(tokens.scope === undefined ? {} : { scope: tokens.scope }),
    token_type: 'Bearer',
  };
}

function mergeTokens(previous: ProviderTokens, refreshed: Credentials): ProviderTokens {
  const accessToken = refreshed.access_token ?? previous.accessToken;
  const refreshToken = refreshed.refresh_token ?? previous.refreshToken;
  const expiresAt = refreshed.expiry_date ?? undefined;
  const scope = refreshed.scope ?? previous.scope;
  return {
    accessToken,
    ...(refreshToken ? { refreshToken } : {}),
    ...(expiresAt ? { expiresAt } : {}),
    ...(scope ? { scope } : {}),
    ...(previous.cache === undefined ? {} : { cache: previous.cache }),
  };
}

/**
 * The one place a session's auth is chosen: an organization mailbox (`session.grant`, domain-wide
 * delegation) gets a JWT client acting as `grant.mailbox`; a user's own connection an OAuth2Client
 * holding its refresh token. Both take the session's last access token while it is valid.
 */
function authClientFor(options: ResolvedGmailOptions, session: ProviderSession): OAuth2Client {
  const grant = session.grant;
  if (grant === undefined) return createOAuthClient(options);
  if (grant.credentials.kind !== 'google-service-account') {
    throw new ThreadlinkError('INVALID_INPUT', `A Gmail organization mailbox needs google-service-account credentials, not ${grant.credentials.kind}`);
  }
  return createDelegatedClient(options, grant.credentials, grant.mailbox, delegatedScopes(options.mode));
}

/**
 * Runs `task` with a Gmail client for this session whose calls draw on `lane`. Token refreshes made by
 * google-auth-library (its 'tokens' event) are persisted through session.updateTokens before the
 * task's result is returned.
 */
export async function withGmail<T>(options: ResolvedGmailOptions, session: ProviderSession, lane: Lane, task: (client: GmailClient) => Promise<T>): Promise<T> {
  const oauth = authClientFor(options, session);
  let current = session.tokens();
  if (session.grant === undefined) oauth.setCredentials(toCredentials(current));
  else if (current.accessToken !== '') {
    // Keep the JWT client's own placeholder refresh token: it makes google-auth-library sign a new assertion when this one expires.
    oauth.setCredentials({ ...oauth.credentials, access_token: current.accessToken, expiry_date: current.expiresAt ?? 1, token_type: 'Bearer' });
  }
  const canRenew = (): boolean => session.grant !== undefined || Boolean(current.refreshToken);
  let persisting: Promise<void> = Promise.resolve();
  let persistError: unknown;
  oauth.on('tokens', (refreshed: Credentials) => {
    current = mergeTokens(current, refreshed);
    const snapshot = current;
    persisting = persisting
      .then(() => session.updateTokens(snapshot))
      .catch((error: unknown) => {
        persistError = error;
      });
    session.logger.debug('gmail access token refreshed', { connectionId: session.connection.id });
  });

  const api = createGmailApi(options, oauth);
  const attempts = options.retry.attempts ?? 5;
  const call: GmailClient['call'] = async (operation, run, callOptions = {}) => {
    const retryMode = callOptions.retry ?? true;
    const units = callOptions.units ?? (operation === 'batch' ? undefined : UNITS[operation]);
    if (units === undefined) throw new ThreadlinkError('INTERNAL', 'A Gmail batch call must state the units of its parts');
    const send = async () => {
      const answered = await lane.take(units, session.signal);
      const deadline = requestDeadline(options.requestTimeoutMs, session.signal);
      try {
        return (await run(deadline.request)).data;
      } finally {
        deadline.clear();
        answered();
      }
    };
    let refreshedAfter401 = false;
    const classify = (error: unknown): ThreadlinkError => {
      // The session's signal cut the request short (the engine is stopping), not Gmail.
      if (session.signal?.aborted) {
        return new ThreadlinkError('SHUTTING_DOWN', 'The Gmail call was cancelled: its session was aborted', { cause: error, details: { provider: 'gmail' } });
      }
      const classified = classifyGoogleError(error, session.clock.now());
      // Gmail counted more than the budget did (another instance, another app on the account).
      if (classified.code === 'RATE_LIMITED') lane.refused(classified.retryAfterMs);
      return classified;
    };
    return withRetry(
      async () => {
        try {
          return await send();
        } catch (error) {
          // A 401 with a refresh token usually means the access token died early (revoked, clock skew):
          // refresh once; if the grant itself is gone the refresh fails with invalid_grant → AUTH_REVOKED.
          // An org mailbox renews by signing a new assertion; a refused one (delegation withdrawn) is AUTH_REVOKED.
          if (statusOf(error) !== 401 || refreshedAfter401 || !canRenew()) throw error;
          refreshedAfter401 = true;
          oauth.setCredentials({ ...oauth.credentials, expiry_date: 1 });
          await oauth.getAccessToken();
          return await send();
        }
      },
      {
        attempts: retryMode === false ? 1 : attempts,
        clock: session.clock,
        classify,
        // Non-idempotent calls: a 5xx or a lost answer may have been carried out, so only a throttled
        // call (refused unprocessed) is retried here; the caller decides about the rest (sendOnce).
        ...(retryMode === 'rate-limit-only' ? { retryWhen: (error: ThreadlinkError) => error.code === 'RATE_LIMITED' } : {}),
        ...backoffOptions(options),
        ...(session.signal === undefined ? {} : { signal: session.signal }),
        onRetry: (error, attempt, delayMs) =>
          session.logger.debug('gmail call retried', { connectionId: session.connection.id, operation, code: error.code, attempt, delayMs }),
      },
    );
  };

  try {
    return await task({ api, oauth, session, options, lane, call, get: meGet(oauth, options.apiRootUrl) });
  } finally {
    await persisting;
    if (persistError !== undefined) {
      session.logger.warn('gmail refreshed tokens could not be persisted', { connectionId: session.connection.id, error: persistError });
    }
  }
}
