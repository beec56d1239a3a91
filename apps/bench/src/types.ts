import type { LatencySummary, Spread } from './stats.js';

/** What every benchmark scenario receives. */
export interface BenchContext {
  /** `--full`: run longer for tighter tails. */
  readonly full: boolean;
  /** Seed for every random choice a scenario makes, so runs are comparable. */
  readonly seed: number;
  /** Progress output (stderr), not part of the report. */
  log(line: string): void;
}

export interface Table {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<ReadonlyArray<string | number>>;
}

/** A stated goal and whether this run met it; unmet goals are reported plainly, never hidden. */
export interface Goal {
  readonly goal: string;
  readonly met: boolean;
  readonly measured: string;
}

/** An SVG chart written to docs/ and linked from benchmarks.md. */
export interface Chart {
  /** File name under docs/, e.g. `bench-rpc-tail-cdf.svg`. */
  readonly file: string;
  /** Alt text and caption. */
  readonly title: string;
  readonly svg: string;
}

/** The figures every contender of a call-level scenario reports, as written to docs/benchmarks.json. */
export interface ContenderFigures {
  readonly name: string;
  readonly kind: 'ours' | 'baseline';
  /** Calls measured (warm-up excluded). */
  readonly calls: number;
  /** Time each caller waited, success or failure, in ms. */
  readonly latencyMs: LatencySummary;
  /** Share of calls that resolved (with any value). */
  readonly successRate: number;
  /** Share of calls that resolved with a value that was never true; null where the scenario has no liar. */
  readonly wrongRate: number | null;
  /** Share of calls that resolved with a value true at an older slot only; null where not measured. */
  readonly staleRate: number | null;
  /** HTTP requests counted at the cluster per call; null where the scenario does not count them. */
  readonly requestsPerCall: number | null;
  /** Endpoint id → share of this contender's requests that endpoint received. */
  readonly utilisation: Readonly<Record<string, number>> | null;
  /** The library settings this contender ran with. */
  readonly settings: string;
  /** Share of calls that failed by running out of time; absent where not measured. */
  readonly timeoutRate?: number;
  /** Each headline figure's range over the run's repetitions; absent where the scenario does not repeat. */
  readonly spread?: Spread;
  /**
   * Worst event-loop delay during this contender's measured blocks (ms), in the measuring process and in
   * the cluster's: machine noise (other processes, GC) that can inflate a tail without being the contender's.
   */
  readonly loopDelayMaxMs?: { readonly bench: number; readonly cluster: number };
  /** The most frequent errors, `count× name: message`. */
  readonly errors?: string;
  /** What the library itself reported after the run (ours: hedge budget, ejections, per-endpoint totals). */
  readonly diagnostics?: Record<string, unknown>;
}

/** One contender's name and its settings text, as the code's defaults produce it. */
export interface ContenderSettings {
  readonly name: string;
  readonly settings: string;
}

export interface ScenarioResult {
  readonly tables: readonly Table[];
  /** Every contender's settings, rendered as the section's settings table (which `pnpm check` compares with the code). */
  readonly settings?: readonly ContenderSettings[];
  readonly goals: readonly Goal[];
  readonly notes?: readonly string[];
  readonly charts?: readonly Chart[];
  /** Machine-readable figures, written to docs/benchmarks.json. */
  readonly data: unknown;
}

export interface Scenario {
  /** Short id used with `--only`. */
  readonly id: string;
  readonly title: string;
  /** One paragraph: what is compared with what, and how. */
  readonly description: string;
  run(context: BenchContext): Promise<ScenarioResult>;
  /**
   * The settings text of every contender, computed from the code's defaults without running anything:
   * the published section must show exactly these (apps/bench/test/published-settings.test.ts).
   */
  settings?(): readonly ContenderSettings[];
}
