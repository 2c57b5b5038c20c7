// The mail panel as a CRM user meets it, in a real Chromium: threads are collapsed rows that open
// by click or keyboard, a reply box opens on demand and sends in the thread, the match chip
// explains why a message is on the record and lets the user unlink it (it leaves the panel,
// re-matching does not bring it back, Undo does), link it elsewhere, "New email" sends a new
// conversation filed on the record, an attachment opens as a download, a mailbox's health drawer
// says how it is doing in words, a cancelled consent reads as a sentence with a fix — and the page
// holds together at 390, 1280 and 1440 px with no serious accessibility violation (axe-core).
import { readFile } from 'node:fs/promises';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { nextEvent, postJson, startConnectedDemo } from './support/app.js';
import { seriousViolations } from './support/axe.js';
import { chromiumAvailability, launchChromium, openPage, type Browser } from './support/browser.js';
import { layoutProblems, screenshot, thread } from './support/page.js';

const availability = chromiumAvailability();

const REPLY_SUBJECT = 'Loop check schedule – PRJ-1042';
const UNLINK_SUBJECT = 'Commissioning photos – PRJ-1042';

async function openRecord(page: Page, label: string): Promise<void> {
  await page.locator('.record-list a', { has: page.locator('.record-label', { hasText: new RegExp(`^${label}$`) }) }).click();
  await page.locator('#record-title', { hasText: label }).waitFor();
  await page.locator('#threads[aria-busy="false"]').waitFor({ state: 'attached' });
}

/** Opens a collapsed thread row, if it is not open yet. */
async function expand(threadLocator: Locator): Promise<void> {
  const row = threadLocator.locator('.thread-row');
  if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
  await threadLocator.locator('.thread-body').waitFor();
}

