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

export interface ScenarioResult {
  readonly tables: readonly Table[];
  readonly goals: readonly Goal[];
  readonly notes?: readonly string[];
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
}
