import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isXError } from '@x/errors';
import type { HttpTransport } from '@x/http-transport';
import { createLocalBudgetStore } from '@x/pool';
import { createSolanaMultiRpc } from '@x/solana-rpc';

/** A transport that answers getBalance after `latencyMs` of the fake clock, counting the exchanges by method. */
function countingTransport(label: string, latencyMs = 5): HttpTransport & { readonly methods: string[]; readonly batches: number[] } {
  const methods: string[] = [];
  /** The size of each upstream batch request. */
  const batches: number[] = [];
  const call = <T>(method: string, _params?: unknown, options: { signal?: AbortSignal } = {}): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      methods.push(method);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(options.signal?.reason as Error);
      };
      const timer = setTimeout(() => {
        options.signal?.removeEventListener('abort', onAbort);
        resolve((method === 'getSlot' ? 100 : { context: { slot: 100 }, value: `${label}-balance` }) as T);
      }, latencyMs);
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  const transport = {
    label,
    methods,
    call,
    callWithLatency: async <T>(method: string, params?: unknown, options?: { signal?: AbortSignal }) => ({
      result: await call<T>(method, params, options),
      latencyMs,
    }),
    batches,
    batch: async (requests: ReadonlyArray<{ method: string; params?: unknown }>, options?: { signal?: AbortSignal }) => {
      batches.push(requests.length);
      const values = await Promise.all(requests.map((request) => call(request.method, request.params, options)));
      return values.map((value) => ({ ok: true, value, latencyMs }));
    },
    close: () => Promise.resolve(),
  };
  return transport as unknown as HttpTransport & { readonly methods: string[]; readonly batches: number[] };
}

const ADDRESS = '11111111111111111111111111111111';

async function outcome(promise: Promise<unknown>): Promise<unknown> {
  const settled = promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  await vi.advanceTimersByTimeAsync(20);
  return settled;
}

describe('endpoint budgets through the client', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('never sends beyond an endpoint budget, prices calls by method, and says when every budget is exhausted', async () => {
    const a = countingTransport('a');
    const client = createSolanaMultiRpc({
      endpoints: [
        { id: 'a', transport: a, budget: { requestsPerSecond: 10, burstReserve: 0, credits: { perSecond: 10, costs: { getBalance: 5 } } } },
      ],
      methods: { getBalance: { strategy: 'race' } },
      pool: { onBudgetExhausted: 'fail', budgetStore: createLocalBudgetStore() },
    });
    expect(await outcome(client.call('getBalance', [ADDRESS]))).toMatchObject({ value: { value: 'a-balance' } });
    expect(await outcome(client.call('getBalance', [ADDRESS]))).toMatchObject({ value: { value: 'a-balance' } });
    const refused = (await outcome(client.call('getBalance', [ADDRESS]))) as { error: unknown };
    expect(isXError(refused.error, 'POOL_BUDGET_EXHAUSTED')).toBe(true);
    expect(a.methods.filter((method) => method === 'getBalance')).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(500); // 5 credits back: one more getBalance
    expect(await outcome(client.call('getBalance', [ADDRESS]))).toMatchObject({ value: { value: 'a-balance' } });
    await client.close();
  });

  it('a batch of n calls takes n requests from the endpoint it goes to; with no room anywhere, the calls go one by one', async () => {
    const [a, b] = [countingTransport('a'), countingTransport('b')];
    const budget = { requestsPerSecond: 0.001, burst: 4, burstReserve: 0 };
    const client = createSolanaMultiRpc({
      endpoints: [
        { id: 'a', transport: a, budget },
        { id: 'b', transport: b, budget },
      ],
      methods: { getBalance: { strategy: 'race' } },
      pool: { onBudgetExhausted: 'fail' },
    });
    const batchOf = (n: number): Promise<unknown> =>
      client.callBatch(Array.from({ length: n }, () => ({ method: 'getBalance', params: [ADDRESS] })));
    const answered = (value: unknown): number => (value as Array<{ ok: boolean }>).filter((entry) => entry.ok).length;

    // 3 calls: one upstream batch to one endpoint, which has 1 request left.
    expect(answered(((await outcome(batchOf(3))) as { value: unknown }).value)).toBe(3);
    const first = a.batches.length === 1 ? a : b;
    const other = first === a ? b : a;
    expect(first.batches).toEqual([3]);
    // 3 more: the other endpoint has the room, the first does not.
    expect(answered(((await outcome(batchOf(3))) as { value: unknown }).value)).toBe(3);
    expect(other.batches).toEqual([3]);
    // 3 more: 1 request left on each, no batch fits: the calls go on the single-call path, where the race degrades to
    // single attempts (budgets are tight): each endpoint's last token serves one call, the third finds every budget
    // exhausted and fails fast, as the pool is told to.
    expect(answered(((await outcome(batchOf(3))) as { value: unknown }).value)).toBe(2);
    expect([...a.batches, ...b.batches]).toEqual([3, 3]);
    expect(a.methods.length + b.methods.length).toBe(3 + 3 + 2);
    await client.close();
  });

  it('rejects a malformed budget', () => {
    let error: unknown;
    try {
      createSolanaMultiRpc({ endpoints: [{ id: 'a', transport: countingTransport('a'), budget: { requestsPerSecond: -1 } }] });
    } catch (caught) {
      error = caught;
    }
    expect(isXError(error, 'POOL_INVALID_OPTIONS') && error.context.option).toBe('endpoints[0].budget.requestsPerSecond');
  });
});
