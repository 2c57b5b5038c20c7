// What a scenario module exports and what it reports. A figure always travels with the limit it
// is judged against, measured in the same run, and the ratio between them.
import { ratio, summarize, type Summary } from './stats.js';

export interface ScenarioContext {
  quick: boolean;
  /** Wall-clock budget in ms; loops stop taking new samples once it is spent. */
  budgetMs: number;
  /** When the scenario must stop sampling (performance.now() based). */
  deadline: number;
  /** Progress lines for the operator (stderr, never stdout). */
  log(message: string): void;
}

export interface Target {
  /** Which statistic the target applies to. */
  of: 'median' | 'p99' | 'p1' | 'ratio.median' | 'ratio.p99' | 'value';
  op: '<' | '<=' | '>=' | '>' | '==';
  value: number;
  text: string;
}

export interface Figure {
  name: string;
  unit: string;
  /** 'lower' for latencies and costs, 'higher' for rates. Decides which tail the table shows. */
  better: 'lower' | 'higher';
  value: Summary;
  limit: { name: string; unit: string; value: Summary } | null;
  /** value / limit, per statistic. */
  ratio: { median: number; p99: number; p1: number } | null;
  targets?: Target[];
  /** Whether every target holds in this run; null when there is nothing to judge. */
  meetsTarget?: boolean | null;
  note?: string;
}

export interface ScenarioResult {
  scenario: string;
  title: string;
  mode: 'full' | 'quick';
  status: 'ok' | 'skipped' | 'error' | 'timeout';
  durationMs: number;
  figures: Figure[];
  /** Settings that shape the numbers (latency, counts, store, concurrency…). */
  settings: Record<string, unknown>;
  /** Honest remarks: scaled-down runs, misses and their causes, how a figure was computed. */
  notes: string[];
  details?: Record<string, unknown>;
  error?: string;
}

export interface ScenarioOutput {
  figures: Figure[];
  settings: Record<string, unknown>;
  notes?: string[];
  details?: Record<string, unknown>;
  /** Set when the scenario could not run here (e.g. no Redis). */
  skipped?: string;
}

export interface Scenario {
  name: string;
  title: string;
  /** Budget in seconds, full and quick. */
  budget: { full: number; quick: number };
  run(context: ScenarioContext): Promise<ScenarioOutput>;
}

function check(target: Target, stats: { value: Summary; ratio: Figure['ratio'] }): boolean | null {
  const pick = (): number => {
    switch (target.of) {
      case 'median':
        return stats.value.median;
      case 'p99':
        return stats.value.p99;
      case 'p1':
        return stats.value.p1;
      case 'value':
        return stats.value.median;
      case 'ratio.median':
        return stats.ratio?.median ?? Number.NaN;
      case 'ratio.p99':
        return stats.ratio?.p99 ?? Number.NaN;
    }
  };
  const actual = pick();
  if (!Number.isFinite(actual)) return null;
  switch (target.op) {
    case '<':
      return actual < target.value;
    case '<=':
      return actual <= target.value;
    case '>=':
      return actual >= target.value;
    case '>':
      return actual > target.value;
    case '==':
      return actual === target.value;
  }
}

/**
 * Builds a figure from raw samples and the limit's raw samples. The ratio of each statistic is
 * taken statistic by statistic (median / median, p99 / p99), which is what "x times the limit" means.
 */
export function figure(input: {
  name: string;
  unit: string;
  better: 'lower' | 'higher';
  samples: readonly number[];
  limit?: { name: string; unit?: string; samples: readonly number[] } | null;
  targets?: Target[];
  note?: string;
}): Figure {
  const value = summarize(input.samples);
  const limit = input.limit ? { name: input.limit.name, unit: input.limit.unit ?? input.unit, value: summarize(input.limit.samples) } : null;
  const ratios = limit
    ? { median: ratio(value.median, limit.value.median), p99: ratio(value.p99, limit.value.p99), p1: ratio(value.p1, limit.value.p1) }
    : null;
  const built: Figure = { name: input.name, unit: input.unit, better: input.better, value, limit, ratio: ratios };
  if (input.targets && input.targets.length > 0) {
    built.targets = input.targets;
    const verdicts = input.targets.map((target) => check(target, { value, ratio: ratios }));
    built.meetsTarget = verdicts.some((verdict) => verdict === null) ? null : verdicts.every(Boolean);
  }
  if (input.note) built.note = input.note;
  return built;
}
