import { afterEach, describe, expect, it } from 'vitest';
import { startRpcCluster } from '../src/index.js';
import type { RpcCluster, RpcClusterOptions } from '../src/index.js';
import { connect, until } from './stream-helpers.js';
import type { RawClient } from './stream-helpers.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function cluster(options: RpcClusterOptions = {}): Promise<RpcCluster> {
  const started = await startRpcCluster({ autoAdvance: false, endpoints: 1, chain: { transactionsPerSlot: 0 }, ...options });
  cleanup.push(() => started.close());
  return started;
}

async function client(url: string): Promise<RawClient> {
  const opened = await connect(url);
  cleanup.push(() => opened.close());
  return opened;
}

describe('the simulated cluster over WebSocket', () => {
  it('serves logsSubscribe on the HTTP port and notifies transactions as Solana does', async () => {
    const rpc = await cluster();
    const info = rpc.endpoints[0]!;
    expect(info.wsUrl).toBe(`ws://127.0.0.1:${info.port}`);
    const ws = await client(info.wsUrl);
    const [from, to] = rpc.chain.wallets();
    const id = await ws.subscribe('logsSubscribe', [{ mentions: [to] }, { commitment: 'processed' }]);
    const landed = rpc.chain.transfer({ from: from!, to: to!, lamports: 1_000 });
    await until(() => ws.notifications().length === 1);
    expect(ws.notifications()[0]).toEqual({
      jsonrpc: '2.0',
      method: 'logsNotification',
      params: { subscription: id, result: { context: { slot: landed.slot }, value: { signature: landed.signature, err: null, logs: [...landed.logMessages] } } },
    });
    expect(rpc.stats(info.id).stream).toMatchObject({ connections: 1, openConnections: 1, subscriptions: 1, notifications: 1 });
  });
});
