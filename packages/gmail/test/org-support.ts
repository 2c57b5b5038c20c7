// An emulated Google Workspace domain with domain-wide delegation, for the adapter-level
// organization tests: the admin, users (one suspended), a shared user account (sales@), groups
// (team@ with a nested group, support@ a collaborative inbox), a service account whose client id
// the admin authorised for the Gmail and Directory scopes, and mailbox sessions built the way core
// builds them for an org connection (`session.grant`).
import type { Connection, MailProvider, ProviderTokens } from '@threadlink/core';
import type { MailboxGrant, OrganizationSupport } from '@threadlink/core/provider';
import { makeConnection, type GmailEmulator, type ServiceAccountKeyFile } from '@threadlink/testing';
import { capturingLogger, providerFor, realClock, sessionFor, startGoogle, type CapturedLogger, type TestSession } from './support.js';

export const DOMAIN = 'acme.test';
export const ADMIN = `admin@${DOMAIN}`;
export const ANA = `ana@${DOMAIN}`;
export const BOB = `bob@${DOMAIN}`;
export const CAROL = `carol@${DOMAIN}`;
export const SALES = `sales@${DOMAIN}`;
export const SUPPORT_GROUP = `support@${DOMAIN}`;
export const CLIENT = 'client@bigco.test';

const GOOGLE = 'https://www.googleapis.com/auth/';
/** What the admin pastes into the Admin console for a full-mode host (the README's list). */
export const CONSOLE_SCOPES = [
  `${GOOGLE}gmail.readonly`,
  `${GOOGLE}gmail.send`,
  `${GOOGLE}admin.directory.user.readonly`,
  `${GOOGLE}admin.directory.group.member.readonly`,
];

export interface OrgScene {
  google: GmailEmulator;
  provider: MailProvider;
  org: OrganizationSupport;
  key: ServiceAccountKeyFile;
  logger: CapturedLogger;
  grant(mailbox: string): MailboxGrant;
  /** A mailbox connection's session as core builds it: `grant` set, the tokens openMailbox returned. */
  session(mailbox: string, tokens: ProviderTokens): TestSession;
  close(): Promise<void>;
}

export async function orgScene(options: { scopes?: string[] } = {}): Promise<OrgScene> {
  const google = await startGoogle({ workspaceDomain: DOMAIN });
  const { workspace } = google;
  workspace.addUser({ email: ADMIN, name: 'Ada Admin', isAdmin: true });
  workspace.addUser({ email: ANA, name: 'Ana Lima' });
  workspace.addUser({ email: BOB, name: 'Bob Stone' });
  workspace.addUser({ email: CAROL, name: 'Carol Gone', suspended: true });
  workspace.addUser({ email: SALES, name: 'Sales' });
  workspace.addGroup({ email: `ops@${DOMAIN}`, members: [{ email: BOB, type: 'USER' }] });
  workspace.addGroup({
    email: `team@${DOMAIN}`,
    members: [
      { email: ANA, type: 'USER' },
      { email: `ops@${DOMAIN}`, type: 'GROUP' },
    ],
  });
  workspace.addGroup({ email: SUPPORT_GROUP, members: [{ email: ANA, type: 'USER' }] });
  google.addMailbox({ email: CLIENT });
  const key = await workspace.createServiceAccount('threadlink-sync');
  workspace.authorizeDelegation(key.client_id, options.scopes ?? CONSOLE_SCOPES);
  const provider = providerFor(google);
  const org = provider.organization;
  if (!org) throw new Error('gmailProvider has no organization support');
  const logger = capturingLogger();
  const credentials = {
    kind: 'google-service-account' as const,
    clientEmail: key.client_email,
    privateKey: key.private_key,
    privateKeyId: key.private_key_id,
    adminEmail: ADMIN,
  };
  const grant = (mailbox: string): MailboxGrant => ({
    orgId: 'org_acme',
    directoryId: DOMAIN,
    credentials,
    updateCredentials: async () => {},
    logger,
    clock: realClock,
    mailbox,
  });
  return {
    google,
    provider,
    org,
    key,
    logger,
    grant,
    session: (mailbox, tokens) => ({ ...sessionFor(connectionOf(mailbox), tokens, { logger }), grant: grant(mailbox) }),
    close: () => google.close(),
  };
}

function connectionOf(mailbox: string): Connection {
  return makeConnection({
    id: `conn_${mailbox.replace(/\W/g, '_')}`,
    tenantId: 't1',
    userId: 'u-admin',
    accountEmail: mailbox,
    scopes: [],
    shared: mailbox === SALES,
    orgId: 'org_acme',
    mailboxId: mailbox,
    mailboxKind: mailbox === SALES ? 'shared' : 'user',
  });
}
