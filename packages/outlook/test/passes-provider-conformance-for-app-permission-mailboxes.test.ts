// The Outlook adapter passes the MailProvider conformance suite for organization mailboxes too:
// each case's mailboxes are users of the emulated tenant, acted on with application permissions
// (client-credentials tokens from msal-node, Graph paths `/users/{id}`), not the user's consent.
//
// The org is connected as a host does it: `tl.org.connect.start`, the tenant admin approving on the
// emulator's `/adminconsent` page, the admin's browser back at `/connect/org/callback`.
//
// The app is also granted the `Mail.ReadWrite` application permission (the README's option for
// draft replies with the sent id). With the least-privilege set alone replies go direct (`/reply`,
// 202 without an id) and `tl.messages.reply` answers with a `pending-` id that is never stored, which
// the suite's reply cases refuse: a known gap of direct replies (delegated `replies: 'direct'` too).
import { memoryStore } from '@threadlink/storage-memory';
import { graphConformanceDriver, type GraphConformanceDriver } from '@threadlink/testing';
import { runProviderConformance } from '@threadlink/testing/provider-conformance';
import { outlookProvider } from '../src/index.js';

const APP_ROLES = ['Mail.ReadBasic.All', 'Mail.Read.All', 'Mail.ReadWrite', 'Mail.Send', 'User.Read.All', 'GroupMember.Read.All'];

async function tenantDriver(): Promise<GraphConformanceDriver> {
  const driver = await graphConformanceDriver({ organization: true });
  driver.emulator.org.configureAppRoles(APP_ROLES);
  return driver;
}

runProviderConformance({
  name: 'outlook (application permissions)',
  emulator: tenantDriver,
  makeProvider: ({ emulator }) => outlookProvider({ ...emulator.providerOptions }),
  makeStore: () => memoryStore(),
});
