// The page, in a real Chromium, against the whole app in demo mode: connect through the
// emulator's consent page, watch a client's email arrive without reloading, read it, reply in
// the thread, check matching keeps other projects' mail out, disconnect and see it all go.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { startTestApp } from './support/app.js';
import { chromiumAvailability, launchChromium, SCREENSHOT_DIRECTORY, type Browser } from './support/browser.js';

const availability = chromiumAvailability();
if (!availability.run) console.warn(`Skipping the browser tests: ${availability.reason}`);

const PROVIDERS = [
  { id: 'gmail', name: 'Gmail', approve: 'Allow' },
  { id: 'outlook', name: 'Outlook', approve: 'Accept' },
] as const;

const CHANGE_REQUEST = 'Change request – PRJ-1042';

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOT_DIRECTORY, `${name}.png`), fullPage: true });
}

/** The thread with this subject in the mail panel. */
const thread = (page: Page, subject: string) => page.locator('#threads .thread').filter({ has: page.locator('.thread-subject', { hasText: subject }) });

/** Opens a collapsed thread row (threads start collapsed, like a CRM's activity panel). */
async function expand(threadLocator: ReturnType<typeof thread>): Promise<void> {
  const row = threadLocator.locator('.thread-row');
  if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
  await threadLocator.locator('.thread-body').waitFor();
}

async function openRecord(page: Page, label: string): Promise<void> {
  await page.locator('.record-list a', { has: page.locator('.record-label', { hasText: new RegExp(`^${label}$`) }) }).click();
  await page.locator('#record-title', { hasText: label }).waitFor();
  // Attached, not visible: an empty list has no height.
  await page.locator('#threads[aria-busy="false"]').waitFor({ state: 'attached' });
}

async function clientSends(page: Page, provider: string, from: string, subject: string, text: string): Promise<void> {
  const form = page.locator('#demo-send-form');
  await form.getByLabel("Into Ana's").selectOption(provider);
  await form.getByLabel('From', { exact: true }).fill(from);
  await form.getByLabel('Subject').fill(subject);
  await form.getByLabel('Message', { exact: true }).fill(text);
  await form.getByRole('button', { name: 'Client sends an email' }).click();
}

/** Throws if the document was reloaded since `markNoReload`. */
async function assertNotReloaded(page: Page): Promise<void> {
  expect(await page.evaluate(() => (window as unknown as { noReloadMarker?: string }).noReloadMarker)).toBe('still here');
}

