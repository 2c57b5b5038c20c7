// Microsoft 365 organizations (issue 19): the OrganizationSupport of outlookProvider. An admin
// grants the app's application permissions for the whole tenant through the v2 admin consent
// endpoint (learn.microsoft.com/entra/identity-platform/v2-admin-consent); the app then reads the
// directory and acts on chosen mailboxes (users and shared mailboxes) with client-credentials
// tokens. Which mailboxes it may reach is the tenant's to limit with an Exchange application
// access policy or RBAC for Applications (README, "Organizations (application permissions)").
import { randomUUID } from 'node:crypto';
import type { User } from '@microsoft/microsoft-graph-types';
import {
  isThreadlinkError,
  ThreadlinkError,
  type AdminConsentResult,
  type DirectoryMailbox,
  type OpenMailboxResult,
  type OrganizationSupport,
  type OrgGrant,
  type OrgSelection,
  type ProviderTokens,
} from '@threadlink/core/provider';
import { acquireAppToken, appTokenSource, GRAPH_DEFAULT_SCOPE } from './app-auth.js';
import { hasScope } from './auth.js';
import { createGraphSession, type GraphSession, type OutlookContext } from './client.js';
import { usersPath } from './mailbox-path.js';

const USER_SELECT = 'id,mail,userPrincipalName,displayName';
const DIRECTORY_PAGE = 999;

/** The application permissions each mode needs to read mail (Mail.Read.All covers Mail.ReadBasic.All). */
function missingRoles(mode: OutlookContext['options']['mode'], roles: readonly string[]): string[] {
  if (mode === 'full') return hasScope(roles, 'Mail.Read.All') ? [] : ['Mail.Read.All'];
  return hasScope(roles, 'Mail.ReadBasic.All') || hasScope(roles, 'Mail.Read.All') ? [] : ['Mail.ReadBasic.All'];
}

function orgGraph(context: OutlookContext, grant: OrgGrant): GraphSession {
  return createGraphSession({
    graphBaseUrl: context.options.graphBaseUrl,
    tokens: appTokenSource(context.auth, grant, { clock: grant.clock }),
    gates: context.gates,
    mailbox: `org:${grant.orgId}:${randomUUID()}`,
    clock: grant.clock,
    logger: grant.logger,
    maxInlineRetryMs: context.options.maxInlineRetryMs,
    requestTimeoutMs: context.options.requestTimeoutMs,
    signal: grant.signal,
  });
}

async function readAll(graph: GraphSession, first: string): Promise<User[]> {
  const users: User[] = [];
  let next: string | undefined = first;
  while (next !== undefined) {
    const page: { value?: User[]; '@odata.nextLink'?: string } = await graph.get(next);
    users.push(...(page.value ?? []));
    next = page['@odata.nextLink'] === undefined ? undefined : graph.pathOf(page['@odata.nextLink']);
  }
  return users;
}

function toMailbox(user: User, kind: DirectoryMailbox['kind']): DirectoryMailbox | null {
  const email = user.mail || user.userPrincipalName;
  if (!user.id || !email) return null;
  return { id: user.id, email: email.toLowerCase(), displayName: user.displayName ?? null, kind };
}

async function userByAddress(graph: GraphSession, address: string): Promise<User | null> {
  try {
    return await graph.get<User>(`${usersPath(address)}?$select=${USER_SELECT}`);
  } catch (error) {
    if (isThreadlinkError(error, 'NOT_FOUND')) return null;
    throw error;
  }
}

function adminConsentUrl(context: OutlookContext, input: { state: string; redirectUri: string; directoryHint?: string }): string {
  const url = new URL(`${new URL(context.options.authorityHost).origin}/${encodeURIComponent(input.directoryHint ?? 'organizations')}/v2.0/adminconsent`);
  url.searchParams.set('client_id', context.options.clientId);
  url.searchParams.set('scope', GRAPH_DEFAULT_SCOPE);
  url.searchParams.set('redirect_uri', input.redirectUri);
  url.searchParams.set('state', input.state);
  return url.toString();
}

