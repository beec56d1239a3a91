import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isXError } from '@x/errors';
import type { HttpTransport, HttpTransportOptions } from '@x/http-transport';
import { createHttpTransport } from '@x/http-transport';
import { createSolanaMultiRpc } from '@x/solana-rpc';

/** One exchange a fake transport saw: when it started (fake clock) and how it ended. */
interface Exchange {
  readonly method: string;
  readonly startedAt: number;
  ended: 'answered' | 'aborted' | undefined;
}

/**
 * A transport that answers after `latencyMs` of the (fake) clock, `{ context: { slot }, value }` for
 * getBalance and the slot for getSlot; it honours `signal` as a real one does.
 */
function fakeTransport(
  label: string,
  latencyMs: number,
  slot = 100,
  value = `${label}-balance`,
): HttpTransport & { readonly exchanges: Exchange[]; closed: boolean } {
  const exchanges: Exchange[] = [];
  const call = <T>(method: string, _params?: unknown, options: { signal?: AbortSignal } = {}): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const exchange: Exchange = { method, startedAt: performance.now(), ended: undefined };
      exchanges.push(exchange);
      const onAbort = (): void => {
        clearTimeout(timer);
        exchange.ended = 'aborted';
        reject(options.signal?.reason as Error);
      };
      const timer = setTimeout(() => {
        options.signal?.removeEventListener('abort', onAbort);
        exchange.ended = 'answered';
        resolve((method === 'getSlot' ? slot : { context: { slot }, value }) as T);
      }, latencyMs);
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  const transport = {
    label,
    exchanges,
    closed: false,
    call,
    callWithLatency: async <T>(method: string, params?: unknown, options?: { signal?: AbortSignal }) => ({
      result: await call<T>(method, params, options),
      latencyMs: latencyMs,
    }),
    batch: () => Promise.reject(new Error('not used')),
    close: () => {
      transport.closed = true;
      return Promise.resolve();
    },
  };
  return transport as unknown as HttpTransport & { readonly exchanges: Exchange[]; closed: boolean };
}

