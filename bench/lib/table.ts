// The short human table on stderr: one line per figure, its limit and the ratio.
import type { Figure, ScenarioResult } from './scenario.js';

const format = (value: number): string => {
  if (!Number.isFinite(value)) return '–';
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return Math.round(value).toLocaleString('en-US');
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  return value.toFixed(2);
};

/** Median and the bad tail: p99 for latencies/costs, p1 for rates. */
export function describeValue(figure: Figure): string {
  const tail = figure.better === 'lower' ? figure.value.p99 : figure.value.p1;
  if (figure.value.n <= 1) return `${format(figure.value.median)} ${figure.unit}`;
  return `${format(figure.value.median)} (${figure.better === 'lower' ? 'p99' : 'p1'} ${format(tail)}) ${figure.unit}`;
}

export function describeLimit(figure: Figure): string {
  if (!figure.limit) return '';
  const tail = figure.better === 'lower' ? figure.limit.value.p99 : figure.limit.value.p1;
  const spread = figure.limit.value.n > 1 ? ` (${figure.better === 'lower' ? 'p99' : 'p1'} ${format(tail)})` : '';
  return `${figure.limit.name}: ${format(figure.limit.value.median)}${spread} ${figure.limit.unit}`;
}

export function describeRatio(figure: Figure): string {
  if (!figure.ratio) return '';
  const ratio = figure.ratio.median;
  // A tiny ratio reads better as "1/N" (push latency against a 5-minute poller).
  if (Number.isFinite(ratio) && ratio > 0 && ratio < 0.01) return `1/${format(1 / ratio)}`;
  return `×${format(ratio)}`;
}

export function verdict(figure: Figure): string {
  if (!figure.targets || figure.targets.length === 0) return '';
  const text = figure.targets.map((target) => target.text).join(', ');
  if (figure.meetsTarget === null || figure.meetsTarget === undefined) return `? ${text}`;
  return `${figure.meetsTarget ? 'ok' : 'MISS'} ${text}`;
}

export function renderTable(results: ScenarioResult[]): string {
  const rows: string[][] = [['scenario', 'figure', 'median (tail)', 'limit (same run)', 'ratio', 'target']];
  for (const result of results) {
    if (result.status !== 'ok') {
      rows.push([result.scenario, `(${result.status})`, result.error?.split('\n')[0] ?? result.notes[0] ?? '', '', '', '']);
      continue;
    }
    for (const figure of result.figures)
      rows.push([result.scenario, figure.name, describeValue(figure), describeLimit(figure), describeRatio(figure), verdict(figure)]);
  }
  const widths = rows[0]!.map((_, column) => Math.min(60, Math.max(...rows.map((row) => (row[column] ?? '').length))));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
