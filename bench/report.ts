// Prints the README's benchmark table (Markdown) from a results file:
//   pnpm tsx bench/report.ts [bench/results/latest.json]
import { readFile } from 'node:fs/promises';
import type { MachineInfo } from './lib/machine.js';
import type { ScenarioResult } from './lib/scenario.js';
import { describeLimit, describeRatio, describeValue, verdict } from './lib/table.js';

const file = process.argv[2] ?? new URL('./results/latest.json', import.meta.url).pathname;
const results = JSON.parse(await readFile(file, 'utf8')) as {
  machine: MachineInfo & { loadAverageAtEnd?: number[] };
  mode: string;
  totalSeconds: number;
  reruns?: Array<{ scenarios: string[]; date: string; loadAverage: number[] }>;
  scenarios: ScenarioResult[];
};
const machine = results.machine;
const cell = (text: string): string => text.replace(/\|/g, '\\|');

const lines: string[] = [];
lines.push(
  `Latest ${results.mode} run (\`pnpm bench${results.mode === 'quick' ? ' --quick' : ''}\`, ${results.totalSeconds} s): ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB, ${machine.os}, Node ${machine.node}, ` +
    `${machine.postgres === 'DATABASE_URL' ? 'PostgreSQL' : 'PGlite'}${machine.redis === 'REDIS_URL' ? ' + Redis' : ''}, ${machine.date.slice(0, 10)}` +
    `${machine.commit ? ` (commit ${machine.commit})` : ''}; load average ${(machine.loadAverage ?? ['?']).join(' / ')} at the start.` +
    (results.reruns ?? [])
      .map((rerun) => ` Re-run on ${rerun.date.slice(0, 10)} (load ${rerun.loadAverage.join(' / ')}): ${rerun.scenarios.join(', ')}.`)
      .join(''),
  '',
  '| # | figure | median (tail) | limit, same run | ratio | target |',
  '|---|---|---|---|---|---|',
);
for (const [index, result] of results.scenarios.entries()) {
  const number = `${index + 1}`;
  if (result.status !== 'ok') {
    lines.push(`| ${number} | ${cell(result.title)} | ${result.status}: ${cell((result.error ?? result.notes[0] ?? '').split('\n')[0] ?? '')} | | | |`);
    continue;
  }
  for (const figure of result.figures) {
    lines.push(
      `| ${number} | ${cell(figure.name)} | ${cell(describeValue(figure))} | ${cell(describeLimit(figure))} | ${cell(describeRatio(figure))} | ${cell(verdict(figure))} |`,
    );
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
