// Organization connections for Google Workspace (issue 19): the customer's admin creates a service
// account, authorises its client id for the Gmail (and Directory) scopes under Admin console →
// Security → API controls → Domain-wide delegation, and gives us the key file. Core seals the
// credentials; this file checks them (connectDirect), resolves a selection against the Directory
// API (listMailboxes) and opens one mailbox (openMailbox). Mail operations on an org mailbox take
// the same paths as a user's own, authenticated in client.ts (authClientFor).
import { admin, type admin_directory_v1 } from '@googleapis/admin';
import type { gmail_v1 } from '@googleapis/gmail';
import type { DirectConnectInput, DirectoryMailbox, OpenMailboxResult, OrganizationSupport, OrgGrant, OrgSelection } from '@threadlink/core/provider';
import { EmailAddress, ThreadlinkError } from '@threadlink/core/provider';
import type { JWT } from 'google-auth-library';
import { z } from 'zod';
import { createGmailApi, type GmailContext } from './client.js';
import { adminConsoleScopes, createDelegatedClient, delegatedScopes, DIRECTORY_SCOPES, type ServiceAccountCredentials } from './delegation.js';
import { describeGoogleError } from './errors.js';
import type { ResolvedGmailOptions } from './options.js';

/** The JSON key file the Cloud console downloads; other fields (project_id, token_uri, …) are ignored. */
const ServiceAccountKey = z.looseObject({
  type: z.literal('service_account'),
  client_email: EmailAddress,
  client_id: z.string().regex(/^\d+$/, 'expected the numeric client id'),
  private_key: z.string().startsWith('-----BEGIN PRIVATE KEY-----').max(10_000),
  private_key_id: z.string().max(256).optional(),
});

const Domain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)([a-z0-9-]+\.)+[a-z]{2,}$/, 'expected the Workspace primary domain, e.g. acme.com');

const USERS_PAGE = 500;
const MEMBERS_PAGE = 200;

function serviceAccount(grant: OrgGrant): ServiceAccountCredentials {
  if (grant.credentials.kind !== 'google-service-account') {
    throw new ThreadlinkError('INVALID_INPUT', `A Google organization needs google-service-account credentials, not ${grant.credentials.kind}`);
  }
  return grant.credentials;
}

/** What the admin must paste into the Admin console, for error messages (and the doctor). */
function delegationInstructions(clientId: string, scopes: string[]): string {
  return `In the Google Admin console (Security → Access and data control → API controls → Domain-wide delegation), add client ID ${clientId} with the OAuth scopes: ${scopes.join(',')}`;
}

function directoryApi(options: ResolvedGmailOptions, auth: JWT): admin_directory_v1.Admin {
  return admin({
    version: 'directory_v1',
    auth: auth as unknown as admin_directory_v1.Options['auth'],
    rootUrl: options.directoryRootUrl,
    retry: false,
    timeout: options.requestTimeoutMs,
  } as admin_directory_v1.Options);
}

function tokenRefusal(error: unknown): { oauthError: string | undefined; description: string } {
  const shape = describeGoogleError(error);
  return { oauthError: shape.oauthError, description: shape.message };
}

