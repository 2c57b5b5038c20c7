// A message body is hostile input. Whatever a sender puts in it — scripts, event handlers,
// javascript: links, remote images, stylesheets or frames — opening it on the page must run
// nothing and fetch nothing. Checked in a real Chromium against a canary server on loopback.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { connectDemoMailbox, nextEvent, postJson, startTestApp } from './support/app.js';
import { chromiumAvailability, launchChromium, SCREENSHOT_DIRECTORY, type Browser } from './support/browser.js';

const availability = chromiumAvailability();

function hostileHtml(canary: string): string {
  return [
    '<p>Quarterly figures for PRJ-1042 attached.</p>',
    `<script>fetch('${canary}/script-ran'); parent.postMessage('script-ran', '*'); top.hostileRan = true; alert('script');</script>`,
    `<img src="${canary}/tracker.png" alt="tracking pixel" width="1" height="1">`,
    `<img src="x" onerror="fetch('${canary}/onerror-ran'); parent.postMessage('onerror-ran', '*')">`,
    `<svg onload="fetch('${canary}/svg-ran')"><rect width="10" height="10"></rect></svg>`,
    `<a href="javascript:fetch('${canary}/javascript-link')">details</a>`,
    `<div style="background-image:url(${canary}/css-background.png)">styled</div>`,
    `<link rel="stylesheet" href="${canary}/style.css">`,
    `<iframe src="${canary}/nested-frame"></iframe>`,
    `<form action="${canary}/form-post" method="post"><button>Submit</button></form>`,
  ].join('\n');
}

describe.skipIf(!availability.run)('a hostile message body on the CRM page', () => {
  let app: App;
  let browser: Browser;
  let canary: Server;
  let canaryUrl: string;
  const canaryHits: string[] = [];

  beforeAll(async () => {
    canary = createServer((request, response) => {
      canaryHits.push(request.url ?? '');
      response.writeHead(200, { 'content-type': 'image/png' }).end();
    });
    await new Promise<void>((resolve) => canary.listen(0, '127.0.0.1', resolve));
    canaryUrl = `http://127.0.0.1:${(canary.address() as AddressInfo).port}`;
    app = await startTestApp();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await new Promise<void>((resolve) => (canary ? canary.close(() => resolve()) : resolve()));
  });

  for (const provider of ['gmail', 'outlook'] as const) {
    it(`runs no script and loads nothing remote when a ${provider} message is opened`, async () => {
      const connectionId = await connectDemoMailbox(app, provider);
      await app.tl.idle();
      const subject = `Figures PRJ-1042 (${provider})`;
      const matched = nextEvent(app, 'message.matched', ({ message }) => message.subject === subject);
      const sent = await postJson(app, '/api/demo/send', { provider, from: 'client@bigco.com', subject, html: hostileHtml(canaryUrl) });
      expect(sent.status).toBe(202);
      await matched;

      const page = await browser.context.newPage();
      // Anything leaving for another origin is recorded and refused: even if the defences
      // failed, no request would get past this test to anywhere but the app.
      const offOrigin: string[] = [];
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith(app.url) || url.startsWith('data:') || url === 'about:srcdoc' || url === 'about:blank') return route.continue();
        offOrigin.push(url);
        return route.abort();
      });
      const requested: string[] = [];
      page.on('request', (request) => requested.push(request.url()));
      const dialogs: string[] = [];
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });

      await page.goto(`${app.url}/#/project/PRJ-1042`);
      await page.evaluate(() => {
        const record = window as unknown as { receivedMessages: unknown[] };
        record.receivedMessages = [];
        window.addEventListener('message', (event) => record.receivedMessages.push(event.data));
      });
      const thread = page.locator('#threads .thread').filter({ has: page.locator('.thread-subject', { hasText: subject }) });
      await thread.locator('.thread-row').click();
      await thread.getByRole('button', { name: 'Show message' }).click();
      const frameElement = thread.locator('iframe.body-frame');
      await frameElement.waitFor();
      expect(await frameElement.getAttribute('sandbox')).toBe('');
      const frame = await (await frameElement.elementHandle())!.contentFrame();
      // `load` fires after every subresource was attempted and every onerror/onload handler had its chance.
      await frame!.waitForLoadState('load');
      expect(await frame!.locator('body').textContent()).toContain('Quarterly figures for PRJ-1042 attached.');
      // Clicking what is left of the javascript: link and the form goes nowhere (the
      // sanitiser may have dropped them, in which case there is nothing to click).
      const link = frame!.getByText('details', { exact: true });
      if ((await link.count()) > 0) await link.click();
      const button = frame!.getByRole('button', { name: 'Submit' });
      if ((await button.count()) > 0) await button.click();
      await thread.screenshot({ path: join(SCREENSHOT_DIRECTORY, `hostile-body-${provider}.png`) });
      // One more round trip to the app, so anything the clicks set off has been requested by now.
      await page.evaluate(() => fetch('/api/session').then((response) => response.json()));

      expect(canaryHits).toEqual([]);
      expect(offOrigin).toEqual([]);
      expect(requested.filter((url) => url.startsWith(canaryUrl))).toEqual([]);
      expect(dialogs).toEqual([]);
      expect(await page.evaluate(() => (window as unknown as { hostileRan?: boolean }).hostileRan)).toBeUndefined();
      expect(await page.evaluate(() => (window as unknown as { receivedMessages: unknown[] }).receivedMessages)).toEqual([]);
      expect(page.url()).toBe(`${app.url}/#/project/PRJ-1042`);

      await page.close();
      await postJson(app, `/api/connections/${connectionId}/disconnect`);
    });
  }
});
