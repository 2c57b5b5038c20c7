// axe-core in the page under test, for the browser tests' accessibility checks.
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_PATH = require.resolve('axe-core/axe.min.js');

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousViolations(page: Page, appUrl: string): Promise<string[]> {
  // Served from the app's origin so the page's CSP (script-src 'self') lets it in unchanged.
  if (!(await page.evaluate(() => 'axe' in window))) {
    await page.route(`${appUrl}/__axe.js`, (route) => route.fulfill({ path: AXE_PATH, contentType: 'text/javascript' }));
    await page.addScriptTag({ url: `${appUrl}/__axe.js` });
  }
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(
            context: Document,
            options: object,
          ): Promise<{ passes: unknown[]; violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[] }> }> }>;
        };
      }
    ).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    // An axe that checked nothing would pass anything.
    if (result.passes.length < 20) throw new Error(`axe-core ran only ${result.passes.length} passing rules`);
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      targets: violation.nodes.map((node) => JSON.stringify(node.target)),
    }));
  });
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.help} — ${violation.targets.join(', ')}`);
}