describe.skipIf(!availability.run)('the mail panel in Chromium', () => {
  let app: App;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    app = await startConnectedDemo();
    for (const subject of [REPLY_SUBJECT, UNLINK_SUBJECT]) {
      const matched = nextEvent(app, 'message.matched', ({ message }) => message.subject === subject);
      expect((await postJson(app, '/api/demo/send', { provider: 'gmail', from: 'client@bigco.com', subject, text: `About ${subject}.` })).status).toBe(202);
      await matched;
    }
    await app.tl.idle();
    // A user label made in Gmail after connect, on the fresh message: the page shows it by name.
    const gmail = app.demo!.gmail;
    const mailbox = app.demo!.mailboxes.gmail;
    const keyClient = gmail.createLabel(mailbox, 'Key client');
    const fresh = gmail.messages(mailbox).find((message) => message.subject === REPLY_SUBJECT)!;
    const labelled = nextEvent(app, 'message.synced', ({ message }) => message.labels.includes(keyClient));
    gmail.modifyLabels(mailbox, fresh.id, [keyClient], []);
    await labelled;
    await app.tl.idle();
    browser = await launchChromium();
    page = await openPage(browser, `${app.url}/#/project/PRJ-1042`, pageErrors);
    await thread(page, REPLY_SUBJECT).waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('shows threads as collapsed rows with people, count, relative time, direction and mailbox, opened by click, Enter or Space', async () => {
    const rows = page.locator('#threads .thread-row');
    expect(await rows.count()).toBeGreaterThanOrEqual(3);
    for (const expanded of await rows.evaluateAll((elements) => elements.map((element) => element.getAttribute('aria-expanded'))))
      expect(expanded).toBe('false');
    expect(await page.locator('#threads .thread-body:visible').count()).toBe(0);
    expect(await page.locator('#threads .reply-form:visible').count()).toBe(0);

    const kickoff = thread(page, 'Kick-off – PRJ-1042 commissioning');
    expect(await kickoff.locator('.thread-participants').textContent()).toMatch(/Bianca Ortiz.*Pete Marsh|Pete Marsh.*Bianca Ortiz/);
    expect(await kickoff.locator('.avatar').allTextContents()).toEqual(expect.arrayContaining(['BO', 'PM']));
    expect(await kickoff.locator('.thread-count').getAttribute('aria-label')).toBe('3 messages');
    expect(await kickoff.locator('.thread-time').textContent()).toMatch(/^(yesterday|Mon|Tue|Wed|Thu|Fri|Sat|Sun|\d+ h ago)$/);
    expect(await kickoff.locator('.thread-time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await kickoff.locator('.thread-mailbox').textContent()).toBe('Gmail · ana@acme.example');
    const fresh = thread(page, REPLY_SUBJECT);
    expect(await fresh.locator('.thread-time').textContent()).toMatch(/^(just now|\d+ min ago)$/);
    expect(await fresh.locator('.thread-row .direction').textContent()).toContain('Received');

    const row = fresh.locator('.thread-row');
    await row.focus();
    await page.keyboard.press('Enter');
    expect(await row.getAttribute('aria-expanded')).toBe('true');
    await fresh.locator('.thread-body').waitFor();
    await page.keyboard.press('Space');
    expect(await row.getAttribute('aria-expanded')).toBe('false');
    await fresh.locator('.thread-body').waitFor({ state: 'hidden' });
    await row.click();
    expect(await row.getAttribute('aria-expanded')).toBe('true');
    await fresh.locator('.message').first().waitFor();
    // Its folder and labels by name, as a labelled list (Gmail's Unread/Primary flags left out).
    const chips = fresh.locator('.message').first().getByRole('list', { name: 'Folder and labels' });
    expect(await chips.getByRole('listitem').allTextContents()).toEqual(['Inbox', 'Key client']);
  });

  it('opens the reply box on demand and sends the reply in the thread', async () => {
    const fresh = thread(page, REPLY_SUBJECT);
    await expand(fresh);
    expect(await fresh.locator('.reply-form').isVisible()).toBe(false);
    await fresh.getByRole('button', { name: 'Reply', exact: true }).click();
    const box = fresh.getByLabel('Reply to Bianca Ortiz');
    await box.waitFor();
    expect(await box.evaluate((element) => element === document.activeElement)).toBe(true);
    await box.fill('Thursday 9:00 works.');
    // Privacy: the body is fetched when opened and lives only in the page; nothing keeps it.
    await fresh.locator('.message').first().getByRole('button', { name: 'Show message' }).click();
    await fresh.locator('.message').first().getByText(`About ${REPLY_SUBJECT}.`).waitFor();
    const stored = await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage } }));
    expect(stored).not.toContain('About');
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    await fresh.getByRole('button', { name: 'Send reply' }).click();
    await fresh.locator('.message', { has: page.locator('.direction', { hasText: 'Sent' }) }).waitFor();
    expect(await fresh.locator('.message').count()).toBe(2);
    expect(await fresh.locator('.reply-form').isVisible()).toBe(false);
    expect(await fresh.locator('.thread-count').textContent()).toBe('2');
  });

  it('composes a new email from the record: sent once from the user’s mailbox, filed on the record at once', async () => {
    const sent = () => app.demo!.gmail.messages(app.demo!.mailboxes.gmail).filter((message) => message.labelIds.includes('SENT')).length;
    const before = sent();
    await page.getByRole('button', { name: 'New email' }).click();
    const composer = page.locator('#composer');
    await composer.waitFor();
    expect(await composer.getByLabel('To').inputValue()).toBe('client@bigco.com, pm@bigco.com');
    expect(await composer.getByLabel('Subject').inputValue()).toBe('PRJ-1042 – ');
    await composer.getByLabel('Subject').fill('PRJ-1042 – commissioning visit');
    await composer.getByLabel('Message').fill('We come on Tuesday at nine.');
    await composer.getByRole('button', { name: 'Send' }).click();
    await composer.waitFor({ state: 'hidden' });
    const composed = thread(page, 'PRJ-1042 – commissioning visit');
    await composed.waitFor();
    expect(sent()).toBe(before + 1);
    await expand(composed);
    expect(await composed.locator('.direction').first().textContent()).toContain('Sent');
  });

  /** A real PDF: the header, one page, and a cross-reference table whose every offset lands on its object. */
  function expectOnePagePdf(bytes: Buffer): void {
    const text = bytes.toString('latin1');
    expect(text.startsWith('%PDF-')).toBe(true);
    expect(bytes.length).toBeLessThanOrEqual(5 * 1024);
    expect(text.trimEnd().endsWith('%%EOF')).toBe(true);
    expect(text).toContain('/Type /Pages /Kids [3 0 R] /Count 1');
    const startxref = Number(/startxref\n(\d+)\n%%EOF/.exec(text)?.[1]);
    expect(text.slice(startxref, startxref + 4)).toBe('xref');
    const entries = [...text.slice(startxref).matchAll(/^(\d{10}) 00000 n $/gm)].map((match) => Number(match[1]));
    expect(entries).toHaveLength(5);
    expect(entries.map((offset, index) => text.slice(offset, offset + `${index + 1} 0 obj`.length))).toEqual(entries.map((_, index) => `${index + 1} 0 obj`));
  }

  it('opens the signed proposal PDF from the panel as a download, served from the provider on demand', async () => {
    await openRecord(page, 'Q-2291');
    const signed = thread(page, 'Q-2291 proposal – signed');
    await expand(signed);
    const link = signed.locator('.attachment-link', { hasText: 'Q-2291-signed.pdf' });
    await link.waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toBe('Q-2291-signed.pdf');
    const file = await download.path();
    expectOnePagePdf(await readFile(file));
    // The same URL answers as a download that cannot render in this origin.
    const href = await link.getAttribute('href');
    const response = await fetch(`${app.url}${href}`);
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="Q-2291-signed.pdf"; filename*=UTF-8''Q-2291-signed.pdf`);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expectOnePagePdf(Buffer.from(await response.arrayBuffer()));
    await openRecord(page, 'PRJ-1042');
  });

  it('explains why a message is here in a popover that Escape closes', async () => {
    const fresh = thread(page, REPLY_SUBJECT);
    await expand(fresh);
    const chip = fresh.locator('.message').first().locator('.match-chip');
    expect(await chip.textContent()).toBe('PRJ-1042 · reference');
    await chip.click();
    const popover = page.getByRole('dialog', { name: 'Why it is on PRJ-1042' });
    await popover.waitFor();
    await popover.getByText(/PRJ-1042.*names the reference number/).waitFor();
    expect(await popover.getByRole('button', { name: 'Unlink from PRJ-1042' }).isVisible()).toBe(true);
    expect(await popover.getByRole('button', { name: 'Re-run matching for PRJ-1042' }).isVisible()).toBe(true);
    expect(await popover.getByLabel('Link to another record').isVisible()).toBe(true);
    expect(await chip.getAttribute('aria-expanded')).toBe('true');
    await screenshot(page, 'panel-explain-popover');
    await page.keyboard.press('Escape');
    await popover.waitFor({ state: 'detached' });
    expect(await chip.evaluate((element) => element === document.activeElement)).toBe(true);
    expect(await chip.getAttribute('aria-expanded')).toBe('false');
  });

  it('unlinks a message so it leaves the panel, keeps it out on rematch, and brings it back on Undo', async () => {
    const target = thread(page, UNLINK_SUBJECT);
    await expand(target);
    await target.locator('.match-chip').first().click();
    await page.getByRole('dialog', { name: 'Why it is on PRJ-1042' }).getByRole('button', { name: 'Unlink from PRJ-1042' }).click();
    await target.waitFor({ state: 'detached' });
    const unlinked = page.locator('.notice', { hasText: 'Unlinked from PRJ-1042' });
    await unlinked.waitFor();
    // The server agrees: the record's timeline no longer has it, the client's still does.
    const timeline = async (type: string, id: string) =>
      ((await (await fetch(`${app.url}/api/records/${type}/${id}/timeline`)).json()) as { threads: Array<{ subject: string }> }).threads.map(
        (entry) => entry.subject,
      );
    expect(await timeline('project', 'PRJ-1042')).not.toContain(UNLINK_SUBJECT);
    expect(await timeline('client', 'bigco')).toContain(UNLINK_SUBJECT);

    await page.getByRole('button', { name: 'Re-run matching', exact: true }).click();
    await page.locator('.notice', { hasText: 'Matching re-run for PRJ-1042' }).waitFor();
    await page.locator('.notice', { hasText: 'Messages you unlinked stay unlinked.' }).waitFor();
    await page.locator('#threads[aria-busy="false"]').waitFor({ state: 'attached' });
    expect(await target.count()).toBe(0);
    expect(await timeline('project', 'PRJ-1042')).not.toContain(UNLINK_SUBJECT);

    await unlinked.getByRole('button', { name: 'Undo' }).click();
    await target.waitFor();
    expect(await timeline('project', 'PRJ-1042')).toContain(UNLINK_SUBJECT);
  });

  it('links a message to another record by hand', async () => {
    const fresh = thread(page, REPLY_SUBJECT);
    await expand(fresh);
    await fresh.locator('.message').first().locator('.match-chip').click();
    const popover = page.getByRole('dialog', { name: 'Why it is on PRJ-1042' });
    await popover.getByLabel('Link to another record').selectOption({ label: 'Q-2291 (Proposal)' });
    await popover.getByRole('button', { name: 'Link', exact: true }).click();
    await page.locator('.notice', { hasText: 'Linked to Q-2291' }).waitFor();
    await openRecord(page, 'Q-2291');
    const onProposal = thread(page, REPLY_SUBJECT);
    await onProposal.waitFor();
    expect(await onProposal.locator('.match-chip').first().textContent()).toBe('Q-2291 · linked by hand');
    await openRecord(page, 'PRJ-1042');
    await thread(page, REPLY_SUBJECT).waitFor();
  });

  it('shows a mailbox health drawer in plain words that Escape closes', async () => {
    const opener = page.getByRole('button', { name: 'Mailbox health: Gmail ana@acme.example' });
    await opener.click();
    const drawer = page.getByRole('dialog', { name: 'Gmail · ana@acme.example' });
    await drawer.waitFor();
    await drawer.getByText('Mail arrives in real time').waitFor();
    await drawer.getByText('What to do:').waitFor();
    expect(await drawer.locator('dt').allTextContents()).toEqual(expect.arrayContaining(['Status', 'Last push', 'Last sync', 'Lag', 'Older mail']));
    expect(await drawer.getByTestId('backfill-summary').textContent()).toMatch(/^Done: \d+ messages$/);
    expect(await drawer.locator('[data-verdict]').getAttribute('data-verdict')).toBe('healthy');
    expect(await drawer.locator('.drawer-close').evaluate((element) => element === document.activeElement)).toBe(true);
    // Modal: Tab stays in the drawer while it is open.
    for (let step = 0; step < 4; step++) {
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement === document.body || Boolean(document.activeElement?.closest('#health-drawer')))).toBe(true);
    }
    await screenshot(page, 'panel-health-drawer');
    expect(await seriousViolations(page, app.url)).toEqual([]);
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'hidden' });
    expect(await opener.evaluate((element) => element === document.activeElement)).toBe(true);
  });

  it('says in words, with the fix, that a cancelled consent connected nothing', async () => {
    await page.getByRole('button', { name: 'Connect Outlook' }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.waitForURL((url) => url.origin === app.url && url.hash === '#/project/PRJ-1042' && url.search === '');
    const notice = page.locator('.notice-error', { hasText: 'The mailbox was not connected' });
    await notice.waitFor();
    expect(await notice.textContent()).toContain('Access was not granted on the Outlook sign-in page');
    expect(await notice.textContent()).not.toMatch(/OAUTH_FAILED|access_denied/);
    expect(await notice.getAttribute('data-error-code')).toBe('OAUTH_FAILED');
    expect(await notice.getByRole('button', { name: 'Connect Outlook' }).isVisible()).toBe(true);
    await screenshot(page, 'panel-cancelled-consent');
  });

  it('says in words that a revoked grant needs a reconnect, in a notice and in the health drawer', async () => {
    const connectionId = (await page.locator('.connection[data-provider="gmail"]').getAttribute('data-connection-id'))!;
    app.demo!.gmail.revokeTokens(app.demo!.mailboxes.gmail);
    const revoked = nextEvent(app, 'connection.needs_reauth', (payload) => payload.connection.id === connectionId);
    expect((await postJson(app, `/api/connections/${connectionId}/sync`)).status).toBe(202);
    await revoked;
    const notice = page.locator('.notice-error', { hasText: 'Gmail needs you to sign in again' });
    await notice.waitFor();
    expect(await notice.textContent()).toContain('Access to ana@acme.example expired or was revoked');
    expect(await notice.getByRole('button', { name: 'Reconnect Gmail' }).isVisible()).toBe(true);
    const mailbox = page.locator('.connection[data-provider="gmail"]');
    await mailbox.locator('.status', { hasText: 'Needs re-auth' }).waitFor();
    await mailbox.getByRole('button', { name: /^Mailbox health: Gmail/ }).click();
    const drawer = page.getByRole('dialog', { name: 'Gmail · ana@acme.example' });
    await drawer.locator('[data-verdict="needs_reauth"]').waitFor();
    expect(await drawer.getByRole('button', { name: 'Reconnect Gmail' }).isVisible()).toBe(true);
    expect(await page.locator('body').textContent()).not.toMatch(/AUTH_REVOKED|needs_reauth|OAUTH_FAILED/);
    await screenshot(page, 'panel-needs-reauth');
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'hidden' });
  });

  for (const width of [390, 1280, 1440]) {
    it(`lays out without overlapping columns at ${width} px, long addresses included, with no serious axe violation`, async () => {
      await page.setViewportSize({ width, height: 900 });
      await page.goto(`${app.url}/#/client/bigco`);
      await page.locator('#threads[aria-busy="false"]').waitFor({ state: 'attached' });
      const kickoff = thread(page, 'Kick-off – PRJ-1042 commissioning');
      await expand(kickoff);
      await kickoff.locator('.message').first().waitFor();
      // The kind of address that used to push the middle column under the mail panel.
      await page.evaluate(() => {
        const long = 'procurement.commissioning.department.north-east-region@subsidiary-of-bigco-industrial-holdings.example';
        const facts = document.getElementById('record-facts')!;
        for (const element of facts.querySelectorAll('[data-test-billing]')) element.remove();
        const term = Object.assign(document.createElement('dt'), { textContent: 'Billing' });
        const value = Object.assign(document.createElement('dd'), { textContent: long });
        for (const element of [term, value]) element.setAttribute('data-test-billing', '');
        facts.append(term, value);
      });
      expect(await layoutProblems(page)).toEqual([]);
      await screenshot(page, `panel-${width}`);
      expect(await seriousViolations(page, app.url)).toEqual([]);
    });
  }

  it('notices a column overflowing its neighbour (the layout check can fail)', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.evaluate(() => {
      const wide = Object.assign(document.createElement('div'), { className: 'deliberately-too-wide' });
      wide.style.width = '900px';
      wide.style.height = '10px';
      document.querySelector('.details-column')!.append(wide);
    });
    const problems = await layoutProblems(page);
    expect(problems.some((problem) => problem.includes('div.deliberately-too-wide') && problem.includes('outside div.details-column'))).toBe(true);
    await page.evaluate(() => document.querySelector('.deliberately-too-wide')?.remove());
    expect(pageErrors).toEqual([]);
  });
});
