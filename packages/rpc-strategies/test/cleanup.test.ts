import { getEventListeners } from 'node:events';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { consensus, dual, hedge, race, scatter } from '@x/rpc-strategies';
import type { AttemptContext } from '@x/errors';
import { ep, rejection, settle, simulate } from './helpers.js';

// Real timers here: these tests are about the process (warnings, unhandled rejections), not timing.

function collect(event: 'warning' | 'unhandledRejection') {
  const seen: unknown[] = [];
  const listener = (value: unknown): void => {
    seen.push(value);
  };
  process.on(event, listener);
  return { seen, stop: () => process.off(event, listener) };
}

/** Resolves on the next macrotask, after the strategy's own microtask cleanup, and honours abort. */
function nextTurn(value: number, { signal }: AttemptContext): Promise<number> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    setImmediate(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    });
  });
}

describe('cleanup under load', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('10,000 calls on one long-lived signal: one listener at most, none left, no MaxListenersExceededWarning', async () => {
    const warnings = collect('warning');
    const controller = new AbortController();
    const { signal } = controller;
    try {
      // Sequential calls, as a long-running poller makes them.
      for (let i = 0; i < 5_000; i++) await race([1, 2, 3], (n) => Promise.resolve(n), { signal });
      expect(getEventListeners(signal, 'abort')).toHaveLength(0);

      // Concurrent calls, all in flight at once under the same signal.
      const calls = Array.from({ length: 5_000 }, (_, i) =>
        i % 2 === 0 ? race([1, 2, 3], nextTurn, { signal }) : hedge([1, 2], nextTurn, { signal, hedgeDelayMs: 1_000 }),
      );
      expect(getEventListeners(signal, 'abort')).toHaveLength(1);
      await Promise.all(calls);
      expect(getEventListeners(signal, 'abort')).toHaveLength(0);
      await nextMacrotask();
      expect(warnings.seen.filter((w) => (w as Error).name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      warnings.stop();
    }
  });

  it('aborting a shared signal rejects every call under it and leaves no listener', async () => {
    const controller = new AbortController();
    const calls = Array.from({ length: 200 }, () => rejection(race([1, 2], nextTurn, { signal: controller.signal })));
    controller.abort();
    const errors = await Promise.all(calls);
    expect(errors.every((e) => e.code === 'ABORTED' && e.category === 'aborted')).toBe(true);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('no unhandled rejection in a burst where losers reject after being aborted', async () => {
    const unhandled = collect('unhandledRejection');
    try {
      const sim = simulate();
      const endpoints = [
        ep('fast', 1),
        ep('slow', 5),
        ep('careless', 8, { ignoresAbort: true, fails: 'server' }),
        ep('dead', 3, { fails: 'network' }),
      ];
      const burst: Promise<unknown>[] = [];
      for (let i = 0; i < 200; i++) {
        burst.push(
          settle(race(endpoints, sim.attempt)),
          settle(hedge(endpoints, sim.attempt, { hedgeDelayMs: 0 })),
          settle(consensus(endpoints, sim.attempt, { quorum: 1 })),
          settle(dual([{ primary: endpoints[1]!, secondary: endpoints[2]! }, { primary: endpoints[0]! }], sim.attempt)),
          settle(scatter(endpoints, sim.attempt, { stopWhen: (_o, p) => p.settled >= 1 })),
          settle(race(endpoints, sim.attempt, { deadlineMs: 2 })),
          settle(race(endpoints, sim.attempt, { attemptTimeoutMs: 2 })),
        );
      }
      await Promise.all(burst);
      // Let the careless attempts settle after their abort, then give Node a turn to report.
      await new Promise((resolve) => setTimeout(resolve, 20));
      await nextMacrotask();
      expect(sim.seen.filter((s) => s.name === 'careless' && s.signal.aborted).length).toBeGreaterThan(0);
      expect(unhandled.seen).toEqual([]);
    } finally {
      unhandled.stop();
    }
  });

  it('leaves no timer behind on any path', async () => {
    vi.useFakeTimers();
    const sim = simulate();
    const paths = [
      settle(race([ep('a', 5), ep('b', 50)], sim.attempt, { attemptTimeoutMs: 100, deadlineMs: 200 })),
      settle(race([ep('a', 5, { fails: 'config' }), ep('b', 50)], sim.attempt, { attemptTimeoutMs: 100, deadlineMs: 200 })),
      settle(hedge([ep('a', 50), ep('b', 50), ep('c', 50)], sim.attempt, { hedgeDelayMs: 10, attemptTimeoutMs: 100, deadlineMs: 15 })),
      settle(
        consensus([ep('a', 5, { value: 1 }), ep('b', 6, { value: 1 }), ep('c', 90, { value: 1 })], sim.attempt, {
          quorum: 2,
          attemptTimeoutMs: 100,
          deadlineMs: 200,
        }),
      ),
      settle(scatter([ep('a', 5), ep('b', 90)], sim.attempt, { attemptTimeoutMs: 100, deadlineMs: 200, stopWhen: () => true })),
    ];
    await vi.advanceTimersByTimeAsync(15);
    const results = await Promise.all(paths);
    expect(results.map((r) => r.ok)).toEqual([true, false, false, true, true]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