describe.skipIf(!availability.run)('the CRM page in Chromium', () => {
  let app: App;
  let browser: Browser;

  beforeAll(async () => {
    // Seeded history makes the connect step a real back-fill, as in `pnpm demo`.
    app = await startTestApp({ demo: { seedHistory: true } });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  for (const provider of PROVIDERS) {
    it(`connects ${provider.name}, shows a client's email live on the client and its project, reads it, replies in-thread and forgets everything on disconnect`, async () => {
      const page = await browser.context.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(`${app.url}/#/client/bigco`);
      await page.locator('#record-title', { hasText: 'BigCo' }).waitFor();
      await page.locator('#empty-state', { hasText: 'Connect a mailbox' }).waitFor();
      await screenshot(page, `${provider.id}-01-not-connected`);

      // Two clicks: the connect button, then approve on the (emulated) provider's consent page.
      await page.getByRole('button', { name: `Connect ${provider.name}` }).click();
      await page.getByRole('button', { name: provider.approve }).waitFor();
      await screenshot(page, `${provider.id}-02-consent-page`);
      // A slow provider keeps the back-fill running long enough to watch its progress bar.
      const faults = provider.id === 'gmail' ? app.demo!.gmail.faults : app.demo!.graph.faults;
      faults.latencyMs = 400;
      await page.getByRole('button', { name: provider.approve }).click();
      // Back on the page the user left, with the mailbox connected.
      await page.waitForURL((url) => url.origin === app.url && url.hash === '#/client/bigco');
      const connection = page.locator(`.connection[data-provider="${provider.id}"]`);
      await connection.waitFor();
      await page.locator('.notice', { hasText: `${provider.name} connected` }).waitFor();
      await connection.locator('.status', { hasText: 'Back-filling' }).waitFor();
      await connection.getByRole('progressbar', { name: `${provider.name} back-fill progress` }).waitFor();
      await screenshot(page, `${provider.id}-03a-backfilling`);
      // The mailbox's health drawer says what is going on in words, with the back-fill's progress.
      await connection.getByRole('button', { name: new RegExp(`^Mailbox health: ${provider.name}`) }).click();
      const drawer = page.getByRole('dialog', { name: new RegExp(`^${provider.name} · `) });
      await drawer.getByText('Importing older mail').waitFor();
      expect(await drawer.getByTestId('backfill-summary').textContent()).toMatch(/^\d+ (of \d+ )?messages/);
      await screenshot(page, `${provider.id}-03b-health-drawer-backfilling`);
      await page.keyboard.press('Escape');
      await drawer.waitFor({ state: 'hidden' });
      faults.latencyMs = 0;
      // The back-fill brings the seeded history; the status ends live.
      await connection.locator('.status', { hasText: 'Live' }).waitFor({ timeout: 30_000 });
      await thread(page, 'Kick-off – PRJ-1042 commissioning').waitFor();
      await screenshot(page, `${provider.id}-03-connected-backfilled`);

      await page.evaluate(() => ((window as unknown as { noReloadMarker: string }).noReloadMarker = 'still here'));

      // The client writes; it shows up in BigCo's panel by push + Server-Sent Events.
      await clientSends(page, provider.id, 'client@bigco.com', CHANGE_REQUEST, 'Hi Ana,\n\nCould we add a second loop check on Thursday?\n\nBianca');
      const changeRequest = thread(page, CHANGE_REQUEST);
      await changeRequest.waitFor();
      await assertNotReloaded(page);
      expect(await changeRequest.locator('.message-from').first().textContent()).toContain('client@bigco.com');
      await screenshot(page, `${provider.id}-04-client-panel-live`);

      // …and on the work order it names, with the reason it was matched.
      await openRecord(page, 'PRJ-1042');
      await changeRequest.waitFor();
      await assertNotReloaded(page);
      await expand(changeRequest);
      const reason = await changeRequest.locator('.match-chip').first().textContent();
      expect(reason).toMatch(/PRJ-1042/);
      expect(reason).toMatch(/reference/);

      // The body is fetched on demand and shown in a sandboxed frame.
      await changeRequest.getByRole('button', { name: 'Show message' }).first().click();
      const frame = changeRequest.locator('iframe.body-frame');
      const text = changeRequest.locator('pre.body-text');
      await frame.or(text).first().waitFor();
      const bodyText =
        (await frame.count()) > 0 ? await changeRequest.frameLocator('iframe.body-frame').locator('body').textContent() : await text.textContent();
      expect(bodyText).toContain('second loop check on Thursday');
      if ((await frame.count()) > 0) expect(await frame.getAttribute('sandbox')).toBe('');
      await screenshot(page, `${provider.id}-05-project-panel-body`);

      // A reply goes out from Ana's mailbox and lands in the same thread.
      await changeRequest.getByRole('button', { name: 'Reply', exact: true }).click();
      await changeRequest.getByLabel(/^Reply to /).fill('Thursday works — adding the second loop check.');
      await changeRequest.getByRole('button', { name: 'Send reply' }).click();
      await changeRequest.locator('.message', { has: page.locator('.direction', { hasText: 'Sent' }) }).waitFor();
      const messages = changeRequest.locator('.message');
      expect(await messages.count()).toBe(2);
      expect(await messages.nth(1).locator('.message-from').textContent()).toContain(app.demo!.mailboxes[provider.id]);
      expect(
        await page
          .locator('#threads .thread')
          .filter({ has: page.locator('.thread-subject', { hasText: CHANGE_REQUEST }) })
          .count(),
      ).toBe(1);
      await screenshot(page, `${provider.id}-06-replied-in-thread`);

      // Another project's mail appears on that project and not on PRJ-1042.
      await clientSends(page, provider.id, 'ops@northwind.example', 'PRJ-2077 pressure test results', 'All lines held pressure for 2 hours.');
      await openRecord(page, 'PRJ-2077');
      await thread(page, 'PRJ-2077 pressure test results').waitFor();
      await openRecord(page, 'PRJ-1042');
      await changeRequest.waitFor();
      expect(await thread(page, 'PRJ-2077 pressure test results').count()).toBe(0);
      await assertNotReloaded(page);

      // Disconnect: the page says what was deleted, and the panels are empty.
      await connection.getByRole('button', { name: /^Disconnect / }).click();
      await connection.getByRole('button', { name: `Yes, disconnect ${provider.name}` }).click();
      const report = page.locator('.notice', { hasText: `Disconnected ${provider.name}` });
      await report.waitFor();
      expect(await report.textContent()).toMatch(/Deleted [1-9]\d* message records, [1-9]\d* record links, 1 mailbox connection/);
      await page.locator('#empty-state:not([hidden])').waitFor();
      expect(await page.locator('#threads .thread').count()).toBe(0);
      await openRecord(page, 'BigCo');
      await page.locator('#empty-state:not([hidden])').waitFor();
      expect(await page.locator('#threads .thread').count()).toBe(0);
      expect(await page.locator(`.connection[data-provider="${provider.id}"]`).count()).toBe(0);
      await screenshot(page, `${provider.id}-07-disconnected`);

      expect(pageErrors).toEqual([]);
      await page.close();
    });
  }
});
