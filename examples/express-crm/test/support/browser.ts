// Debian's Chromium driven by playwright-core (never a downloaded browser), in a fresh profile.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { EXAMPLE_DIRECTORY } from '../../src/config.js';

const CHROMIUM_PATH = '/usr/bin/chromium';
export const SCREENSHOT_DIRECTORY = join(EXAMPLE_DIRECTORY, 'test-output', 'screenshots');

/**
 * Whether the browser tests can run. Without Chromium they are skipped on a developer machine
 * (with a message saying how to install it); in CI its absence is a failure, not a skip.
 */
export function chromiumAvailability(): { run: boolean; reason?: string } {
  if (existsSync(CHROMIUM_PATH)) return { run: true };
  const message = `${CHROMIUM_PATH} is missing: install it with \`apt-get update && apt-get install -y chromium\``;
  if (process.env.CI) throw new Error(`Browser tests must run in CI, but ${message}`);
  return { run: false, reason: message };
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'threadlink-crm-chromium-'));
  await mkdir(SCREENSHOT_DIRECTORY, { recursive: true });
  // A persistent context is how Playwright takes a --user-data-dir: a fresh temp profile each run.
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
    viewport: { width: 1440, height: 960 },
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** A new page on `url` at `width` × 960 (1440 unless said) that records every uncaught page error into `pageErrors`. */
export async function openPage(browser: Browser, url: string, pageErrors: string[], width = 1440): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.setViewportSize({ width, height: 960 });
  await page.goto(url);
  return page;
}
