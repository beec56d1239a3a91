import type { MergedItem } from '@x/rpc-strategies';
import { createSolanaSubscriptions } from '@x/solana-rpc';
import type { SolanaMergedSubscription, SolanaNotification, SolanaSubscriptions, SubscriptionsRpc } from '@x/solana-rpc';
import type { JsonRpcParams } from '@x/json-rpc';
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

/** Like `start`, with an rpc that counts the calls it finished, so that a test can wait for a backfill's answer. */
async function startCounting(endpoints: number): Promise<{ env: Setup; subs: SolanaSubscriptions; finished: Map<string, number> }> {
  const env = await setup(
    Array.from({ length: endpoints }, (_, i) => ({ id: `e${i}` })),
    { cluster: { chain: { transactionsPerSlot: 0 } } },
  );
  cleanup.push(env.close);
  const finished = new Map<string, number>();
  const rpc: SubscriptionsRpc = {
    pool: env.client.pool,
    async call<T>(method: string, params?: JsonRpcParams, options?: { signal?: AbortSignal }): Promise<T> {
      try {
        return await env.client.call<T>(method, params, options);
      } finally {
        // By method, and by method and first parameter (which subscription asked).
        for (const key of [method, `${method}:${JSON.stringify(Array.isArray(params) ? params[0] : undefined)}`])
          finished.set(key, (finished.get(key) ?? 0) + 1);
      }
    },
  };
  const subs = createSolanaSubscriptions({
    endpoints: env.cluster.endpoints.map((e) => ({ url: e.wsUrl, id: e.id })),
    rpc,
    ws: { reconnect: { initialDelayMs: 2, maxDelayMs: 20, jitter: 0 }, pingIntervalMs: false },
  });
  cleanup.push(() => subs.close());
  return { env, subs, finished };
}

async function nextEvent<T>(sub: SolanaMergedSubscription<T>): Promise<MergedItem<SolanaNotification<T>> & { type: 'event' }> {
  for (;;) {
    const r = await sub.next();
    if (r.done === true) throw new Error('stream ended');
    if (r.value.type === 'event') return r.value;
  }
}

function disconnectAll(env: Setup): void {
  for (const e of env.cluster.endpoints) env.cluster.disconnectStreams(e.id);
}

