import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { XError, isXError } from '@x/errors';
import { race } from '@x/rpc-strategies';
import type { AttemptContext } from '@x/errors';
import { ep, flush, recorder, rejection, settle, simulate } from './helpers.js';
import type { Endpoint } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

describe('race', () => {
  it('a fast failure does not end the race: the slower success wins', async () => {
    const sim = simulate();
    const rec = recorder<Endpoint>();
    const call = settle(
      race([ep('fast-fail', 5, { fails: 'network' }), ep('slow', 30), ep('slower', 80)], sim.attempt, { onAttempt: rec.onAttempt }),
    );
    await vi.advanceTimersByTimeAsync(30);
    const result = await call;
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toMatchObject({ value: 'slow', index: 1, attempt: 1, latencyMs: 30, elapsedMs: 30, started: 3 });
    expect(result.value.candidate.name).toBe('slow');
    expect(result.value.failures.map((f) => [f.index, f.error.code, f.latencyMs])).toEqual([[0, 'FAST-FAIL_FAILED', 5]]);
    await flush();
    expect(rec.lines()).toEqual(['fast-fail:FAST-FAIL_FAILED', 'slow:ok', 'slower:STRATEGY_ATTEMPT_ABORTED:loser']);
    expect(rec.events[2]?.outcome.latencyMs).toBe(30);
  });

  it("aborts the losers' signals: the attempt sees signal.aborted and its abort event", async () => {
    const sim = simulate();
    const call = settle(race([ep('a', 10), ep('b', 50), ep('c', 70)], sim.attempt));
    await vi.advanceTimersByTimeAsync(10);
    expect((await call).ok).toBe(true);
    await flush();
    for (const name of ['b', 'c']) {
      const seen = sim.byName(name);
      expect(seen.signal.aborted).toBe(true);
      expect(seen.abortEvents).toBe(1);
      expect(isXError(seen.abortReason, 'STRATEGY_ATTEMPT_ABORTED')).toBe(true);
      expect((seen.abortReason as XError).category).toBe('aborted');
    }
    expect(sim.byName('a').signal.aborted).toBe(false);
    // Every attempt had its own signal.
    expect(new Set(sim.seen.map((s) => s.signal)).size).toBe(3);
  });

  it('all fail: one STRATEGY_ALL_ATTEMPTS_FAILED carrying every failure by index and an AggregateError cause', async () => {
    const sim = simulate();
    const call = rejection(race([ep('a', 20, { fails: 'timeout' }), ep('b', 5, { fails: 'timeout' })], sim.attempt));
    await vi.advanceTimersByTimeAsync(20);
    const error = await call;
    expect(error.code).toBe('STRATEGY_ALL_ATTEMPTS_FAILED');
    expect(error.category).toBe('timeout');
    const failures = error.context.failures as { index: number; latencyMs: number; error: XError }[];
    expect(failures.map((f) => [f.index, f.error.code, f.latencyMs])).toEqual([
      [0, 'A_FAILED', 20],
      [1, 'B_FAILED', 5],
    ]);
    expect(error.cause).toBeInstanceOf(AggregateError);
    expect((error.cause as AggregateError).errors.map((e: XError) => e.code)).toEqual(['A_FAILED', 'B_FAILED']);
    const json = JSON.parse(JSON.stringify(error)) as { context: { failures: { error: { code: string } }[] } };
    expect(json.context.failures[1]?.error.code).toBe('B_FAILED');
  });

  it('the aggregate category is the common one, otherwise network', async () => {
    const sim = simulate();
    const call = rejection(race([ep('a', 1, { fails: 'rate-limit' }), ep('b', 2, { fails: 'server' })], sim.attempt));
    await vi.advanceTimersByTimeAsync(2);
    expect((await call).category).toBe('network');
  });

  it('a failure that may not fail over ends the call at once with that error and aborts the others', async () => {
    const sim = simulate();
    const rec = recorder<Endpoint>();
    const call = rejection(race([ep('bad-params', 5, { fails: 'config' }), ep('ok', 50)], sim.attempt, { onAttempt: rec.onAttempt }));
    await vi.advanceTimersByTimeAsync(5);
    const error = await call;
    expect(error.code).toBe('BAD-PARAMS_FAILED');
    await flush();
    expect(sim.byName('ok').signal.aborted).toBe(true);
    expect(rec.lines()).toEqual(['bad-params:BAD-PARAMS_FAILED', 'ok:STRATEGY_ATTEMPT_ABORTED:loser']);
  });

  it('shouldFailover decides which failures let the others win', async () => {
    const sim = simulate();
    const strict = rejection(race([ep('a', 5, { fails: 'timeout' }), ep('b', 50)], sim.attempt, { shouldFailover: () => false }));
    await vi.advanceTimersByTimeAsync(5);
    expect((await strict).code).toBe('A_FAILED');
    const lenient = settle(race([ep('c', 5, { fails: 'protocol' }), ep('d', 20)], sim.attempt, { shouldFailover: () => true }));
    await vi.advanceTimersByTimeAsync(20);
    const result = await lenient;
    expect(result.ok && result.value.value).toBe('d');
  });

  it('a throwing shouldFailover ends the call with STRATEGY_HOOK_FAILED', async () => {
    const sim = simulate();
    const call = rejection(
      race([ep('a', 5, { fails: 'network' }), ep('b', 50)], sim.attempt, {
        shouldFailover: () => {
          throw new Error('boom');
        },
      }),
    );
    await vi.advanceTimersByTimeAsync(5);
    const error = await call;
    expect(error).toMatchObject({ code: 'STRATEGY_HOOK_FAILED', category: 'config' });
    expect(error.message).toContain('boom');
  });

  it('the deadline before any answer rejects with STRATEGY_DEADLINE_EXCEEDED and cuts every attempt', async () => {
    const sim = simulate();
    const rec = recorder<Endpoint>();
    const call = rejection(
      race([ep('a', 100), ep('b', 5, { fails: 'server' }), ep('c', 200)], sim.attempt, { deadlineMs: 40, onAttempt: rec.onAttempt }),
    );
    await vi.advanceTimersByTimeAsync(39);
    expect(sim.byName('a').signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = await call;
    expect(error).toMatchObject({ code: 'STRATEGY_DEADLINE_EXCEEDED', category: 'timeout' });
    expect(error.context).toMatchObject({ deadlineMs: 40, pending: [0, 2] });
    expect((error.context.failures as { index: number }[]).map((f) => f.index)).toEqual([1]);
    expect(sim.byName('a').abortReason).toBe(error);
    expect(sim.byName('c').abortReason).toBe(error);
    expect(rec.lines()).toEqual(['b:B_FAILED', 'a:STRATEGY_DEADLINE_EXCEEDED:loser', 'c:STRATEGY_DEADLINE_EXCEEDED:loser']);
  });

  it('a per-attempt timeout fails that attempt (its signal aborts) and lets another win', async () => {
    const sim = simulate();
    const rec = recorder<Endpoint>();
    const call = settle(race([ep('hung', 1_000), ep('steady', 60)], sim.attempt, { attemptTimeoutMs: 50, onAttempt: rec.onAttempt }));
    await vi.advanceTimersByTimeAsync(50);
    const hung = sim.byName('hung');
    expect(hung.signal.aborted).toBe(true);
    expect(isXError(hung.abortReason, 'STRATEGY_ATTEMPT_TIMEOUT')).toBe(true);
    expect(rec.lines()).toEqual(['hung:STRATEGY_ATTEMPT_TIMEOUT', 'steady:STRATEGY_ATTEMPT_TIMEOUT']);
    const result = await call;
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ code: 'STRATEGY_ALL_ATTEMPTS_FAILED', category: 'timeout' });

    const second = settle(race([ep('hung', 1_000), ep('steady', 30)], sim.attempt, { attemptTimeoutMs: 50 }));
    await vi.advanceTimersByTimeAsync(30);
    const won = await second;
    expect(won.ok && won.value.value).toBe('steady');
    await flush();
  });

  it('an abort from outside rejects with category aborted and aborts every attempt', async () => {
    const sim = simulate();
    const rec = recorder<Endpoint>();
    const controller = new AbortController();
    const call = rejection(race([ep('a', 100), ep('b', 100)], sim.attempt, { signal: controller.signal, onAttempt: rec.onAttempt }));
    await vi.advanceTimersByTimeAsync(10);
    controller.abort(new Error('user navigated away'));
    const error = await call;
    expect(error).toMatchObject({ code: 'ABORTED', category: 'aborted' });
    expect(error.message).toContain('user navigated away');
    expect(sim.seen.every((s) => s.signal.aborted && s.abortEvents === 1)).toBe(true);
    expect(rec.lines()).toEqual(['a:ABORTED:loser', 'b:ABORTED:loser']);
    expect(rec.events[0]?.outcome.latencyMs).toBe(10);
  });

  it('an abort reason that is already an XError is kept as it is', async () => {
    const sim = simulate();
    const controller = new AbortController();
    const reason = new XError({ code: 'POOL_CLOSED', category: 'aborted', message: 'pool closed' });
    const call = rejection(race([ep('a', 100)], sim.attempt, { signal: controller.signal }));
    controller.abort(reason);
    expect(await call).toBe(reason);
  });

  it('an already-aborted signal rejects at once without starting any attempt', async () => {
    const attempt = vi.fn(() => Promise.resolve(1));
    const error = await rejection(race([1, 2], attempt, { signal: AbortSignal.abort('gone') }));
    expect(error).toMatchObject({ code: 'ABORTED', category: 'aborted' });
    expect(attempt).not.toHaveBeenCalled();
  });

  it('wraps rejections that are not XErrors (and synchronous throws) as STRATEGY_ATTEMPT_FAILED, category server', async () => {
    const sim = simulate();
    const rec = recorder<Endpoint | { name: string }>();
    const syncThrow = (): Promise<string> => {
      throw new TypeError('not a function');
    };
    const attempt = (c: Endpoint | { name: string }, context: AttemptContext): Promise<unknown> =>
      'ms' in c ? sim.attempt(c, context) : syncThrow();
    const call = rejection(race([ep('plain', 5, { throwsPlain: true }), { name: 'sync' }], attempt, { onAttempt: rec.onAttempt }));
    await vi.advanceTimersByTimeAsync(5);
    const error = await call;
    const failures = error.context.failures as { error: XError }[];
    expect(failures.map((f) => [f.error.code, f.error.category, f.error.message])).toEqual([
      ['STRATEGY_ATTEMPT_FAILED', 'server', 'plain exploded'],
      ['STRATEGY_ATTEMPT_FAILED', 'server', 'not a function'],
    ]);
    expect(failures[0]?.error.cause).toBeInstanceOf(Error);
    expect(rec.events.every((e) => !e.outcome.ok && isXError(e.outcome.error))).toBe(true);
  });

  it('an attempt that settles after being aborted is ignored: one report per attempt', async () => {
    const sim = simulate();
    const rec = recorder<Endpoint>();
    const call = settle(
      race(
        [ep('winner', 10), ep('stubborn', 20, { ignoresAbort: true }), ep('stubborn-fail', 30, { ignoresAbort: true, fails: 'server' })],
        sim.attempt,
        {
          onAttempt: rec.onAttempt,
        },
      ),
    );
    await vi.advanceTimersByTimeAsync(10);
    expect((await call).ok).toBe(true);
    await vi.advanceTimersByTimeAsync(30);
    expect(rec.lines()).toEqual(['winner:ok', 'stubborn:STRATEGY_ATTEMPT_ABORTED:loser', 'stubborn-fail:STRATEGY_ATTEMPT_ABORTED:loser']);
  });

  it('an attempt finished in the same turn as the winner is reported as a real outcome, not aborted', async () => {
    const rec = recorder<{ name: string }>();
    const signals: AbortSignal[] = [];
    const result = await race(
      [{ name: 'x' }, { name: 'y' }],
      (c, { signal }) => {
        signals.push(signal);
        return Promise.resolve(c.name);
      },
      { onAttempt: rec.onAttempt },
    );
    expect(result.value).toBe('x');
    expect(rec.lines()).toEqual(['x:ok', 'y:ok']);
    expect(signals.some((s) => s.aborted)).toBe(false);
  });

  it('a throwing onAttempt does not change the result', async () => {
    const sim = simulate();
    const call = settle(
      race([ep('a', 5, { fails: 'network' }), ep('b', 10)], sim.attempt, {
        onAttempt: () => {
          throw new Error('metrics down');
        },
      }),
    );
    await vi.advanceTimersByTimeAsync(10);
    const result = await call;
    expect(result.ok && result.value.value).toBe('b');
  });

  it('rejects bad input with a clear XError and starts nothing', async () => {
    const attempt = vi.fn(() => Promise.resolve(1));
    expect(await rejection(race([], attempt))).toMatchObject({ code: 'STRATEGY_NO_CANDIDATES', category: 'config' });
    expect(await rejection(race('ab' as unknown as string[], attempt))).toMatchObject({ code: 'STRATEGY_INVALID_OPTIONS' });
    expect(await rejection(race([1], 'nope' as never))).toMatchObject({ code: 'STRATEGY_INVALID_OPTIONS' });
    expect(await rejection(race([1], attempt, { deadlineMs: -5 }))).toMatchObject({ code: 'STRATEGY_INVALID_OPTIONS', category: 'config' });
    expect(await rejection(race([1], attempt, { attemptTimeoutMs: Number.NaN }))).toMatchObject({ code: 'STRATEGY_INVALID_OPTIONS' });
    expect(await rejection(race([1], attempt, { signal: {} as AbortSignal }))).toMatchObject({ code: 'STRATEGY_INVALID_OPTIONS' });
    expect(await rejection(race([1], attempt, { onAttempt: 3 as never }))).toMatchObject({ code: 'STRATEGY_INVALID_OPTIONS' });
    expect(attempt).not.toHaveBeenCalled();
  });

  it('a deadline beyond the timer range means no deadline (no timer that fires at once)', async () => {
    const sim = simulate();
    const call = settle(race([ep('a', 10)], sim.attempt, { deadlineMs: 2 ** 40, attemptTimeoutMs: Number.POSITIVE_INFINITY }));
    await vi.advanceTimersByTimeAsync(10);
    const result = await call;
    expect(result.ok && result.value.value).toBe('a');
  });
});
