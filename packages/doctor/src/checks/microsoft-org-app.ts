// An organization connected with application permissions (issue 19): the app's client secret
// must obtain a client-credentials token in the customer's tenant (which needs an admin's
// consent there), the token's `roles` must cover outlookProvider's mode, and a sample mailbox
// must be inside the tenant's Exchange application access policy / RBAC for Applications scope.
// (learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow,
// learn.microsoft.com/graph/auth-limit-mailbox-access)
import type { DoctorCheck } from '../check.js';
import { fail, pass, skip, warn } from '../report.js';

const GRAPH_DEFAULT_SCOPE = 'https://graph.microsoft.com/.default';

/** What Entra ID's client-credentials refusals mean for an admin-consent setup. */
const TOKEN_REFUSALS: ReadonlyArray<[RegExp, string, string]> = [
  [
    /AADSTS7000229/,
    'no administrator of tenant {tenant} has consented to the app (or the consent was removed)',
    'have an admin of that tenant open the admin consent link (tl.org.connect) and accept',
  ],
  [/AADSTS700016/, 'the app is not known in tenant {tenant}', 'make the app registration multi-tenant (Supported account types) and have an admin consent'],
  [/AADSTS7000215|AADSTS7000222/, 'the client secret was refused (wrong value, or expired)', 'create a new client secret and copy its Value'],
  [/AADSTS90002/, 'tenant {tenant} does not exist', 'use the customer’s Directory (tenant) ID or one of its verified domains'],
];

/** Exchange's refusal of a mailbox outside the application access policy. */
const ACCESS_POLICY = /Access to OData is disabled|AppOnly AccessPolicy/i;

function rolesOf(accessToken: string): string[] {
  try {
    const payload = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { roles?: unknown };
    return Array.isArray(payload.roles) ? payload.roles.filter((role): role is string => typeof role === 'string') : [];
  } catch {
    return [];
  }
}

function missingRoles(mode: string, roles: readonly string[]): string[] {
  const has = (role: string) => roles.some((granted) => granted.toLowerCase() === role.toLowerCase());
  const missing =
    mode === 'metadata' ? (has('Mail.ReadBasic.All') || has('Mail.Read.All') ? [] : ['Mail.ReadBasic.All']) : has('Mail.Read.All') ? [] : ['Mail.Read.All'];
  if (!has('User.Read.All') && !has('User.ReadBasic.All') && !has('Directory.Read.All')) missing.push('User.Read.All');
  return missing;
}

export const microsoftOrgApp: DoctorCheck = {
  id: 'microsoft.org-app-permissions',
  area: 'microsoft',
  title: 'Organization (admin consent): client credentials, roles and a sample mailbox',
  variables: ['MICROSOFT_CLIENT_ID', 'MICROSOFT_CLIENT_SECRET', 'MICROSOFT_ORG_TENANT', 'MICROSOFT_ORG_SAMPLE_MAILBOX'],
  async run({ config }) {
    const microsoft = config.microsoft;
    if (!microsoft?.orgTenant) return skip('No organization tenant given (MICROSOFT_ORG_TENANT): application permissions not checked.');
    if (!microsoft.clientId || !microsoft.clientSecret) return skip('The app’s client id or secret is missing (see microsoft.app-registration).');
    const tenant = microsoft.orgTenant;
    const authority = new URL(microsoft.authorityHost ?? 'https://login.microsoftonline.com').origin;
    const signal = AbortSignal.timeout(config.timeouts.requestMs);
    const tokenResponse = await config.fetch(`${authority}/${encodeURIComponent(tenant)}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: microsoft.clientId,
        client_secret: microsoft.clientSecret,
        scope: GRAPH_DEFAULT_SCOPE,
      }),
      signal,
    });
    const token = (await tokenResponse.json().catch(() => ({}))) as { access_token?: string; error?: string; error_description?: string };
    if (!tokenResponse.ok || !token.access_token) {
      const description = token.error_description ?? `HTTP ${tokenResponse.status}`;
      const known = TOKEN_REFUSALS.find(([pattern]) => pattern.test(description));
      if (known)
        return fail(
          `Client credentials in tenant ${tenant} failed: ${known[1].replace('{tenant}', tenant)}.`,
          `${known[2].replace(/^./, (c) => c.toUpperCase())}.`,
        );
      return fail(
        `Client credentials in tenant ${tenant} failed: ${token.error ?? 'error'} (${description.split(' Trace ID')[0]}).`,
        'Check the app registration and the tenant’s consent.',
      );
    }
    const roles = rolesOf(token.access_token);
    const missing = missingRoles(microsoft.mode ?? 'full', roles);
    if (missing.length > 0) {
      return fail(
        `Tenant ${tenant} granted the app ${roles.length > 0 ? roles.join(', ') : 'no application permissions'}; mode ${microsoft.mode ?? 'full'} also needs ${missing.join(', ')}.`,
        `Add the application permission(s) ${missing.join(', ')} to the app registration, then have an admin of the tenant consent again.`,
      );
    }
    const sendNote = roles.includes('Mail.Send') ? '' : ' (no Mail.Send: replies from org mailboxes will be refused)';
    if (!microsoft.orgSampleMailbox) {
      return warn(
        `Client credentials work in tenant ${tenant}; roles ${roles.join(', ')}${sendNote}. No sample mailbox given, so the access policy was not checked.`,
        'Set MICROSOFT_ORG_SAMPLE_MAILBOX to a mailbox the app should reach.',
      );
    }
    const graph = new URL(microsoft.graphBaseUrl ?? 'https://graph.microsoft.com').origin;
    const mailbox = microsoft.orgSampleMailbox;
    const probe = await config.fetch(`${graph}/v1.0/users/${encodeURIComponent(mailbox)}/mailFolders/inbox?$select=id`, {
      headers: { authorization: `Bearer ${token.access_token}` },
      signal,
    });
    if (probe.ok) return pass(`Client credentials work in tenant ${tenant}; roles ${roles.join(', ')}${sendNote}; ${mailbox} is reachable.`);
    const error = ((await probe.json().catch(() => ({}))) as { error?: { code?: string; message?: string } }).error;
    if (probe.status === 403 && ACCESS_POLICY.test(error?.message ?? '')) {
      return fail(
        `${mailbox} is outside the mailboxes tenant ${tenant} lets the app reach (its Exchange application access policy or RBAC for Applications scope refused it).`,
        `Ask the tenant’s Exchange admin to add ${mailbox} to the mail-enabled security group named in New-ApplicationAccessPolicy (or to the management scope of the app’s role assignment), or pick a mailbox inside it.`,
      );
    }
    if (probe.status === 404) return fail(`Tenant ${tenant} has no mailbox ${mailbox}.`, 'Use the address of an existing, licensed mailbox of that tenant.');
    return fail(
      `Reading ${mailbox}'s Inbox answered ${probe.status} ${error?.code ?? ''}: ${error?.message ?? ''}`.trim(),
      'Check the app’s application permissions in that tenant.',
    );
  },
};
