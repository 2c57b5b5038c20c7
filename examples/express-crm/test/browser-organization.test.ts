// "Connect your organization" in a real Chromium, Google Workspace (domain-wide delegation with
// the demo emulator's service-account key): the admin connects the org once; the shared
// mailboxes' client mail appears on the client panel beside Ana's own mailbox, one entry for a
// thread both saw, with the mailbox it came from on the row; the roll-up shows the status, the
// mailboxes by state, a problem in plain words (a Google Group chosen as a shared mailbox) and a
// row per mailbox; "Sync directory now" picks up a user who joined and drops one who left;
// "Disconnect organization" stops every org mailbox and deletes its rows, Ana's own mail stays.
// The panel holds together at 390, 1280 and 1440 px with no serious axe-core violation.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { orgMailboxes } from './support/app.js';
import { seriousViolations } from './support/axe.js';
import { chromiumAvailability } from './support/browser.js';
import { connectedDemo, layoutProblems, screenshot, thread } from './support/page.js';

const availability = chromiumAvailability();

const INVOICE = 'PRJ-1042 – invoice address for the commissioning work'; // to sales@, Ana in copy
const PHOTOS = 'Loop check photos – PRJ-1042'; // only in projects@
const KICKOFF = 'Kick-off – PRJ-1042 commissioning'; // only in Ana's own mailbox
const ADMIN_SCOPE = { tenantId: loadConfig({ THREADLINK_LOG: 'silent' }).tenantId, as: 'admin' } as const;

