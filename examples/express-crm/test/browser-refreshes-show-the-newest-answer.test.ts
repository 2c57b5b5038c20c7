// Events make the page reload a view while an earlier reload of the same view is still on its
// way, and the answers can come back out of order (a refresh begun mid-purge answering after a
// later one). In a real Chromium, the network is made to do exactly that: the page's request for
// a view is answered by the server at once (the data as it was then) but handed to the page only
// after a newer load of the same view has rendered. The page must keep showing the newer data —
// the timeline of a record, the mailbox's status, its health drawer and the exclusions list.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { nextEvent, postJson, startConnectedDemo } from './support/app.js';
import { chromiumAvailability, launchChromium, type Browser } from './support/browser.js';
import { thread } from './support/page.js';

const availability = chromiumAvailability();

const KICKOFF = 'Kick-off – PRJ-1042 commissioning';
const LATE = 'Valve list for the loop check – PRJ-1042';
const EXCLUDED = 'news@partner.example';
const HELD_HEADER = 'x-held-answer';

// Counts, in the page, the held answers its script has read: the page reads every answer with
// response.json() and acts on it in the promise reactions that follow, before any later task,
// so a test that sees the name here knows the page has already done what it does with it.
const RECORD_READS = `
  window.heldAnswersRead = [];
  const read = Response.prototype.json;
  Response.prototype.json = function () {
    const result = read.call(this);
    const name = this.headers.get('${HELD_HEADER}');
    if (name) {
      const mark = () => window.heldAnswersRead.push(name);
      result.then(mark, mark);
    }
    return result;
  };
`;

interface HeldAnswer {
  /** Resolves once the server has answered (the answer holds the data as it was then). */
  fetched: Promise<void>;
  /** Hands the answer to the page and resolves once the page's script has read it. */
  release(): Promise<void>;
}

/** Holds the answer to the page's next request for `url` (a glob) until `release()`; later requests pass. */
async function holdNextAnswer(page: Page, url: string, name: string): Promise<HeldAnswer> {
  let fetched!: () => void;
  let release!: () => void;
  const answered = new Promise<void>((resolve) => (fetched = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  let holding = false;
  await page.route(url, async (route) => {
    if (holding) return route.fallback();
    holding = true;
    const response = await route.fetch();
    fetched();
    await released;
    await route.fulfill({ response, headers: { ...response.headers(), [HELD_HEADER]: name } });
  });
  return {
    fetched: answered,
    async release() {
      release();
      await page.waitForFunction((held) => (window as unknown as { heldAnswersRead: string[] }).heldAnswersRead.includes(held), name);
    },
  };
}

describe.skipIf(!availability.run)('a view reloaded twice shows the newer answer in Chromium', () => {
  let app: App;
  let browser: Browser;
  const pageErrors: string[] = [];

  /** A fresh page that records which held answers its script has read; not yet navigated. */
  async function newPage(): Promise<Page> {
    const page = await browser.context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.addInitScript(RECORD_READS);
    return page;
  }

  beforeAll(async () => {
    app = await startConnectedDemo();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("keeps the record's newer timeline when an older refresh of the same record answers last", async () => {
    const page = await newPage();
    await page.goto(`${app.url}/#/project/PRJ-1042`);
    await thread(page, KICKOFF).waitFor();
    await page.locator('#threads[aria-busy="false"]').waitFor({ state: 'attached' });

    // Refresh one: re-running matching reloads the timeline, as it stands before the new mail.
    const older = await holdNextAnswer(page, '**/api/records/project/PRJ-1042/timeline', 'older timeline');
    await page.getByRole('button', { name: 'Re-run matching', exact: true }).click();
    await older.fetched;
    // Refresh two: new mail on the record arrives live and is shown.
    const matched = nextEvent(app, 'message.matched', ({ message }) => message.subject === LATE);
    const sent = await postJson(app, '/api/demo/send', { provider: 'gmail', from: 'client@bigco.com', subject: LATE, text: 'The valve list.' });
    expect(sent.status).toBe(202);
    await matched;
    await thread(page, LATE).waitFor();

    // Refresh one answers last, without the new mail: the page keeps what refresh two showed.
    await older.release();
    expect(await thread(page, LATE).count()).toBe(1);
    expect(await page.locator('#threads').getAttribute('aria-busy')).toBe('false');
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it("keeps a mailbox's newer status, health drawer and exclusions when older loads answer last", async () => {
    const page = await newPage();
    // The page's first load of the mailboxes is held; it loads them again when its event stream
    // opens, and that load renders them, so the page is usable meanwhile.
    const firstConnections = await holdNextAnswer(page, '**/api/connections', 'older connections');
    await page.goto(`${app.url}/#/client/northwind`);
    const mailbox = page.locator('.connection[data-provider="gmail"]');
    await mailbox.locator('.status', { hasText: 'Live' }).waitFor();
    const panel = page.getByRole('region', { name: 'Keep mail out' });
    await panel.waitFor();
    await firstConnections.fetched;

    // The health drawer opens on a healthy mailbox; its report is held.
    const olderHealth = await holdNextAnswer(page, '**/api/connections/*/health', 'older health');
    await mailbox.getByRole('button', { name: /^Mailbox health: Gmail/ }).click();
    await olderHealth.fetched;
    const olderExclusions = await holdNextAnswer(page, '**/api/policy', 'older exclusions');

    // The grant is revoked: the event reloads the mailboxes (shown as needing a re-auth), the open
    // drawer and the exclusions list, whose answer is held too.
    app.demo!.gmail.revokeTokens(app.demo!.mailboxes.gmail);
    const connectionId = (await mailbox.getAttribute('data-connection-id'))!;
    const revoked = nextEvent(app, 'connection.needs_reauth', (payload) => payload.connection.id === connectionId);
    expect((await postJson(app, `/api/connections/${connectionId}/sync`)).status).toBe(202);
    await revoked;
    await mailbox.locator('.status', { hasText: 'Needs re-auth' }).waitFor();
    const drawer = page.getByRole('dialog', { name: 'Gmail · ana@acme.example' });
    await drawer.locator('[data-verdict="needs_reauth"]').waitFor();
    await olderExclusions.fetched;

    // The healthy report answers last: the drawer keeps saying the mailbox needs a re-auth.
    await olderHealth.release();
    expect(await drawer.locator('.health-verdict').getAttribute('data-verdict')).toBe('needs_reauth');
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'hidden' });

    // The user excludes an address; the list loaded before it answers last, without it.
    await panel.getByLabel('Address or domain').fill(EXCLUDED);
    await panel.getByRole('button', { name: 'Exclude' }).click();
    const rules = panel.getByRole('list', { name: 'Excluded addresses and domains' }).getByRole('listitem');
    await rules.filter({ hasText: EXCLUDED }).waitFor();
    await olderExclusions.release();
    expect(await rules.allTextContents()).toEqual([`${EXCLUDED}Remove`]);

    // The mailboxes as they were at page load answer last: the status stays "Needs re-auth".
    await firstConnections.release();
    expect(await mailbox.locator('.status').textContent()).toBe('Needs re-auth');
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
