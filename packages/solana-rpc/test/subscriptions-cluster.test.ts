import type { MergedItem } from '@x/rpc-strategies';
import { createSolanaSubscriptions } from '@x/solana-rpc';
import type { SolanaMergedSubscription, SolanaNotification, SolanaSubscriptions } from '@x/solana-rpc';
import { afterEach, describe, expect, it } from 'vitest';
import { setup } from './helpers.js';
import type { Setup } from './helpers.js';

interface LogsValue {
  readonly value: { readonly signature: string };
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setImmediate(resolve));
}

/** Reads `n` events (skipping gap/resumed notices), returning their signatures in delivery order. */
async function readEvents(sub: SolanaMergedSubscription<LogsValue>, n: number, notices: string[] = []): Promise<string[]> {
  const out: string[] = [];
  while (out.length < n) {
    const r = await sub.next();
    if (r.done === true) throw new Error(`stream ended after ${out.length} events`);
    const item: MergedItem<SolanaNotification<LogsValue>> = r.value;
    if (item.type === 'event') out.push(item.value.result.value.signature);
    else notices.push(`${item.type}:${item.source}`);
  }
  return out;
}

async function start(stream: Array<Record<string, unknown>>): Promise<{ env: Setup; subs: SolanaSubscriptions }> {
  const env = await setup(
    stream.map((faults, i) => ({ id: `e${i}`, behavior: { stream: faults } })),
    { cluster: { chain: { transactionsPerSlot: 0 } } },
  );
  cleanup.push(env.close);
  const subs = createSolanaSubscriptions({
    endpoints: env.cluster.endpoints.map((e) => ({ url: e.wsUrl, id: e.id })),
    rpc: env.client,
    ws: { reconnect: { initialDelayMs: 2, maxDelayMs: 20, jitter: 0 }, pingIntervalMs: false },
  });
  cleanup.push(() => subs.close());
  return { env, subs };
}