/** The admin came back: `tenant` + `admin_consent=True`, or `error` + `error_description`. A client-credentials token proves the grant. */
async function completeAdminConsent(
  context: OutlookContext,
  query: URLSearchParams,
  input: Parameters<NonNullable<OrganizationSupport['completeAdminConsent']>>[1],
): Promise<AdminConsentResult> {
  const error = query.get('error');
  if (error) {
    const declined = error === 'access_denied';
    throw new ThreadlinkError('OAUTH_FAILED', declined ? 'The administrator declined to grant the app access' : `Admin consent failed: ${error}`, {
      details: { provider: 'outlook', error, description: query.get('error_description') },
    });
  }
  const tenant = query.get('tenant');
  if (!tenant || query.get('admin_consent')?.toLowerCase() !== 'true') {
    throw new ThreadlinkError('OAUTH_FAILED', 'The admin consent answer names no tenant or was not granted', { details: { provider: 'outlook' } });
  }
  const cacheState: { cache: string | undefined } = { cache: undefined };
  const grant: OrgGrant = {
    orgId: 'pending',
    directoryId: tenant,
    credentials: { kind: 'microsoft-app' },
    updateCredentials: async () => undefined,
    logger: input.logger,
    clock: input.clock,
  };
  let roles: string[];
  try {
    roles = (await acquireAppToken(context.auth, grant, cacheState, true)).scope?.split(' ').filter(Boolean) ?? [];
  } catch (cause) {
    throw new ThreadlinkError('OAUTH_FAILED', 'Admin consent was given, but the app could not obtain a token in that tenant', {
      cause,
      details: { provider: 'outlook', code: isThreadlinkError(cause) ? cause.code : null },
    });
  }
  const missing = missingRoles(context.options.mode, roles);
  if (missing.length > 0) {
    throw new ThreadlinkError('INSUFFICIENT_SCOPE', `The consented application permissions lack ${missing.join(', ')}`, {
      details: { provider: 'outlook', granted: roles.join(' '), missing: missing.join(' ') },
    });
  }
  return { directoryId: tenant, displayName: null, credentials: { kind: 'microsoft-app', ...(cacheState.cache ? { cache: cacheState.cache } : {}) } };
}

/** Resolves the selection: every user (`all`), group members (transitive), explicit addresses, shared mailboxes by address. */
async function listMailboxes(context: OutlookContext, grant: OrgGrant, selection: OrgSelection): Promise<DirectoryMailbox[]> {
  const graph = orgGraph(context, grant);
  const found = new Map<string, DirectoryMailbox>();
  const add = (user: User | null, kind: DirectoryMailbox['kind']): void => {
    const mailbox = user ? toMailbox(user, kind) : null;
    if (!mailbox) return;
    const existing = found.get(mailbox.id);
    if (!existing || kind === 'shared') found.set(mailbox.id, mailbox);
  };
  if (selection.all) for (const user of await readAll(graph, `/users?$select=${USER_SELECT}&$top=${DIRECTORY_PAGE}`)) add(user, 'user');
  for (const group of selection.groups) {
    const path = `/groups/${encodeURIComponent(group)}/transitiveMembers/microsoft.graph.user?$select=${USER_SELECT}&$top=${DIRECTORY_PAGE}`;
    for (const user of await readAll(graph, path)) add(user, 'user');
  }
  for (const address of selection.mailboxes) add(await userByAddress(graph, address), 'user');
  for (const address of selection.shared) add(await userByAddress(graph, address), 'shared');
  return [...found.values()];
}

/** A token and one cheap read of the mailbox (its Inbox id): reachable, forbidden by policy, gone, or the grant revoked. */
async function openMailbox(context: OutlookContext, grant: OrgGrant, mailbox: DirectoryMailbox): Promise<OpenMailboxResult> {
  let obtained: ProviderTokens | undefined;
  const graph = createGraphSession({
    graphBaseUrl: context.options.graphBaseUrl,
    tokens: appTokenSource(context.auth, grant, {
      clock: grant.clock,
      persist: async (tokens) => {
        obtained = tokens;
      },
    }),
    gates: context.gates,
    mailbox: `org:${grant.orgId}:${mailbox.id}`,
    clock: grant.clock,
    logger: grant.logger,
    maxInlineRetryMs: context.options.maxInlineRetryMs,
    requestTimeoutMs: context.options.requestTimeoutMs,
    signal: grant.signal,
  });
  try {
    await graph.get(`${usersPath(mailbox.id)}/mailFolders/inbox?$select=id`);
  } catch (error) {
    if (isThreadlinkError(error, 'MAILBOX_FORBIDDEN')) return { ok: false, reason: 'forbidden', message: error.message };
    if (isThreadlinkError(error, 'NOT_FOUND')) return { ok: false, reason: 'not_found', message: error.message };
    if (isThreadlinkError(error, 'AUTH_REVOKED')) return { ok: false, reason: 'revoked', message: error.message };
    throw error;
  }
  if (!obtained) throw new ThreadlinkError('INTERNAL', 'No app token was obtained for the mailbox');
  return { ok: true, tokens: obtained, scopes: obtained.scope?.split(' ').filter(Boolean) ?? [], displayName: mailbox.displayName };
}

export function organizationSupport(context: OutlookContext): OrganizationSupport {
  return {
    adminConsentUrl: (input) => adminConsentUrl(context, input),
    completeAdminConsent: (query, input) => completeAdminConsent(context, query, input),
    listMailboxes: (grant, selection) => listMailboxes(context, grant, selection),
    openMailbox: (grant, mailbox) => openMailbox(context, grant, mailbox),
  };
}
