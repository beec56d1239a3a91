// Type tests of @x/http-transport's generic calls and typed HTTP_* contexts (vitest typecheck, and tsc through the
// package's typecheck). Type tests are compiled, never run: nothing is sent.
import { isXError } from '@x/errors';
import type { Outcome } from '@x/errors';
import { createHttpTransport } from '@x/http-transport';
import type { BatchOutcome, HttpTransport, TimedResult } from '@x/http-transport';
import type { JsonRpcId } from '@x/json-rpc';
import { describe, expectTypeOf, it } from 'vitest';

const transport = {} as HttpTransport;

describe('calls', () => {
  it('the result type is the caller’s claim, unknown by default', () => {
    expectTypeOf(createHttpTransport).returns.toEqualTypeOf<HttpTransport>();
    expectTypeOf(transport.call('getSlot')).toEqualTypeOf<Promise<unknown>>();
    expectTypeOf(transport.call<number>('getSlot', [], { timeoutMs: 200 })).toEqualTypeOf<Promise<number>>();
    expectTypeOf(transport.callWithLatency<number>('getSlot')).toEqualTypeOf<Promise<TimedResult<number>>>();
    expectTypeOf<TimedResult<number>>().toEqualTypeOf<{ readonly value: number; readonly latencyMs: number }>();
  });

  it('a batch gives one Outcome of @x/errors per request', () => {
    expectTypeOf(transport.batch<string>([{ method: 'getVersion' }])).toEqualTypeOf<Promise<BatchOutcome<string>[]>>();
    expectTypeOf<BatchOutcome<string>>().toEqualTypeOf<Outcome<string>>();
  });

  it('timeoutMs bounds one exchange; the multi-endpoint names are not transport options', () => {
    // @ts-expect-error attemptTimeoutMs belongs to multi-endpoint layers, a transport has timeoutMs
    void transport.call('getSlot', [], { attemptTimeoutMs: 200 });
    // @ts-expect-error params are an array or an object
    void transport.call('getSlot', 'finalized');
  });
});

describe('HTTP_* error contexts', () => {
  it('narrow through isXError', () => {
    const error: unknown = undefined;
    if (isXError(error, 'HTTP_TIMEOUT')) {
      expectTypeOf(error.context.endpoint).toEqualTypeOf<string>();
      expectTypeOf(error.context.phase).toEqualTypeOf<'queued' | 'response' | 'body' | undefined>();
    }
    if (isXError(error, ['HTTP_RPC_SERVER_ERROR', 'HTTP_RPC_CALLER_ERROR', 'HTTP_RPC_RATE_LIMITED'])) {
      expectTypeOf(error.context.rpcCode).toEqualTypeOf<number>();
      expectTypeOf(error.context.rpcData).toEqualTypeOf<unknown>();
    }
    if (isXError(error, 'HTTP_RPC_ID_MISMATCH')) expectTypeOf(error.context.expectedId).toEqualTypeOf<JsonRpcId>();
    if (isXError(error, 'HTTP_INVALID_OPTIONS')) expectTypeOf(error.context.option).toEqualTypeOf<string>();
  });
});
