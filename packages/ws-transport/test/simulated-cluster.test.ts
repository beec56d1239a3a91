import { afterEach, describe, expect, it } from 'vitest';
import { startRpcCluster } from '@x/testkit';
import { createWsTransport } from '../src/index.js';
import type { WsNotification, WsResubscribed, WsTransportEvent } from '../src/index.js';
import { until } from './helpers.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

interface LogsResult {
  readonly context: { readonly slot: number };
  readonly value: { readonly signature: string; readonly err: unknown; readonly logs: readonly string[] };
}

describe('against the simulated Solana cluster', () => {
  it('subscribes to logs, survives a forced disconnect by re-issuing the subscription, and reports the gap', async () => {
    const cluster = await startRpcCluster({ autoAdvance: false, endpoints: 1, chain: { transactionsPerSlot: 0 } });
    cleanup.push(() => cluster.close());
    const events: WsTransportEvent[] = [];
    const transport = createWsTransport({
      url: cluster.endpoints[0]!.wsUrl,
      reconnect: { initialDelayMs: 1 },
      onEvent: (e) => events.push(e),
    });
    cleanup.push(() => transport.close());
    const seen: WsNotification<LogsResult>[] = [];
    const gaps: WsResubscribed[] = [];
    const subscription = await transport.subscribe<LogsResult>('logsSubscribe', ['all', { commitment: 'confirmed' }], {
      onNotification: (n) => seen.push(n),
      onResubscribed: (info) => gaps.push(info),
    });
    const [a, b] = cluster.chain.wallets();
    const before = cluster.chain.transfer({ from: a!, to: b!, lamports: 1 });
    cluster.chain.advance(1);
    await until(() => seen.length === 1);
    expect(seen[0]).toMatchObject({
      method: 'logsNotification',
      subscription: subscription.id,
      connection: 1,
      result: { value: { signature: before.signature } },
    });

    cluster.disconnectStreams(cluster.endpoints[0]!.id);
    await until(() => gaps.length === 1, 'the re-issued subscription');
    expect(gaps[0]).toMatchObject({ previousId: 1, id: 2, connection: 2 });
    const after = cluster.chain.transfer({ from: b!, to: a!, lamports: 1 });
    cluster.chain.advance(1);
    await until(() => seen.length === 2);
    expect(seen[1]).toMatchObject({ subscription: 2, connection: 2, result: { value: { signature: after.signature } } });
    expect(events.filter((e) => e.type === 'resubscribed')).toEqual([
      expect.objectContaining({ resubscribed: 1, failed: 0, connection: 2 }),
    ]);
    await expect(subscription.unsubscribe()).resolves.toBe(true);
    expect(cluster.stats(cluster.endpoints[0]!.id).stream.subscriptions).toBe(0);
  });

  it('with bigIntegers: "bigint", u64 values in notifications arrive exact', async () => {
    const cluster = await startRpcCluster({ autoAdvance: false, endpoints: 1, chain: { transactionsPerSlot: 0 } });
    cleanup.push(() => cluster.close());
    const transport = createWsTransport({ url: cluster.endpoints[0]!.wsUrl, bigIntegers: 'bigint' });
    cleanup.push(() => transport.close());
    const [a, b] = cluster.chain.wallets();
    const seen: WsNotification<{ value: { rentEpoch: bigint; lamports: number } }>[] = [];
    await transport.subscribe<{ value: { rentEpoch: bigint; lamports: number } }>('accountSubscribe', [b, { commitment: 'processed' }], {
      onNotification: (n) => seen.push(n),
    });
    cluster.chain.transfer({ from: a!, to: b!, lamports: 7 });
    await until(() => seen.length === 1);
    expect(seen[0]!.result.value.rentEpoch).toBe(18446744073709551615n);
    expect(typeof seen[0]!.result.value.lamports).toBe('number');
  });
});