describe('transports injected into the client', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hedge: the second endpoint starts exactly hedgeDelayMs after the first, wins, and the first is aborted (fake timers)', async () => {
    const slow = fakeTransport('slow', 1_000);
    const fast = fakeTransport('fast', 10);
    const client = createSolanaMultiRpc({
      endpoints: [
        { id: 'slow', transport: slow, weight: 100 },
        { id: 'fast', transport: fast },
      ],
      // The slow endpoint ranks first (a far higher weight), so that only the hedge brings in the fast one.
      methods: { getBalance: { strategy: 'hedge', hedgeDelayMs: 30, deadlineMs: 5_000, maxCandidates: 2 } },
    });
    // The pool's hedge budget starts empty and earns 5 hedges a second: one second of the fake clock earns this call's.
    await vi.advanceTimersByTimeAsync(1_000);
    const start = performance.now();
    const call = client.callWithDetails('getBalance', ['11111111111111111111111111111111']);
    await vi.advanceTimersByTimeAsync(29);
    expect(fast.exchanges).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(fast.exchanges.map((exchange) => exchange.startedAt - start)).toEqual([30]);
    await vi.advanceTimersByTimeAsync(10);
    const details = await call;
    expect(details).toMatchObject({ result: { value: 'fast-balance' }, endpoint: 'fast', slot: 100 });
    expect(slow.exchanges.filter((exchange) => exchange.method === 'getBalance').map((exchange) => exchange.ended)).toEqual(['aborted']);
    await client.close();
    // Ready transports belong to the caller: the client does not close them.
    expect([slow.closed, fast.closed]).toEqual([false, false]);
  });

  it('deadlineMs bounds the whole call and attemptTimeoutMs each attempt (fake timers)', async () => {
    const endpoints = [fakeTransport('a', 10_000), fakeTransport('b', 10_000)];
    const client = createSolanaMultiRpc({
      endpoints: endpoints.map((transport, index) => ({ id: `e${index}`, transport })),
      methods: { getBalance: { strategy: 'race', deadlineMs: 250, attemptTimeoutMs: 100 } },
    });
    let settled: unknown;
    const call = client.call('getBalance', ['11111111111111111111111111111111']).then(
      () => (settled = 'resolved'),
      (error: unknown) => (settled = error),
    );
    await vi.advanceTimersByTimeAsync(99);
    expect(settled).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    // Both attempts timed out at 100 ms: every endpoint failed, long before the 250 ms deadline.
    await call;
    expect(isXError(settled)).toBe(true);
    expect(settled).toMatchObject({ category: 'timeout' });
    expect(endpoints.flatMap((transport) => transport.exchanges.map((exchange) => exchange.ended))).toEqual(['aborted', 'aborted']);

    settled = undefined;
    const bounded = client.call('getBalance', ['11111111111111111111111111111111'], { attemptTimeoutMs: 1_000 }).then(
      () => (settled = 'resolved'),
      (error: unknown) => (settled = error),
    );
    await vi.advanceTimersByTimeAsync(249);
    expect(settled).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await bounded;
    expect(settled).toMatchObject({ category: 'timeout', context: { deadlineMs: 250 } });
    await client.close();
  });

  it('consensus decides when two agree and cuts the slow dissenter, on the fake clock', async () => {
    const transports = [fakeTransport('a', 10, 100, 'truth'), fakeTransport('b', 20, 100, 'truth'), fakeTransport('c', 1_000, 100, 'lie')];
    const client = createSolanaMultiRpc({
      endpoints: transports.map((transport) => ({ id: transport.label, transport })),
      methods: { getBalance: { strategy: 'consensus', deadlineMs: 5_000 } },
    });
    let details: Awaited<ReturnType<typeof client.callWithDetails>> | undefined;
    const call = client.callWithDetails('getBalance', ['11111111111111111111111111111111']).then((value) => (details = value));
    await vi.advanceTimersByTimeAsync(19);
    expect(details).toBeUndefined();
    // b's answer at 20 ms corroborates a's slot and makes the quorum of 2: the vote ends then, not at c's 1 000 ms.
    await vi.advanceTimersByTimeAsync(1);
    expect(details).toBeDefined();
    await call;
    expect(details).toMatchObject({ result: { value: 'truth' }, consensus: { quorum: 2, unanswered: [{ endpoint: 'c' }] } });
    expect(details?.consensus?.agreed.map((vote) => vote.endpoint).sort()).toEqual(['a', 'b']);
    expect(transports[2]?.exchanges.find((exchange) => exchange.method === 'getBalance')?.ended).toBe('aborted');
    await client.close();
  });

  it('makes its transports with createTransport from the options it computed, and closes them', async () => {
    const made: HttpTransportOptions[] = [];
    const transports: Array<ReturnType<typeof fakeTransport>> = [];
    const client = createSolanaMultiRpc({
      endpoints: [{ url: 'https://rpc.example/key-123', headers: { 'x-key': 'k' } }],
      http: { connections: 4 },
      createTransport: (options) => {
        made.push(options);
        const transport = fakeTransport('made', 5);
        transports.push(transport);
        return transport;
      },
    });
    expect(made).toEqual([
      expect.objectContaining({ url: 'https://rpc.example/key-123', headers: { 'x-key': 'k' }, connections: 4, bigIntegers: 'bigint' }),
    ]);
    expect(client.endpoints).toEqual([{ id: 'rpc.example', label: 'made' }]);
    await client.close();
    expect(transports.map((transport) => transport.closed)).toEqual([true]);
  });

  it('refuses a transport that is not one, and headers it cannot apply to a ready transport', () => {
    expect(() => createSolanaMultiRpc({ endpoints: [{ transport: {} as HttpTransport }] })).toThrow(
      expect.objectContaining({ code: 'SOLANA_INVALID_OPTIONS', context: { option: 'endpoints[0].transport' } }),
    );
    const ready = createHttpTransport({ url: 'http://127.0.0.1:9' });
    expect(() => createSolanaMultiRpc({ endpoints: [{ transport: ready, headers: { a: 'b' } }] })).toThrow(
      expect.objectContaining({ code: 'SOLANA_INVALID_OPTIONS', context: { option: 'endpoints[0].headers' } }),
    );
    return ready.close();
  });
});
