/** Counters of the proxy itself, in `/stats`. */
export interface ProxyCounters {
  readonly requests: number;
  readonly calls: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly rejected: number;
  readonly unauthorized: number;
}

export type MutableCounters = { -readonly [K in keyof ProxyCounters]: number };

export function createCounters(): MutableCounters {
  return { requests: 0, calls: 0, succeeded: 0, failed: 0, rejected: 0, unauthorized: 0 };
}