async function connectDirect(
  { options }: GmailContext,
  input: DirectConnectInput,
): Promise<{ directoryId: string; displayName: string | null; credentials: ServiceAccountCredentials }> {
  const key = ServiceAccountKey.safeParse(input.credentials);
  if (!key.success) {
    throw new ThreadlinkError(
      'INVALID_INPUT',
      'Not a Google service account key file (JSON with type "service_account", client_email, client_id, private_key)',
      {
        details: { provider: 'gmail', issues: key.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ') },
      },
    );
  }
  const domain = Domain.safeParse(input.directoryId);
  const adminEmail = EmailAddress.safeParse(input.adminEmail);
  if (!domain.success || !adminEmail.success)
    throw new ThreadlinkError('INVALID_INPUT', 'Give the Workspace primary domain and the address of one of its admins');
  if (!adminEmail.data.endsWith(`@${domain.data}`))
    throw new ThreadlinkError('INVALID_INPUT', `The admin ${adminEmail.data} is not an address of ${domain.data}`);
  const credentials: ServiceAccountCredentials = {
    kind: 'google-service-account',
    clientEmail: key.data.client_email,
    privateKey: key.data.private_key,
    ...(key.data.private_key_id === undefined ? {} : { privateKeyId: key.data.private_key_id }),
    adminEmail: adminEmail.data,
  };
  try {
    await createDelegatedClient(options, credentials, credentials.adminEmail, [DIRECTORY_SCOPES.users]).authorize();
  } catch (error) {
    const refusal = tokenRefusal(error);
    const hint = refusal.oauthError === 'unauthorized_client' ? ` ${delegationInstructions(key.data.client_id, adminConsoleScopes(options.mode))}.` : '';
    throw new ThreadlinkError('OAUTH_FAILED', `Google refused a token for ${credentials.adminEmail} (${refusal.description}).${hint}`, {
      cause: error,
      details: { provider: 'gmail', reason: refusal.oauthError ?? null, clientId: key.data.client_id },
    });
  }
  return { directoryId: domain.data, displayName: null, credentials };
}

async function listUsers(api: admin_directory_v1.Admin, signal: AbortSignal | undefined): Promise<DirectoryMailbox[]> {
  const found: DirectoryMailbox[] = [];
  let pageToken: string | undefined;
  do {
    const { data } = await api.users.list(
      {
        customer: 'my_customer',
        maxResults: USERS_PAGE,
        fields: 'nextPageToken,users(primaryEmail,name/fullName,suspended,archived)',
        ...(pageToken ? { pageToken } : {}),
      },
      signal === undefined ? {} : { signal },
    );
    for (const user of data.users ?? []) {
      // A suspended or archived user cannot be impersonated; they are picked up again when reactivated.
      if (!user.primaryEmail || user.suspended || user.archived) continue;
      found.push({ id: user.primaryEmail.toLowerCase(), email: user.primaryEmail.toLowerCase(), displayName: user.name?.fullName ?? null, kind: 'user' });
    }
    pageToken = data.nextPageToken ?? undefined;
  } while (pageToken);
  return found;
}

/** A group's user members; member groups are expanded here, one level deep (one members.list per nested group). */
async function listMembers(api: admin_directory_v1.Admin, groupKey: string, depth: number, signal: AbortSignal | undefined): Promise<DirectoryMailbox[]> {
  const found: DirectoryMailbox[] = [];
  let pageToken: string | undefined;
  do {
    const { data } = await api.members.list(
      { groupKey, maxResults: MEMBERS_PAGE, ...(pageToken ? { pageToken } : {}) },
      signal === undefined ? {} : { signal },
    );
    for (const member of data.members ?? []) {
      if (!member.email) continue;
      if (member.type === 'USER') found.push({ id: member.email.toLowerCase(), email: member.email.toLowerCase(), displayName: null, kind: 'user' });
      else if (member.type === 'GROUP' && depth > 0) found.push(...(await listMembers(api, member.email, depth - 1, signal)));
    }
    pageToken = data.nextPageToken ?? undefined;
  } while (pageToken);
  return found;
}

async function listMailboxes({ options }: GmailContext, grant: OrgGrant, selection: OrgSelection): Promise<DirectoryMailbox[]> {
  const credentials = serviceAccount(grant);
  const byEmail = new Map<string, DirectoryMailbox>();
  const add = (mailbox: DirectoryMailbox): void => {
    const known = byEmail.get(mailbox.email);
    byEmail.set(mailbox.email, known ? { ...known, displayName: known.displayName ?? mailbox.displayName } : mailbox);
  };
  try {
    if (selection.all) {
      const api = directoryApi(options, createDelegatedClient(options, credentials, credentials.adminEmail, [DIRECTORY_SCOPES.users]));
      for (const mailbox of await listUsers(api, grant.signal)) add(mailbox);
    }
    if (selection.groups.length > 0) {
      const api = directoryApi(options, createDelegatedClient(options, credentials, credentials.adminEmail, [DIRECTORY_SCOPES.members]));
      for (const group of selection.groups) for (const mailbox of await listMembers(api, group, 1, grant.signal)) add(mailbox);
    }
  } catch (error) {
    const shape = describeGoogleError(error);
    if (shape.status === 404)
      throw new ThreadlinkError('NOT_FOUND', `No such Google group in ${grant.directoryId}`, { cause: error, details: { provider: 'gmail' } });
    if (shape.oauthError !== undefined) {
      throw new ThreadlinkError('AUTH_REVOKED', `Google refused a Directory token for ${credentials.adminEmail} (${shape.message})`, {
        cause: error,
        details: { provider: 'gmail' },
      });
    }
    throw new ThreadlinkError('PROVIDER_UNAVAILABLE', `The Directory API refused the listing (${shape.status ?? 'no answer'}: ${shape.message})`, {
      cause: error,
      details: { provider: 'gmail', status: shape.status ?? null },
    });
  }
  for (const email of selection.mailboxes) add({ id: email.toLowerCase(), email: email.toLowerCase(), displayName: null, kind: 'user' });
  // Workspace has no shared mailboxes: a shared address is a user account several people use
  // (it works like any user) or a Google Group / collaborative inbox (no Gmail mailbox: openMailbox says so).
  for (const email of selection.shared)
    byEmail.set(email.toLowerCase(), { id: email.toLowerCase(), email: email.toLowerCase(), displayName: null, kind: 'shared' });
  return [...byEmail.values()];
}

async function openMailbox({ options }: GmailContext, grant: OrgGrant, mailbox: DirectoryMailbox): Promise<OpenMailboxResult> {
  const credentials = serviceAccount(grant);
  const scopes = delegatedScopes(options.mode);
  const client = createDelegatedClient(options, credentials, mailbox.id, scopes);
  try {
    await client.authorize();
  } catch (error) {
    const refusal = tokenRefusal(error);
    if (refusal.oauthError === 'unauthorized_client') {
      return {
        ok: false,
        reason: 'forbidden',
        message: `Domain-wide delegation does not cover ${mailbox.email} for ${scopes.join(' ')}: ${refusal.description}`,
      };
    }
    if (refusal.oauthError === 'invalid_grant' && /invalid email or user id/i.test(refusal.description)) {
      return mailbox.kind === 'shared'
        ? {
            ok: false,
            reason: 'not_found',
            message: `${mailbox.email} is not a user account of ${grant.directoryId}: a Google Group or collaborative inbox has no Gmail mailbox the API can read. Make it a user account (a shared login) to sync it.`,
          }
        : { ok: false, reason: 'forbidden', message: `${mailbox.email} is not an active user of ${grant.directoryId} (unknown or suspended)` };
    }
    if (refusal.oauthError === 'invalid_grant')
      return { ok: false, reason: 'revoked', message: `Google refused the service account key (${refusal.description})` };
    throw new ThreadlinkError('PROVIDER_UNAVAILABLE', `Google's token endpoint did not answer for ${mailbox.email}: ${refusal.description}`, {
      cause: error,
      details: { provider: 'gmail' },
    });
  }
  const api = createGmailApi(options, client);
  let profile: gmail_v1.Schema$Profile;
  try {
    ({ data: profile } = await api.users.getProfile({ userId: 'me' }, grant.signal === undefined ? {} : { signal: grant.signal }));
  } catch (error) {
    const shape = describeGoogleError(error);
    if (shape.status === 400 && /mail service not enabled/i.test(shape.message)) {
      return { ok: false, reason: 'not_found', message: `${mailbox.email} has no Gmail mailbox (Gmail is off for this user)` };
    }
    throw new ThreadlinkError('PROVIDER_UNAVAILABLE', `Gmail getProfile failed for ${mailbox.email} (${shape.status ?? 'no answer'})`, {
      cause: error,
      details: { provider: 'gmail' },
    });
  }
  const { access_token: accessToken, expiry_date: expiresAt } = client.credentials;
  if (!accessToken) throw new ThreadlinkError('OAUTH_FAILED', 'Google returned no access token', { details: { provider: 'gmail' } });
  if (profile.emailAddress?.toLowerCase() !== mailbox.email) {
    grant.logger.warn('gmail org mailbox answers with another address', { orgId: grant.orgId });
  }
  return {
    ok: true,
    tokens: { accessToken, ...(expiresAt ? { expiresAt } : {}), scope: scopes.join(' ') },
    scopes,
    displayName: mailbox.displayName,
  };
}

export function organizationSupport(context: GmailContext): OrganizationSupport {
  return {
    connectDirect: (input) => connectDirect(context, input),
    listMailboxes: (grant, selection) => listMailboxes(context, grant, selection),
    openMailbox: (grant, mailbox) => openMailbox(context, grant, mailbox),
  };
}
