// OAuth 2.0 authorization code flow with PKCE (core owns state and verifier), offline access,
// least-privilege scopes per mode, and revocation at Google's revoke endpoint.
import type { AuthorizeUrlInput, ExchangeCodeInput, ExchangedAccount, ProviderSession, ProviderTokens } from '@threadlink/core/provider';
import { EmailAddress, ThreadlinkError } from '@threadlink/core/provider';
import type { gmail_v1 } from '@googleapis/gmail';
import { CodeChallengeMethod, type Credentials } from 'google-auth-library';
import { createGmailApi, createOAuthClient, type GmailContext } from './client.js';
import { classifyGoogleError, describeGoogleError } from './errors.js';
import { SCOPES, scopesFor, type ResolvedGmailOptions } from './options.js';
import { unsubscribe } from './subscribe.js';

/** Scopes that let us read what each mode needs (broader grants satisfy narrower needs). */
const READ_SCOPES: Record<ResolvedGmailOptions['mode'], string[]> = {
  metadata: [SCOPES.metadata, SCOPES.readonly, 'https://www.googleapis.com/auth/gmail.modify', 'https://mail.google.com/'],
  full: [SCOPES.readonly, 'https://www.googleapis.com/auth/gmail.modify', 'https://mail.google.com/'],
};

export function authorizeUrl({ options }: GmailContext, input: AuthorizeUrlInput): string {
  const oauth = createOAuthClient(options, input.redirectUri);
  return oauth.generateAuthUrl({
    // offline + consent: Google only returns a refresh token on a consent screen.
    access_type: 'offline',
    prompt: 'consent',
    scope: scopesFor(options.mode),
    // Granular consent: never silently widen to scopes granted earlier to the same client.
    include_granted_scopes: false,
    state: input.state,
    code_challenge: input.codeChallenge,
    code_challenge_method: CodeChallengeMethod.S256,
    redirect_uri: input.redirectUri,
    ...(input.loginHint === undefined ? {} : { login_hint: input.loginHint }),
  });
}

export async function exchangeCode({ options }: GmailContext, input: ExchangeCodeInput): Promise<ExchangedAccount> {
  const oauth = createOAuthClient(options, input.redirectUri);
  let credentials: Credentials;
  try {
    ({ tokens: credentials } = await oauth.getToken({ code: input.code, codeVerifier: input.codeVerifier, redirect_uri: input.redirectUri }));
  } catch (error) {
    const shape = describeGoogleError(error);
    throw new ThreadlinkError('OAUTH_FAILED', `Google refused the authorization code (${shape.oauthError ?? shape.status ?? 'no answer'})`, {
      cause: error,
      details: { provider: 'gmail', status: shape.status ?? null, reason: shape.oauthError ?? null },
    });
  }
  if (!credentials.access_token) throw new ThreadlinkError('OAUTH_FAILED', 'Google returned no access token', { details: { provider: 'gmail' } });
  if (!credentials.refresh_token) {
    throw new ThreadlinkError('OAUTH_FAILED', 'Google returned no refresh token: offline access was not granted', { details: { provider: 'gmail' } });
  }
  // With granular consent a user may untick scopes. Without read access nothing can sync; without
  // gmail.send only replies fail (and say so), so that one is recorded but not required.
  const granted = credentials.scope ? credentials.scope.split(/\s+/).filter(Boolean) : scopesFor(options.mode);
  if (!granted.some((scope) => READ_SCOPES[options.mode].includes(scope))) {
    throw new ThreadlinkError('INSUFFICIENT_SCOPE', `The Gmail grant lacks read access (${scopesFor(options.mode)[0]})`, {
      details: { provider: 'gmail', granted: granted.join(' ') },
    });
  }
  oauth.setCredentials(credentials);
  let profile: gmail_v1.Schema$Profile;
  try {
    ({ data: profile } = await createGmailApi(options, oauth).users.getProfile({ userId: 'me' }, { retry: false, timeout: options.requestTimeoutMs }));
  } catch (error) {
    throw classifyGoogleError(error);
  }
  const accountEmail = EmailAddress.safeParse(profile.emailAddress);
  if (!accountEmail.success) throw new ThreadlinkError('OAUTH_FAILED', 'Gmail returned no account address', { details: { provider: 'gmail' } });
  const tokens: ProviderTokens = {
    accessToken: credentials.access_token,
    refreshToken: credentials.refresh_token,
    ...(credentials.expiry_date ? { expiresAt: credentials.expiry_date } : {}),
    scope: granted.join(' '),
  };
  return { accountEmail: accountEmail.data, displayName: null, tokens, scopes: granted };
}

/**
 * Offboarding at Google: stop the watch first (it needs a live token), then revoke the grant.
 * Revoking the refresh token ends the whole grant, access tokens included. The token goes in a
 * form body (POST only, per Google), not the query string where proxies log it. An organization
 * mailbox (domain-wide delegation) is only stopped: there is no per-mailbox grant to revoke.
 */
export async function revoke(context: GmailContext, session: ProviderSession): Promise<void> {
  const { options } = context;
  try {
    await unsubscribe(context, session);
  } catch (error) {
    // An already revoked grant or a stopped watch must not keep the token alive.
    session.logger.warn('gmail users.stop failed before revoke', { connectionId: session.connection.id, code: classifyGoogleError(error).code });
  }
  // An organization mailbox: the service account serves every mailbox of the org; only its watch ends here.
  if (session.grant !== undefined) return;
  const tokens = session.tokens();
  const token = tokens.refreshToken ?? tokens.accessToken;
  const oauth = createOAuthClient(options);
  try {
    await oauth.transporter.request({
      url: oauth.endpoints.oauth2RevokeUrl.toString(),
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      data: new URLSearchParams({ token }).toString(),
      retry: false,
      timeout: options.requestTimeoutMs,
    });
  } catch (error) {
    const shape = describeGoogleError(error);
    // 400 invalid_token: already revoked or expired, which is the outcome we want.
    if (shape.status === 400) {
      session.logger.info('gmail token already invalid at revoke', { connectionId: session.connection.id });
      return;
    }
    throw classifyGoogleError(error);
  }
  session.logger.info('gmail grant revoked', { connectionId: session.connection.id });
}
