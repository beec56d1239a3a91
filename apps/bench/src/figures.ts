import { fmt } from './stats.js';
import { barChart, cdfChart } from './svg.js';
import type { BarPanel } from './svg.js';
import type { Chart, ContenderFigures, Table } from './types.js';

export function percent(value: number | null, digits = 2): string {
  if (value === null) return '—';
  return Number.isFinite(value) ? `${(value * 100).toFixed(digits)} %` : 'n/a';
}

/** "a 31 % · b 24 % …": each endpoint's share of a contender's requests. */
function utilisationText(utilisation: Readonly<Record<string, number>> | null): string {
  if (utilisation === null) return '—';
  return Object.entries(utilisation)
    .map(([id, share]) => `${id} ${(share * 100).toFixed(0)}%`)
    .join(' · ');
}

/** The closing note of every RPC scenario: the errors each contender saw (their settings are a table of their own). */
export function errorNotes(figures: readonly ContenderFigures[]): string[] {
  const errors = figures
    .map((f) => (f.errors ? `${f.name}: ${f.errors}` : ''))
    .filter(Boolean)
    .join(' — ');
  return [`Errors seen (most frequent first): ${errors || 'none'}.`];
}

/** "24.1 (23.5–24.8)": a figure and its range over the repetitions. */
function withSpread(value: number, range: readonly [number, number] | undefined, format: (v: number) => string): string {
  return range === undefined ? format(value) : `${format(value)} (${format(range[0])}–${format(range[1])})`;
}

/** The standard per-contender table: latency quantiles, success, wrong answers, load; each figure with its range over the repetitions. */
export function figuresTable(title: string, figures: readonly ContenderFigures[], options: { correctness: boolean }): Table {
  const columns = ['contender', 'calls', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'mean ms', 'success'];
  const timeouts = figures.some((f) => f.timeoutRate !== undefined);
  if (timeouts) columns.push('timed out');
  if (options.correctness) columns.push('stale', 'wrong');
  columns.push('requests/call', 'load per endpoint');
  return {
    title,
    columns,
    rows: figures.map((f) => {
      const ms = (v: number): string => fmt(v, 1);
      const row: Array<string | number> = [
        f.name,
        f.calls,
        withSpread(f.latencyMs.p50, f.spread?.p50, ms),
        withSpread(f.latencyMs.p90, f.spread?.p90, ms),
        withSpread(f.latencyMs.p99, f.spread?.p99, ms),
        ms(f.latencyMs.p999),
        withSpread(f.latencyMs.mean, f.spread?.mean, ms),
        withSpread(f.successRate, f.spread?.successRate, (v) => percent(v)),
      ];
      if (timeouts) row.push(f.timeoutRate === undefined ? '—' : percent(f.timeoutRate));
      if (options.correctness) row.push(percent(f.staleRate), percent(f.wrongRate));
      row.push(f.requestsPerCall === null ? '—' : fmt(f.requestsPerCall, 2), utilisationText(f.utilisation));
      return row;
    }),
  };
}

/** A latency CDF of every contender, and a bar chart of p99 next to requests per call. */
export function figuresCharts(options: {
  id: string;
  title: string;
  figures: readonly ContenderFigures[];
  latencies: ReadonlyArray<readonly number[]>;
  extraPanel?: BarPanel;
  p99Marker?: { value: number; label: string };
}): Chart[] {
  const names = options.figures.map((f) => f.name);
  const panels: BarPanel[] = [
    {
      title: 'p99 latency (ms)',
      values: options.figures.map((f) => f.latencyMs.p99),
      digits: 0,
      ...(options.p99Marker ? { marker: options.p99Marker } : {}),
    },
    { title: 'requests per call', values: options.figures.map((f) => f.requestsPerCall ?? Number.NaN), digits: 2 },
  ];
  if (options.extraPanel) panels.push(options.extraPanel);
  return [
    {
      file: `bench-${options.id}-cdf.svg`,
      title: `${options.title}: latency CDF per contender`,
      svg: cdfChart({
        title: `${options.title}: latency CDF`,
        subtitle: 'dashed: the libraries users would pick instead · solid: ours (@x/solana-rpc)',
        series: options.figures.map((f, i) => ({ name: f.name, samples: options.latencies[i] ?? [], dashed: f.kind === 'baseline' })),
      }),
    },
    {
      file: `bench-${options.id}-p99-load.svg`,
      title: `${options.title}: p99 latency and load per contender`,
      svg: barChart({ title: `${options.title}: p99 latency and load`, rows: names, panels }),
    },
  ];
}
