// "Draft a reply" and "People you email who are not in the CRM", in a real Chromium: someone the
// CRM does not know writes, Ana answers, they write back — the page lists them (above a one-way
// newsletter), one click adds them to the CRM and their whole conversation appears on the new
// contact's panel; "Draft a reply" hands the thread's clean context (quotes and signatures gone) to
// the host's draft function and its text lands in the reply box for Ana to edit. No serious axe
// violation on the way.
import type { DraftContext } from '@threadlink/core';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { startConnectedDemo } from './support/app.js';
import { seriousViolations } from './support/axe.js';
import { chromiumAvailability, launchChromium, openPage, type Browser } from './support/browser.js';

const availability = chromiumAvailability();
const DANA = 'Dana Diaz <dana@harbor-energy.example>';
const SUBJECT = 'Site survey at the harbour';

const thread = (page: Page, subject: string): Locator =>
  page.locator('#threads .thread').filter({ has: page.locator('.thread-subject', { hasText: subject }) });

describe.skipIf(!availability.run)('drafting and contact discovery in Chromium', () => {
  let app: App;
  let browser: Browser;
  let page: Page;
  const contexts: DraftContext[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    app = await startConnectedDemo({
      // The host's "LLM": proves what it is handed, and answers from it.
      draft: (context) => {
        contexts.push(context);
        return `Hi Dana,\n\nAbout "${context.messages.at(-1)?.text}": Tuesday at 9 it is.\n\nAna`;
      },
    });
    const gmail = app.demo!.gmail;
    const ana = app.demo!.mailboxes.gmail;
    const first = await gmail.deliver({
      from: DANA,
      to: ana,
      subject: SUBJECT,
      date: new Date(Date.now() - 3 * 3600_000),
      text: 'Hi Ana,\n\nCould your team survey our harbour site next week?\n\n--\nDana Diaz\nHarbor Energy | +1 555 0199',
      mailbox: ana,
    });
    const answer = await gmail.deliver({
      from: `Ana Ruiz <${ana}>`,
      to: DANA,
      subject: `Re: ${SUBJECT}`,
      text: `Yes, Tuesday works for us.\n\nOn Mon, Dana Diaz <dana@harbor-energy.example> wrote:\n> Could your team survey our harbour site next week?`,
      threadId: first.threadId,
      inReplyTo: first.messageId,
      date: new Date(Date.now() - 2 * 3600_000),
      mailbox: ana,
    });
    await gmail.deliver({
      from: DANA,
      to: ana,
      subject: `Re: ${SUBJECT}`,
      html: '<div>Great, see you Tuesday at 9.</div><div>-- <br>Dana Diaz<br>Harbor Energy</div><blockquote>Yes, Tuesday works for us.</blockquote>',
      threadId: first.threadId,
      inReplyTo: answer.messageId,
      date: new Date(Date.now() - 3600_000),
      mailbox: ana,
    });
    await gmail.flushNotifications();
    await app.tl.idle();
    browser = await launchChromium();
    page = await openPage(browser, `${app.url}/#/client/bigco`, pageErrors);
    await page.locator('#people-list .person').first().waitFor();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('lists people Ana writes with but the CRM lacks, two-way first, with no serious accessibility violation', async () => {
    const people = page.locator('#people-list .person');
    expect(await people.first().getAttribute('data-address')).toBe('dana@harbor-energy.example');
    expect(await people.first().locator('.person-name').textContent()).toBe('Dana Diaz');
    expect(await people.first().locator('.person-activity').textContent()).toBe('2 from them · 1 from you');
    const addresses = await people.evaluateAll((items) => items.map((item) => item.getAttribute('data-address')));
    // The seeded newsletter only ever wrote: it ranks below Dana. Known clients are not listed.
    expect(addresses).toContain('news@industry-weekly.example');
    expect(addresses.indexOf('news@industry-weekly.example')).toBeGreaterThan(0);
    expect(addresses).not.toContain('client@bigco.com');
    expect(await seriousViolations(page, app.url)).toEqual([]);
  });

  it('adds a suggested person to the CRM in one click and shows their whole conversation on the new contact', async () => {
    await page.getByRole('button', { name: 'Add to CRM: Dana Diaz' }).click();
    await page.locator('#record-title', { hasText: 'Dana Diaz' }).waitFor();
    expect(await page.locator('#clients-list .record-label', { hasText: 'Dana Diaz' }).count()).toBe(1);
    const conversation = thread(page, SUBJECT);
    await conversation.waitFor();
    expect(await conversation.locator('.thread-count').getAttribute('aria-label')).toBe('3 messages');
    await page.locator('#people-list .person[data-address="dana@harbor-energy.example"]').waitFor({ state: 'detached' });
    expect(await app.crm.contactsByEmail('t', ['dana@harbor-energy.example'])).toHaveLength(1);
  });

  it('drafts a reply from the clean thread into the reply box, to edit before sending', async () => {
    const conversation = thread(page, SUBJECT);
    const row = conversation.locator('.thread-row');
    if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
    await conversation.getByRole('button', { name: 'Reply', exact: true }).click();
    await conversation.getByRole('button', { name: 'Draft a reply' }).click();
    const box = conversation.locator('.reply-form textarea');
    await expect.poll(() => box.inputValue()).toBe('Hi Dana,\n\nAbout "Great, see you Tuesday at 9.": Tuesday at 9 it is.\n\nAna');
    expect(await box.evaluate((element) => element === document.activeElement)).toBe(true);
    // What the host's function was handed: the three messages, oldest first, only what each added.
    const [context] = contexts;
    expect(context?.messages.map((message) => [message.direction, message.text])).toEqual([
      ['inbound', 'Hi Ana,\n\nCould your team survey our harbour site next week?'],
      ['outbound', 'Yes, Tuesday works for us.'],
      ['inbound', 'Great, see you Tuesday at 9.'],
    ]);
    expect(context?.budget.maxCharacters).toBe(12_000);
    // Nothing of it was kept by the page.
    expect(await page.evaluate(() => localStorage.length + sessionStorage.length)).toBe(0);
    expect(await seriousViolations(page, app.url)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
