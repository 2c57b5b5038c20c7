// Prints one plain closing line from vitest's JSON report ("tests: N passed, N failed, N skipped"),
// so any CI reader can tell a run that tested something from one that tested nothing.
import { existsSync, readFileSync } from 'node:fs';

const file = new URL('../test-output/vitest-results.json', import.meta.url);
if (!existsSync(file)) {
  console.log('tests: 0 passed, 1 failed');
  console.error('no vitest report at test-output/vitest-results.json');
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
