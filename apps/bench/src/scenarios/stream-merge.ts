import { address, createSolanaRpcSubscriptions, createSolanaRpcSubscriptionsFromTransport } from '@solana/kit';
import { createKitSubscriptionsTransport, createSolanaMultiRpc, createSolanaSubscriptions } from '@x/solana-rpc';
import { startRpcCluster } from '@x/testkit';
import type { RpcBehaviorPatch } from '@x/testkit';
import { fmt, summarize } from '../stats.js';
import type { BenchContext, Scenario, ScenarioResult } from '../types.js';

const GOAL_RATIO = 0.3;

/** Four providers' WebSocket delivery, each with jitter and, independently, short stalls (testkit's `stallRate`/`stallMs`). */
const PROVIDERS: ReadonlyArray<{
  readonly id: string;
  readonly stream: NonNullable<RpcBehaviorPatch['stream']>;
  readonly description: string;
}> = [
  { id: 'best', stream: { delayMs: 4, jitterMs: 8 }, description: '4 ms + up to 8 ms jitter' },
  { id: 'second', stream: { delayMs: 6, jitterMs: 8 }, description: '6 ms + up to 8 ms jitter' },
  { id: 'third', stream: { delayMs: 8, jitterMs: 8, dropRate: 0.05 }, description: '8 ms + up to 8 ms jitter, drops 5 %' },
  { id: 'fourth', stream: { delayMs: 10, jitterMs: 8, duplicateRate: 0.2 }, description: '10 ms + up to 8 ms jitter, duplicates 20 %' },
];
/**
 * Each notification a provider sends starts, with this probability (seeded, per provider), a stall of STALL_MS: the
 * socket stays open but delivers nothing until it ends, then everything due, in order (testkit's `stream.stallRate`).
 * With one event every 5 ms that is about one stall per 1.25 s per subscription.
 */
const STALL_RATE = 0.004;
const STALL_MS = 150;

