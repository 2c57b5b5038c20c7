// The Outlook adapter passes the MailProvider conformance suite for organization mailboxes too:
// each case's mailboxes are users of the emulated tenant, acted on with application permissions
// (client-credentials tokens from msal-node, Graph paths `/users/{id}`), not the user's consent.
//
// Test-only path (until core's `tl.org.connect.start` + `/connect/org/callback` are merged): the
// world connects the org with `tl.org.connect.direct`, and `adminConsentAsDirectConnect` gives the
// adapter a `connectDirect` that does what the callback route will do — the tenant admin completes the
// emulator's real `/adminconsent` page and the adapter's own `completeAdminConsent` verifies the
// redirect and returns the org's credentials. Everything after the consent is production code.
//
// The app is also granted the `Mail.ReadWrite` application permission (the README's option for
// draft replies with the sent id). With the least-privilege set alone replies go direct (`/reply`,
// 202 without an id) and `tl.messages.reply` answers with a `pending-` id that is never stored, which
// the suite's reply cases refuse: a known gap of direct replies (delegated `replies: 'direct'` too).
import { memoryStore } from '@threadlink/storage-memory';
import { adminConsentAsDirectConnect, graphConformanceDriver, type GraphConformanceDriver } from '@threadlink/testing';
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
  makeProvider: (driver) => adminConsentAsDirectConnect(outlookProvider({ ...driver.emulator.providerOptions }), (url) => driver.consentAsAdmin(url)),
  makeStore: () => memoryStore(),
});
