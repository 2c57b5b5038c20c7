// An organization connected by admin consent, for adapter-level tests (issue 19): the emulated
// tenant (an admin, users, a group, two shared mailboxes), the consent round trip through the
// real msal-node, and org mailbox connections whose ProviderSessions carry a hand-built grant
// (what core's tl.org.* builds in production).
import type { Connection, OrgCredentials } from '@threadlink/core';
import { silentLogger } from '@threadlink/core';
import { systemClock, type MailboxGrant, type OrgGrant, type ProviderSession } from '@threadlink/core/provider';
import { makeConnection } from '@threadlink/testing';
import type { Connected, Harness } from './support.js';

export const ADMIN = 'ana@contoso.com';
export const BEN = 'ben@contoso.com';
export const CARA = 'cara@contoso.com';
export const DAN = 'dan@contoso.com';
export const SALES = 'sales@contoso.com';
export const SUPPORT = 'support@contoso.com';
export const REDIRECT_URI = 'http://127.0.0.1:9/threadlink/connect/org/callback';

export interface Tenant {
  groupId: string;
}

export function seedTenant(harness: Harness): Tenant {
  const ms = harness.ms;
  for (const email of [ADMIN, BEN, CARA, DAN]) ms.addMailbox({ email });
  ms.org.makeAdmin(ADMIN);
  ms.org.addSharedMailbox({ email: SALES, name: 'Sales' });
  ms.org.addSharedMailbox({ email: SUPPORT, name: 'Support' });
  const nested = ms.org.addGroup('Field team', [CARA]);
  return { groupId: ms.org.addGroup('Sales team', [BEN], [nested]) };
}

/** The org's grant as core would unseal it: credentials kept in memory, every update recorded. */
export function orgGrant(directoryId: string, credentials: OrgCredentials): OrgGrant & { updates: OrgCredentials[] } {
  const updates: OrgCredentials[] = [];
  const grant = {
    orgId: 'org-1',
    directoryId,
    credentials,
    updates,
    async updateCredentials(next: OrgCredentials) {
      updates.push(next);
      grant.credentials = next;
    },
    logger: silentLogger,
    clock: systemClock,
  };
  return grant;
}

/** Admin consent through the emulator's consent page, then completeAdminConsent: the org's grant. */
export async function consentAsAdmin(harness: Harness): Promise<ReturnType<typeof orgGrant>> {
  const organization = harness.provider.organization;
  if (!organization?.adminConsentUrl || !organization.completeAdminConsent) throw new Error('outlookProvider has no admin consent');
  const url = await organization.adminConsentUrl({ state: 'state-1', redirectUri: REDIRECT_URI });
  const redirect = new URL(await harness.ms.authorize(url, { email: ADMIN }));
  const result = await organization.completeAdminConsent(redirect.searchParams, { redirectUri: REDIRECT_URI, logger: silentLogger, clock: systemClock });
  return orgGrant(result.directoryId, result.credentials);
}

/** Opens a mailbox of the org and makes it a live connection acted on through `session.grant`. */
export async function connectOrgMailbox(harness: Harness, grant: OrgGrant, email: string, kind: 'user' | 'shared'): Promise<Connected> {
  const organization = harness.provider.organization;
  if (!organization) throw new Error('outlookProvider has no organization support');
  const [mailbox] = await organization.listMailboxes(grant, {
    all: false,
    groups: [],
    mailboxes: kind === 'user' ? [email] : [],
    shared: kind === 'shared' ? [email] : [],
  });
  if (!mailbox) throw new Error(`${email} is not in the directory`);
  const opened = await organization.openMailbox(grant, mailbox);
  if (!opened.ok) throw new Error(`${email} could not be opened: ${opened.reason}`);
  const connection: Connection = makeConnection({
    tenantId: 't1',
    userId: 'u1',
    provider: 'outlook',
    accountEmail: mailbox.email,
    displayName: mailbox.displayName,
    status: 'connecting',
    sealedTokens: JSON.stringify(opened.tokens),
    scopes: opened.scopes,
    shared: true,
    orgId: grant.orgId,
    mailboxId: mailbox.id,
    mailboxKind: mailbox.kind,
  });
  harness.connections.set(connection.id, connection);
  const connected = grantedSession(harness, connection, grant);
  const subscribed = await harness.provider.subscribe(connected.session);
  connection.subscription = subscribed.subscription;
  connection.cursor = subscribed.cursor;
  connection.status = 'live';
  return connected;
}

/** A ProviderSession for an org mailbox connection: tokens are the mailbox's last app token, `grant` names the mailbox. */
export function grantedSession(harness: Harness, connection: Connection, grant: OrgGrant): Connected {
  const base = harness.sessionFor(connection);
  const mailboxGrant: MailboxGrant = {
    get orgId() {
      return grant.orgId;
    },
    get directoryId() {
      return grant.directoryId;
    },
    get credentials() {
      return grant.credentials;
    },
    updateCredentials: (next) => grant.updateCredentials(next),
    logger: grant.logger,
    clock: grant.clock,
    mailbox: connection.mailboxId as string,
  };
  const session: ProviderSession = { ...base.session, grant: mailboxGrant };
  return { ...base, session };
}
