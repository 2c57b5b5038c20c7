// "Connect your organization" in a real Chromium, Microsoft 365 (application permissions): the
// admin goes through the identity emulator's admin-consent page (relayed on the app's origin) and
// comes back through tl.handler's /connect/org/callback; the "CRM team" group's mailboxes and the
// two shared mailboxes go live in the background, the shared mailboxes' client mail shows on the
// client panel beside Ana's own Outlook, one entry per thread; the roll-up reports archive@ (in the
// group, outside the Exchange application access policy) in plain words; once the admin includes
// it, "Sync directory now" opens it; "Disconnect organization" stops and purges every org mailbox.
import { describe, expect, it } from 'vitest';
import { orgMailboxes } from './support/app.js';
import { seriousViolations } from './support/axe.js';
import { chromiumAvailability } from './support/browser.js';
import { connectedDemo, layoutProblems, screenshot, thread } from './support/page.js';

const availability = chromiumAvailability();

const DOMAIN = 'acme-outlook.example';
const INVOICE = 'PRJ-1042 – invoice address for the commissioning work'; // to sales@, Ana's Outlook in copy
const PHOTOS = 'Loop check photos – PRJ-1042'; // only in projects@
const KICKOFF = 'Kick-off – PRJ-1042 commissioning'; // only in Ana's own mailbox
const TEAM_AND_SHARED = [`it@${DOMAIN}`, `leo@${DOMAIN}`, `mia@${DOMAIN}`, `projects@${DOMAIN}`, `sales@${DOMAIN}`];

describe.skipIf(!availability.run)('Connect your organization (Microsoft 365) in Chromium', () => {
  const demo = connectedDemo('outlook', { path: '/#/client/bigco', subject: KICKOFF, width: 1280 });

  it('an admin approves once on the admin-consent page; the group and shared mailboxes go live and archive@ is reported', async () => {
    await demo.panel.getByRole('button', { name: 'Connect your organization' }).click();
    await demo.panel.getByLabel('Microsoft 365').check();
    // No key or domain for Microsoft: the admin signs in on Microsoft's page instead.
    expect(await demo.panel.getByLabel('Service-account key (JSON)').isVisible()).toBe(false);
    // Demo mode pre-selects the "CRM team" group (by object id) and the two shared mailboxes.
    expect(await demo.panel.getByLabel('The members of a group').isChecked()).toBe(true);
    expect(await demo.panel.getByLabel('Group object ID').inputValue()).toBe(demo.app.demo!.organization.outlook.group!.id);
    expect(await demo.panel.getByLabel('Shared mailboxes').inputValue()).toBe(`sales@${DOMAIN}, projects@${DOMAIN}`);
    await demo.panel.getByRole('button', { name: 'Continue to Microsoft' }).click();

    // The identity emulator's admin-consent page, served on the app's origin by the demo relay.
    await demo.page.getByRole('heading', { name: 'Permissions requested' }).waitFor();
    expect(new URL(demo.page.url()).pathname).toMatch(/\/v2\.0\/adminconsent$/);
    await screenshot(demo.page, 'org-microsoft-consent');
    await demo.page.getByLabel('Email address').fill(`it@${DOMAIN}`);
    await demo.page.getByRole('button', { name: 'Accept' }).click();

    await demo.page.locator('.notice', { hasText: 'Microsoft 365 organization connected' }).waitFor();
    expect(new URL(demo.page.url()).search).toBe('');
    expect(new URL(demo.page.url()).hash).toBe('#/client/bigco');
    await demo.app.tl.idle();
    expect(await orgMailboxes(demo.app)).toEqual(TEAM_AND_SHARED);
    await demo.page.reload();
    const org = demo.panel.getByRole('article', { name: 'Your Microsoft 365 organization · Microsoft 365' });
    await org.waitFor();
    // The tenant id is there for support, under the name an admin recognises.
    expect(await org.locator('.org-directory').textContent()).toBe(`Tenant ${demo.app.demo!.graph.tenantId}`);
    expect(await org.getByTestId('org-status').textContent()).toBe('Active');
    expect(await org.getByTestId('org-counts').textContent()).toMatch(/^5 mailboxes: /);
    expect(await org.getByRole('region', { name: 'Problems' }).getByRole('listitem').allTextContents()).toEqual([
      `archive@${DOMAIN} is outside what your admin lets this app read (an access policy or the delegation leaves it out). Ask the admin to include it, then sync the directory.`,
    ]);
    expect(await org.locator(`.org-mailbox[data-email="projects@${DOMAIN}"]`).textContent()).toMatch(/Shared mailbox/);
    expect(await demo.page.locator('#connections .connection-account').allTextContents()).toEqual([`ana@${DOMAIN}`]);
  });

  it("shows the shared mailboxes' client mail on the client panel, one entry per thread, with the mailbox it came from", async () => {
    await thread(demo.page, PHOTOS).waitFor();
    expect(await thread(demo.page, PHOTOS).locator('.thread-mailbox').textContent()).toBe(`Outlook · projects@${DOMAIN} · shared mailbox`);
    expect(await thread(demo.page, INVOICE).count()).toBe(1);
    expect(await thread(demo.page, KICKOFF).locator('.thread-mailbox').textContent()).toBe(`Outlook · ana@${DOMAIN}`);
  });

  for (const width of [390, 1440]) {
    it(`lays the Microsoft roll-up out at ${width} px without sideways scrolling, with no serious axe violation`, async () => {
      await demo.page.setViewportSize({ width, height: 900 });
      await demo.page.reload();
      await demo.panel.getByRole('article').waitFor();
      expect(await layoutProblems(demo.page)).toEqual([]);
      await screenshot(demo.page, `org-microsoft-rollup-${width}`);
      expect(await seriousViolations(demo.page, demo.app.url)).toEqual([]);
    });
  }

  it('once the admin includes archive@ in the access policy, "Sync directory now" opens it and the problem is gone', async () => {
    demo.app.demo!.graph.org.restrictAppAccess(null);
    const org = demo.panel.getByRole('article');
    await org.getByRole('button', { name: 'Sync directory now' }).click();
    const notice = demo.page.locator('.notice', { hasText: 'Directory of Your Microsoft 365 organization synced' });
    await notice.waitFor();
    expect(await notice.textContent()).toContain(`Added: archive@${DOMAIN}.`);
    await org.locator(`.org-mailbox[data-email="archive@${DOMAIN}"]`).waitFor();
    expect(await org.getByRole('region', { name: 'Problems' }).count()).toBe(0);
  });

  it("disconnects the organization: its mail leaves the panel, Ana's own Outlook stays", async () => {
    const org = demo.panel.getByRole('article');
    await org.getByRole('button', { name: 'Disconnect organization' }).click();
    await org.getByRole('button', { name: 'Yes, disconnect the organization' }).click();
    await demo.page.locator('.notice', { hasText: 'Stopped syncing 6 mailboxes' }).waitFor();
    await thread(demo.page, PHOTOS).waitFor({ state: 'detached' });
    expect(await thread(demo.page, INVOICE).locator('.thread-mailbox').textContent()).toBe(`Outlook · ana@${DOMAIN}`);
    expect(await orgMailboxes(demo.app)).toEqual([]);
    expect(demo.app.demo!.graph.subscriptions().every((subscription) => subscription.mailbox === `ana@${DOMAIN}`)).toBe(true);
    expect(demo.pageErrors).toEqual([]);
  });
});
