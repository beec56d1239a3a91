import { afterEach, describe, expect, it } from 'vitest';
import { createAnswerCache } from '../src/answer-cache.js';
import { parseConfig } from '../src/config.js';
import { createProxyServer } from '../src/server.js';
import type { ProxyServer, ProxyServerOptions } from '../src/server.js';
import { httpCall, rpcPost, startHarness } from './helpers.js';
import type { Harness } from './helpers.js';
import { startScriptedUpstream } from './upstream.js';
import type { ScriptedAnswer, ScriptedUpstream } from './upstream.js';

interface RpcAnswer {
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function harness(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const started = await startHarness(options);
  cleanups.push(() => started.close());
  return started;
}

async function proxyOver(
  upstreams: readonly ScriptedUpstream[],
  options: Omit<ProxyServerOptions, 'endpoints'> = {},
): Promise<ProxyServer> {
  const proxy = await createProxyServer({
    ...options,
    endpoints: upstreams.map((upstream, index) => ({ id: `u${index}`, url: upstream.url })),
    websocket: false,
  });
  cleanups.push(() => proxy.close());
  return proxy;
}

async function upstream(answer: (body: string) => ScriptedAnswer | Promise<ScriptedAnswer>): Promise<ScriptedUpstream> {
  const started = await startScriptedUpstream(answer);
  cleanups.push(() => started.close());
  return started;
}

/** A gate the test opens: the scripted upstream holds its answers until then. */
function gate(): { readonly opened: Promise<void>; open(): void } {
  let open = (): void => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

interface Call {
  id: number;
  method: string;
  params?: unknown[];
}

/** Answers every call `params[0] * 10` (singles and batches, by id). */
function echo(body: string, leaveOut: (call: Call) => boolean = () => false): ScriptedAnswer {
  const parsed = JSON.parse(body) as Call | Call[];
  const answer = (call: Call): string => `{"jsonrpc":"2.0","id":${call.id},"result":${Number(call.params?.[0]) * 10}}`;
  if (!Array.isArray(parsed)) return { body: answer(parsed) };
  return {
    body: `[${parsed
      .filter((call) => !leaveOut(call))
      .map(answer)
      .join(',')}]`,
  };
}

const metric = (text: string, name: string): number | undefined => {
  const line = text.split('\n').find((entry) => entry.startsWith(`${name} `) || entry.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};

const metricsOf = async (proxy: ProxyServer): Promise<string> => (await httpCall(`${proxy.url}/metrics`)).text;

describe('upstream batching through the proxy', () => {
  it('sends a batch of consensus reads to each provider as one request, and counts it in /metrics', async () => {
    const { cluster, proxy } = await harness({ methods: { getTransaction: { deadlineMs: 10_000 } } });
    const [from, to] = cluster.chain.wallets();
    const signatures = Array.from({ length: 6 }, () => cluster.chain.transfer({ from: from!, to: to!, lamports: 1 }).signature);
    // The client's slot checks (getSlot, one request each, when a new slot shows) are not the batch's.
    const traffic = (): Array<{ requests: number; calls: number }> =>
      cluster.stats().map((entry) => ({
        requests: entry.requests - (entry.methods['getSlot'] ?? 0),
        calls: entry.calls - (entry.methods['getSlot'] ?? 0),
      }));
    const before = traffic();
    const answer = await rpcPost(
      proxy.url,
      signatures.map((signature, index) => ({
        jsonrpc: '2.0',
        id: index,
        method: 'getTransaction',
        params: [signature, { commitment: 'confirmed' }],
      })),
    );
    const body = answer.json as RpcAnswer[];
    expect(body.map((entry) => entry.id)).toEqual([0, 1, 2, 3, 4, 5]);
    body.forEach((entry, index) => expect(entry.result).toMatchObject({ transaction: { signatures: [signatures[index]] } }));
    traffic().forEach((entry, index) => {
      expect(entry.requests - before[index]!.requests).toBe(1);
      expect(entry.calls - before[index]!.calls).toBe(6);
    });
    const metrics = await metricsOf(proxy);
    const first = cluster.endpoints[0]!.id;
    expect(metrics).toContain(`rpc_proxy_upstream_calls_total{endpoint="${first}"} ${cluster.stats()[0]!.calls}`);
    expect(metrics).toContain(`rpc_proxy_upstream_requests_total{endpoint="${first}"} ${cluster.stats()[0]!.requests}`);
  });

  it('sends a mixed batch as one request per provider for the votes and one request for the other reads', async () => {
    const { cluster, proxy } = await harness({
      methods: { getTransaction: { deadlineMs: 10_000 }, getBalance: { deadlineMs: 10_000 } },
      coalesce: false,
    });
    const wallets = cluster.chain.wallets();
    const signatures = Array.from(
      { length: 3 },
      () => cluster.chain.transfer({ from: wallets[0]!, to: wallets[1]!, lamports: 1 }).signature,
    );
    // The client's slot checks (getSlot, one request each, when a new slot shows) are not the batch's.
    const requests = (): number => cluster.stats().reduce((sum, entry) => sum + entry.requests - (entry.methods['getSlot'] ?? 0), 0);
    const before = requests();
    const answer = await rpcPost(proxy.url, [
      ...signatures.map((signature, index) => ({ jsonrpc: '2.0', id: `t${index}`, method: 'getTransaction', params: [signature] })),
      ...wallets.slice(0, 4).map((wallet, index) => ({ jsonrpc: '2.0', id: `b${index}`, method: 'getBalance', params: [wallet] })),
      { jsonrpc: '2.0', id: 'x', method: 'notForwarded' },
    ]);
    const body = answer.json as RpcAnswer[];
    expect(body.map((entry) => entry.id)).toEqual(['t0', 't1', 't2', 'b0', 'b1', 'b2', 'b3', 'x']);
    expect(body.slice(0, 7).every((entry) => entry.error === undefined)).toBe(true);
    expect(body[7]?.error?.code).toBe(-32601);
    // Three votes: one request per provider; four balances: one request to one provider.
    expect(requests() - before).toBe(cluster.endpoints.length + 1);
  });

  it('falls back to one request per call for a provider that refuses batches (HTTP 413), and remembers it', async () => {
    const refusing = await upstream((body) => (body.startsWith('[') ? { status: 413, body: 'Payload Too Large' } : echo(body)));
    const proxy = await proxyOver([refusing], { methods: { getBlockTime: { deadlineMs: 10_000 } } });
    const batch = (base: number): unknown[] =>
      [1, 2, 3].map((k) => ({ jsonrpc: '2.0', id: base + k, method: 'getBlockTime', params: [base + k] }));
    expect(((await rpcPost(proxy.url, batch(0))).json as RpcAnswer[]).map((entry) => entry.result)).toEqual([10, 20, 30]);
    expect(refusing.bodies.map((body) => body.startsWith('['))).toEqual([true, false, false, false]);
    expect(((await rpcPost(proxy.url, batch(10))).json as RpcAnswer[]).map((entry) => entry.result)).toEqual([110, 120, 130]);
    expect(refusing.bodies.slice(4).every((body) => !body.startsWith('['))).toBe(true);
    expect(refusing.bodies).toHaveLength(7);
    const metrics = await metricsOf(proxy);
    expect(metric(metrics, 'rpc_proxy_upstream_refuses_batches')).toBe(1);
    expect(metric(metrics, 'rpc_proxy_upstream_requests_total')).toBe(7);
    expect(metric(metrics, 'rpc_proxy_upstream_calls_total')).toBe(9);
  });

  it('fails only the call a provider left out of its batch answer, with a clear error', async () => {
    const partial = await upstream((body) => echo(body, (call) => call.params?.[0] === 2));
    const proxy = await proxyOver([partial], { methods: { getBlockTime: { deadlineMs: 10_000 } } });
    const answer = await rpcPost(
      proxy.url,
      [1, 2, 3].map((k) => ({ jsonrpc: '2.0', id: k, method: 'getBlockTime', params: [k] })),
    );
    const body = answer.json as RpcAnswer[];
    expect(body[0]?.result).toBe(10);
    expect(body[2]?.result).toBe(30);
    expect(body[1]?.error?.code).toBe(-32054);
    expect(body[1]?.error?.message).toMatch(/sent no response for the batch request/);
    expect(partial.bodies).toHaveLength(1);
  });
});

describe('coalescing', () => {
  it('sends identical reads in flight at the same moment upstream once, and gives each client its own id', async () => {
    const held = gate();
    const slow = await upstream(async (body) => {
      await held.opened;
      return echo(body);
    });
    const proxy = await proxyOver([slow], { methods: { getBlockTime: { deadlineMs: 10_000 } } });
    const first = rpcPost(proxy.url, { jsonrpc: '2.0', id: 'first', method: 'getBlockTime', params: [7] });
    await expect.poll(() => slow.bodies.length).toBe(1);
    const second = rpcPost(proxy.url, { jsonrpc: '2.0', id: 'second', method: 'getBlockTime', params: [7] });
    const inBatch = rpcPost(proxy.url, [
      { jsonrpc: '2.0', id: 3, method: 'getBlockTime', params: [7] },
      { jsonrpc: '2.0', id: 4, method: 'getBlockTime', params: [7] },
    ]);
    await expect.poll(() => proxy.counters().calls).toBe(4);
    held.open();
    expect((await first).json).toEqual({ jsonrpc: '2.0', id: 'first', result: 70 });
    expect((await second).json).toEqual({ jsonrpc: '2.0', id: 'second', result: 70 });
    expect((await inBatch).json).toEqual([
      { jsonrpc: '2.0', id: 3, result: 70 },
      { jsonrpc: '2.0', id: 4, result: 70 },
    ]);
    expect(slow.bodies).toHaveLength(1);
    expect(metric(await metricsOf(proxy), 'rpc_proxy_coalesced_calls_total')).toBe(3);
  });

  it('keeps the shared call going for the others when one client goes away', async () => {
    const held = gate();
    const slow = await upstream(async (body) => {
      await held.opened;
      return echo(body);
    });
    const proxy = await proxyOver([slow], { methods: { getBlockTime: { deadlineMs: 10_000 } } });
    const controller = new AbortController();
    const leaving = fetch(proxy.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getBlockTime', params: [5] }),
      signal: controller.signal,
    });
    await expect.poll(() => slow.bodies.length).toBe(1);
    const staying = rpcPost(proxy.url, { jsonrpc: '2.0', id: 2, method: 'getBlockTime', params: [5] });
    await expect.poll(() => proxy.counters().calls).toBe(2);
    controller.abort();
    await expect(leaving).rejects.toThrow();
    // The leaving client's call is over (failed: nobody to answer); the shared one is not.
    await expect.poll(() => proxy.counters().failed).toBe(1);
    expect(proxy.rpc.pool.snapshot().endpoints[0]?.inFlight).toBe(1);
    held.open();
    expect((await staying).json).toEqual({ jsonrpc: '2.0', id: 2, result: 50 });
    expect(slow.bodies).toHaveLength(1);
  });

  it('never shares a write: two identical sendTransaction calls in flight both go upstream', async () => {
    const held = gate();
    const slow = await upstream(async (body) => {
      await held.opened;
      const call = JSON.parse(body) as Call;
      return { body: `{"jsonrpc":"2.0","id":${call.id},"error":{"code":-32002,"message":"Transaction simulation failed"}}` };
    });
    const proxy = await proxyOver([slow], { methods: { sendTransaction: { deadlineMs: 10_000 } } });
    // One signature, then a message: enough for the client to know the signature before sending.
    const transaction = Buffer.from([1, ...new Array<number>(64).fill(9), 0x80, 1, 0, 1]).toString('base64');
    const send = (id: number): Promise<unknown> =>
      rpcPost(proxy.url, { jsonrpc: '2.0', id, method: 'sendTransaction', params: [transaction, { encoding: 'base64' }] });
    const answers = Promise.all([send(1), send(2)]);
    await expect.poll(() => slow.bodies.length).toBe(2);
    held.open();
    await answers;
    expect(slow.bodies.every((body) => body.includes('"sendTransaction"'))).toBe(true);
    expect(metric(await metricsOf(proxy), 'rpc_proxy_coalesced_calls_total')).toBe(0);
  });
});

describe('cache of final answers', () => {
  it('answers a finalized getTransaction from the cache, never a confirmed one or a null', async () => {
    const { cluster, proxy } = await harness({ methods: { getTransaction: { deadlineMs: 10_000 } }, cache: {} });
    const [from, to] = cluster.chain.wallets();
    const { signature } = cluster.chain.transfer({ from: from!, to: to!, lamports: 1 });
    const calls = (): number => cluster.stats().reduce((sum, entry) => sum + (entry.methods['getTransaction'] ?? 0), 0);
    const ask = async (params: unknown[], id: number): Promise<RpcAnswer> =>
      (await rpcPost(proxy.url, { jsonrpc: '2.0', id, method: 'getTransaction', params })).json as RpcAnswer;

    const finalized = await ask([signature, { commitment: 'finalized' }], 1);
    expect(finalized.result).toMatchObject({ transaction: { signatures: [signature] } });
    const afterFirst = calls();
    expect(afterFirst).toBeGreaterThan(0);
    const again = await ask([signature, { commitment: 'finalized' }], 2);
    expect(again).toEqual({ ...finalized, id: 2 });
    expect(calls()).toBe(afterFirst);

    await ask([signature, { commitment: 'confirmed' }], 3);
    const afterConfirmed = calls();
    expect(afterConfirmed).toBeGreaterThan(afterFirst);
    await ask([signature, { commitment: 'confirmed' }], 4);
    expect(calls()).toBeGreaterThan(afterConfirmed);

    const unknown = '1'.repeat(64);
    expect((await ask([unknown], 5)).result).toBeNull();
    const afterNull = calls();
    expect((await ask([unknown], 6)).result).toBeNull();
    expect(calls()).toBeGreaterThan(afterNull);

    const metrics = await metricsOf(proxy);
    expect(metric(metrics, 'rpc_proxy_cache_hits_total')).toBe(1);
    // The first finalized ask and the two nulls (no commitment: finalized, the nodes' default).
    expect(metric(metrics, 'rpc_proxy_cache_misses_total')).toBe(3);
    expect(metric(metrics, 'rpc_proxy_cache_entries')).toBe(1);
  });

  it('evicts the least recently used answer at maxEntries', async () => {
    const { cluster, proxy } = await harness({ methods: { getTransaction: { deadlineMs: 10_000 } }, cache: { maxEntries: 2 } });
    const [from, to] = cluster.chain.wallets();
    const signatures = Array.from({ length: 3 }, () => cluster.chain.transfer({ from: from!, to: to!, lamports: 1 }).signature);
    const calls = (): number => cluster.stats().reduce((sum, entry) => sum + (entry.methods['getTransaction'] ?? 0), 0);
    const ask = (signature: string): Promise<unknown> =>
      rpcPost(proxy.url, { jsonrpc: '2.0', id: 1, method: 'getTransaction', params: [signature, { commitment: 'finalized' }] });
    for (const signature of signatures) await ask(signature);
    const afterAll = calls();
    await ask(signatures[2]!);
    expect(calls()).toBe(afterAll);
    // The first one was pushed out by the third.
    await ask(signatures[0]!);
    expect(calls()).toBeGreaterThan(afterAll);
    expect(metric(await metricsOf(proxy), 'rpc_proxy_cache_entries')).toBe(2);
  });

  it('stays within maxBytes, keeps nothing larger than the bound, and caches nothing without a result', () => {
    const cache = createAnswerCache({ maxEntries: 100, maxBytes: 2_048 });
    const answer = (size: number): { data: string } => ({ data: 'x'.repeat(size) });
    for (let index = 0; index < 10; index += 1) cache.set(`k${index}`, answer(500));
    expect(cache.stats().bytes).toBeLessThanOrEqual(2_048);
    expect(cache.stats().entries).toBe(3);
    expect(cache.get('k9')).toEqual({ value: answer(500) });
    expect(cache.get('k0')).toBeUndefined();
    cache.set('huge', answer(5_000));
    expect(cache.get('huge')).toBeUndefined();
    cache.set('null', null);
    expect(cache.get('null')).toBeUndefined();
  });

  it('is configured by cache: { maxEntries, maxBytes }, each bound checked', async () => {
    expect(parseConfig({}).cache).toBeUndefined();
    expect(parseConfig({ cache: {} }).cache).toEqual({ maxEntries: 10_000, maxBytes: 67_108_864 });
    expect(parseConfig({ cache: { maxEntries: 5, maxBytes: 4096 } }).cache).toEqual({ maxEntries: 5, maxBytes: 4096 });
    let error: unknown;
    try {
      parseConfig({ cache: { maxEntries: 0 } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'PROXY_INVALID_CONFIG', context: { option: 'cache.maxEntries' } });
    expect(() => parseConfig({ cache: { maxBytes: 10, ttl: 5 } })).toThrow(
      /cache\.maxBytes: expected an integer from 1024 .*cache\.ttl: unknown field/,
    );
    await expect(createProxyServer({ endpoints: [{ url: 'http://127.0.0.1:1' }], cache: { maxBytes: -1 } })).rejects.toMatchObject({
      code: 'PROXY_INVALID_CONFIG',
      context: { option: 'cache.maxBytes' },
    });
  });
});
