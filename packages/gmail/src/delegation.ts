// Google Workspace domain-wide delegation: the customer's service account acts as a user of its
// domain. google-auth-library's JWT client signs an assertion (RS256 with the key, claims iss =
// client_email, scope, aud = https://oauth2.googleapis.com/token, iat/exp ≤ 1 h, sub = the user)
// and trades it at the token endpoint by the jwt-bearer grant (RFC 7523). There is no refresh
// token: a new assertion is signed when the hour is up.
// developers.google.com/identity/protocols/oauth2/service-account#delegatingauthority
import type { OrgCredentials } from '@threadlink/core/provider';
import { JWT } from 'google-auth-library';
import type { ResolvedGmailOptions } from './options.js';
import { SCOPES } from './options.js';

/** What every assertion names as `aud` and where gtoken posts it (rerouted to `oauthEndpoints.oauth2TokenUrl`). */
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

export type ServiceAccountCredentials = Extract<OrgCredentials, { kind: 'google-service-account' }>;

export const DIRECTORY_SCOPES = {
  users: 'https://www.googleapis.com/auth/admin.directory.user.readonly',
  members: 'https://www.googleapis.com/auth/admin.directory.group.member.readonly',
} as const;

/**
 * The Gmail scopes a delegated mailbox's token asks for: the same least privilege as a user's
 * own connection. Google refuses the assertion unless the admin authorised every one of them.
 */
export function delegatedScopes(mode: ResolvedGmailOptions['mode']): string[] {
  return mode === 'metadata' ? [SCOPES.metadata, SCOPES.send] : [SCOPES.readonly, SCOPES.send];
}

/** Every scope the Admin console entry must list for this provider's mode (Directory listing included). */
export function adminConsoleScopes(mode: ResolvedGmailOptions['mode']): string[] {
  return [...delegatedScopes(mode), DIRECTORY_SCOPES.users, DIRECTORY_SCOPES.members];
}

/** A JWT client acting as `subject` with `scopes`; the private key never leaves it (no logging here or in callers). */
export function createDelegatedClient(options: ResolvedGmailOptions, credentials: ServiceAccountCredentials, subject: string, scopes: string[]): JWT {
  const client = new JWT({
    email: credentials.clientEmail,
    key: credentials.privateKey,
    ...(credentials.privateKeyId === undefined ? {} : { keyId: credentials.privateKeyId }),
    scopes,
    subject,
  });
  const tokenUrl = options.oauthEndpoints?.oauth2TokenUrl;
  if (tokenUrl !== undefined && tokenUrl !== GOOGLE_TOKEN_URL) {
    // gtoken posts to Google's fixed URL; a host (or the emulator) may point the token endpoint elsewhere.
    client.transporter.interceptors.request.add({
      resolved: async (config) => (String(config.url) === GOOGLE_TOKEN_URL ? { ...config, url: new URL(tokenUrl) } : config),
    });
  }
  return client;
}
