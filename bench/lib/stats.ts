// Summaries of repeated measurements. Every figure the suite prints is a distribution (median and
// tails over several repetitions), never a single run, because timings on a shared 2-core box are noisy.

export interface Summary {
  n: number;
  min: number;
  p1: number;
  median: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array (q in 0..1). */
function rank(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] as number;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((left, right) => left - right);
  if (sorted.length === 0) return { n: 0, min: Number.NaN, p1: Number.NaN, median: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN };
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  // The median of an even count is the mean of the two middle values, so two samples are not skewed.
  const middle = sorted.length / 2;
  const median = sorted.length % 2 === 0 ? ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2 : (sorted[Math.floor(middle)] as number);
  return {
    n: sorted.length,
    min: round(sorted[0] as number),
    p1: round(rank(sorted, 0.01)),
    median: round(median),
    p99: round(rank(sorted, 0.99)),
    max: round(sorted[sorted.length - 1] as number),
    mean: round(mean),
  };
}

/** Three significant decimals at most: enough for ms and ratios, short in JSON. */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function ratio(value: number, limit: number): number {
  if (!Number.isFinite(value) || !Number.isFinite(limit) || limit === 0) return Number.NaN;
  // Significant digits, not decimals: a push/poller latency ratio is ~0.0002.
  return Number((value / limit).toPrecision(4));
}

/** Rates per fixed window (e.g. completions per second) from event times in ms. */
export function ratesPerWindow(times: readonly number[], windowMs: number, from: number, to: number): number[] {
  const windows = Math.max(1, Math.floor((to - from) / windowMs));
  const counts = new Array<number>(windows).fill(0);
  for (const time of times) {
    const index = Math.floor((time - from) / windowMs);
    if (index >= 0 && index < windows) counts[index] = (counts[index] as number) + 1;
  }
  return counts.map((count) => (count * 1000) / windowMs);
}
