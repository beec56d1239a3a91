// Type tests of the call contract (vitest typecheck, and tsc through the package's typecheck): what a
// caller's code may rely on at compile time. A regression here is a breaking change for every package.
import { describe, expectTypeOf, it } from 'vitest';
import { XError, checkTimerMs, configError, failure, isXError, success, toXError } from '../src/index.js';
import type { AttemptContext, AttemptFn, ConfigErrorContext, ContextOf, ErrorContext, Failure, Outcome, Success } from '../src/index.js';

declare module '../src/index.js' {
  interface ErrorContexts {
    TYPETEST_TIMEOUT: { readonly target: string; readonly timeoutMs: number };
    TYPETEST_REFUSED: { readonly target: string; readonly status: number };
  }
}

describe('isXError', () => {
  it('without a code narrows unknown to XError with an untyped context', () => {
    const value: unknown = undefined;
    if (isXError(value)) {
      expectTypeOf(value).toEqualTypeOf<XError>();
      expectTypeOf(value.code).toEqualTypeOf<string>();
      expectTypeOf(value.context).toEqualTypeOf<ErrorContext>();
    }
  });

  it('with a registered code narrows the code to the literal and the context to the registered shape', () => {
    const value: unknown = undefined;
    if (isXError(value, 'TYPETEST_TIMEOUT')) {
      expectTypeOf(value.code).toEqualTypeOf<'TYPETEST_TIMEOUT'>();
      expectTypeOf(value.context).toEqualTypeOf<{ readonly target: string; readonly timeoutMs: number }>();
      // @ts-expect-error a key the registered context does not have
      void value.context.status;
    }
  });

  it('with several codes narrows to the union of their codes and contexts', () => {
    const value: unknown = undefined;
    if (isXError(value, ['TYPETEST_TIMEOUT', 'TYPETEST_REFUSED'])) {
      expectTypeOf(value.code).toEqualTypeOf<'TYPETEST_TIMEOUT' | 'TYPETEST_REFUSED'>();
      expectTypeOf(value.context).toEqualTypeOf<
        { readonly target: string; readonly timeoutMs: number } | { readonly target: string; readonly status: number }
      >();
      expectTypeOf(value.context.target).toEqualTypeOf<string>();
    }
  });

  it('with an unregistered code narrows the code but leaves the context an untyped record', () => {
    const value: unknown = undefined;
    if (isXError(value, 'TYPETEST_UNREGISTERED')) {
      expectTypeOf(value.code).toEqualTypeOf<'TYPETEST_UNREGISTERED'>();
      expectTypeOf(value.context).toEqualTypeOf<ErrorContext>();
    }
  });

  it('ContextOf reads the registry', () => {
    expectTypeOf<ContextOf<'TYPETEST_REFUSED'>>().toEqualTypeOf<{ readonly target: string; readonly status: number }>();
    expectTypeOf<ContextOf<'NOT_REGISTERED'>>().toEqualTypeOf<ErrorContext>();
  });

  it('toXError always gives an XError', () => {
    expectTypeOf(toXError).returns.toExtend<XError>();
  });
});

describe('configError and checkTimerMs', () => {
  it('keeps the code literal and has the one key option (never field)', () => {
    const error = configError('TYPETEST_INVALID_OPTIONS', 'deadlineMs', 'deadlineMs must be positive', -1);
    expectTypeOf(error).toEqualTypeOf<XError<'TYPETEST_INVALID_OPTIONS', ConfigErrorContext>>();
    expectTypeOf(error.context.option).toEqualTypeOf<string>();
    expectTypeOf(error.context.received).toEqualTypeOf<string | undefined>();
    expectTypeOf(error.context).not.toHaveProperty('field');
  });

  it('returns the checked number', () => {
    expectTypeOf(checkTimerMs('TYPETEST_INVALID_OPTIONS', 'attemptTimeoutMs', 5)).toEqualTypeOf<number>();
    expectTypeOf(checkTimerMs).parameter(2).toEqualTypeOf<unknown>();
  });
});

describe('Outcome', () => {
  it('narrows on ok to the value or the error, both with latencyMs', () => {
    const outcome = {} as Outcome<{ slot: number }>;
    expectTypeOf(outcome.latencyMs).toEqualTypeOf<number>();
    if (outcome.ok) {
      expectTypeOf(outcome).toEqualTypeOf<Success<{ slot: number }>>();
      expectTypeOf(outcome.value).toEqualTypeOf<{ slot: number }>();
    } else {
      expectTypeOf(outcome).toEqualTypeOf<Failure>();
      expectTypeOf(outcome.error).toEqualTypeOf<XError>();
    }
    // @ts-expect-error value exists on the success arm only
    void outcome.value;
  });

  it('carries a narrower error type when given one', () => {
    type Timeout = XError<'TYPETEST_TIMEOUT', ContextOf<'TYPETEST_TIMEOUT'>>;
    const outcome = {} as Outcome<string, Timeout>;
    if (!outcome.ok) expectTypeOf(outcome.error.context.timeoutMs).toEqualTypeOf<number>();
  });

  it('success() and failure() build the arms that Outcome is made of', () => {
    expectTypeOf(success(1n, 2)).toEqualTypeOf<Success<bigint>>();
    const refused = new XError({ code: 'TYPETEST_REFUSED', category: 'server', message: 'no', context: { target: 'a', status: 503 } });
    expectTypeOf(failure(refused, 2)).toEqualTypeOf<Failure<XError<'TYPETEST_REFUSED', { target: string; status: number }>>>();
    expectTypeOf(success('x', 1)).toExtend<Outcome<string>>();
    expectTypeOf(failure(refused, 1)).toExtend<Outcome<string>>();
    expectTypeOf(success('x', 1)).not.toExtend<Outcome<number>>();
    // @ts-expect-error a failure holds an XError, not any Error
    failure(new Error('plain'), 1);
  });
});

describe('AttemptFn', () => {
  it('is (candidate, { signal, attempt }) => Promise<T>', () => {
    expectTypeOf<AttemptContext>().toEqualTypeOf<{ readonly signal: AbortSignal; readonly attempt: number }>();
    expectTypeOf<AttemptFn<URL, number>>().parameters.toEqualTypeOf<[URL, AttemptContext]>();
    expectTypeOf<AttemptFn<URL, number>>().returns.toEqualTypeOf<Promise<number>>();
    const attempt: AttemptFn<string, number> = (candidate, { signal, attempt: index }) => {
      expectTypeOf(candidate).toEqualTypeOf<string>();
      expectTypeOf(signal).toEqualTypeOf<AbortSignal>();
      return Promise.resolve(index);
    };
    expectTypeOf(attempt).toExtend<AttemptFn<string, number>>();
  });
});
