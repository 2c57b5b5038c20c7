// The "Keep mail out" panel in a real Chromium: the user excludes an address, the mail it covers
// disappears from the panels with the purge report shown, new mail from it never arrives, an
// invalid rule reads as a sentence with the fix, removing the exclusion brings the mail back —
// and the panel passes axe-core with no serious violation.
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { postJson, startConnectedDemo } from './support/app.js';
import { seriousViolations } from './support/axe.js';
import { chromiumAvailability, launchChromium, openPage, type Browser } from './support/browser.js';

const availability = chromiumAvailability();

const BADGES = 'Site access badges for your crew';
const PROPOSAL = 'Q-2291 proposal – signed';

const thread = (page: Page, subject: string): Locator =>
  page.locator('#threads .thread').filter({ has: page.locator('.thread-subject', { hasText: subject }) });

/** Every stored row of the user's mailboxes, as text (the policy itself is not part of an export). */
async function storedText(app: App): Promise<string> {
  const scope = { tenantId: loadConfig({ THREADLINK_LOG: 'silent' }).tenantId, as: 'admin' } as const;
  const rows: unknown[] = [];
  for (const connection of await app.tl.connections.list(scope)) for await (const record of app.tl.connections.export(connection.id, scope)) rows.push(record);
  return JSON.stringify(rows);
}

describe.skipIf(!availability.run)('the Keep mail out panel in Chromium', () => {
  let app: App;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    app = await startConnectedDemo();
    browser = await launchChromium();
    page = await openPage(browser, `${app.url}/#/client/bigco`, pageErrors);
    await thread(page, BADGES).waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('excludes an address: its mail leaves the panel and the store, with the purge report, and new mail from it never lands', async () => {
    expect(await storedText(app)).toContain('pm@bigco.com');
    const panel = page.getByRole('region', { name: 'Keep mail out' });
    await panel.getByLabel('Address or domain').fill('PM@bigco.com');
    await panel.getByRole('button', { name: 'Exclude' }).click();
    await panel
      .getByRole('status')
      .filter({ hasText: /Excluded pm@bigco\.com\. Removed \d+ stored messages? and \d+ record links? from the CRM\./ })
      .waitFor();
    await thread(page, BADGES).waitFor({ state: 'detached' });
    expect(await thread(page, PROPOSAL).count()).toBe(1);
    expect(await panel.locator('#exclusions li').allTextContents()).toEqual(['pm@bigco.comRemove']);
    expect(await storedText(app)).not.toContain('pm@bigco.com');

    expect(
      (await postJson(app, '/api/demo/send', { provider: 'gmail', from: 'pm@bigco.com', subject: 'Crew list for Tuesday', text: 'Attached.' })).status,
    ).toBe(202);
    await app.tl.idle();
    expect(await storedText(app)).not.toContain('Crew list for Tuesday');
    expect(await seriousViolations(page, app.url)).toEqual([]);
  });

  it('refuses an invalid rule with a sentence that says what to write', async () => {
    const panel = page.getByRole('region', { name: 'Keep mail out' });
    await panel.getByLabel('Address or domain').fill('bigco');
    await panel.getByRole('button', { name: 'Exclude' }).click();
    const alert = page.locator('.notice[data-error-code="POLICY_INVALID"]');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('Write an address (name@example.com), a domain (example.com)');
    expect(await panel.locator('#exclusions li').count()).toBe(1);
  });

  it('removing the exclusion brings the mail back by re-sync', async () => {
    const panel = page.getByRole('region', { name: 'Keep mail out' });
    await panel.getByRole('button', { name: 'Remove pm@bigco.com' }).click();
    await panel.getByRole('status').filter({ hasText: 'pm@bigco.com is no longer excluded' }).waitFor();
    await app.tl.idle();
    await page.reload();
    await thread(page, BADGES).waitFor();
    expect(await storedText(app)).toContain('Crew list for Tuesday');
    expect(pageErrors).toEqual([]);
  });
});
