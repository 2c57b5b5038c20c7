// What the browser tests ask of the page: a thread row by subject, a full-page screenshot, the
// layout check (overlapping columns, anything past a column's edge, sideways scrolling), and the
// connected demo open in Chromium.
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { App } from '../../src/app.js';
import { startConnectedDemo } from './app.js';
import { launchChromium, openPage, SCREENSHOT_DIRECTORY, type Browser } from './browser.js';

export const thread = (page: Page, subject: string): Locator =>
  page.locator('#threads .thread').filter({ has: page.locator('.thread-subject', { hasText: subject }) });

/**
 * The screenshot is evidence for a person; the assertions are the layout checks. A capture that
 * stalls (on a loaded CI box Chromium once produced no frame for 30 s: "taking page screenshot",
 * fonts loaded, then nothing) is tried once more rather than failing the test.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const path = join(SCREENSHOT_DIRECTORY, `${name}.png`);
  try {
    await page.screenshot({ path, fullPage: true, timeout: 15_000 });
  } catch (error) {
    if (!(error instanceof Error && error.name === 'TimeoutError')) throw error;
    await page.screenshot({ path, fullPage: true, timeout: 30_000 });
  }
}

/**
 * What is wrong with the layout: side-by-side columns whose boxes overlap, anything inside a
 * column reaching past its edges (an unbreakable address does that), and sideways scrolling.
 */
export function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const name = (element: Element): string =>
      `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}${element.classList.length ? `.${[...element.classList].join('.')}` : ''}`;
    const columns = ['.records-nav', '.details-column', '.mail-panel'].map((selector) => document.querySelector(selector)!);
    for (let first = 0; first < columns.length; first++) {
      for (let second = first + 1; second < columns.length; second++) {
        const a = columns[first]!.getBoundingClientRect();
        const b = columns[second]!.getBoundingClientRect();
        const overlapX = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const overlapY = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (overlapX > 0.5 && overlapY > 0.5)
          problems.push(`${name(columns[first]!)} overlaps ${name(columns[second]!)} by ${Math.round(overlapX)}×${Math.round(overlapY)} px`);
      }
    }
    for (const column of columns) {
      const box = column.getBoundingClientRect();
      for (const element of column.querySelectorAll('*')) {
        if (element.closest('[hidden], .visually-hidden, .popover')) continue;
        const rect = element.getBoundingClientRect();
        if (rect.width === 0 && rect.height === 0) continue;
        if (rect.right > box.right + 1 || rect.left < box.left - 1) {
          problems.push(
            `${name(element)} spans ${Math.round(rect.left)}–${Math.round(rect.right)} px outside ${name(column)} (${Math.round(box.left)}–${Math.round(box.right)} px)`,
          );
        }
      }
    }
    if (document.documentElement.scrollWidth > window.innerWidth)
      problems.push(`the page scrolls sideways (${document.documentElement.scrollWidth} > ${window.innerWidth} px)`);
    return problems;
  });
}

export interface DemoPage {
  app: App;
  page: Page;
  /** The *Your organization* card. */
  panel: Locator;
  /** Uncaught errors of the page's scripts, for a test to assert there were none. */
  pageErrors: string[];
}

/**
 * For the tests of one `describe`: the demo with seeded history and Ana's `provider` mailbox
 * connected and synced, open in a fresh Chromium at `path` with a thread of `subject` on screen.
 * The fields are filled in `beforeAll` and everything is closed in `afterAll`.
 */
export function connectedDemo(provider: 'gmail' | 'outlook', input: { path: string; subject: string; width: number }): DemoPage {
  const demo = {} as DemoPage;
  let app: App | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    app = await startConnectedDemo({}, provider);
    browser = await launchChromium();
    const pageErrors: string[] = [];
    const page = await openPage(browser, `${app.url}${input.path}`, pageErrors, input.width);
    await thread(page, input.subject).waitFor();
    Object.assign(demo, { app, page, pageErrors, panel: page.getByRole('region', { name: 'Your organization' }) });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });
  return demo;
}
