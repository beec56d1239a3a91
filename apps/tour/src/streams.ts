import Table from 'cli-table3';
import picocolors from 'picocolors';
import { createSolanaMultiRpc, createSolanaSubscriptions } from '@x/solana-rpc';
import { startRpcCluster } from '@x/testkit';
import type { RpcBehaviorPatch } from '@x/testkit';
import { heading, say } from './tour.js';
import type { TourOutput } from './tour.js';

export interface StreamsTourOptions {
  /** Transactions the chain produces during the run. Default 60. */
  readonly transactions?: number;
  /** Seed of the simulated cluster. Default 16. */
  readonly seed?: number;
}

/** The simulated providers' WebSocket behaviour, in table order. */
const PROVIDERS: ReadonlyArray<{
  readonly id: string;
  readonly stream: NonNullable<RpcBehaviorPatch['stream']>;
  readonly description: string;
}> = [
  { id: 'quick', stream: { delayMs: 2, jitterMs: 1 }, description: '~2 ms' },
  { id: 'jittery', stream: { delayMs: 4, jitterMs: 8 }, description: '4 ± 8 ms' },
  {
    id: 'lossy',
    stream: { delayMs: 1, jitterMs: 6, dropRate: 0.3, duplicateRate: 0.3 },
    description: '~1 ms, drops 30 %, duplicates 30 %',
  },
  { id: 'slow', stream: { delayMs: 25, jitterMs: 5 }, description: '~25 ms' },
];

interface LogsValue {
  readonly value: { readonly signature: string };
}

function formatMs(ms: number | undefined): string {
  return ms === undefined ? '-' : `${ms.toFixed(1)} ms`;
}

/**
 * Part 4: one `logsSubscribe` opened on four simulated providers' WebSockets and merged: each transaction once,
 * from whichever provider delivered it first, across a forced disconnect; then each provider's lead.
 */
export async function streamsTour(out: TourOutput, options: StreamsTourOptions = {}): Promise<void> {
  const total = options.transactions ?? 60;
  const c = picocolors.createColors(out.color);
  heading(out, 'Solana streams: one logsSubscribe on four providers, merged, first arrival wins');
  const cluster = await startRpcCluster({
    seed: options.seed ?? 16,
    autoAdvance: false,
    chain: { transactionsPerSlot: 0 },
    endpoints: PROVIDERS.map(({ id, stream }) => ({ id, behavior: { stream } })),
  });
  const rpc = createSolanaMultiRpc({ endpoints: cluster.endpoints.map((e) => ({ id: e.id, url: e.url })) });
  const streams = createSolanaSubscriptions({
    endpoints: cluster.endpoints.map((e) => ({ id: e.id, url: e.wsUrl })),
    rpc,
    ws: { reconnect: { initialDelayMs: 20, maxDelayMs: 200 } },
  });
  try {
    const [wallet, other] = cluster.chain.wallets();
    if (wallet === undefined || other === undefined) throw new Error('the simulated chain has no wallets');
    say(out, 'Four simulated providers (@x/testkit) serve the subscription methods over WebSocket, each with its own delays and faults:');
    for (const p of PROVIDERS) say(out, `  ${p.id.padEnd(8)} ${p.description}`);
    say(out, `\ncreateSolanaSubscriptions(...).subscribe('logsSubscribe', [{ mentions: [wallet] }, { commitment: 'processed' }])`);
    say(out, `opens it on all four; ${total} transfers follow, and halfway through 'quick' loses its connection.\n`);
    const sub = streams.subscribe<LogsValue>('logsSubscribe', [{ mentions: [wallet] }, { commitment: 'processed' }]);
    while (cluster.endpoints.some((e) => cluster.stats(e.id).stream.subscriptions < 1))
      await new Promise((resolve) => setTimeout(resolve, 5));

    const sent = new Set<string>();
    const producer = (async () => {
      for (let i = 0; i < total; i++) {
        sent.add(cluster.chain.transfer({ from: wallet, to: other, lamports: 1 }).signature);
        if (i === Math.floor(total / 2)) cluster.disconnectStreams('quick');
        if (i % 3 === 2) cluster.chain.advance(1);
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
    })();
    const delivered = new Map<string, number>();
    const notices: string[] = [];
    while ([...delivered.values()].reduce((a, b) => a + b, 0) < total) {
      const r = await sub.next();
      if (r.done === true) break;
      const item = r.value;
      if (item.type === 'event') {
        const signature = item.value.result.value.signature;
        delivered.set(signature, (delivered.get(signature) ?? 0) + 1);
      } else notices.push(`${item.type} ${item.source}`);
    }
    await producer;
    // Let the late copies arrive, so that every provider's lag is counted.
    await new Promise((resolve) => setTimeout(resolve, 60));
    const stats = sub.stats();
    sub.close();

    const table = new Table({
      head: ['provider', 'first', 'late', 'lead share', 'lag p50', 'lag p99', 'received', 'disconnects'].map((h) => c.bold(h)),
      colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
      style: { head: [], border: [], 'padding-left': 1, 'padding-right': 1 },
    });
    for (const [index, source] of stats.sources.entries()) {
      const lead = streams.stats()[index];
      table.push([
        source.name,
        String(source.first),
        String(source.late),
        lead?.leadShare === undefined ? '-' : `${(100 * lead.leadShare).toFixed(0)} %`,
        formatMs(source.lagP50Ms),
        formatMs(source.lagP99Ms),
        String(source.received),
        String(source.disconnects),
      ]);
    }
    out.write(`${table.toString()}\n`);
    const once = [...sent].every((s) => delivered.get(s) === 1) && delivered.size === sent.size;
    say(
      out,
      `\n${once ? c.green('Every one of the') : c.red('NOT every one of the')} ${sent.size} transfers was delivered exactly once ` +
        `(${stats.delivered} events, ${stats.duplicates} later copies dropped, ${stats.backfilled} found by backfill).`,
    );
    say(
      out,
      `Notices: ${notices.length === 0 ? 'none' : notices.join(', ')}. 'lag' is how far behind the first copy a provider's copies were (0 when first).`,
    );
  } finally {
    await streams.close();
    await rpc.close();
    await cluster.close();
  }
}