describe('backfill beyond logs, after a forced disconnect of every provider', () => {
  it('signatureSubscribe: a confirmation during the gap is delivered once, from getSignatureStatuses, at the commitment', async () => {
    const { env, subs, finished } = await startCounting(3);
    // Providers lose every notification: only the backfill can deliver (a node would resend a landed status on resubscribe).
    for (const e of env.cluster.endpoints) env.cluster.setBehavior(e.id, { stream: { dropRate: 1 } });
    const [a, b] = env.cluster.chain.wallets();
    const first = env.cluster.chain.transfer({ from: a!, to: b!, lamports: 1 }).signature;
    const confirmedSub = subs.subscribe<{ value: { err: unknown } }>('signatureSubscribe', [first, { commitment: 'confirmed' }]);
    const second = env.cluster.chain.transfer({ from: a!, to: b!, lamports: 2 }).signature;
    const finalizedSub = subs.subscribe<{ value: { err: unknown } }>('signatureSubscribe', [second, { commitment: 'finalized' }]);
    await until(() => env.cluster.endpoints.every((e) => env.cluster.stats(e.id).stream.subscriptions === 2));

    disconnectAll(env);
    env.cluster.chain.advance(1); // both confirmed while nobody is connected; neither finalized
    const event = await nextEvent(confirmedSub);
    expect(event).toMatchObject({ source: 'backfill', key: 'final', value: { result: { value: { err: null } }, endpoint: 'backfill' } });
    expect(await confirmedSub.next()).toEqual({ value: undefined, done: true }); // ended after its final status, as a node's
    expect(confirmedSub.stats()).toMatchObject({ delivered: 1, backfilled: 1, backfillFailures: 0 });

    // The finalized subscription asked too (once per provider's resubscription), and delivered nothing: only confirmed.
    const answered = (): number => finished.get(`getSignatureStatuses:${JSON.stringify([second])}`) ?? 0;
    await until(() => finalizedSub.stats().backfillQueries >= 1 && answered() === finalizedSub.stats().backfillQueries);
    expect(finalizedSub.stats()).toMatchObject({ delivered: 0, backfilled: 0, backfillFailures: 0 });
    // Once finalized, a provider that delivers again is the one source.
    env.cluster.setBehavior('e1', { stream: { dropRate: 0 } });
    env.cluster.chain.advance(31);
    const final = await nextEvent(finalizedSub);
    expect(final.source).toBe('e1');
    expect(finalizedSub.stats()).toMatchObject({ delivered: 1, backfilled: 0 });
  });

  it('accountSubscribe: a change during the gap is delivered from getAccountInfo (newer, not seen), then providers go on, each change once', async () => {
    const { env, subs, finished } = await startCounting(3);
    const [a, b] = env.cluster.chain.wallets();
    const sub = subs.subscribe<{ value: { lamports: number } }>('accountSubscribe', [b, { commitment: 'processed', encoding: 'base64' }]);
    await until(() => env.cluster.endpoints.every((e) => env.cluster.stats(e.id).stream.subscriptions === 1));
    await until(() => (finished.get('getAccountInfo') ?? 0) >= 1); // the baseline
    const balance = async (): Promise<number> => (await env.client.call<{ value: number }>('getBalance', [b])).value;

    env.cluster.chain.advance(1);
    env.cluster.chain.transfer({ from: a!, to: b!, lamports: 5 });
    const live = await nextEvent(sub);
    expect(live.source).not.toBe('backfill');
    expect(live.value.result.value.lamports).toBe(await balance());

    disconnectAll(env);
    env.cluster.chain.advance(1);
    env.cluster.chain.transfer({ from: a!, to: b!, lamports: 7 }); // lost by every provider
    const filled = await nextEvent(sub);
    expect(filled.source).toBe('backfill');
    expect(filled.value.result.value.lamports).toBe(await balance());

    await until(() => sub.stats().sources.every((source) => source.reconnects === 1));
    env.cluster.chain.advance(1);
    env.cluster.chain.transfer({ from: a!, to: b!, lamports: 9 });
    const after = await nextEvent(sub);
    expect(after.source).not.toBe('backfill');
    expect(after.value.result.value.lamports).toBe(await balance());
    // Each resubscription asked (resubscriptions during a backfill share its rerun): only one answer was a change.
    await until(() => sub.stats().backfillQueries >= 2 && (finished.get('getAccountInfo') ?? 0) === 1 + sub.stats().backfillQueries);
    expect(sub.stats()).toMatchObject({ delivered: 3, backfilled: 1, backfillFailures: 0 });
  });

  it('slotSubscribe: slots lost while every provider was down are counted as a gap (slots cannot be backfilled)', async () => {
    const { env, subs } = await startCounting(3);
    const sub = subs.subscribe<{ slot: number }>('slotSubscribe');
    await until(() => env.cluster.endpoints.every((e) => env.cluster.stats(e.id).stream.subscriptions === 1));
    env.cluster.chain.advance(1);
    const before = (await nextEvent(sub)).value.result.slot;
    disconnectAll(env);
    env.cluster.chain.advance(3);
    // Every provider resubscribed (the old connections stay listed by the cluster until their close event).
    await until(() => sub.stats().sources.every((source) => source.reconnects === 1));
    await until(() => env.cluster.endpoints.every((e) => env.cluster.stats(e.id).stream.subscriptions === 1));
    env.cluster.chain.advance(1);
    const next = (await nextEvent(sub)).value.result.slot;
    expect(next).toBe(before + 4);
    expect(sub.stats()).toMatchObject({ slotGaps: 1, slotsMissed: 3, backfilled: 0, backfillQueries: 0 });
  });
});

