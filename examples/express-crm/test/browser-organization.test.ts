// "Connect your organization" in a real Chromium, Google Workspace (domain-wide delegation with
// the demo emulator's service-account key): the admin connects the org once; the shared
// mailboxes' client mail appears on the client panel beside Ana's own mailbox, one entry for a
// thread both saw, with the mailbox it came from on the row; the roll-up shows the status, the
// mailboxes by state, a problem in plain words (a Google Group chosen as a shared mailbox) and a
// row per mailbox; "Sync directory now" picks up a user who joined and drops one who left;
// "Disconnect organization" stops every org mailbox and deletes its rows, Ana's own mail stays.
// The panel holds together at 390, 1280 and 1440 px with no serious axe-core violation.
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { connectDemoMailbox, orgMailboxes, startTestApp } from './support/app.js';
import { seriousViolations } from './support/axe.js';
import { chromiumAvailability, launchChromium, type Browser } from './support/browser.js';
import { layoutProblems, screenshot, thread } from './support/page.js';

const availability = chromiumAvailability();

const INVOICE = 'PRJ-1042 – invoice address for the commissioning work'; // to sales@, Ana in copy
const PHOTOS = 'Loop check photos – PRJ-1042'; // only in projects@
const KICKOFF = 'Kick-off – PRJ-1042 commissioning'; // only in Ana's own mailbox
const ADMIN_SCOPE = { tenantId: loadConfig({ THREADLINK_LOG: 'silent' }).tenantId, as: 'admin' } as const;

