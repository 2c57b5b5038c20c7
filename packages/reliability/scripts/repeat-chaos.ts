// Runs the CI chaos seeds over and over, to chase a rare failure: one line per run, and for every
// failed run the whole interleaved timeline (the suite's own actions and every process's debug log)
// written to a file. Exits non-zero when any run failed.
//
//   pnpm chaos:repeat                       # seeds 1–4, 10 times each
//   SEEDS=3 ITER=40 pnpm chaos:repeat       # one seed, 40 times
//   SAVE_ALL=1 pnpm chaos:repeat            # keep the timelines of passing runs too (to diff with a failure)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runChaos, type ChaosOptions } from '../src/chaos.js';
import { sqlKind } from '../src/stores.js';

const runs: Array<Omit<ChaosOptions, 'rounds'>> = [
  { seed: 1, storeKind: 'memory' },
  { seed: 2, storeKind: 'memory' },
  { seed: 3, storeKind: sqlKind() },
  { seed: 4, storeKind: sqlKind(), engines: 2 },
];
const seeds = process.env.SEEDS ? process.env.SEEDS.split(',').map(Number) : undefined;
const iterations = Number(process.env.ITER ?? 10);
const rounds = Number(process.env.ROUNDS ?? 12);
const logDir = resolve(process.env.LOG_DIR ?? 'test-output/chaos-logs');
mkdirSync(logDir, { recursive: true });

let failed = 0;
for (let iteration = 1; iteration <= iterations; iteration += 1) {
  for (const run of runs) {
    if (seeds && !seeds.includes(run.seed)) continue;
    const report = await runChaos({ rounds, ...run });
    console.log(`run ${iteration} seed ${run.seed}: ${report.summary} heal-rounds=${report.healRounds} ${Math.round(report.durationMs / 1000)}s`);
    for (const problem of report.problems) console.log(`  problem: ${problem}`);
    if (report.problems.length > 0) failed += 1;
    if (report.problems.length > 0 || process.env.SAVE_ALL) {
      const file = join(logDir, `seed${run.seed}-run${iteration}-${report.problems.length > 0 ? 'failed' : 'passed'}.jsonl`);
      writeFileSync(file, `${[...report.problems.map((problem) => JSON.stringify({ level: 'problem', message: problem })), ...report.logs].join('\n')}\n`);
      console.log(`  timeline: ${file}`);
    }
  }
}
console.log(`${failed} failed run(s)`);
process.exit(failed > 0 ? 1 : 0);
