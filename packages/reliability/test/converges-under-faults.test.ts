// The headline: under dropped/duplicated/reordered notifications, 5xx and 429 bursts, latency
// spikes, expired cursors, silently expired push channels, revoked grants and killed processes,
// the store ends up exactly equal to the mailboxes. CI runs a fixed set of seeds; `pnpm soak`
// (SOAK=1) runs many more, longer ones.
import { describe, expect, it } from 'vitest';
import { formatFaults, runChaos, type ChaosOptions, type ChaosReport } from '../src/chaos.js';
import { sqlKind } from '../src/stores.js';

const soak = process.env.SOAK === '1';
const soakSeeds = Number(process.env.SOAK_SEEDS ?? 12);
const soakRounds = Number(process.env.SOAK_ROUNDS ?? 40);

function print(report: ChaosReport): void {
  console.log(
    `${report.summary} (seed=${report.seed} store=${report.storeKind} engines=${report.engines} rounds-to-heal=${report.healRounds} processes-syncing=${report.processesThatSynced} links=${report.linksChecked} ${Math.round(report.durationMs / 1000)}s)`,
  );
  console.log(`  faults survived: ${formatFaults(report)}`);
  console.log(
    `  mail: ${Object.entries(report.actions)
      .map(([name, value]) => `${name}=${value}`)
      .join(' ')}`,
  );
  for (const problem of report.problems) console.log(`  problem: ${problem}`);
}

function expectConverged(report: ChaosReport): void {
  print(report);
  expect(report.problems).toEqual([]);
  expect({
    missing: report.missing,
    extra: report.extra,
    duplicates: report.duplicates,
    mismatched: report.mismatched,
    linksMissing: report.linksMissing,
    leaks: report.leaks.length,
  }).toEqual({
    missing: 0,
    extra: 0,
    duplicates: 0,
    mismatched: 0,
    linksMissing: 0,
    leaks: 0,
  });
  expect(report.messages).toBeGreaterThan(0);
  expect(report.totalFaults).toBeGreaterThan(0);
  // Two engines: exactly once only means something if both really took work.
  if (report.engines > 1) expect(report.processesThatSynced).toBeGreaterThanOrEqual(2);
}

const ciRuns: Array<Omit<ChaosOptions, 'rounds'> & { rounds?: number }> = [
  { seed: 1, storeKind: 'memory' },
  { seed: 2, storeKind: 'memory' },
  { seed: 3, storeKind: sqlKind() },
  { seed: 4, storeKind: sqlKind(), engines: 2 },
];

describe('convergence under faults', () => {
  if (!soak) {
    for (const run of ciRuns) {
      it(`seed ${run.seed}: ${run.storeKind}${run.engines === 2 ? ', two engines on one store' : ''} ends equal to the mailboxes`, async () => {
        expectConverged(await runChaos({ rounds: 12, ...run }));
      });
    }
  } else {
    for (let seed = 100; seed < 100 + soakSeeds; seed += 1) {
      const storeKind = seed % 3 === 0 ? sqlKind() : 'memory';
      const engines = seed % 4 === 0 ? 2 : 1;
      it(`soak seed ${seed}: ${storeKind}, ${engines} engine(s)`, async () => {
        expectConverged(await runChaos({ seed, storeKind, engines, rounds: soakRounds, messagesBeforeConnect: 25 }));
      });
    }
  }
});
