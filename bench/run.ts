// `pnpm bench [--quick] [--only name[,name]]`: runs the scenarios one after another (the SDK under
// test runs in child processes they start; emulators and load generators run here), prints one
// JSON object per scenario on stdout, a short table on stderr, and writes every result with the
// machine's description to bench/results/latest.json (quick runs: latest-quick.json, so a smoke
// run never replaces the full figures the README quotes). Exits 1 if a scenario failed to run;
// a missed target is reported, not fatal (CI runs --quick without thresholds).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { machineInfo } from './lib/machine.js';
import type { Scenario, ScenarioOutput, ScenarioResult } from './lib/scenario.js';
import { renderTable } from './lib/table.js';
import { scenarios } from './scenarios/index.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string' },
    list: { type: 'boolean', default: false },
  },
});

if (values.list) {
  for (const scenario of scenarios)
    process.stderr.write(`${scenario.name.padEnd(12)} ${scenario.title} (budget ${scenario.budget.full} s, quick ${scenario.budget.quick} s)\n`);
  process.exit(0);
}

const quick = values.quick ?? false;
const only = values.only ? new Set(values.only.split(',').map((name) => name.trim())) : null;
if (only) {
  const unknown = [...only].filter((name) => !scenarios.some((scenario) => scenario.name === name));
  if (unknown.length > 0) {
    process.stderr.write(`unknown scenario(s): ${unknown.join(', ')}; known: ${scenarios.map((scenario) => scenario.name).join(', ')}\n`);
    process.exit(2);
  }
}
const selected = scenarios.filter((scenario) => !only || only.has(scenario.name));
const outFile = new URL(
  values.out ? `file://${new URL(values.out, `file://${process.cwd()}/`).pathname}` : `./results/${quick ? 'latest-quick' : 'latest'}.json`,
  import.meta.url,
);

async function runOne(scenario: Scenario): Promise<ScenarioResult> {
  const budgetSeconds = quick ? scenario.budget.quick : scenario.budget.full;
  const budgetMs = budgetSeconds * 1000;
  const started = performance.now();
  const log = (message: string): void => void process.stderr.write(`  [${scenario.name} +${((performance.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
  // Sampling stops at the budget; set-up and tear-down may add some, a hang may not.
  const hardLimitMs = budgetMs * 1.5 + 45_000;
  const base = { scenario: scenario.name, title: scenario.title, mode: quick ? ('quick' as const) : ('full' as const) };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    scenario.run({ quick, budgetMs, deadline: started + budgetMs, log }).then(
      (output): { kind: 'result'; output: ScenarioOutput } => ({ kind: 'result', output }),
      (error: unknown): { kind: 'error'; error: string } => ({
        kind: 'error',
        error: error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error),
      }),
    ),
    new Promise<{ kind: 'timeout' }>((resolve) => (timer = setTimeout(() => resolve({ kind: 'timeout' }), hardLimitMs))),
  ]);
  clearTimeout(timer);
  const durationMs = Math.round(performance.now() - started);
  switch (outcome.kind) {
    case 'result': {
      const output = outcome.output;
      if (output.skipped) {
        return { ...base, status: 'skipped', durationMs, figures: [], settings: output.settings, notes: [output.skipped, ...(output.notes ?? [])] };
      }
      return {
        ...base,
        status: 'ok',
        durationMs,
        figures: output.figures,
        settings: output.settings,
        notes: output.notes ?? [],
        ...(output.details ? { details: output.details } : {}),
      };
    }
    case 'error':
      return { ...base, status: 'error', durationMs, figures: [], settings: {}, notes: [], error: outcome.error };
    case 'timeout':
      return {
        ...base,
        status: 'timeout',
        durationMs,
        figures: [],
        settings: {},
        notes: [],
        error: `abandoned after ${Math.round(hardLimitMs / 1000)} s (budget ${budgetSeconds} s)`,
      };
  }
}

const machine = machineInfo();
process.stderr.write(
  `threadlink bench (${quick ? 'quick' : 'full'}) on ${machine.cpus} × ${machine.cpuModel}, ${machine.os}, Node ${machine.node}; store: ${machine.postgres}; load average ${machine.loadAverage.join(' ')}\n`,
);
const suiteStarted = performance.now();
const results: ScenarioResult[] = [];
for (const scenario of selected) {
  const budget = quick ? scenario.budget.quick : scenario.budget.full;
  process.stderr.write(`\n▶ ${scenario.name}: ${scenario.title} (budget ${budget} s)\n`);
  const result = await runOne(scenario);
  results.push(result);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.stderr.write(`  ${result.status} in ${(result.durationMs / 1000).toFixed(1)} s${result.error ? `: ${result.error.split('\n')[0]}` : ''}\n`);
}
const totalSeconds = Math.round((performance.now() - suiteStarted) / 100) / 10;

// A partial run (--only) refreshes its scenarios in the existing file and keeps the others, with
// the machine and totals of the run they came from; the re-run is listed with its own machine state.
interface ResultsFile {
  machine: typeof machine & { loadAverageAtEnd?: number[] };
  mode: string;
  totalSeconds: number;
  reruns?: Array<{ scenarios: string[]; date: string; commit: string | null; loadAverage: number[]; seconds: number }>;
  scenarios: ScenarioResult[];
}
let existing: ResultsFile | null = null;
if (only) {
  try {
    existing = JSON.parse(await readFile(outFile, 'utf8')) as ResultsFile;
  } catch {
    existing = null;
  }
}
const previous = existing ? existing.scenarios.filter((result) => !only?.has(result.scenario)) : [];
const order = new Map(scenarios.map((scenario, index) => [scenario.name, index]));
const merged = [...previous, ...results].sort((left, right) => (order.get(left.scenario) ?? 99) - (order.get(right.scenario) ?? 99));
await mkdir(new URL('.', outFile), { recursive: true });
const loadAverageAtEnd = os.loadavg().map((value) => Math.round(value * 100) / 100);
const file: ResultsFile =
  existing && only
    ? {
        ...existing,
        reruns: [
          ...(existing.reruns ?? []),
          { scenarios: [...only], date: machine.date, commit: machine.commit, loadAverage: machine.loadAverage, seconds: totalSeconds },
        ],
        scenarios: merged,
      }
    : { machine: { ...machine, loadAverageAtEnd }, mode: quick ? 'quick' : 'full', totalSeconds, scenarios: merged };
await writeFile(outFile, `${JSON.stringify(file, null, 2)}\n`);

process.stderr.write(`\n${renderTable(results)}\n\n${results.length} scenario(s) in ${totalSeconds} s → ${outFile.pathname}\n`);
const failed = results.filter((result) => result.status === 'error' || result.status === 'timeout');
process.exit(failed.length > 0 ? 1 : 0);