describe('chaos: duplicate floods, stalls, a slow consumer', () => {
  it('a duplicate flood (every provider sends every notification twice) still delivers each event exactly once', async () => {
    const { env, subs } = await start([
      { duplicateRate: 1 },
      { duplicateRate: 1 },
      { duplicateRate: 1, reorderRate: 0.5 },
      { duplicateRate: 1 },
    ]);
    const [a, b] = env.cluster.chain.wallets();
    const sub = subs.subscribe<LogsValue>('logsSubscribe', [{ mentions: [a] }, { commitment: 'processed' }]);
    await until(() => env.cluster.endpoints.every((e) => env.cluster.stats(e.id).stream.subscriptions === 1));
    const sent = Array.from({ length: 50 }, () => env.cluster.chain.transfer({ from: a!, to: b!, lamports: 1 }).signature);
    const delivered = await readEvents(sub, sent.length);
    expect([...delivered].sort()).toEqual([...sent].sort());
    // 4 providers × 2 copies of 50 events arrive; 350 of them are dropped as duplicates, nothing more is queued.
    await until(() => sub.stats().sources.every((s) => s.received === 100));
    expect(sub.stats()).toMatchObject({ delivered: 50, duplicates: 350, queued: 0 });
    expect(sub.stats().sources.map((s) => s.repeats)).toEqual([50, 50, 50, 50]);
  });

  it('a provider that stalls (socket open, nothing delivered) costs nothing while the others deliver: no gap, every event once', async () => {
    const { env, subs } = await start([{ stallRate: 1, stallMs: 60_000 }, {}, { delayMs: 2 }]);
    const [a, b] = env.cluster.chain.wallets();
    const sub = subs.subscribe<LogsValue>('logsSubscribe', [{ mentions: [a] }, { commitment: 'processed' }]);
    await until(() => env.cluster.endpoints.every((e) => env.cluster.stats(e.id).stream.subscriptions === 1));
    const sent = Array.from({ length: 20 }, () => env.cluster.chain.transfer({ from: a!, to: b!, lamports: 1 }).signature);
    const notices: string[] = [];
    const delivered = await readEvents(sub, sent.length, notices);
    expect([...delivered].sort()).toEqual([...sent].sort());
    expect(notices).toEqual([]);
    expect(sub.stats().sources[0]).toMatchObject({ received: 0, first: 0, connected: true, disconnects: 0 });
    expect(env.cluster.stats('e0').stream).toMatchObject({ stalls: 1, stalled: 20, notifications: 0, openConnections: 1 });
    sub.close();
    await subs.close();
    // The stalled provider's held notifications and timers go with its connection.
    await until(() => env.cluster.endpoints.every((e) => env.cluster.stats(e.id).stream.openConnections === 0));
  });

  it('a slow consumer gets a bounded queue: drop-oldest keeps the newest, counts the drops; overflow error ends it everywhere', async () => {
    const { env, subs } = await start([{}, { duplicateRate: 0.5 }, {}]);
    const [a, b] = env.cluster.chain.wallets();
    const params = [{ mentions: [a] }, { commitment: 'processed' }];
    const slow = subs.subscribe<LogsValue>('logsSubscribe', params, { queueSize: 5 });
    await until(() => env.cluster.endpoints.every((e) => env.cluster.stats(e.id).stream.subscriptions === 1));
    const sent = Array.from({ length: 50 }, () => env.cluster.chain.transfer({ from: a!, to: b!, lamports: 1 }).signature);
    // Nobody reads while every copy arrives.
    await until(() => slow.stats().sources.every((s) => s.first + s.late === 50));
    expect(slow.stats()).toMatchObject({ delivered: 50, dropped: 45, queued: 5, queueHighWater: 5 });
    expect(await readEvents(slow, 5)).toEqual(sent.slice(45));
    slow.close();
    await until(() => env.cluster.endpoints.every((e) => env.cluster.stats(e.id).stream.subscriptions === 0));

    const strict = subs.subscribe<LogsValue>('logsSubscribe', params, { queueSize: 5, overflow: 'error' });
    await until(() => env.cluster.endpoints.every((e) => env.cluster.stats(e.id).stream.subscriptions === 1));
    for (let i = 0; i < 6; i++) env.cluster.chain.transfer({ from: a!, to: b!, lamports: 1 });
    // The sixth event overflows the queue nobody reads: the stream ends, and the consumer hears why.
    await until(() => strict.closed);
    await expect(strict.next()).rejects.toMatchObject({ code: 'STRATEGY_STREAM_OVERFLOW' });
    expect(strict.closed).toBe(true);
    await until(() => env.cluster.endpoints.every((e) => env.cluster.stats(e.id).stream.subscriptions === 0));
  });
});