describe('merged subscriptions against the simulated cluster', () => {
  it('drops, duplicates, reordering and a provider that never confirms: every confirmed event exactly once', async () => {
    const { env, subs } = await start([
      {},
      { dropRate: 0.4, duplicateRate: 0.4 },
      { reorderRate: 0.5, duplicateRate: 0.5, delayMs: 3, jitterMs: 3 },
      { neverConfirms: true },
    ]);
    const [a, b] = env.cluster.chain.wallets();
    const sub = subs.subscribe<LogsValue>('logsSubscribe', [{ mentions: [a] }, { commitment: 'confirmed' }]);
    await until(() => env.cluster.endpoints.every((e) => env.cluster.stats(e.id).stream.subscriptions === 1));
    const sent: string[] = [];
    for (let i = 0; i < 40; i++) {
      sent.push(env.cluster.chain.transfer({ from: a!, to: b!, lamports: 1 }).signature);
      if (i % 4 === 3) env.cluster.chain.advance(1);
    }
    env.cluster.chain.advance(2);
    const delivered = await readEvents(sub, sent.length);
    expect([...delivered].sort()).toEqual([...sent].sort());
    expect(new Set(delivered).size).toBe(sent.length);
    const stats = sub.stats();
    expect(stats).toMatchObject({ delivered: 40, dropped: 0, unconfirmed: 0 });
    // The provider that never confirms sent nothing on a confirmed stream; the faulty ones dropped and repeated.
    const never = stats.sources[3];
    expect(never).toMatchObject({ received: 0, first: 0 });
    expect(env.cluster.stats('e1').stream.dropped).toBeGreaterThan(0);
    expect(stats.sources[1]?.repeats).toBeGreaterThan(0);
    expect(
      subs
        .stats()
        .map((s) => s.first)
        .reduce((x, y) => x + y, 0),
    ).toBe(40);
    sub.close();
    await until(() => env.cluster.endpoints.every((e) => env.cluster.stats(e.id).stream.subscriptions === 0));
  });

  it("records every provider's lead into the client's pool, and maxProviders opens the best-ranked providers only", async () => {
    const { env, subs } = await start([{}, { duplicateRate: 0.3, delayMs: 2 }, { reorderRate: 0.3 }]);
    const [a, b] = env.cluster.chain.wallets();
    const sub = subs.subscribe<LogsValue>('logsSubscribe', [{ mentions: [a] }, { commitment: 'processed' }]);
    await until(() => env.cluster.endpoints.every((e) => env.cluster.stats(e.id).stream.subscriptions === 1));
    for (let i = 0; i < 12; i++) env.cluster.chain.transfer({ from: a!, to: b!, lamports: 1 });
    await readEvents(sub, 12);
    // Wait for the later copies too (every provider delivers every event here), then compare with the pool.
    await until(() => sub.stats().sources.every((s) => s.first + s.late === 12));
    const merged = sub.stats().sources;
    const pool = env.client.pool.snapshot().endpoints;
    for (const [i, source] of merged.entries()) {
      expect(pool[i]?.stream).toMatchObject({ deliveries: 12, firsts: source.first, samples: 12 });
    }
    expect(pool.reduce((sum, e) => sum + e.stream.firsts, 0)).toBe(12);
    expect(await env.client.pool.metrics()).toMatch(/x_pool_endpoint_stream_firsts_total\{[^}]*endpoint="e0"/);
    sub.close();
    await until(() => env.cluster.endpoints.every((e) => env.cluster.stats(e.id).stream.subscriptions === 0));

    // e2 leads from now on: a subscription limited to one provider opens on e2 alone.
    for (let i = 0; i < 50; i++) {
      env.client.pool.recordDelivery('e2', { first: true, behindMs: 0 });
      env.client.pool.recordDelivery('e0', { first: false, behindMs: 40 });
      env.client.pool.recordDelivery('e1', { first: false, behindMs: 90 });
    }
    const one = subs.subscribe<LogsValue>('logsSubscribe', [{ mentions: [a] }, { commitment: 'processed' }], { maxProviders: 1 });
    expect(one.endpoints).toEqual(['e2']);
    const two = subs.subscribe('slotSubscribe', [], { maxProviders: 2 });
    expect(two.endpoints).toEqual(['e2', 'e0']);
    await until(() => env.cluster.stats('e2').stream.subscriptions === 2 && env.cluster.stats('e0').stream.subscriptions === 1);
    expect(env.cluster.stats('e1').stream.subscriptions).toBe(0);
    expect(() => subs.subscribe('slotSubscribe', [], { maxProviders: 0 })).toThrow(/maxProviders/);
    one.close();
    two.close();
  });

  it('a disconnect storm on every provider loses nothing: the gap is backfilled over HTTP, still exactly once', async () => {
    const { env, subs } = await start([{}, {}, { delayMs: 2 }]);
    const [a, b] = env.cluster.chain.wallets();
    const sub = subs.subscribe<LogsValue>('logsSubscribe', [{ mentions: [a] }, { commitment: 'confirmed' }]);
    await until(() => env.cluster.endpoints.every((e) => env.cluster.stats(e.id).stream.subscriptions === 1));
    const sent: string[] = [];
    const transfer = (): void => {
      sent.push(env.cluster.chain.transfer({ from: a!, to: b!, lamports: 1 }).signature);
    };
    transfer();
    env.cluster.chain.advance(1);
    const notices: string[] = [];
    const delivered = await readEvents(sub, 1, notices);
    for (let round = 0; round < 3; round++) {
      // Every provider drops at once; events land while nobody is connected.
      for (const e of env.cluster.endpoints) env.cluster.disconnectStreams(e.id);
      transfer();
      transfer();
      env.cluster.chain.advance(1);
    }
    transfer();
    env.cluster.chain.advance(2);
    delivered.push(...(await readEvents(sub, sent.length - 1, notices)));
    expect([...delivered].sort()).toEqual([...sent].sort());
    expect(new Set(delivered).size).toBe(sent.length);
    const stats = sub.stats();
    expect(stats.backfilled).toBeGreaterThan(0);
    expect(stats.backfillFailures).toBe(0);
    expect(notices.filter((n) => n.startsWith('gap:')).length).toBeGreaterThanOrEqual(3);
    sub.close();
    await subs.close();
    await until(() => env.cluster.endpoints.every((e) => env.cluster.stats(e.id).stream.openConnections === 0));
  });
});
