// Demo mode: the customer organization "Acme" as its Google Workspace admin set it up — users,
// two shared mailboxes (sales@ and projects@, licensed user accounts several people sign in to),
// a Google Group (support@, which has no Gmail mailbox of its own), and a service account whose
// client id the admin authorised for domain-wide delegation. Its mail includes client mail, some
// of it copied to Ana's personal mailbox, so the client panel shows one entry for a thread both saw.
import type { GmailEmulator, ServiceAccountKeyFile } from '@threadlink/testing';

/**
 * The Workspace primary domain of the demo organization. Ana's own Gmail (ana@acme.example) stays
 * out of its directory: an org that selects a mailbox already connected by its user takes that
 * connection over (same connection id), and the demo shows personal and org mailboxes side by side.
 */
export const DEMO_ORG_DOMAIN = 'acme.example';
const ADMIN = `it@${DEMO_ORG_DOMAIN}`;

/** What the "Connect your organization" form is pre-filled with in demo mode, per provider. */
export interface DemoOrganization {
  /** Google: the Workspace primary domain. Microsoft: the tenant's mail domain (shown only). */
  domain: string;
  /** Google: the admin the Directory API impersonates. Microsoft: who signs in on the admin-consent page. */
  adminEmail: string;
  /** Google: the service-account key file's JSON, as the Cloud console downloads it (an emulator key). */
  serviceAccountKey?: string;
  /** Microsoft: the security group whose members the demo syncs (a group is chosen by object id). */
  group?: { id: string; name: string };
  users: string[];
  shared: string[];
}

const USERS = [
  { email: ADMIN, name: 'Ivo Tran', isAdmin: true },
  { email: `mia@${DEMO_ORG_DOMAIN}`, name: 'Mia Chen' },
  { email: `leo@${DEMO_ORG_DOMAIN}`, name: 'Leo Park' },
];
const SHARED = [
  { email: `sales@${DEMO_ORG_DOMAIN}`, name: 'Acme Sales' },
  { email: `projects@${DEMO_ORG_DOMAIN}`, name: 'Acme Projects' },
];
const GROUP = `support@${DEMO_ORG_DOMAIN}`;

// What the admin pastes into the Admin console for a full-mode host (packages/gmail/README.md).
const DELEGATED_SCOPES = ['gmail.readonly', 'gmail.send', 'admin.directory.user.readonly', 'admin.directory.group.member.readonly'].map(
  (scope) => `https://www.googleapis.com/auth/${scope}`,
);

const DAY = 24 * 3600_000;

interface SharedMail {
  from: string;
  to: string;
  cc?: string;
  subject: string;
  text: string;
  date: Date;
  mailbox?: string;
}

/**
 * The organization's client mail, for either provider's domain: one message to sales@ with Ana's own
 * mailbox (`ana`) in copy — both get a copy, the client panel shows one thread — one only in
 * projects@, and a Northwind quote request only in sales@.
 */
export function sharedMail(domain: string, ana: string, now: number): SharedMail[] {
  const sales = `sales@${domain}`;
  const projects = `projects@${domain}`;
  return [
    {
      from: 'Bianca Ortiz <client@bigco.com>',
      to: `Acme Sales <${sales}>`,
      cc: `Ana Ruiz <${ana}>`,
      subject: 'PRJ-1042 – invoice address for the commissioning work',
      text: 'Hello,\n\nPlease send the PRJ-1042 invoices to accounts@bigco.com from now on.\n\nBianca',
      date: new Date(now - 4 * DAY),
    },
    {
      from: 'Pete Marsh <pm@bigco.com>',
      to: `Acme Projects <${projects}>`,
      subject: 'Loop check photos – PRJ-1042',
      text: 'Photos of the loop checks are in the shared folder.',
      date: new Date(now - DAY),
      mailbox: projects,
    },
    {
      from: 'Nora West <ops@northwind.example>',
      to: `Acme Sales <${sales}>`,
      subject: 'Quote request: spare pumps',
      text: 'Could you quote two spare pumps for PRJ-2077?',
      date: new Date(now - 2 * DAY),
      mailbox: sales,
    },
  ];
}

/** Sets the organization up in the Gmail emulator (started with workspaceDomain DEMO_ORG_DOMAIN). */
export async function seedDemoOrganization(gmail: GmailEmulator, input: { seedHistory: boolean; now: number }): Promise<DemoOrganization> {
  const { workspace } = gmail;
  for (const user of [...USERS, ...SHARED]) workspace.addUser(user);
  workspace.addGroup({ email: GROUP, members: USERS.map((user) => ({ email: user.email, type: 'USER' as const })) });
  const key: ServiceAccountKeyFile = await workspace.createServiceAccount('threadlink-sync');
  workspace.authorizeDelegation(key.client_id, DELEGATED_SCOPES);
  if (input.seedHistory) for (const message of sharedMail(DEMO_ORG_DOMAIN, `ana@${DEMO_ORG_DOMAIN}`, input.now)) await gmail.deliver(message);
  return {
    domain: DEMO_ORG_DOMAIN,
    adminEmail: ADMIN,
    serviceAccountKey: JSON.stringify(key, null, 2),
    users: USERS.map((user) => user.email),
    shared: SHARED.map((mailbox) => mailbox.email),
  };
}