describe('replacing a provider that stays down', () => {
  it('with maxProviders, a provider down for replaceAfterMs is replaced by the best one it is not on, even one it left before; the gap is backfilled', async () => {
    const env = await setup(
      ['e0', 'e1', 'e2'].map((id) => ({ id })),
      { cluster: { chain: { transactionsPerSlot: 0 } } },
    );
    cleanup.push(env.close);
    const subs = createSolanaSubscriptions({
      endpoints: env.cluster.endpoints.map((e) => ({ url: e.wsUrl, id: e.id })),
      rpc: env.client,
      maxProviders: 1,
      replaceAfterMs: 30,
      ws: { reconnect: { initialDelayMs: 2, maxDelayMs: 20, jitter: 0 }, pingIntervalMs: false },
    });
    cleanup.push(() => subs.close());
    // The pool's ranking for streams: e2 leads, then e0, then e1.
    for (let i = 0; i < 50; i++) {
      env.client.pool.recordDelivery('e2', { first: true, behindMs: 0 });
      env.client.pool.recordDelivery('e0', { first: false, behindMs: 10 });
      env.client.pool.recordDelivery('e1', { first: false, behindMs: 80 });
    }
    const [a, b] = env.cluster.chain.wallets();
    const sub = subs.subscribe<LogsValue>('logsSubscribe', [{ mentions: [a] }, { commitment: 'processed' }]);
    expect(sub.endpoints).toEqual(['e2']);
    await until(() => env.cluster.stats('e2').stream.subscriptions === 1);
    const sent = [env.cluster.chain.transfer({ from: a!, to: b!, lamports: 1 }).signature];
    const notices: string[] = [];
    const delivered = await readEvents(sub, 1, notices);

    env.cluster.setBehavior('e2', { mode: 'down' }); // its sockets reset, new ones refused
    sent.push(env.cluster.chain.transfer({ from: a!, to: b!, lamports: 1 }).signature);
    sent.push(env.cluster.chain.transfer({ from: a!, to: b!, lamports: 1 }).signature);
    await until(() => sub.endpoints.length === 1 && sub.endpoints[0] === 'e0');
    await until(() => env.cluster.stats('e0').stream.subscriptions === 1);
    sent.push(env.cluster.chain.transfer({ from: a!, to: b!, lamports: 1 }).signature);
    const items: Array<MergedItem<SolanaNotification<LogsValue>>> = [];
    while (items.filter((item) => item.type === 'event').length < 3) {
      const r = await sub.next();
      if (r.done === true) throw new Error('ended');
      items.push(r.value);
    }
    for (const item of items) if (item.type === 'event') delivered.push(item.value.result.value.signature);
    expect([...delivered].sort()).toEqual([...sent].sort());
    expect(new Set(delivered).size).toBe(sent.length);
    const ended = items.find((item) => item.type === 'gap' && item.ended);
    expect(ended).toMatchObject({
      source: 'e2',
      reason: { code: 'SOLANA_PROVIDER_REPLACED', context: { endpoint: 'e2', replacement: 'e0' } },
    });
    // The two transfers of the gap reached nobody: only the backfill could deliver them.
    const backfilled = items.flatMap((item) =>
      item.type === 'event' && item.source === 'backfill' ? [item.value.result.value.signature] : [],
    );
    expect(backfilled).toEqual(expect.arrayContaining([sent[1], sent[2]]));
    expect(env.cluster.stats('e1').stream.subscriptions).toBe(0);
    expect(sub.stats().sources.map((s) => [s.name, s.ended])).toEqual([
      ['e2', true],
      ['e0', false],
    ]);
    // e2 comes back; when e0 stays down in turn, the best provider the subscription is not on is e2 again (not e1, the
    // only one it never used).
    env.cluster.setBehavior('e2', { mode: 'up' });
    env.cluster.setBehavior('e0', { mode: 'down' });
    await until(() => sub.endpoints.length === 1 && sub.endpoints[0] === 'e2');
    await until(() => env.cluster.stats('e2').stream.subscriptions === 1);
    expect(env.cluster.stats('e1').stream.subscriptions).toBe(0);
    sub.close();
    await until(() => env.cluster.stats('e2').stream.subscriptions === 0);
  });
});
