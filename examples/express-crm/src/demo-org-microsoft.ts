// Demo mode: the customer organization "Acme" in the emulated Microsoft 365 tenant — an admin who
// can grant admin consent, users, two shared mailboxes (sales@, projects@: no sign-in of their own),
// the "CRM team" security group, and an Exchange application access policy that leaves
// archive@ (a member of the group) out, so the roll-up has a problem to report in plain words.
import type { GraphEmulator } from '@threadlink/testing';
import { sharedMail, type DemoOrganization } from './demo-org.js';

const DOMAIN = 'acme-outlook.example';
const ADMIN = `it@${DOMAIN}`;
const TEAM = [ADMIN, `leo@${DOMAIN}`, `mia@${DOMAIN}`];
/** In the CRM team group, but outside the app's access policy: reported as forbidden. */
const OUTSIDE_POLICY = `archive@${DOMAIN}`;
const SHARED = [
  { email: `sales@${DOMAIN}`, name: 'Acme Sales' },
  { email: `projects@${DOMAIN}`, name: 'Acme Projects' },
];
const GROUP_NAME = 'CRM team';

/** Sets the organization up in the Graph emulator; `ana` is the demo user's own Outlook mailbox. */
export async function seedMicrosoftOrganization(graph: GraphEmulator, input: { ana: string; seedHistory: boolean; now: number }): Promise<DemoOrganization> {
  for (const email of [...TEAM, OUTSIDE_POLICY]) graph.addMailbox({ email });
  graph.org.makeAdmin(ADMIN);
  for (const mailbox of SHARED) graph.org.addSharedMailbox(mailbox);
  const groupId = graph.org.addGroup(GROUP_NAME, [...TEAM, OUTSIDE_POLICY]);
  // The admin scoped the app (New-ApplicationAccessPolicy) to the team and the shared mailboxes.
  graph.org.restrictAppAccess([...TEAM, ...SHARED.map((mailbox) => mailbox.email)]);
  if (input.seedHistory) for (const message of sharedMail(DOMAIN, input.ana, input.now)) await graph.deliver(message);
  return {
    domain: DOMAIN,
    adminEmail: ADMIN,
    group: { id: groupId, name: GROUP_NAME },
    users: [...TEAM, OUTSIDE_POLICY],
    shared: SHARED.map((mailbox) => mailbox.email),
  };
}