interface Contender {
  readonly name: string;
  readonly delays: number[];
  lost: number;
  resubscribes: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Merged subscriptions vs the best single provider, both through `@solana/kit`'s own subscription API, on the same
 * events of one simulated chain: the time from a transaction landing to kit yielding its notification, and what each
 * loses when the best provider's connection is cut halfway.
 */
async function run(context: BenchContext): Promise<ScenarioResult> {
  const events = context.full ? 3_000 : 600;
  const cluster = await startRpcCluster({
    seed: context.seed,
    autoAdvance: false,
    chain: { transactionsPerSlot: 0 },
    endpoints: PROVIDERS.map(({ id, stream }) => ({ id, behavior: { stream: { ...stream, stallRate: STALL_RATE, stallMs: STALL_MS } } })),
  });
  const wsOf = (id: string): string => cluster.endpoints.find((e) => e.id === id)?.wsUrl as string;
  const rpc = createSolanaMultiRpc({ endpoints: cluster.endpoints.map((e) => ({ id: e.id, url: e.url })) });
  const streams = createSolanaSubscriptions({
    endpoints: cluster.endpoints.map((e) => ({ id: e.id, url: e.wsUrl })),
    rpc,
    ws: { reconnect: { initialDelayMs: 20, maxDelayMs: 200 } },
  });
  const [wallet, other] = cluster.chain.wallets();
  if (wallet === undefined || other === undefined) throw new Error('no wallets');
  const landedAt = new Map<string, number>();
  const controller = new AbortController();
  const contenders: Contender[] = [];
  let stalls: string | undefined;

  async function consume(
    name: string,
    make: () => ReturnType<typeof createSolanaRpcSubscriptions>,
  ): Promise<{ contender: Contender; done: Promise<void> }> {
    const contender: Contender = { name, delays: [], lost: 0, resubscribes: 0 };
    contenders.push(contender);
    const seen = new Set<string>();
    const rpcSubscriptions = make();
    const subscribe = () =>
      rpcSubscriptions
        .logsNotifications({ mentions: [address(wallet!)] }, { commitment: 'processed' })
        .subscribe({ abortSignal: controller.signal });
    let notifications = await subscribe();
    const done = (async () => {
      for (;;) {
        try {
          for await (const n of notifications) {
            const at = landedAt.get(n.value.signature);
            if (at !== undefined && !seen.has(n.value.signature)) {
              seen.add(n.value.signature);
              contender.delays.push(performance.now() - at);
            }
          }
          return;
        } catch {
          if (controller.signal.aborted) return;
          // What a bot does when its provider's socket drops: subscribe again at once.
          contender.resubscribes++;
          notifications = await subscribe().catch(async () => {
            await sleep(20);
            return subscribe();
          });
        }
      }
    })();
    return { contender, done };
  }

  try {
    const single = await consume(`kit, single provider ('best')`, () => createSolanaRpcSubscriptions(wsOf('best') as `ws://${string}`));
    const merged = await consume('kit over merged subscriptions (4 providers)', () =>
      createSolanaRpcSubscriptionsFromTransport(createKitSubscriptionsTransport(streams)),
    );
    while (cluster.endpoints.some((e) => cluster.stats(e.id).stream.subscriptions < 2 - (e.id === 'best' ? 0 : 1))) await sleep(5);
    context.log(
      `${events} transfers, one every 5 ms; independent stalls of ${STALL_MS} ms; the 'best' provider's connections are cut halfway`,
    );
    for (let i = 0; i < events; i++) {
      const { signature } = cluster.chain.transfer({ from: wallet, to: other, lamports: 1 });
      landedAt.set(signature, performance.now());
      if (i === Math.floor(events / 2)) cluster.disconnectStreams('best');
      if (i % 4 === 3) cluster.chain.advance(1);
      await sleep(5);
    }
    stalls = cluster.endpoints.map((e) => `${e.id} ${cluster.stats(e.id).stream.stalls}`).join(', ');
    context.log(`stalls started (testkit): ${stalls}`);
    // Everything in flight has arrived well within this (the slowest delay, stall included, is under 200 ms).
    await sleep(500);
    controller.abort();
    await Promise.all([single.done, merged.done]);
    for (const c of contenders) c.lost = events - c.delays.length;
  } finally {
    controller.abort();
    await streams.close();
    await rpc.close();
    await cluster.close();
  }

  const summaries = contenders.map((c) => ({ c, latency: summarize(c.delays) }));
  const [single, merged] = summaries;
  const ratio = (merged?.latency.p99 ?? Number.NaN) / (single?.latency.p99 ?? Number.NaN);
  const providerRows = streams
    .stats()
    .map((s) => [
      s.id,
      s.first,
      s.late,
      s.leadShare === undefined ? '-' : `${(100 * s.leadShare).toFixed(0)} %`,
      fmt(s.lagP50Ms ?? Number.NaN, 1),
      fmt(s.lagP99Ms ?? Number.NaN, 1),
      s.disconnects,
    ]);
  return {
    tables: [
      {
        title: `Event → delivery through kit's subscriptions, ${events} events, the best provider cut halfway`,
        columns: ['contender', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'delivered', 'lost', 'resubscribes'],
        rows: summaries.map(({ c, latency }) => [
          c.name,
          fmt(latency.p50, 1),
          fmt(latency.p90, 1),
          fmt(latency.p99, 1),
          fmt(latency.max, 1),
          c.delays.length,
          c.lost,
          c.resubscribes,
        ]),
      },
      {
        title: 'Merged stream: each provider',
        columns: ['provider', 'first', 'late', 'lead share', 'lag p50 ms', 'lag p99 ms', 'disconnects'],
        rows: providerRows,
      },
    ],
    goals: [
      {
        goal: `merged p99 delay ≤ ${GOAL_RATIO} × the single provider's`,
        met: ratio <= GOAL_RATIO,
        measured: `${fmt(merged?.latency.p99 ?? Number.NaN, 1)} ms vs ${fmt(single?.latency.p99 ?? Number.NaN, 1)} ms (${fmt(ratio, 2)}×)`,
      },
      {
        goal: '0 events lost by the merged stream across the forced disconnect',
        met: merged?.c.lost === 0,
        measured: `merged lost ${merged?.c.lost ?? '?'}, single lost ${single?.c.lost ?? '?'}`,
      },
    ],
    notes: [
      `Providers (testkit, seeded): ${PROVIDERS.map((p) => `${p.id}: ${p.description}`).join('; ')}; each notification starts, ` +
        `with probability ${STALL_RATE}, a stall of ${STALL_MS} ms on its provider (testkit's stream.stallRate/stallMs: the socket stays ` +
        `open, nothing is delivered until the stall ends, then everything due, in order). Stalls started: ${stalls ?? 'none recorded'}. The best provider ` +
        'carries both contenders (two subscriptions), so it draws twice per event.',
      'Delay = from the transaction landing on the simulated chain to kit yielding its notification, in the same process. The single contender resubscribes at once when its socket drops, as a bot would; what lands meanwhile is lost to it.',
    ],
    data: {
      events,
      contenders: summaries.map(({ c, latency }) => ({ name: c.name, latencyMs: latency, lost: c.lost, resubscribes: c.resubscribes })),
      providers: streams.stats(),
      stallRate: STALL_RATE,
      stallMs: STALL_MS,
    },
  };
}

export const streamMergeScenario: Scenario = {
  id: 'stream-merge',
  title: 'Solana subscriptions: merged across 4 providers vs the best single provider (kit)',
  description:
    "The same logsSubscribe through @solana/kit's own subscription API: once on the best of four simulated providers, once over " +
    '@x/solana-rpc merged subscriptions of all four (first arrival wins). Same chain, same events, same run; halfway, the best ' +
    "provider's connections are cut. Measured: event → delivery delay and events lost.",
  run,
};
