// The Outlook side of the mail panel in a real Chromium (issue 18): a client's message archived in
// Outlook stays on the client's panel, and its folder chip reads "Archive" — the folder's name as
// the page shows it, not the normalised folder value — and a user folder shows by its own name.
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { connectDemoMailbox, nextEvent, postJson, startTestApp } from './support/app.js';
import { chromiumAvailability, launchChromium, type Browser } from './support/browser.js';

const availability = chromiumAvailability();
const SUBJECT = 'Archived quote – PRJ-1042';
const FILED = 'Filed site plan – PRJ-1042';

const thread = (page: Page, subject: string): Locator =>
  page.locator('#threads .thread').filter({ has: page.locator('.thread-subject', { hasText: subject }) });

/** The folder and label chips of a thread's first message, as the page shows them. */
async function chipsOf(page: Page, subject: string): Promise<string[]> {
  const row = thread(page, subject).locator('.thread-row');
  if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
  const list = thread(page, subject).locator('.message').first().getByRole('list', { name: 'Folder and labels' });
  return list.getByRole('listitem').allTextContents();
}

describe.skipIf(!availability.run)('the Outlook mail panel in Chromium', () => {
  let app: App;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    app = await startTestApp({ demo: { seedHistory: false } });
    await connectDemoMailbox(app, 'outlook');
    await app.tl.idle();
    for (const subject of [SUBJECT, FILED]) {
      const matched = nextEvent(app, 'message.matched', ({ message }) => message.subject === subject);
      expect((await postJson(app, '/api/demo/send', { provider: 'outlook', from: 'client@bigco.com', subject, text: 'See attached.' })).status).toBe(202);
      await matched;
    }
    // Archived (one click in Outlook), and another filed into a user folder made after connect.
    const graph = app.demo!.graph;
    const mailbox = app.demo!.mailboxes.outlook;
    const find = (subject: string) => graph.messages(mailbox).find((message) => message.subject === subject)!.immutableId;
    const archived = nextEvent(app, 'message.synced', ({ message }) => message.subject === SUBJECT && message.folder === 'archive');
    graph.moveMessage(mailbox, find(SUBJECT), 'archive');
    await graph.flushNotifications();
    await archived;
    const siteFolder = graph.createFolder(mailbox, 'Site plans');
    const filed = nextEvent(app, 'message.synced', ({ message }) => message.subject === FILED && message.labels.includes(siteFolder));
    graph.moveMessage(mailbox, find(FILED), siteFolder);
    await graph.flushNotifications();
    await filed;
    await app.tl.idle();
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.setViewportSize({ width: 1440, height: 960 });
    await page.goto(`${app.url}/#/client/bigco`);
    await thread(page, SUBJECT).waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('keeps the archived client message on the client panel with its folder shown as "Archive", and a user folder by its name', async () => {
    expect(await chipsOf(page, SUBJECT)).toEqual(['Archive']);
    await thread(page, FILED).waitFor();
    expect(await chipsOf(page, FILED)).toEqual(['Site plans']);
  });
});