describe.skipIf(!availability.run)('Connect your organization (Google Workspace) in Chromium', () => {
  const demo = connectedDemo('gmail', { path: '/#/client/bigco', subject: KICKOFF, width: 1440 });

  it('connects the organization with the key the admin gave, and reports a group chosen as a shared mailbox in plain words', async () => {
    // Before: the shared mailboxes' mail is nowhere, and Ana's copy of the invoice thread is hers.
    expect(await thread(demo.page, PHOTOS).count()).toBe(0);
    await demo.panel.getByRole('button', { name: 'Connect your organization' }).click();
    // Demo mode pre-fills what the emulated Workspace admin handed over.
    expect(await demo.panel.getByLabel('Primary domain').inputValue()).toBe('acme.example');
    expect(await demo.panel.getByLabel('Admin email').inputValue()).toBe('it@acme.example');
    expect(JSON.parse(await demo.panel.getByLabel('Service-account key (JSON)').inputValue())).toMatchObject({ type: 'service_account' });
    // "Every user" needs no addresses; "The members of a group" asks for the group's.
    expect(await demo.panel.getByLabel('Group address').isVisible()).toBe(false);
    await demo.panel.getByLabel('The members of a group').check();
    expect(await demo.panel.getByLabel('Group address').isVisible()).toBe(true);
    await demo.panel.getByLabel('Every user').check();
    await demo.panel.getByLabel('Shared mailboxes').fill('sales@acme.example, projects@acme.example, support@acme.example');
    await demo.panel.getByRole('button', { name: 'Connect organization' }).click();

    const notice = demo.page.locator('.notice', { hasText: 'Connected acme.example' });
    await notice.waitFor();
    expect(await notice.textContent()).toContain('Added: it@acme.example, leo@acme.example, mia@acme.example, projects@acme.example, sales@acme.example.');
    const org = demo.panel.getByRole('article', { name: /acme\.example · Google Workspace/ });
    await org.waitFor();
    expect(await demo.panel.locator('#org-form').isVisible()).toBe(false);
    expect(await demo.panel.getByRole('button', { name: 'Connect your organization' }).isVisible()).toBe(false);
    expect(await org.getByTestId('org-status').textContent()).toBe('Active');
    expect(await org.getByTestId('org-counts').textContent()).toMatch(/^5 mailboxes: /);
    const problems = org.getByRole('region', { name: 'Problems' });
    expect(await problems.getByRole('heading').textContent()).toBe('Problems (1)');
    expect(await problems.getByRole('listitem').textContent()).toBe(
      "support@acme.example has no mailbox in the organization's directory. A group or collaborative inbox has none of its own: choose it as a group instead, or check the address.",
    );
    const rows = org.getByRole('list', { name: 'Mailboxes of the organization' }).getByRole('listitem');
    expect(await rows.count()).toBe(5);
    expect(await org.locator('.org-mailbox[data-email="sales@acme.example"]').textContent()).toMatch(/^sales@acme\.exampleShared mailbox/);
    expect(await org.locator('.org-mailbox[data-email="leo@acme.example"]').textContent()).toMatch(/^leo@acme\.examplePerson/);
    // The header keeps listing only Ana's own mailbox.
    expect(await demo.page.locator('#connections .connection-account').allTextContents()).toEqual(['ana@acme.example']);
    expect(await orgMailboxes(demo.app)).toEqual(['it@acme.example', 'leo@acme.example', 'mia@acme.example', 'projects@acme.example', 'sales@acme.example']);
    await screenshot(demo.page, 'org-connected');
  });

  it("shows the shared mailboxes' client mail on the client panel, one entry per thread, with the mailbox it came from", async () => {
    await demo.app.tl.idle();
    await demo.page.reload();
    await thread(demo.page, PHOTOS).waitFor();
    expect(await thread(demo.page, PHOTOS).locator('.thread-mailbox').textContent()).toBe('Gmail · projects@acme.example · shared mailbox');
    // sales@ and Ana's own mailbox both hold the invoice thread: one row.
    expect(await thread(demo.page, INVOICE).count()).toBe(1);
    expect(await thread(demo.page, INVOICE).locator('.thread-mailbox').textContent()).toMatch(
      /^Gmail · (sales@acme\.example · shared mailbox|ana@acme\.example)$/,
    );
    expect(await thread(demo.page, KICKOFF).locator('.thread-mailbox').textContent()).toBe('Gmail · ana@acme.example');
    // Northwind's quote request went to sales@ only.
    await demo.page.goto(`${demo.app.url}/#/client/northwind`);
    await thread(demo.page, 'Quote request: spare pumps').waitFor();
  });

  for (const width of [390, 1280, 1440]) {
    it(`lays the roll-up out at ${width} px without sideways scrolling, with no serious axe violation`, async () => {
      await demo.page.setViewportSize({ width, height: 900 });
      await demo.page.goto(`${demo.app.url}/#/client/bigco`);
      await demo.page.locator('#threads[aria-busy="false"]').waitFor({ state: 'attached' });
      await demo.panel.getByRole('article').waitFor();
      expect(await layoutProblems(demo.page)).toEqual([]);
      await demo.panel.scrollIntoViewIfNeeded();
      await screenshot(demo.page, `org-rollup-${width}`);
      expect(await seriousViolations(demo.page, demo.app.url)).toEqual([]);
    });
  }

  it('"Sync directory now" picks up a user who joined and offboards one who left', async () => {
    await demo.page.setViewportSize({ width: 1440, height: 960 });
    const workspace = demo.app.demo!.gmail.workspace;
    workspace.addUser({ email: 'nina@acme.example', name: 'Nina Holm' });
    workspace.removeUser('leo@acme.example');
    const org = demo.panel.getByRole('article');
    await org.getByRole('button', { name: 'Sync directory now' }).click();
    const notice = demo.page.locator('.notice', { hasText: 'Directory of acme.example synced' });
    await notice.waitFor();
    expect(await notice.textContent()).toContain('Added: nina@acme.example.');
    expect(await notice.textContent()).toContain('Removed (their stored mail deleted): leo@acme.example.');
    await org.locator('.org-mailbox[data-email="nina@acme.example"]').waitFor();
    expect(await org.locator('.org-mailbox[data-email="leo@acme.example"]').count()).toBe(0);
    expect(await orgMailboxes(demo.app)).toEqual(['it@acme.example', 'mia@acme.example', 'nina@acme.example', 'projects@acme.example', 'sales@acme.example']);
  });

  it("disconnects the organization: every org mailbox stops and its mail leaves the panel, Ana's own stays", async () => {
    const org = demo.panel.getByRole('article');
    await org.getByRole('button', { name: 'Disconnect organization' }).click();
    await org.getByRole('button', { name: 'Yes, disconnect the organization' }).click();
    const notice = demo.page.locator('.notice', { hasText: 'Disconnected acme.example' });
    await notice.waitFor();
    expect(await notice.textContent()).toContain('Stopped syncing 5 mailboxes and deleted their stored mail data.');
    await demo.panel.getByRole('article').waitFor({ state: 'detached' });
    await demo.panel.getByRole('button', { name: 'Connect your organization' }).waitFor();
    await thread(demo.page, PHOTOS).waitFor({ state: 'detached' });
    // The invoice thread is still Ana's: her own copy was never the org's.
    // The panel re-renders as the purge's events arrive: wait for the render after the last one.
    const mailbox = thread(demo.page, INVOICE).locator('.thread-mailbox');
    await mailbox.filter({ hasText: /^Gmail · ana@acme\.example$/ }).waitFor();
    expect(await mailbox.textContent()).toBe('Gmail · ana@acme.example');
    expect(await orgMailboxes(demo.app)).toEqual([]);
    expect(await demo.app.tl.org.list(ADMIN_SCOPE)).toEqual([]);
    expect(demo.pageErrors).toEqual([]);
  });
});
