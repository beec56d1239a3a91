import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { XError, isXError } from '@x/errors';
import type { AttemptEvent } from '@x/rpc-strategies';
import { DEFAULT_HEDGE_BUDGET, createPool } from '@x/pool';
import type { EndpointSnapshot, ExecuteOptions, Pool, PoolAttemptFn, PoolEndpoint, PoolOptions, Selection } from '@x/pool';
import { fail, ok } from './helpers.js';

interface Step {
  readonly ms: number;
  readonly value?: string;
  readonly error?: XError;
}

interface Started {
  readonly id: string;
  readonly at: number;
  readonly attempt: number;
}

/** An attempt function that answers per endpoint after a scripted delay and honours its signal. */
function scripted(script: Record<string, Step>, started: Started[] = []): PoolAttemptFn<string, string> {
  return (endpoint, { signal, attempt }) =>
    new Promise<string>((resolve, reject) => {
      started.push({ id: endpoint.id, at: performance.now(), attempt });
      const step = script[endpoint.id];
      if (step === undefined) {
        reject(new Error(`no script for ${endpoint.id}`));
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        if (step.error !== undefined) reject(step.error);
        else resolve(step.value ?? endpoint.id);
      }, step.ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
}

const serverError = (): XError => new XError({ code: 'HTTP_503', category: 'server', message: 'HTTP 503' });

function makePool(ids: readonly string[], extra: Partial<PoolOptions<string>> = {}): Pool<string> {
  return createPool({ endpoints: ids.map((id) => ({ id, target: `https://${id}.example` })), ...extra });
}

function byId(pool: Pool<string>): Record<string, EndpointSnapshot> {
  return Object.fromEntries(pool.snapshot().endpoints.map((endpoint) => [endpoint.id, endpoint]));
}

function totalRecorded(pool: Pool<string>): number {
  return pool
    .snapshot()
    .endpoints.reduce(
      (sum, { totals: t }) => sum + t.success + t.error + t.timeout + t.rateLimited + t.rejected + t.cancelled + t.abortedLoser,
      0,
    );
}

async function settle<T>(promise: Promise<T>, ms = 1_000): Promise<T> {
  const outcome = promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  await vi.advanceTimersByTimeAsync(ms);
  const result = await outcome;
  if (!result.ok) throw result.error;
  return result.value;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('execute: race', () => {
  it('records exactly one sample per attempt; the aborted loser is not a failure', async () => {
    const pool = makePool(['a', 'b', 'c']);
    const events: Array<AttemptEvent<PoolEndpoint<string>, string>> = [];
    const result = await settle(
      pool.execute(scripted({ a: { ms: 10 }, b: { ms: 30 }, c: { ms: 1, error: serverError() } }), {
        strategy: 'race',
        onAttempt: (event) => events.push(event),
      }),
    );
    expect(result.value).toBe('a');
    expect(result.candidate.id).toBe('a');
    expect(result.started).toBe(3);
    expect(events).toHaveLength(3);
    expect(totalRecorded(pool)).toBe(3);
    const stats = byId(pool);
    expect(stats.a?.totals).toMatchObject({ success: 1 });
    expect(stats.a?.latency).toMatchObject({ samples: 1, ewmaMs: 10 });
    expect(stats.b?.totals).toMatchObject({ abortedLoser: 1, error: 0, timeout: 0 });
    expect(stats.b?.window.failureRate).toBe(0);
    expect(stats.b?.latency.samples).toBe(0);
    expect(stats.c?.totals).toMatchObject({ error: 1 });
    expect(stats.c?.lastError).toMatchObject({ code: 'HTTP_503' });
    expect(Object.values(stats).every((endpoint) => endpoint.inFlight === 0)).toBe(true);
  });

  it('hands the attempt function the endpoint objects, best ranked first', async () => {
    const pool = makePool(['slow', 'fast']);
    pool.record('slow', ok(50));
    pool.record('fast', ok(5));
    const started: Started[] = [];
    let selection: Selection<string> | undefined;
    await settle(
      pool.execute(scripted({ slow: { ms: 50 }, fast: { ms: 5 } }, started), {
        strategy: 'race',
        onSelection: (chosen) => {
          selection = chosen;
        },
      }),
    );
    expect(started.map((entry) => entry.id)).toEqual(['fast', 'slow']);
    expect(selection?.degraded).toBe(false);
    expect(selection?.endpoints[0]).toEqual({
      id: 'fast',
      target: 'https://fast.example',
      label: 'https://fast.example',
      weight: 1,
      configuredRole: undefined,
    });
  });

  it('respects cool-downs and maxCandidates', async () => {
    const pool = makePool(['a', 'b', 'c']);
    pool.record('a', fail('rate-limit', 1, { retryAfterMs: 10_000 }));
    const started: Started[] = [];
    await settle(pool.execute(scripted({ a: { ms: 1 }, b: { ms: 1 }, c: { ms: 1 } }, started), { strategy: 'race', maxCandidates: 1 }));
    expect(started.map((entry) => entry.id)).toEqual(['b']);
  });

  it('records per-attempt timeouts as timeouts, not errors', async () => {
    const pool = makePool(['a', 'b']);
    const result = await settle(pool.execute(scripted({ a: { ms: 500 }, b: { ms: 20 } }), { strategy: 'race', attemptTimeoutMs: 100 }));
    expect(result.candidate.id).toBe('b');
    // b won at 20 ms, so a was cut as a loser before its timeout.
    expect(byId(pool).a?.totals).toMatchObject({ abortedLoser: 1, timeout: 0 });

    const rejection = settle(pool.execute(scripted({ a: { ms: 500 }, b: { ms: 500 } }), { strategy: 'race', attemptTimeoutMs: 100 }));
    await expect(rejection).rejects.toMatchObject({ code: 'STRATEGY_ALL_ATTEMPTS_FAILED' });
    expect(byId(pool).a?.totals).toMatchObject({ timeout: 1, error: 0 });
    expect(byId(pool).b?.totals).toMatchObject({ timeout: 1, error: 0, success: 1 });
  });
});

describe('execute: hedge', () => {
  it('waits each endpoint’s own latency quantile before hedging, draws on the pool’s budget, and does not count the loser', async () => {
    const pool = makePool(['a', 'b'], { hedgeBudget: { ratio: 1 }, hedge: { quantile: 0.9, minSamples: 5 } });
    for (let ms = 1; ms <= 10; ms++) pool.record('a', ok(ms * 4)); // a: 4 … 40 ms
    pool.record('b', ok(50));
    // a's 0.9 quantile, 36 ms within the sketch's 1 % accuracy: the delay before hedging to b.
    const p90 = byId(pool).a!.latency.p90Ms!;

    const started: Started[] = [];
    const startedAt = performance.now();
    const result = await settle(pool.execute(scripted({ a: { ms: 200 }, b: { ms: 5 } }, started), { strategy: 'hedge' }));
    expect(result.candidate.id).toBe('b');
    expect(result.hedges).toBe(1);
    expect(started.map((entry) => entry.id)).toEqual(['a', 'b']);
    expect(started[0]?.at).toBe(startedAt);
    // Timers run on whole milliseconds.
    expect(started[1]!.at - startedAt).toBe(Math.floor(p90));
    expect(started[1]!.at - startedAt).toBeGreaterThanOrEqual(Math.floor(36 * 0.99));
    expect(started[1]!.at - startedAt).toBeLessThanOrEqual(Math.floor(36 * 1.01));
    expect(byId(pool).a?.totals).toMatchObject({ success: 10, abortedLoser: 1, error: 0, timeout: 0 });
    expect(byId(pool).b?.totals).toMatchObject({ success: 2 });
    expect(pool.hedgeBudget.snapshot()).toMatchObject({ calls: 1, acquired: 1, denied: 0 });
  });

  it('the default budget earns a reserve of hedges per second, so a quiet client can still hedge', async () => {
    const pool = makePool(['a', 'b'], { hedge: { defaultDelayMs: 30, minSamples: 3 } });
    expect(DEFAULT_HEDGE_BUDGET).toEqual({ ratio: 0.1, minPerSecond: 5, burst: 10 });
    await vi.advanceTimersByTimeAsync(1_000);
    const started: Started[] = [];
    const result = await settle(pool.execute(scripted({ a: { ms: 100 }, b: { ms: 5 } }, started), { strategy: 'hedge' }));
    expect(result).toMatchObject({ budgetDenied: false, hedges: 1 });
    expect(started.map((entry) => entry.id)).toEqual(['a', 'b']);
  });

  it('uses the default delay before an endpoint has enough samples, and the budget can refuse', async () => {
    const pool = makePool(['a', 'b'], { hedge: { defaultDelayMs: 30, minSamples: 3 } });
    const started: Started[] = [];
    // Default budget starts empty with ratio 0.1: no hedge on the first call.
    const result = await settle(pool.execute(scripted({ a: { ms: 100 }, b: { ms: 5 } }, started), { strategy: 'hedge' }));
    expect(result).toMatchObject({ budgetDenied: true, hedges: 0 });
    expect(started.map((entry) => entry.id)).toEqual(['a']);
    expect(pool.hedgeBudget.snapshot().denied).toBe(1);

    const generous = makePool(['a', 'b'], { hedge: { defaultDelayMs: 30, minSamples: 3 }, hedgeBudget: { ratio: 1 } });
    started.length = 0;
    const at = performance.now();
    await settle(generous.execute(scripted({ a: { ms: 100 }, b: { ms: 5 } }, started), { strategy: 'hedge' }));
    expect(started.map((entry) => [entry.id, entry.at - at])).toEqual([
      ['a', 0],
      ['b', 30],
    ]);
  });

  it('accepts a delay override', async () => {
    const pool = makePool(['a', 'b'], { hedgeBudget: { ratio: 1 } });
    const started: Started[] = [];
    const at = performance.now();
    await settle(pool.execute(scripted({ a: { ms: 100 }, b: { ms: 5 } }, started), { strategy: 'hedge', hedgeDelayMs: 7 }));
    expect(started.map((entry) => entry.at - at)).toEqual([0, 7]);
  });
});

describe('execute: consensus', () => {
  it('records every participant once: agreeing, failed, and the one cut after the verdict', async () => {
    const pool = makePool(['a', 'b', 'c', 'd']);
    const verdict = await settle(
      pool.execute(
        scripted({ a: { ms: 10, value: 'x' }, b: { ms: 20, value: 'x' }, c: { ms: 5, error: serverError() }, d: { ms: 90, value: 'y' } }),
        {
          strategy: 'consensus',
          quorum: 2,
        },
      ),
    );
    expect(verdict.value).toBe('x');
    expect(verdict.agreed.map((vote) => vote.candidate.id)).toEqual(['a', 'b']);
    expect(totalRecorded(pool)).toBe(4);
    const stats = byId(pool);
    expect(stats.c?.totals.error).toBe(1);
    expect(stats.d?.totals).toMatchObject({ abortedLoser: 1, error: 0 });
    expect(stats.d?.window.failureRate).toBe(0);
  });

  it('fills up to a count quorum with the least bad endpoints when too few are healthy', async () => {
    const pool = makePool(['a', 'b', 'c'], { ejection: { consecutiveFailures: 1 } });
    pool.record('b', fail('server'));
    pool.record('c', fail('server'));
    let selection: Selection<string> | undefined;
    const verdict = await settle(
      pool.execute(scripted({ a: { ms: 1, value: 'x' }, b: { ms: 2, value: 'x' }, c: { ms: 3, value: 'x' } }), {
        strategy: 'consensus',
        quorum: 2,
        onSelection: (chosen) => {
          selection = chosen;
        },
      }),
    );
    expect(verdict.agreed).toHaveLength(2);
    expect(selection?.degraded).toBe(true);
    expect(selection?.endpoints.map((endpoint) => endpoint.id)).toEqual(['a', 'b']);
  });
});

describe('execute: dual', () => {
  it('pairs fast primaries with reliable secondaries and records each attempt once', async () => {
    const pool = makePool(['p1', 'p2', 's1', 's2']);
    for (const [id, ms] of [
      ['p1', 5],
      ['p2', 8],
      ['s1', 40],
      ['s2', 50],
    ] as const) {
      pool.record(id, ok(ms));
    }
    const started: Started[] = [];
    const result = await settle(
      pool.execute(scripted({ p1: { ms: 30, error: serverError() }, p2: { ms: 60 }, s1: { ms: 20 }, s2: { ms: 40 } }, started), {
        strategy: 'dual',
      }),
    );
    expect(started.map((entry) => entry.id)).toEqual(['p1', 's1', 'p2', 's2']);
    expect(result).toMatchObject({ pair: 0, role: 'secondary' });
    expect(result.candidate.id).toBe('s1');
    expect(totalRecorded(pool)).toBe(4 + 4);
    const stats = byId(pool);
    expect(stats.s1?.totals.success).toBe(2);
    expect(stats.p1?.totals.error).toBe(0);
    expect(stats.p2?.totals.abortedLoser).toBe(1);
    expect(stats.s2?.totals.abortedLoser).toBe(1);
  });

  it('balances one pair per call with the pool’s own balancer', async () => {
    const pool = makePool(['p1', 'p2', 's1', 's2'], {
      endpoints: [
        { id: 'p1', target: 'p1', role: 'primary' },
        { id: 'p2', target: 'p2', role: 'primary' },
        { id: 's1', target: 's1', role: 'secondary' },
        { id: 's2', target: 's2', role: 'secondary' },
      ],
    });
    const first: Started[] = [];
    const second: Started[] = [];
    const script = { p1: { ms: 5 }, p2: { ms: 5 }, s1: { ms: 5 }, s2: { ms: 5 } };
    await settle(pool.execute(scripted(script, first), { strategy: 'dual', across: 'balance' }));
    await settle(pool.execute(scripted(script, second), { strategy: 'dual', across: 'balance' }));
    expect(new Set(first.map((entry) => entry.id))).not.toEqual(new Set(second.map((entry) => entry.id)));
    expect(first).toHaveLength(2);
    expect(second).toHaveLength(2);
  });
});

describe('execute: scatter', () => {
  it('sends each endpoint its own request and counts attempts cut by stopWhen as losers', async () => {
    const pool = makePool(['r0', 'r1', 'r2']);
    const payloads: Record<string, string> = { r0: 'coin-0', r1: 'coin-1', r2: 'coin-2' };
    const seen: string[] = [];
    const attempt: PoolAttemptFn<string, string> = async (endpoint, context) => {
      seen.push(payloads[endpoint.id]!);
      return scripted({ r0: { ms: 5 }, r1: { ms: 10 }, r2: { ms: 500 } })(endpoint, context);
    };
    const outcomes = await settle(pool.execute(attempt, { strategy: 'scatter', stopWhen: (_, progress) => progress.succeeded >= 2 }));
    expect(seen).toEqual(['coin-0', 'coin-1', 'coin-2']);
    expect(outcomes.map((outcome) => [outcome.ok, outcome.aborted])).toEqual([
      [true, false],
      [true, false],
      [false, true],
    ]);
    expect(byId(pool).r2?.totals).toMatchObject({ abortedLoser: 1, error: 0, timeout: 0 });
    expect(totalRecorded(pool)).toBe(3);
  });
});

describe('execute: strategy chosen at run time', () => {
  it('accepts options typed as the union and returns that strategy’s result', async () => {
    const pool = makePool(['a', 'b']);
    const presets: Record<string, ExecuteOptions<string, string>> = {
      fast: { strategy: 'race' },
      safe: { strategy: 'consensus', quorum: 2 },
    };
    const raced = await settle(pool.execute(scripted({ a: { ms: 1, value: 'v' }, b: { ms: 2, value: 'v' } }), presets.fast!));
    expect(raced).toMatchObject({ value: 'v', started: 2 });
    const verdict = await settle(pool.execute(scripted({ a: { ms: 1, value: 'v' }, b: { ms: 2, value: 'v' } }), presets.safe!));
    expect(verdict).toMatchObject({ value: 'v', quorum: 2 });
    expect(totalRecorded(pool)).toBe(4);
  });
});

describe('execute: probes, cancellation and bad input', () => {
  it('lets only probeConcurrency concurrent calls use a probing endpoint', async () => {
    const pool = makePool(['a', 'b'], {
      ejection: { consecutiveFailures: 1, baseMs: 1_000, probeConcurrency: 1 },
      hedgeBudget: { ratio: 1 },
    });
    pool.record('b', fail('server'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(byId(pool).b?.health).toBe('probing');
    // One probe done: the next is not due for probeIntervalMs, so b ranks after a.
    pool.startAttempt('b').finish({ ok: true, value: undefined, latencyMs: 10 });
    const startedFirst: Started[] = [];
    const startedSecond: Started[] = [];
    const script = { a: { ms: 50 }, b: { ms: 10 } };
    const first = pool.execute(scripted(script, startedFirst), { strategy: 'hedge', hedgeDelayMs: 20 });
    // b has not started yet (the first call hedges to it after 20 ms), but its one probe slot is taken.
    expect(pool.select().endpoints.map((endpoint) => endpoint.id)).toEqual(['a']);
    const second = pool.execute(scripted(script, startedSecond), { strategy: 'hedge', hedgeDelayMs: 20 });
    const [firstResult] = await settle(Promise.all([first, second]));
    expect(startedFirst.map((entry) => entry.id)).toEqual(['a', 'b']);
    expect(firstResult.candidate.id).toBe('b');
    expect(startedSecond.map((entry) => entry.id)).toEqual(['a']);
    expect(byId(pool).b).toMatchObject({ health: 'probing', available: true, inFlight: 0 });
  });

  it('releases the probe slot of a call that ended without starting the probe', async () => {
    const pool = makePool(['a', 'b'], {
      ejection: { consecutiveFailures: 1, baseMs: 1_000, probeConcurrency: 1 },
      hedgeBudget: { ratio: 0, minPerSecond: 0 },
    });
    pool.record('b', fail('server'));
    await vi.advanceTimersByTimeAsync(1_000);
    pool.startAttempt('b').finish({ ok: true, value: undefined, latencyMs: 10 });
    const started: Started[] = [];
    // A budget that never grants: the hedge to b is refused, so b is never started.
    await settle(pool.execute(scripted({ a: { ms: 50 }, b: { ms: 10 } }, started), { strategy: 'hedge', hedgeDelayMs: 20 }));
    expect(started.map((entry) => entry.id)).toEqual(['a']);
    // The slot is free again: b is selectable (first, as its next probe is due by now).
    expect(pool.select().endpoints.map((endpoint) => endpoint.id)).toEqual(['b', 'a']);
  });

  it('ignores a throwing onSelection and still releases the probe slot', async () => {
    const pool = makePool(['a', 'b'], { ejection: { consecutiveFailures: 1, baseMs: 1_000 } });
    pool.record('b', fail('server'));
    await vi.advanceTimersByTimeAsync(1_000);
    const result = await settle(
      pool.execute(scripted({ a: { ms: 5 }, b: { ms: 50 } }), {
        strategy: 'race',
        maxCandidates: 2,
        onSelection: () => {
          throw new Error('observer bug');
        },
      }),
    );
    expect(result.candidate.id).toBe('a');
    expect(byId(pool).b).toMatchObject({ health: 'probing', available: true, inFlight: 0 });
  });

  it('rejects an already-aborted call at once, selecting and recording nothing', async () => {
    const pool = makePool(['a']);
    const controller = new AbortController();
    controller.abort(new Error('user gave up'));
    let selected = false;
    const attempt = vi.fn(scripted({ a: { ms: 1 } }));
    await expect(
      pool.execute(attempt, {
        strategy: 'race',
        signal: controller.signal,
        onSelection: () => {
          selected = true;
        },
      }),
    ).rejects.toMatchObject({ code: 'ABORTED', category: 'aborted' });
    expect(selected).toBe(false);
    expect(attempt).not.toHaveBeenCalled();
    expect(totalRecorded(pool)).toBe(0);
  });

  it('counts attempts cut by the caller’s abort as losers, not failures', async () => {
    const pool = makePool(['a', 'b']);
    const controller = new AbortController();
    const call = pool.execute(scripted({ a: { ms: 100 }, b: { ms: 100 } }), { strategy: 'race', signal: controller.signal });
    const outcome = call.catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(10);
    controller.abort();
    const error = await outcome;
    expect(isXError(error, 'ABORTED')).toBe(true);
    const stats = byId(pool);
    expect(stats.a?.totals).toMatchObject({ abortedLoser: 1, error: 0 });
    expect(stats.b?.totals).toMatchObject({ abortedLoser: 1, error: 0 });
    expect(stats.a?.inFlight).toBe(0);
  });

  it('rejects bad options with a config XError instead of throwing', async () => {
    const pool = makePool(['a']);
    const attempt = scripted({ a: { ms: 1 } });
    const bad: unknown[] = [
      { strategy: 'fastest' },
      undefined,
      { strategy: 'race', maxCandidates: 0 },
      { strategy: 'dual', maxCandidates: 1.5 },
      { strategy: 'race', onAttempt: 'log' },
    ];
    for (const options of bad) {
      const promise = pool.execute(attempt, options as never);
      await expect(promise).rejects.toMatchObject({ code: 'POOL_INVALID_OPTIONS', category: 'config' });
    }
    await expect(pool.execute('nope' as never, { strategy: 'race' })).rejects.toMatchObject({ code: 'POOL_INVALID_OPTIONS' });
    // Options the strategies validate come back as their XErrors, and nothing is left reserved or in flight.
    await expect(pool.execute(attempt, { strategy: 'race', attemptTimeoutMs: -1 })).rejects.toMatchObject({
      code: 'STRATEGY_INVALID_OPTIONS',
    });
    expect(byId(pool).a).toMatchObject({ inFlight: 0, available: true });
  });
});
