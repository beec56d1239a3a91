import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  MAX_TIMER_MS,
  XError,
  checkTimerMs,
  configError,
  describeValue,
  failure,
  isPlainObject,
  isTimerMs,
  isXError,
  success,
} from '../src/index.js';
import type { ErrorContext, Outcome } from '../src/index.js';

declare module '../src/index.js' {
  interface ErrorContexts {
    TEST_TYPED: { readonly endpoint: string; readonly attempts: number };
  }
}

describe('Outcome', () => {
  it('builds both arms with their latency', () => {
    const ok: Outcome<number> = success(7, 1.5);
    const bad: Outcome<number> = failure(new XError({ code: 'X', category: 'server', message: 'no' }), 2);
    expect(ok).toEqual({ ok: true, value: 7, latencyMs: 1.5 });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.code).toBe('X');
  });
});

describe('typed error contexts', () => {
  it('narrows context for a registered code and leaves others untyped', () => {
    const error: unknown = new XError({ code: 'TEST_TYPED', category: 'server', message: 'x', context: { endpoint: 'a', attempts: 2 } });
    if (isXError(error, 'TEST_TYPED')) {
      expectTypeOf(error.context).toEqualTypeOf<{ readonly endpoint: string; readonly attempts: number }>();
      expect(error.context.attempts).toBe(2);
    } else {
      expect.unreachable('a TEST_TYPED error');
    }
    const other: unknown = error;
    if (isXError(other, 'UNREGISTERED')) expectTypeOf(other.context).toEqualTypeOf<ErrorContext>();
    expect(isXError(other, 'UNREGISTERED')).toBe(false);
  });
});

describe('configError and checkTimerMs', () => {
  it('names the option and describes the value without dumping it', () => {
    const error = configError('PKG_INVALID_OPTIONS', 'url', 'url must be http(s)', 'x'.repeat(100));
    expect(error.category).toBe('config');
    expect(error.context).toEqual({ option: 'url', received: `"${'x'.repeat(40)}…"` });
    expect(configError('PKG_INVALID_OPTIONS', 'signal', 'bad').context).toEqual({ option: 'signal' });
  });

  it('accepts every timer duration and refuses the rest with the caller code', () => {
    expect(checkTimerMs('PKG_INVALID_OPTIONS', 'deadlineMs', 1)).toBe(1);
    expect(checkTimerMs('PKG_INVALID_OPTIONS', 'deadlineMs', MAX_TIMER_MS)).toBe(MAX_TIMER_MS);
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, MAX_TIMER_MS + 1, '5', undefined]) {
      expect(isTimerMs(bad)).toBe(false);
      expect(() => checkTimerMs('PKG_INVALID_OPTIONS', 'deadlineMs', bad)).toThrow(/deadlineMs must be a number of milliseconds/);
      try {
        checkTimerMs('PKG_INVALID_OPTIONS', 'deadlineMs', bad);
      } catch (error) {
        expect(isXError(error, 'PKG_INVALID_OPTIONS') && error.context).toMatchObject({ option: 'deadlineMs' });
      }
    }
  });

  it('describes values by kind', () => {
    expect([null, [1, 2], 3, true, undefined, 5n, () => 1, Symbol('s'), {}].map(describeValue)).toEqual([
      'null',
      'an array of 2',
      '3',
      'true',
      'undefined',
      '5n',
      'a function',
      'a symbol',
      'an object',
    ]);
    expect(isPlainObject({})).toBe(true);
    expect(isPlainObject([])).toBe(false);
    expect(isPlainObject(null)).toBe(false);
  });
});
