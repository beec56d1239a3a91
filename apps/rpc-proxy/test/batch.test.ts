import { afterEach, describe, expect, it } from 'vitest';
import { rpcPost, startHarness } from './helpers.js';
import type { Harness } from './helpers.js';

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

interface RpcAnswer {
  id: unknown;
  result?: { value?: unknown };
  error?: { code: number };
}

describe('batches', () => {
  it('forwards a 100-call batch to the one healthy endpoint as one upstream request, and the endpoint stays healthy', async () => {
    // Without coalescing: the twenty clients ask the same balances, which would otherwise share calls.
    harness = await startHarness({ methods: { getBalance: { deadlineMs: 10_000 } }, coalesce: false }, { endpoints: 1 });
    const { cluster, proxy } = harness;
    const wallets = cluster.chain.wallets();
    const batch = (client: number): unknown[] =>
      Array.from({ length: 100 }, (_, index) => ({
        jsonrpc: '2.0',
        id: `${client}-${index}`,
        method: 'getBalance',
        params: [wallets[index % wallets.length]],
      }));
    // Twenty clients at once, a hundred calls each.
    const answers = await Promise.all(Array.from({ length: 20 }, (_, client) => rpcPost(proxy.url, batch(client))));
    const [stats] = cluster.stats();
    expect(stats?.requests).toBe(20);
    expect(stats?.calls).toBe(2_000);
    answers.forEach((answer, client) => {
      const body = answer.json as RpcAnswer[];
      expect(body.map((entry) => entry.id)).toEqual(Array.from({ length: 100 }, (_, index) => `${client}-${index}`));
      body.forEach((entry, index) => expect(entry.result?.value).toBe(cluster.chain.account(wallets[index % wallets.length]!)!.lamports));
    });
    const [endpoint] = proxy.rpc.pool.snapshot().endpoints;
    expect(endpoint?.health).toBe('healthy');
    // One attempt per upstream request.
    expect(endpoint?.window).toMatchObject({ attempts: 20, success: 20 });
    expect(proxy.counters()).toMatchObject({ calls: 2_000, succeeded: 2_000, failed: 0 });
  });

  it('answers the calls a batch cannot forward on their own and the rest together', async () => {
    harness = await startHarness({ methods: { getBalance: { deadlineMs: 10_000 } } }, { endpoints: 1 });
    const { cluster, proxy } = harness;
    // Three different wallets: identical calls would share one.
    const [first, second, third] = cluster.chain.wallets();
    const answer = await rpcPost(proxy.url, [
      { jsonrpc: '2.0', id: 1, method: 'getBalance', params: [first] },
      { jsonrpc: '2.0', id: 2, method: 'notForwarded' },
      { jsonrpc: '2.0', method: 'getBalance', params: [second] },
      { jsonrpc: '2.0', id: 3, method: 'getBalance', params: [third] },
    ]);
    const body = answer.json as RpcAnswer[];
    expect(body.map((entry) => entry.id)).toEqual([1, 2, 3]);
    expect(body[1]?.error?.code).toBe(-32601);
    const [stats] = cluster.stats();
    // The notification went upstream with the two other reads, in one request.
    expect(stats).toMatchObject({ requests: 1, calls: 3 });
  });
});
