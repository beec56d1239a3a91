import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { XError, isXError } from '@x/errors';
import { createLocalBudgetStore, createPool } from '@x/pool';
import type { BudgetReport, BudgetStore, EndpointBudget, ExecuteOptions, Pool, PoolAttemptFn, PoolOptions } from '@x/pool';
import { findSample, parsePrometheus } from './helpers.js';

interface Start {
  readonly id: string;
  readonly at: number;
}

/** Answers `value` (default: the endpoint id) after `ms`, or fails with `errors[id]`; honours its signal; logs each start. */
function answering(starts: Start[], ms = 5, errors: Record<string, () => XError> = {}): PoolAttemptFn<string, string> {
  return (endpoint, { signal }) =>
    new Promise<string>((resolve, reject) => {
      starts.push({ id: endpoint.id, at: performance.now() });
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        const error = errors[endpoint.id];
        if (error !== undefined) reject(error());
        else resolve(endpoint.id);
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
}

/** A pool over `budgets`; without a `burstReserve` of their own they hold nothing back, so buckets are exactly the declared ones. */
function budgetPool(budgets: Record<string, EndpointBudget | undefined>, extra: Partial<PoolOptions<string>> = {}): Pool<string> {
  return createPool({
    endpoints: Object.entries(budgets).map(([id, budget]) =>
      budget === undefined ? { id, target: id } : { id, target: id, budget: { burstReserve: 0, ...budget } },
    ),
    ...extra,
  });
}

/** Settles a promise while fake time passes, without an unhandled rejection in between. */
function settled<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** Settles a call whose attempts answer within `ms` of fake time. */
async function run<T>(promise: Promise<T>, ms = 10): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  const outcome = settled(promise);
  await vi.advanceTimersByTimeAsync(ms);
  return outcome;
}

/** Offers `perSecond` calls for `seconds` of fake time (one every 1000/perSecond ms), then lets them all finish. */
async function offerLoad(
  pools: ReadonlyArray<Pool<string>>,
  attempt: PoolAttemptFn<string, string>,
  options: ExecuteOptions<string, string>,
  perSecond: number,
  seconds: number,
): Promise<Array<{ ok: boolean }>> {
  const calls: Array<Promise<{ ok: boolean }>> = [];
  const gapMs = 1_000 / perSecond;
  for (let index = 0; index < perSecond * seconds; index++) {
    const pool = pools[index % pools.length] as Pool<string>;
    calls.push(settled(pool.execute(attempt, options)));
    await vi.advanceTimersByTimeAsync(gapMs);
  }
  await vi.advanceTimersByTimeAsync(5_000);
  return Promise.all(calls);
}

/** Most starts on `id` in any window of `windowMs` (every window that begins at a start). */
function busiestWindow(starts: readonly Start[], id: string, windowMs: number): number {
  const times = starts.filter((start) => start.id === id).map((start) => start.at);
  let most = 0;
  for (let i = 0; i < times.length; i++) {
    let j = i;
    while (j < times.length && (times[j] as number) < (times[i] as number) + windowMs) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

const count = (starts: readonly Start[], id: string): number => starts.filter((start) => start.id === id).length;

async function sample(pool: Pool<string>, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  return findSample(parsePrometheus(await pool.metrics()).samples, `x_pool_${name}`, labels)?.value;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('budgets: never beyond a bucket', () => {
  it('sends at most burst + rate × T to each endpoint in any window T, under a load far above the limits', async () => {
    const pool = budgetPool(
      { a: { requestsPerSecond: 10, burst: 5 }, b: { requestsPerSecond: 5, burst: 3 } },
      { onBudgetExhausted: 'fail' },
    );
    const starts: Start[] = [];
    const results = await offerLoad([pool], answering(starts), { strategy: 'race' }, 50, 10);
    for (const [id, rate, burst] of [
      ['a', 10, 5],
      ['b', 5, 3],
    ] as const) {
      expect(busiestWindow(starts, id, 1_000)).toBeLessThanOrEqual(burst + rate);
      expect(busiestWindow(starts, id, 100)).toBeLessThanOrEqual(burst + rate / 10);
      // …and the allowance is used: close to burst + rate × 10 s over the run.
      expect(count(starts, id)).toBeGreaterThanOrEqual(0.9 * (burst + rate * 10));
      expect(count(starts, id)).toBeLessThanOrEqual(burst + rate * 10 + 1);
    }
    const refused = results.filter((result) => !result.ok).length;
    expect(refused).toBeGreaterThan(0);
    expect(await sample(pool, 'budget_exhausted_total')).toBe(refused);
  });

  it('holds back half the declared burst by default (slack for jitter on the way), and keeps the declared rate', async () => {
    const pool = createPool({
      endpoints: [{ id: 'a', target: 'a', budget: { requestsPerSecond: 10, burst: 20 } }],
      onBudgetExhausted: 'fail',
    });
    const starts: Start[] = [];
    // 100 calls at once: only the bucket's 10 tokens (half of 20) go out, the rest fail fast.
    const burst = await run(
      Promise.all(Array.from({ length: 100 }, () => settled(pool.execute(answering(starts), { strategy: 'hedge' })))),
    );
    expect(burst.ok).toBe(true);
    expect(starts.length).toBe(10);
    // Then the declared rate: 10 a second.
    starts.length = 0;
    await offerLoad([pool], answering(starts), { strategy: 'hedge' }, 40, 5);
    expect(count(starts, 'a')).toBeGreaterThanOrEqual(0.9 * 10 * 5);
    expect(count(starts, 'a')).toBeLessThanOrEqual(10 * 5 + 1);
  });

  it('two pools sharing one store (two replicas) stay within the one budget together', async () => {
    const store = createLocalBudgetStore();
    const options = { onBudgetExhausted: 'fail' as const, budgetStore: store };
    const replicas = [budgetPool({ a: { requestsPerSecond: 10 } }, options), budgetPool({ a: { requestsPerSecond: 10 } }, options)];
    const starts: Start[] = [];
    await offerLoad(replicas, answering(starts), { strategy: 'hedge' }, 40, 5);
    expect(busiestWindow(starts, 'a', 1_000)).toBeLessThanOrEqual(20);
    expect(count(starts, 'a')).toBeLessThanOrEqual(10 + 10 * 5 + 1);
    expect(count(starts, 'a')).toBeGreaterThanOrEqual(0.9 * (10 + 10 * 5));
  });

  it('counts credits by method cost, and an explicit cost overrides it', async () => {
    const pool = budgetPool(
      { a: { requestsPerSecond: 100, credits: { perSecond: 10, burst: 10, costs: { getBlock: 5, getSlot: 1 }, defaultCost: 2 } } },
      { onBudgetExhausted: 'fail' },
    );
    const starts: Start[] = [];
    const call = (options: Partial<ExecuteOptions<string, string>>): Promise<{ ok: boolean; error?: unknown }> =>
      run(pool.execute(answering(starts, 1), { strategy: 'hedge', ...options } as ExecuteOptions<string, string>), 2);
    expect((await call({ method: 'getBlock' })).ok).toBe(true);
    expect((await call({ method: 'getBlock' })).ok).toBe(true);
    const refused = await call({ method: 'getSlot' });
    expect(isXError((refused as { error: unknown }).error, 'POOL_BUDGET_EXHAUSTED')).toBe(true);
    await vi.advanceTimersByTimeAsync(300); // 3 credits back
    expect((await call({ method: 'unknownMethod' })).ok).toBe(true); // defaultCost 2
    expect((await call({ method: 'getBlock', cost: 1 })).ok).toBe(true);
    expect((await call({ method: 'getSlot' })).ok).toBe(false);
    expect(starts).toHaveLength(4);
  });

  it('caps attempts in flight with maxConcurrency: the next call waits for a slot, not for time', async () => {
    const pool = budgetPool({ a: { requestsPerSecond: 1_000, maxConcurrency: 2 } });
    const starts: Start[] = [];
    const attempt = answering(starts, 100);
    const calls = [0, 1, 2].map(() => settled(pool.execute(attempt, { strategy: 'hedge' })));
    await vi.advanceTimersByTimeAsync(50);
    expect(starts).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(50);
    expect(starts.map((start) => start.at)).toEqual([0, 0, 100].map((ms) => starts[0]!.at + ms));
    await vi.advanceTimersByTimeAsync(100);
    expect((await Promise.all(calls)).every((result) => result.ok)).toBe(true);
  });
});

describe('budgets: load-aware selection', () => {
  const limits = { a: { requestsPerSecond: 10 }, b: { requestsPerSecond: 20 }, c: { requestsPerSecond: 30 } };

  it('at saturation each endpoint carries its own limit: the usable rate is the sum of the limits', async () => {
    const pool = budgetPool(limits, { onBudgetExhausted: 'fail' });
    const starts: Start[] = [];
    const results = await offerLoad([pool], answering(starts), { strategy: 'hedge' }, 100, 10);
    for (const [id, rate] of [
      ['a', 10],
      ['b', 20],
      ['c', 30],
    ] as const) {
      expect(count(starts, id)).toBeGreaterThanOrEqual(0.9 * (rate + rate * 10));
      expect(count(starts, id)).toBeLessThanOrEqual(rate + rate * 10 + 1);
    }
    expect(results.filter((result) => result.ok).length).toBeGreaterThanOrEqual(0.9 * 60 * 10);
  });

  it('below saturation traffic spreads by headroom: each endpoint gets about its share of the limits', async () => {
    const pool = budgetPool(limits);
    const starts: Start[] = [];
    const results = await offerLoad([pool], answering(starts), { strategy: 'hedge' }, 30, 20);
    expect(results.every((result) => result.ok)).toBe(true);
    const total = starts.length;
    expect(total).toBe(600);
    for (const [id, share] of [
      ['a', 1 / 6],
      ['b', 2 / 6],
      ['c', 3 / 6],
    ] as const) {
      expect(count(starts, id) / total).toBeGreaterThan(share * 0.8);
      expect(count(starts, id) / total).toBeLessThan(share * 1.2);
    }
  });

  it('weights headroom by score: a much slower endpoint is used only once the fast one runs low', async () => {
    const pool = budgetPool({ fast: { requestsPerSecond: 10 }, slow: { requestsPerSecond: 10 } });
    pool.record('fast', { ok: true, value: undefined, latencyMs: 5 });
    pool.record('slow', { ok: true, value: undefined, latencyMs: 200 });
    const chosen: string[] = [];
    for (let index = 0; index < 6; index++) {
      await run(pool.execute(answering([], 0), { strategy: 'hedge', onSelection: (s) => chosen.push(s.endpoints[0]!.id) }));
    }
    expect(chosen.slice(0, 5)).toEqual(['fast', 'fast', 'fast', 'fast', 'fast']);
  });
});

describe('budgets: every strategy', () => {
  it("moves on when the store refuses what this pool's estimate allowed (another replica took the tokens)", async () => {
    const store = createLocalBudgetStore();
    const endpoints = { a: { requestsPerSecond: 0.001, burst: 2 }, b: { requestsPerSecond: 0.001, burst: 2 } };
    const other = budgetPool(endpoints, { budgetStore: store, onBudgetExhausted: 'fail' });
    const pool = budgetPool(endpoints, { budgetStore: store, onBudgetExhausted: 'fail' });
    await run(store.take([{ bucket: { key: 'a:requests', ratePerSecond: 0.001, capacity: 2 }, cost: 2 }])); // the other replica's calls
    expect(other.endpoints).toHaveLength(2);
    const reports: BudgetReport[] = [];
    const outcome = await run(
      pool.execute(answering([]), { strategy: 'hedge', maxCandidates: 1, onSelection: (s) => reports.push(s.budget!) }),
    );
    expect(outcome.ok && outcome.value.candidate.id).toBe('b');
    expect(reports[0]?.withoutHeadroom).toEqual(['a']);
    expect(await sample(pool, 'budget_refused_total', { endpoint: 'a' })).toBe(1);
    expect(await sample(pool, 'budget_tokens', { endpoint: 'a', bucket: 'requests' })).toBeCloseTo(0);
  });

  it('consensus and scatter run on the endpoints whose budgets admit them, and say which were left out', async () => {
    const pool = budgetPool(
      { a: { requestsPerSecond: 0.001, burst: 1 }, b: { requestsPerSecond: 0.001, burst: 5 }, c: { requestsPerSecond: 0.001, burst: 5 } },
      { onBudgetExhausted: 'fail' },
    );
    await run(pool.execute(answering([]), { strategy: 'hedge', maxCandidates: 1 })); // a's only token
    const selections: Array<{ ids: string[]; budget: BudgetReport | undefined }> = [];
    const onSelection = (s: { endpoints: ReadonlyArray<{ id: string }>; budget?: BudgetReport }): void => {
      selections.push({ ids: s.endpoints.map((e) => e.id), budget: s.budget });
    };
    const scattered = await run(pool.execute(answering([]), { strategy: 'scatter', onSelection }));
    expect(scattered.ok && scattered.value.map((o) => o.ok && o.value)).toEqual(['b', 'c']);
    const verdict = await run(pool.execute(answering([]), { strategy: 'consensus', quorum: 2, normalize: () => 'same', onSelection }));
    expect(verdict.ok).toBe(true);
    expect(selections.map((s) => s.ids.sort())).toEqual([
      ['b', 'c'],
      ['b', 'c'],
    ]);
    expect(selections[0]?.budget).toMatchObject({ strategy: 'scatter', degraded: false, withoutHeadroom: ['a'] });
    expect(selections[0]?.budget?.redundancy).toBeUndefined();
    // A quorum of three cannot be met by two budgets: exhausted, nothing sent, the two grants given back.
    const starts: Start[] = [];
    const failed = await run(pool.execute(answering(starts), { strategy: 'consensus', quorum: 3, normalize: () => 'same' }));
    expect(isXError((failed as { error: unknown }).error, 'POOL_BUDGET_EXHAUSTED')).toBe(true);
    expect(starts).toHaveLength(0);
    expect(await sample(pool, 'budget_tokens', { endpoint: 'b', bucket: 'requests' })).toBeCloseTo(3);
  });

  it("a hedge takes its endpoint's tokens when it is due: refused, it is never sent and the call goes on", async () => {
    const store = createLocalBudgetStore();
    const endpoints = { a: { requestsPerSecond: 0.001, burst: 1 }, b: { requestsPerSecond: 0.001, burst: 1 } };
    const pool = budgetPool(endpoints, { budgetStore: store });
    await vi.advanceTimersByTimeAsync(1_000); // the hedge budget starts empty and earns 5 hedges a second
    const starts: Start[] = [];
    const events: Array<{ id: string; code: string | undefined }> = [];
    const call = settled(
      pool.execute(answering(starts, 100), {
        strategy: 'hedge',
        hedgeDelayMs: 30,
        onAttempt: (event) => events.push({ id: event.candidate.id, code: event.outcome.ok ? undefined : event.outcome.error.code }),
      }),
    );
    await vi.advanceTimersByTimeAsync(10);
    // Meanwhile another user of the store spends b's only token.
    expect((await store.take([{ bucket: { key: 'b:requests', ratePerSecond: 0.001, capacity: 1 }, cost: 1 }])).granted).toBe(true);
    await vi.advanceTimersByTimeAsync(100);
    const result = await call;
    expect(result.ok && result.value.candidate.id).toBe('a');
    expect(starts.map((start) => start.id)).toEqual(['a']);
    expect(events).toEqual([
      { id: 'b', code: 'POOL_BUDGET_REFUSED' },
      { id: 'a', code: undefined },
    ]);
    expect(pool.snapshot().endpoints[1]?.totals).toMatchObject({ rateLimited: 0, error: 0 }); // nothing recorded against b
  });

  it('dual keeps the pairs whose endpoints have room', async () => {
    const pool = budgetPool({
      a: { requestsPerSecond: 0.001, burst: 1 },
      b: { requestsPerSecond: 100 },
    });
    await run(pool.execute(answering([]), { strategy: 'hedge', maxCandidates: 1 })); // a's only token (a ranks first)
    const starts: Start[] = [];
    const result = await run(pool.execute(answering(starts), { strategy: 'dual' }));
    expect(result.ok).toBe(true);
    expect(starts.map((start) => start.id)).toEqual(['b']);
  });
});

describe('budgets: redundancy degrades race → hedge → single', () => {
  it('reports each step in onSelection, on the result and in the metrics', async () => {
    const pool = budgetPool(
      { a: { requestsPerSecond: 1, burst: 10 }, b: { requestsPerSecond: 1, burst: 10 } },
      { onBudgetExhausted: 'fail' },
    );
    const seen: BudgetReport[] = [];
    const ran: string[] = [];
    const starts: Start[] = [];
    for (let index = 0; index < 14; index++) {
      const outcome = await run(
        pool.execute(answering(starts, 1), { strategy: 'race', onSelection: (selection) => seen.push(selection.budget!) }),
      );
      if (!outcome.ok) break;
      expect(outcome.value.budget).toEqual(seen.at(-1));
      ran.push(outcome.value.budget!.redundancy!);
    }
    // 6 races take 12 of 20 tokens (both buckets at 4/10 < 0.5); hedges then while another bucket keeps ≥ 2/10; then singles.
    expect(ran.slice(0, 6)).toEqual(Array(6).fill('race'));
    expect(ran.indexOf('hedge')).toBe(6);
    expect(ran).toContain('single');
    expect(ran.lastIndexOf('race')).toBeLessThan(ran.indexOf('hedge'));
    expect(ran.lastIndexOf('hedge')).toBeLessThan(ran.indexOf('single'));
    expect(seen[6]).toMatchObject({ strategy: 'race', redundancy: 'hedge', degraded: true, waitedMs: 0 });
    expect(seen[0]).toMatchObject({ strategy: 'race', redundancy: 'race', degraded: false });
    const hedges = ran.filter((r) => r === 'hedge').length;
    const singles = ran.filter((r) => r === 'single').length;
    expect(await sample(pool, 'budget_degraded_total', { from: 'race', to: 'hedge' })).toBe(hedges);
    expect(await sample(pool, 'budget_degraded_total', { from: 'race', to: 'single' })).toBe(singles);
    // Never more than the buckets held: 20 tokens (plus what refilled in the few ms the calls took).
    expect(starts.length).toBeLessThanOrEqual(20);
  });

  it('a single attempt still fails over to another endpoint after an error', async () => {
    const pool = budgetPool({ a: { requestsPerSecond: 1, burst: 10 }, b: { requestsPerSecond: 1, burst: 10 } });
    for (let index = 0; index < 18; index++) {
      await run(pool.execute(answering([], 0), { strategy: 'hedge', maxCandidates: 1 }));
    }
    const starts: Start[] = [];
    const broken = (): XError => new XError({ code: 'HTTP_503', category: 'server', message: 'HTTP 503' });
    const reports: BudgetReport[] = [];
    const outcome = await run(
      pool.execute(answering(starts, 1, { b: broken, a: broken }), { strategy: 'hedge', onSelection: (s) => reports.push(s.budget!) }),
    );
    expect(reports[0]?.redundancy).toBe('single');
    expect(outcome.ok).toBe(false);
    expect(starts.map((start) => start.id).sort()).toEqual(['a', 'b']);
  });
});

describe('budgets: exhausted', () => {
  it('fails fast with POOL_BUDGET_EXHAUSTED when asked to, and waits for the next token by default', async () => {
    const pool = budgetPool({ a: { requestsPerSecond: 1, burst: 1 } });
    const starts: Start[] = [];
    expect((await run(pool.execute(answering(starts), { strategy: 'race' }))).ok).toBe(true);

    const failed = await run(pool.execute(answering(starts), { strategy: 'race', onBudgetExhausted: 'fail' }));
    const error = (failed as { error: unknown }).error;
    expect(isXError(error, 'POOL_BUDGET_EXHAUSTED')).toBe(true);
    if (!isXError(error, 'POOL_BUDGET_EXHAUSTED')) return;
    expect(error.category).toBe('rate-limit');
    expect(error.context).toEqual({ retryInMs: 990, endpoints: ['a'], waitedMs: 0 });
    expect(error.message).toMatch(/budget is exhausted/);

    const waiting = settled(pool.execute(answering(starts), { strategy: 'race' }));
    await vi.advanceTimersByTimeAsync(979); // the failed call above took 10 ms of fake time too
    expect(starts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(starts).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(5);
    const waited = await waiting;
    expect(waited.ok && waited.value.budget).toMatchObject({ waitedMs: 980, redundancy: 'race' });
    expect(starts[1]!.at - starts[0]!.at).toBe(1_000);
    expect(await sample(pool, 'budget_waits_total')).toBe(1);
    expect(await sample(pool, 'budget_wait_seconds_total')).toBeCloseTo(0.98);
  });

  it('the pool default can be fail, overridden per call; a wait never outlasts the deadline', async () => {
    const pool = budgetPool({ a: { requestsPerSecond: 1, burst: 1 } }, { onBudgetExhausted: 'fail' });
    const starts: Start[] = [];
    await run(pool.execute(answering(starts), { strategy: 'hedge' }));
    const failed = await run(pool.execute(answering(starts), { strategy: 'hedge' }));
    expect(isXError((failed as { error: unknown }).error, 'POOL_BUDGET_EXHAUSTED')).toBe(true);

    const tooShort = await run(pool.execute(answering(starts), { strategy: 'hedge', onBudgetExhausted: 'wait', deadlineMs: 500 }));
    const error = (tooShort as { error: unknown }).error;
    expect(isXError(error, 'POOL_BUDGET_EXHAUSTED') && error.message).toMatch(/after the call's deadline/);
    expect(vi.getTimerCount()).toBe(0);

    const waiting = settled(pool.execute(answering(starts), { strategy: 'hedge', onBudgetExhausted: 'wait', deadlineMs: 2_000 }));
    await vi.advanceTimersByTimeAsync(1_100);
    const result = await waiting;
    expect(result.ok).toBe(true);
    expect(starts).toHaveLength(2);
  });

  it('an abort during the wait rejects at once and leaves no timer behind', async () => {
    const pool = budgetPool({ a: { requestsPerSecond: 0.1, burst: 1 } });
    await run(pool.execute(answering([]), { strategy: 'race' }));
    await vi.advanceTimersByTimeAsync(10);
    expect(vi.getTimerCount()).toBe(0);
    const controller = new AbortController();
    const starts: Start[] = [];
    const waiting = settled(pool.execute(answering(starts), { strategy: 'race', signal: controller.signal }));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(vi.getTimerCount()).toBe(1);
    controller.abort();
    const outcome = await waiting;
    expect(outcome.ok).toBe(false);
    expect((outcome as { error: XError }).error.category).toBe('aborted');
    expect(vi.getTimerCount()).toBe(0);
    expect(starts).toHaveLength(0);
  });
});

describe('budgets: refunds', () => {
  it('gives back the tokens of attempts a call took but never started', async () => {
    const pool = budgetPool(
      { a: { requestsPerSecond: 0.001, burst: 1 }, b: { requestsPerSecond: 0.001, burst: 1 }, c: { requestsPerSecond: 0.001, burst: 1 } },
      { onBudgetExhausted: 'fail' },
    );
    const starts: Start[] = [];
    // Consensus takes every participant's tokens up front; with two agreeing votes the third never starts.
    const verdict = await run(
      pool.execute(answering(starts, 1), { strategy: 'consensus', quorum: 2, maxParticipants: 2, normalize: () => 'x' }),
    );
    expect(verdict.ok).toBe(true);
    expect(starts).toHaveLength(2);
    const unused = ['a', 'b', 'c'].find((id) => !starts.some((start) => start.id === id))!;
    expect(await sample(pool, 'budget_tokens', { endpoint: unused, bucket: 'requests' })).toBeCloseTo(1);
    const again = await run(pool.execute(answering(starts, 1), { strategy: 'hedge' }));
    expect(again.ok).toBe(true);
    expect(starts.at(-1)?.id).toBe(unused);
  });

  it('gives back the tokens when the call is aborted before its attempts start', async () => {
    const store = createLocalBudgetStore();
    const refunds: string[] = [];
    const watched: BudgetStore = {
      ...store,
      refund: (takes) => {
        refunds.push(...takes.map((take) => take.bucket.key));
        return store.refund(takes);
      },
    };
    const pool = budgetPool({ a: { requestsPerSecond: 0.001, burst: 1 } }, { budgetStore: watched, onBudgetExhausted: 'fail' });
    const controller = new AbortController();
    const outcome = await run(
      pool.execute(answering([]), { strategy: 'race', signal: controller.signal, onSelection: () => controller.abort() }),
    );
    expect(outcome.ok).toBe(false);
    expect(refunds).toEqual(['a:requests']);
    expect((await run(pool.execute(answering([]), { strategy: 'race' }))).ok).toBe(true);
  });
});

describe('budgets: cool-downs and holds shared through the store', () => {
  const rateLimited = (): XError =>
    new XError({ code: 'HTTP_429', category: 'rate-limit', message: 'HTTP 429', context: { status: 429, retryAfterMs: 3_000 } });

  it("a 429's Retry-After cools the endpoint down here and, through the store, in a second pool", async () => {
    const store = createLocalBudgetStore();
    const endpoints = { a: { requestsPerSecond: 100 }, b: { requestsPerSecond: 100 } };
    const first = budgetPool(endpoints, { budgetStore: store });
    const second = budgetPool(endpoints, { budgetStore: store });
    await run(second.execute(answering([]), { strategy: 'hedge' })); // the second pool has read the (empty) holds
    const sent = Date.now();
    await run(first.execute(answering([], 1, { a: rateLimited }), { strategy: 'hedge', maxCandidates: 1 }));
    expect((await store.holds()).get('a')).toEqual({ kind: 'cooldown', untilWallMs: sent + 1 + 3_000 });
    expect(first.snapshot().endpoints[0]).toMatchObject({ id: 'a', available: false, coolingDownForMs: 2_991 });

    // Holds are read at most once a second: the second pool sees it on its first call a second later.
    await vi.advanceTimersByTimeAsync(1_000);
    const chosen: string[] = [];
    await run(second.execute(answering([]), { strategy: 'race', onSelection: (s) => chosen.push(...s.endpoints.map((e) => e.id)) }));
    expect(chosen).toEqual(['b']);
    expect(second.snapshot().endpoints[0]).toMatchObject({ id: 'a', available: false });
    await vi.advanceTimersByTimeAsync(2_000);
    chosen.length = 0;
    await run(second.execute(answering([]), { strategy: 'race', onSelection: (s) => chosen.push(...s.endpoints.map((e) => e.id)) }));
    expect(chosen.sort()).toEqual(['a', 'b']);
  });

  it('reads the holds at most once a second, from execute, with no timer of its own', async () => {
    const store = createLocalBudgetStore();
    let reads = 0;
    const counted: BudgetStore = {
      ...store,
      holds: () => {
        reads++;
        return store.holds();
      },
    };
    const pool = budgetPool({ a: { requestsPerSecond: 1_000 } }, { budgetStore: counted });
    expect(vi.getTimerCount()).toBe(0);
    for (let index = 0; index < 10; index++) await run(pool.execute(answering([]), { strategy: 'race' }), 50);
    expect(reads).toBe(1);
    await vi.advanceTimersByTimeAsync(500);
    await run(pool.execute(answering([]), { strategy: 'race' }));
    expect(reads).toBe(2);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(reads).toBe(2); // idle: nothing polls
    expect(vi.getTimerCount()).toBe(0);
  });

  it('publishes ejections; a store that fails to answer leaves the pool working on its own view', async () => {
    const store = createLocalBudgetStore();
    const broken: BudgetStore = {
      ...store,
      holds: () => Promise.reject(new Error('store down')),
      hold: () => Promise.reject(new Error('down')),
    };
    const pool = budgetPool({ a: undefined, b: undefined }, { budgetStore: store, ejection: { consecutiveFailures: 1 } });
    const failing = (): XError => new XError({ code: 'HTTP_503', category: 'server', message: 'HTTP 503' });
    const sent = Date.now();
    await run(pool.execute(answering([], 1, { a: failing }), { strategy: 'hedge', maxCandidates: 1 }));
    expect((await store.holds()).get('a')).toEqual({ kind: 'ejected', untilWallMs: sent + 1 + 10_000 });

    const lonely = budgetPool({ a: undefined, b: undefined }, { budgetStore: broken, ejection: { consecutiveFailures: 1 } });
    await run(lonely.execute(answering([], 1, { a: failing }), { strategy: 'hedge', maxCandidates: 1 }));
    const outcome = await run(lonely.execute(answering([]), { strategy: 'race' }));
    expect(outcome.ok && outcome.value.candidate.id).toBe('b');
    expect(await sample(lonely, 'budget_store_mode', { mode: 'local' })).toBe(1);
  });
});

describe('budgets: takeBudget, for requests sent outside execute', () => {
  it('takes n requests for an upstream batch of n calls and the sum of their credits, and refuses what the buckets do not hold', async () => {
    const pool = budgetPool({
      a: { requestsPerSecond: 10, burst: 10, credits: { perSecond: 100, burst: 100, costs: { getBlock: 30 }, defaultCost: 1 } },
      free: undefined,
    });
    expect(await pool.takeBudget('a', { requests: 4, methods: ['getBlock', 'getSlot', 'getSlot', 'getBlock'] })).toEqual({
      granted: true,
      retryInMs: 0,
    });
    const tokens = async (bucket: string): Promise<number | undefined> => sample(pool, 'budget_tokens', { endpoint: 'a', bucket });
    expect(await tokens('requests')).toBe(6);
    expect(await tokens('credits')).toBe(38);
    // 7 requests are more than the 6 left: refused, nothing taken, and told when it could go.
    const refused = await pool.takeBudget('a', { requests: 7 });
    expect(refused.granted).toBe(false);
    expect(refused.retryInMs).toBe(100);
    expect(await tokens('requests')).toBe(6);
    // Credits short: 2 getBlock = 60 > 38.
    expect((await pool.takeBudget('a', { requests: 2, methods: ['getBlock', 'getBlock'] })).granted).toBe(false);
    expect(await pool.takeBudget('free', { requests: 1_000 })).toEqual({ granted: true, retryInMs: 0 });
  });

  it('rejects a bad request or an unknown endpoint before anything is taken', async () => {
    const pool = budgetPool({ a: { requestsPerSecond: 10 } });
    const code = async (make: () => Promise<unknown>): Promise<string | undefined> =>
      make().then(
        () => undefined,
        (error: unknown) => (error instanceof XError ? `${error.code}:${(error.context as { option?: string }).option ?? ''}` : 'other'),
      );
    expect(await code(() => pool.takeBudget('a', { requests: 0 }))).toBe('POOL_INVALID_OPTIONS:requests');
    expect(await code(() => pool.takeBudget('a', { methods: 'getSlot' as unknown as string[] }))).toBe('POOL_INVALID_OPTIONS:methods');
    expect(await code(() => pool.takeBudget('a', { cost: -1 }))).toBe('POOL_INVALID_OPTIONS:cost');
    expect(await code(() => pool.takeBudget('nope'))).toBe('POOL_UNKNOWN_ENDPOINT:');
    expect(await sample(pool, 'budget_tokens', { endpoint: 'a', bucket: 'requests' })).toBe(10);
  });
});

describe('budgets: grants and wake-ups that come late', () => {
  /** A store whose takes answer after `ms` (a Redis round trip, say), counting refunds. */
  function slowStore(ms: number): BudgetStore & { refunds: number } {
    const inner = createLocalBudgetStore();
    const store = {
      refunds: 0,
      take: (takes: Parameters<BudgetStore['take']>[0]) =>
        new Promise<Awaited<ReturnType<BudgetStore['take']>>>((resolve) => setTimeout(() => resolve(inner.take(takes)), ms)),
      refund: (takes: Parameters<BudgetStore['refund']>[0]) => {
        store.refunds++;
        return inner.refund(takes);
      },
      hold: inner.hold.bind(inner),
      holds: inner.holds.bind(inner),
      status: inner.status.bind(inner),
      close: inner.close.bind(inner),
    };
    return store;
  }

  it("gives back a hedge's grant that arrives after the call ended: no concurrency slot or token is lost", async () => {
    const store = slowStore(20);
    const budget = { requestsPerSecond: 100, burst: 100, burstReserve: 0, maxConcurrency: 1 };
    const pool = budgetPool({ a: budget, b: budget }, { budgetStore: store });
    for (let call = 0; call < 3; call++) {
      // The first attempt answers at 30 ms; the hedge is due at 15 ms and its take answers at 35 ms, after the call.
      const outcome = await run(pool.execute(answering([], 30), { strategy: 'hedge', hedgeDelayMs: 15, deadlineMs: 2_000 }), 100);
      expect(outcome.ok).toBe(true);
    }
    expect(store.refunds).toBeGreaterThanOrEqual(1);
    // Both endpoints still have their one slot.
    const grants = await run(Promise.all([pool.takeBudget('a'), pool.takeBudget('b')]), 50);
    expect(grants.ok && grants.value.map((grant) => grant.granted)).toEqual([true, true]);
  });

  it('a call waiting for a slot looks again by itself when the waiter woken for it could not use it', async () => {
    const budget = {
      requestsPerSecond: 1_000,
      burstReserve: 0,
      maxConcurrency: 1,
      credits: { perSecond: 10, burst: 10, costs: { big: 10, cheap: 5 } },
    };
    const pool = budgetPool({ a: budget });
    const holder = settled(pool.execute(answering([], 50), { strategy: 'hedge', method: 'cheap' }));
    await vi.advanceTimersByTimeAsync(1);
    // Waits for the slot; when it frees, its credits are short (5 left, 10 needed) and its deadline is too near.
    const big = settled(pool.execute(answering([], 5), { strategy: 'hedge', method: 'big', deadlineMs: 60 }));
    await vi.advanceTimersByTimeAsync(1);
    // Waits for the slot too, with no deadline: it must not wait for ever once the slot is free.
    const cheap = settled(pool.execute(answering([], 5), { strategy: 'hedge', method: 'cheap' }));
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await holder).ok).toBe(true);
    const bigOutcome = await big;
    expect(!bigOutcome.ok && isXError(bigOutcome.error, 'POOL_BUDGET_EXHAUSTED')).toBe(true);
    expect((await cheap).ok).toBe(true);
  });

  it('refuses a takeBudget larger than the bucket: sent at once, it would reach the provider beyond its burst', async () => {
    const pool = budgetPool({ a: { requestsPerSecond: 10, burst: 10, burstReserve: 0.5 } });
    expect(await pool.takeBudget('a', { requests: 6 })).toEqual({ granted: false, retryInMs: undefined });
    expect(await pool.takeBudget('a', { requests: 5 })).toEqual({ granted: true, retryInMs: 0 });
  });
});

describe('budgets: options', () => {
  const invalid = (make: () => unknown): string | undefined => {
    try {
      make();
    } catch (error) {
      if (isXError(error, 'POOL_INVALID_OPTIONS')) return error.context.option;
      throw error;
    }
    return undefined;
  };
  const withBudget = (budget: unknown) => () => createPool({ endpoints: [{ id: 'a', target: 'a', budget: budget as EndpointBudget }] });

  it('rejects malformed budgets naming the option', () => {
    expect(invalid(withBudget('10/s'))).toBe('endpoints[0].budget');
    expect(invalid(withBudget({}))).toBe('endpoints[0].budget.requestsPerSecond');
    expect(invalid(withBudget({ requestsPerSecond: 0 }))).toBe('endpoints[0].budget.requestsPerSecond');
    expect(invalid(withBudget({ requestsPerSecond: 5, burst: -1 }))).toBe('endpoints[0].budget.burst');
    expect(invalid(withBudget({ requestsPerSecond: 5, burstReserve: 1 }))).toBe('endpoints[0].budget.burstReserve');
    expect(invalid(withBudget({ requestsPerSecond: 5, burstReserve: -0.1 }))).toBe('endpoints[0].budget.burstReserve');
    expect(invalid(withBudget({ requestsPerSecond: 5, maxConcurrency: 1.5 }))).toBe('endpoints[0].budget.maxConcurrency');
    expect(invalid(withBudget({ requestsPerSecond: 5, credits: 100 }))).toBe('endpoints[0].budget.credits');
    expect(invalid(withBudget({ requestsPerSecond: 5, credits: { perSecond: Number.NaN } }))).toBe('endpoints[0].budget.credits.perSecond');
    expect(invalid(withBudget({ requestsPerSecond: 5, credits: { perSecond: 5, costs: { getSlot: -1 } } }))).toBe(
      'endpoints[0].budget.credits.costs.getSlot',
    );
    expect(invalid(withBudget({ requestsPerSecond: 5, credits: { perSecond: 5, costs: [] } }))).toBe('endpoints[0].budget.credits.costs');
    expect(invalid(withBudget({ requestsPerSecond: 5, credits: { perSecond: 5, defaultCost: 'one' } }))).toBe(
      'endpoints[0].budget.credits.defaultCost',
    );
    const one = [{ id: 'a', target: 'a' }];
    expect(invalid(() => createPool({ endpoints: one, budgetStore: {} as BudgetStore }))).toBe('budgetStore');
    expect(invalid(() => createPool({ endpoints: one, onBudgetExhausted: 'queue' as 'wait' }))).toBe('onBudgetExhausted');
    expect(invalid(() => createPool({ endpoints: one, redundancyHeadroom: { race: 2 } }))).toBe('redundancyHeadroom.race');
    expect(invalid(() => createPool({ endpoints: one, metricsLabels: { bucket: 'x' } }))).toBe('metricsLabels');
  });

  it('rejects malformed per-call budget options before anything is taken', async () => {
    const pool = budgetPool({ a: { requestsPerSecond: 1, burst: 1 } }, { onBudgetExhausted: 'fail' });
    for (const [options, option] of [
      [{ cost: -1 }, 'cost'],
      [{ method: 5 }, 'method'],
      [{ onBudgetExhausted: 'later' }, 'onBudgetExhausted'],
    ] as const) {
      const outcome = await run(pool.execute(answering([]), { strategy: 'race', ...(options as object) }));
      const error = (outcome as { error: unknown }).error;
      expect(isXError(error, 'POOL_INVALID_OPTIONS') && error.context.option).toBe(option);
    }
    expect((await run(pool.execute(answering([]), { strategy: 'race' }))).ok).toBe(true);
  });

  it('a pool without budgets or store reports nothing and adds no budget metrics', async () => {
    const pool = budgetPool({ a: undefined });
    const reports: Array<BudgetReport | undefined> = [];
    const outcome = await run(pool.execute(answering([]), { strategy: 'race', onSelection: (s) => reports.push(s.budget) }));
    expect(outcome.ok && 'budget' in outcome.value).toBe(false);
    expect(reports).toEqual([undefined]);
    expect(await pool.metrics()).not.toMatch(/x_pool_budget_/);
  });
});
