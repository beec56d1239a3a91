/** Summary of a sample of durations in milliseconds (exact quantiles over the sorted sample). */
export interface LatencySummary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((acc, v) => acc + v, 0);
  return {
    count: sorted.length,
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    p999: quantile(sorted, 0.999),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
  };
}

/** Fixed-precision number for tables. */
export function fmt(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

/** The range [min, max] of one figure over repetitions. */
type Range = readonly [number, number];

/** How much each headline figure moved between repetitions of the same run. */
export interface Spread {
  readonly repetitions: number;
  readonly p50: Range;
  readonly p90: Range;
  readonly p99: Range;
  readonly mean: Range;
  readonly successRate: Range;
}

function range(values: readonly number[]): Range {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length === 0 ? [Number.NaN, Number.NaN] : [Math.min(...finite), Math.max(...finite)];
}

export function spreadOf(repetitions: ReadonlyArray<{ latency: LatencySummary; successRate: number }>): Spread {
  return {
    repetitions: repetitions.length,
    p50: range(repetitions.map((r) => r.latency.p50)),
    p90: range(repetitions.map((r) => r.latency.p90)),
    p99: range(repetitions.map((r) => r.latency.p99)),
    mean: range(repetitions.map((r) => r.latency.mean)),
    successRate: range(repetitions.map((r) => r.successRate)),
  };
}
