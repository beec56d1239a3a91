import { setTimeout as sleep } from 'node:timers/promises';
import type { CallTarget, RpcContender } from './contender.js';
import { errorName } from './runner.js';

/** What one open-loop step measured for one contender. */
export interface OpenLoopStep {
  /** Calls started (at the arrival times drawn, whatever the earlier ones are doing). */
  readonly issued: number;
  /** Calls that resolved with the true value. */
  readonly served: number;
  /** Calls that resolved with a value that is not the truth. */
  readonly wrong: number;
  /** Calls that rejected. */
  readonly failed: number;
  /** Calls still running when the step's grace period ran out (neither served nor failed). */
  readonly unfinished: number;
  /** Time each served call waited, in ms. */
  readonly servedLatencies: readonly number[];
  /**
   * Wall time over which the calls were served, in ms: from the step's start to the last call's end, at least the
   * step's duration and at most the duration plus the grace period.
   */
  readonly elapsedMs: number;
  readonly errors: ReadonlyMap<string, number>;
}

export interface OpenLoopOptions {
  /** Mean calls started per second: a Poisson process, the gaps between calls drawn from an exponential distribution. */
  readonly callsPerSecond: number;
  /** A uniform draw in [0, 1) (seeded: the same seed gives every contender the same arrival times). */
  readonly random: () => number;
  readonly durationMs: number;
  /** How long after the last call started the step waits for the calls still running. */
  readonly graceMs: number;
  /** The account call number `index` reads. */
  readonly targetOf: (index: number) => CallTarget;
  /** Whether a value is the truth for its target. */
  readonly isTrue: (value: bigint, target: CallTarget) => boolean;
}

/** Arrival times in ms from the step's start: a Poisson process of `callsPerSecond` over `durationMs`. */
export function poissonArrivals(callsPerSecond: number, durationMs: number, random: () => number): number[] {
  const arrivals: number[] = [];
  const meanGapMs = 1000 / callsPerSecond;
  for (let at = -Math.log(1 - random()) * meanGapMs; at < durationMs; at += -Math.log(1 - random()) * meanGapMs) arrivals.push(at);
  return arrivals;
}

/**
 * Offers `callsPerSecond` calls a second for `durationMs` to one contender, open loop: each call starts at its drawn
 * arrival time whether or not earlier calls have finished (a bot does not slow down because its provider is slow,
 * and its calls come in bursts), so a contender that cannot keep up shows it as failures or as calls still running.
 */
export async function runOpenLoopStep(contender: RpcContender, options: OpenLoopOptions): Promise<OpenLoopStep> {
  const arrivals = poissonArrivals(options.callsPerSecond, options.durationMs, options.random);
  const servedLatencies: number[] = [];
  const errors = new Map<string, number>();
  let served = 0;
  let wrong = 0;
  let failed = 0;
  const running = new Set<Promise<void>>();
  const started = performance.now();
  let closed = false;
  let lastEnd = started;
  const call = (index: number): void => {
    const target = options.targetOf(index);
    const callStarted = performance.now();
    const promise = contender.getBalance(target).then(
      (value) => {
        if (closed) return;
        if (options.isTrue(value, target)) {
          served++;
          servedLatencies.push(performance.now() - callStarted);
        } else wrong++;
      },
      (error: unknown) => {
        if (closed) return;
        failed++;
        const name = errorName(error);
        errors.set(name, (errors.get(name) ?? 0) + 1);
      },
    );
    const tracked = promise.finally(() => {
      running.delete(tracked);
      if (!closed) lastEnd = performance.now();
    });
    running.add(tracked);
  };
  for (const [index, at] of arrivals.entries()) {
    const waitMs = started + at - performance.now();
    if (waitMs > 1) await sleep(waitMs);
    call(index);
  }
  // The step lasts its duration even when the last call was started early.
  const endMs = started + options.durationMs;
  if (endMs - performance.now() > 1) await sleep(endMs - performance.now());
  const grace = new AbortController();
  const settled = Promise.allSettled([...running]).then(() => grace.abort());
  await Promise.race([settled, sleep(options.graceMs, undefined, { signal: grace.signal }).catch(() => undefined)]);
  grace.abort();
  closed = true;
  const unfinished = running.size;
  return {
    issued: arrivals.length,
    served,
    wrong,
    failed,
    unfinished,
    servedLatencies,
    elapsedMs: unfinished > 0 ? performance.now() - started : Math.max(options.durationMs, lastEnd - started),
    errors,
  };
}