describe.skipIf(!availability.run)('Connect your organization (Google Workspace) in Chromium', () => {
  let app: App;
  let browser: Browser;
  let page: Page;
  let panel: Locator;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    app = await startTestApp({ demo: { seedHistory: true } });
    await connectDemoMailbox(app, 'gmail');
    await app.tl.idle();
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.setViewportSize({ width: 1440, height: 960 });
    await page.goto(`${app.url}/#/client/bigco`);
    await thread(page, KICKOFF).waitFor();
    panel = page.getByRole('region', { name: 'Your organization' });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('connects the organization with the key the admin gave, and reports a group chosen as a shared mailbox in plain words', async () => {
    // Before: the shared mailboxes' mail is nowhere, and Ana's copy of the invoice thread is hers.
    expect(await thread(page, PHOTOS).count()).toBe(0);
    await panel.getByRole('button', { name: 'Connect your organization' }).click();
    // Demo mode pre-fills what the emulated Workspace admin handed over.
    expect(await panel.getByLabel('Primary domain').inputValue()).toBe('acme.example');
    expect(await panel.getByLabel('Admin email').inputValue()).toBe('it@acme.example');
    expect(JSON.parse(await panel.getByLabel('Service-account key (JSON)').inputValue())).toMatchObject({ type: 'service_account' });
    // "Every user" needs no addresses; "The members of a group" asks for the group's.
    expect(await panel.getByLabel('Group address').isVisible()).toBe(false);
    await panel.getByLabel('The members of a group').check();
    expect(await panel.getByLabel('Group address').isVisible()).toBe(true);
    await panel.getByLabel('Every user').check();
    await panel.getByLabel('Shared mailboxes').fill('sales@acme.example, projects@acme.example, support@acme.example');
    await panel.getByRole('button', { name: 'Connect organization' }).click();

    const notice = page.locator('.notice', { hasText: 'Connected acme.example' });
    await notice.waitFor();
    expect(await notice.textContent()).toContain('Added: it@acme.example, leo@acme.example, mia@acme.example, projects@acme.example, sales@acme.example.');
    const org = panel.getByRole('article', { name: /acme\.example · Google Workspace/ });
    await org.waitFor();
    expect(await panel.locator('#org-form').isVisible()).toBe(false);
    expect(await panel.getByRole('button', { name: 'Connect your organization' }).isVisible()).toBe(false);
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
    expect(await page.locator('#connections .connection-account').allTextContents()).toEqual(['ana@acme.example']);
    expect(await orgMailboxes(app)).toEqual(['it@acme.example', 'leo@acme.example', 'mia@acme.example', 'projects@acme.example', 'sales@acme.example']);
    await screenshot(page, 'org-connected');
  });

  it("shows the shared mailboxes' client mail on the client panel, one entry per thread, with the mailbox it came from", async () => {
    await app.tl.idle();
    await page.reload();
    await thread(page, PHOTOS).waitFor();
    expect(await thread(page, PHOTOS).locator('.thread-mailbox').textContent()).toBe('Gmail · projects@acme.example · shared mailbox');
    // sales@ and Ana's own mailbox both hold the invoice thread: one row.
    expect(await thread(page, INVOICE).count()).toBe(1);
    expect(await thread(page, INVOICE).locator('.thread-mailbox').textContent()).toMatch(/^Gmail · (sales@acme\.example · shared mailbox|ana@acme\.example)$/);
    expect(await thread(page, KICKOFF).locator('.thread-mailbox').textContent()).toBe('Gmail · ana@acme.example');
    // Northwind's quote request went to sales@ only.
    await page.goto(`${app.url}/#/client/northwind`);
    await thread(page, 'Quote request: spare pumps').waitFor();
  });

  for (const width of [390, 1280, 1440]) {
    it(`lays the roll-up out at ${width} px without sideways scrolling, with no serious axe violation`, async () => {
      await page.setViewportSize({ width, height: 900 });
      await page.goto(`${app.url}/#/client/bigco`);
      await page.locator('#threads[aria-busy="false"]').waitFor({ state: 'attached' });
      await panel.getByRole('article').waitFor();
      expect(await layoutProblems(page)).toEqual([]);
      await panel.scrollIntoViewIfNeeded();
      await screenshot(page, `org-rollup-${width}`);
      expect(await seriousViolations(page, app.url)).toEqual([]);
    });
  }

  it('"Sync directory now" picks up a user who joined and offboards one who left', async () => {
    await page.setViewportSize({ width: 1440, height: 960 });
    const workspace = app.demo!.gmail.workspace;
    workspace.addUser({ email: 'nina@acme.example', name: 'Nina Holm' });
    workspace.removeUser('leo@acme.example');
    const org = panel.getByRole('article');
    await org.getByRole('button', { name: 'Sync directory now' }).click();
    const notice = page.locator('.notice', { hasText: 'Directory of acme.example synced' });
    await notice.waitFor();
    expect(await notice.textContent()).toContain('Added: nina@acme.example.');
    expect(await notice.textContent()).toContain('Removed (their stored mail deleted): leo@acme.example.');
    await org.locator('.org-mailbox[data-email="nina@acme.example"]').waitFor();
    expect(await org.locator('.org-mailbox[data-email="leo@acme.example"]').count()).toBe(0);
    expect(await orgMailboxes(app)).toEqual(['it@acme.example', 'mia@acme.example', 'nina@acme.example', 'projects@acme.example', 'sales@acme.example']);
  });

  it("disconnects the organization: every org mailbox stops and its mail leaves the panel, Ana's own stays", async () => {
    const org = panel.getByRole('article');
    await org.getByRole('button', { name: 'Disconnect organization' }).click();
    await org.getByRole('button', { name: 'Yes, disconnect the organization' }).click();
    const notice = page.locator('.notice', { hasText: 'Disconnected acme.example' });
    await notice.waitFor();
    expect(await notice.textContent()).toContain('Stopped syncing 5 mailboxes and deleted their stored mail data.');
    await panel.getByRole('article').waitFor({ state: 'detached' });
    await panel.getByRole('button', { name: 'Connect your organization' }).waitFor();
    await thread(page, PHOTOS).waitFor({ state: 'detached' });
    // The invoice thread is still Ana's: her own copy was never the org's.
    expect(await thread(page, INVOICE).locator('.thread-mailbox').textContent()).toBe('Gmail · ana@acme.example');
    expect(await orgMailboxes(app)).toEqual([]);
    expect(await app.tl.org.list(ADMIN_SCOPE)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
