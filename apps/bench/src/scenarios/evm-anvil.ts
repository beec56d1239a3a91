/**
 * Scenarios on a real JSON-RPC server: one anvil node (from the pinned npm package) behind four seeded
 * fault-injecting relays of @x/testkit, read by ours through the generic layers (pool + strategies +
 * http-transport), by viem `fallback` and by ethers `FallbackProvider`, each at its defaults and tuned.
 */
import { createHttpTransport } from '@x/http-transport';
import { createRandom } from '@x/testkit';
import type { RpcRelayFaultsPatch, RpcRelayOptions } from '@x/testkit';
import { anvilVersion, fundAccounts, startAnvil } from '../anvil.js';
import { errorNotes, figuresCharts, figuresTable, percent } from '../figures.js';
import { startRemoteRelays } from '../remote-cluster.js';
import type { CallTarget, RpcContender } from '../rpc/contender.js';
import { libraryContenderSettings, libraryContenders } from '../rpc/lineup.js';
import { oursEvm, oursEvmName, oursEvmSettings } from '../rpc/ours-evm.js';
import type { OurEvmVariant } from '../rpc/ours-evm.js';
import { blockPlan, closeContenders, figuresOf, runBlocks } from '../rpc/runner.js';
import type { Verdict } from '../rpc/runner.js';
import { fmt } from '../stats.js';
import type { BenchContext, ContenderFigures, ContenderSettings, Goal, Scenario, ScenarioResult } from '../types.js';

const CONCURRENCY = 16;
const CALLS_PER_WORKER = 2;
/** Calls per contender in a `--full` run, at least. */
const FULL_CALLS = 2000;
const QUICK_ROUNDS = 6;
const OUR_VARIANTS: readonly OurEvmVariant[] = ['race', 'hedge', 'dual', 'consensus', 'race-tuned', 'hedge-tuned'];

/** Log-normal median 45 ms, σ 0.45: a mean of 45 × e^(σ²/2) ≈ 49.8 ms, the seed's "single provider averaging 50 ms". */
const NORMAL_LATENCY = { medianMs: 45, sigma: 0.45, stallProbability: 0 } as const;
/** The heavy tail of the simulator's `heavyTail` profile: median 40 ms, σ 0.5, 3 % stalls of 0.5–1.5 s. */
const TAIL_LATENCY = { medianMs: 40, sigma: 0.5, stallProbability: 0.03, stallMs: [500, 1500] as [number, number] };

/** Normal operation: four providers alike, each averaging ~50 ms and failing 2 % of requests (HTTP 5xx). */
const NORMAL_RELAYS: readonly RpcRelayOptions[] = ['a', 'b', 'c', 'd'].map((id) => ({
  id: `provider-${id}`,
  faults: { latency: NORMAL_LATENCY, serverErrorRate: 0.02 } satisfies RpcRelayFaultsPatch,
}));

/** Faults: heavy tails and stalls everywhere, one provider failing (5xx, 429, hangs), one lying on 10 % of answers. */
const FAULT_RELAYS: readonly RpcRelayOptions[] = [
  { id: 'tail-a', faults: { latency: TAIL_LATENCY } },
  { id: 'tail-b', faults: { latency: TAIL_LATENCY } },
  { id: 'flaky', faults: { latency: TAIL_LATENCY, serverErrorRate: 0.02, rateLimitRate: 0.005, retryAfterSeconds: 1, hangRate: 0.01 } },
  { id: 'liar', faults: { latency: { medianMs: 40, sigma: 0.5, stallProbability: 0 }, wrongValueRate: 0.1 } },
];

const SINGLE_NAME = (id: string): string => `single provider (${id}): @x/http-transport, no retry`;
const SINGLE_SETTINGS = (id: string): string =>
  `createHttpTransport({ url }) defaults on one relay (${id}): timeout 10 s, no retry, no failover`;

/** One provider alone, without retries: what a user of a single provider sees. */
function singleProvider(endpoint: { id: string; url: string }): RpcContender {
  const transport = createHttpTransport({ url: endpoint.url });
  return {
    name: SINGLE_NAME(endpoint.id),
    kind: 'baseline',
    settings: SINGLE_SETTINGS(endpoint.id),
    async getBalance(target) {
      return BigInt(await transport.call<string>('eth_getBalance', [target.evm, 'latest']));
    },
    close: () => transport.close(),
  };
}

function contenderSettings(relays: readonly RpcRelayOptions[]): ContenderSettings[] {
  return [
    { name: SINGLE_NAME(relays[0]!.id), settings: SINGLE_SETTINGS(relays[0]!.id) },
    ...libraryContenderSettings(relays.length),
    ...OUR_VARIANTS.map((variant) => ({ name: oursEvmName(variant), settings: oursEvmSettings(variant) })),
  ];
}

interface Measured {
  readonly figures: ContenderFigures[];
  readonly latencies: number[][];
  readonly plan: { rounds: number; concurrency: number; callsPerWorker: number };
  readonly relayStats: unknown;
  readonly anvil: string;
}

/** Starts anvil and the relays, gives every caller an account with a balance of its own, and runs every contender in blocks. */
async function measure(context: BenchContext, relaysOptions: readonly RpcRelayOptions[]): Promise<Measured> {
  const version = await anvilVersion();
  const anvil = await startAnvil();
  let active = true;
  const contenders: RpcContender[] = [];
  let relays: Awaited<ReturnType<typeof startRemoteRelays>> | undefined;
  try {
    relays = await startRemoteRelays({ upstream: anvil.url, seed: context.seed, relays: [...relaysOptions] });
    const random = createRandom(context.seed).fork('evm-balances');
    const truth = new Map<string, bigint>();
    const targets: CallTarget[] = [];
    // One account per worker.
    for (const { evm, wei } of await fundAccounts(anvil, random, CONCURRENCY)) {
      truth.set(evm.toLowerCase(), wei);
      targets.push({ solana: evm, evm });
    }
    const endpoints = relays.endpoints.map((e) => ({ id: e.id, url: e.url }));
    const urls = endpoints.map((e) => e.url);
    contenders.push(
      singleProvider(endpoints[0]!),
      ...libraryContenders({ urls, evmChainId: anvil.chainId, unit: 'wei', active: () => active }),
      ...OUR_VARIANTS.map((variant) => oursEvm(variant, endpoints)),
    );
    const plan = blockPlan(context.full, QUICK_ROUNDS, FULL_CALLS, CONCURRENCY, CALLS_PER_WORKER);
    context.log(
      `${version}; ${contenders.length} contenders × ${plan.rounds} rounds × ${plan.concurrency} callers × ${plan.callsPerWorker} calls`,
    );
    const judge = (value: bigint, target: CallTarget): Verdict => (value === truth.get(target.evm.toLowerCase()) ? 'current' : 'wrong');
    const runs = await runBlocks(relays, contenders, plan, { targetOf: (worker) => targets[worker]!, judge }, (line) => context.log(line));
    return {
      figures: runs.map((r) => figuresOf(r, true)),
      latencies: runs.map((r) => r.latencies),
      plan,
      relayStats: await relays.stats(),
      anvil: version,
    };
  } finally {
    active = false;
    await closeContenders(contenders);
    await relays?.close();
    await anvil.close();
  }
}

function find(figures: readonly ContenderFigures[], name: string): ContenderFigures {
  const found = figures.find((f) => f.name === name);
  if (found === undefined) throw new Error(`no contender ${name}`);
  return found;
}

/** Each endpoint's share of a contender's requests, as a fraction of an even share (1 = perfectly even). */
function evenness(f: ContenderFigures): number {
  const shares = Object.values(f.utilisation ?? {});
  return shares.length === 0 ? Number.NaN : Math.min(...shares) * shares.length;
}

const ours = (figures: readonly ContenderFigures[]): ContenderFigures[] => figures.filter((f) => f.kind === 'ours');
const short = (f: ContenderFigures): string => f.name.replace('ours: ', '');

function commonNotes(m: Measured): string[] {
  const calls = m.plan.rounds * m.plan.concurrency * m.plan.callsPerWorker;
  return [
    `Server: ${m.anvil} (\`@foundry-rs/anvil-linux-amd64\` from npm, \`--no-mining\`), on 127.0.0.1; every contender reads \`eth_getBalance\` of 16 accounts whose balances the bench set (\`anvil_setBalance\`), so every answer is checked against the truth.`,
    `Each contender: ${m.plan.rounds} blocks of ${m.plan.concurrency} concurrent callers × ${m.plan.callsPerWorker} calls (${calls} calls), alone on the relays, blocks in an order that rotates every round; ` +
      'figures in brackets are the range over the 3 repetitions the rounds are split into (p99.9 is over all calls only).',
    'Latency is the time each caller waited, failed calls included. Requests per call and load are counted by the relays around each block. **timed out**: calls that failed by running out of time (a deadline or attempt timeout of ours, viem `TimeoutError`, ethers `TIMEOUT`).',
    `Machine noise: the worst event-loop delay during each contender's blocks, measuring process / relay process (ms): ${m.figures
      .map((f) => `${f.name} ${fmt(f.loopDelayMaxMs?.bench ?? Number.NaN, 0)} / ${fmt(f.loopDelayMaxMs?.cluster ?? Number.NaN, 0)}`)
      .join(
        ', ',
      )}. anvil runs in a process of its own; on a loaded machine all three compete for the same cores, and contenders that send more requests per call pay more of it.`,
  ];
}

function reportNormal(m: Measured): ScenarioResult {
  const single = m.figures[0]!;
  const mine = ours(m.figures);
  const race = find(m.figures, oursEvmName('race'));
  const raceTuned = find(m.figures, oursEvmName('race-tuned'));
  const hedge = find(m.figures, oursEvmName('hedge'));
  const lowest = mine.reduce((low, f) => (f.successRate < low.successRate ? f : low));
  const singleText = `single provider: mean ${fmt(single.latencyMs.mean, 1)} ms, success ${percent(single.successRate)}`;
  const goals: Goal[] = [
    ...[race, raceTuned, hedge].map((f): Goal => ({
      goal: `seed target: average response < 30 ms where a single provider averages 50 ms (${f.name})`,
      met: f.latencyMs.mean < 30,
      measured: `${fmt(f.latencyMs.mean, 1)} ms at ${fmt(f.requestsPerCall ?? Number.NaN, 2)} requests per call; ${singleText}`,
    })),
    {
      goal: 'seed target: success > 99.9 % where a single provider succeeds 98 % (every contender of ours)',
      met: lowest.successRate > 0.999,
      measured: `${mine.map((f) => `${short(f)} ${percent(f.successRate)}`).join(', ')}; ${singleText}`,
    },
    ...mine
      .filter((f) => f.name !== oursEvmName('hedge-tuned') && f.name !== oursEvmName('race-tuned'))
      .map((f): Goal => ({
        goal: `seed target: endpoint utilization > 80 % on all endpoints — every endpoint gets > 80 % of an even share of requests (${f.name})`,
        met: evenness(f) > 0.8,
        measured: `least-used endpoint at ${percent(evenness(f), 0)} of an even share (${Object.entries(f.utilisation ?? {})
          .map(([id, share]) => `${id} ${percent(share, 0)}`)
          .join(', ')})`,
      })),
    {
      goal: 'seed target: zero timeout failures in normal operation (every contender of ours)',
      met: mine.every((f) => f.timeoutRate === 0),
      measured: mine.map((f) => `${short(f)} ${percent(f.timeoutRate ?? Number.NaN)}`).join(', '),
    },
  ];
  return {
    tables: [
      figuresTable('eth_getBalance through 4 relays in front of anvil, each ~50 ms on average and failing 2 %', m.figures, {
        correctness: true,
      }),
    ],
    settings: m.figures.map((f) => ({ name: f.name, settings: f.settings })),
    goals,
    notes: [
      'Relays (seeded, in a child process): provider-a … provider-d each delay every request by a log-normal draw (median 45 ms, σ 0.45: mean ≈ 50 ms) and answer 2 % of requests with HTTP 500/502/503/504 instead of forwarding them.',
      ...commonNotes(m),
      "Utilization, as the seed asks it of a pool in normal operation: every endpoint should carry a fair part of the load; measured as the least-used endpoint's share of requests divided by an even share (25 %).",
      'ours: race (tuned) differs from race (defaults) only in 64 instead of 16 connections per endpoint: a race call keeps a connection busy at every endpoint until the losing answers are drained, so at 16 concurrent calls the default pool of 16 connections makes calls queue behind the losers of earlier calls.',
      ...errorNotes(m.figures),
    ],
    charts: figuresCharts({ id: 'evm-normal', title: 'Normal operation on anvil', figures: m.figures, latencies: m.latencies }),
    data: { plan: m.plan, relays: NORMAL_RELAYS, relayStats: m.relayStats, contenders: m.figures },
  };
}

function reportFaults(m: Measured): ScenarioResult {
  const single = m.figures[0]!;
  const race = find(m.figures, oursEvmName('race'));
  const raceTuned = find(m.figures, oursEvmName('race-tuned'));
  const hedge = find(m.figures, oursEvmName('hedge'));
  const consensus = find(m.figures, oursEvmName('consensus'));
  const theirs = m.figures.filter((f) => f.kind === 'baseline' && f !== single);
  const wrong = (f: ContenderFigures): number => f.wrongRate ?? Number.NaN;
  const quorum2 = theirs.filter((f) => f.name.includes('quorum 2'));
  const single1 = theirs.filter((f) => !quorum2.includes(f));
  const goals: Goal[] = [
    ...[race, raceTuned, hedge].map((f): Goal => {
      const cut = 1 - f.latencyMs.p99 / single.latencyMs.p99;
      return {
        goal: `seed target: p99 80 % better than a single provider (${f.name})`,
        met: cut >= 0.8,
        measured: `p99 ${fmt(f.latencyMs.p99, 1)} ms vs ${fmt(single.latencyMs.p99, 1)} ms (${single.name}): ${(cut * 100).toFixed(1)} % lower`,
      };
    }),
    {
      goal: `fewer wrong answers than viem fallback (defaults and tuned) and ethers FallbackProvider quorum 1 (${consensus.name})`,
      met: single1.every((f) => wrong(consensus) < wrong(f)),
      measured: `consensus ${percent(wrong(consensus))}; ${single1.map((f) => `${f.name} ${percent(wrong(f))}`).join(', ')}`,
    },
    {
      goal: `as few wrong answers as ethers FallbackProvider quorum 2 (defaults and tuned), at a lower p50 and p99 (${consensus.name})`,
      met: quorum2.every(
        (f) => wrong(consensus) <= wrong(f) && consensus.latencyMs.p50 < f.latencyMs.p50 && consensus.latencyMs.p99 < f.latencyMs.p99,
      ),
      measured:
        `consensus ${percent(wrong(consensus))} wrong, p50 ${fmt(consensus.latencyMs.p50, 0)} ms, p99 ${fmt(consensus.latencyMs.p99, 0)} ms; ` +
        quorum2
          .map((f) => `${f.name} ${percent(wrong(f))}, p50 ${fmt(f.latencyMs.p50, 0)} ms, p99 ${fmt(f.latencyMs.p99, 0)} ms`)
          .join('; '),
    },
    {
      goal: `better p99 than every viem and ethers contender, tuned ones included (${race.name})`,
      met: theirs.every((f) => race.latencyMs.p99 < f.latencyMs.p99),
      measured: `${fmt(race.latencyMs.p99, 1)} ms; ${theirs.map((f) => `${f.name} ${fmt(f.latencyMs.p99, 0)}`).join(', ')}`,
    },
  ];
  return {
    tables: [figuresTable('eth_getBalance through 4 faulty relays in front of anvil', m.figures, { correctness: true })],
    settings: m.figures.map((f) => ({ name: f.name, settings: f.settings })),
    goals,
    notes: [
      'Relays (seeded, in a child process): tail-a, tail-b and flaky delay every request by a log-normal draw (median 40 ms, σ 0.5) or, on 3 %, stall 0.5–1.5 s; ' +
        'flaky also answers 2 % with HTTP 5xx, 0.5 % with HTTP 429 (Retry-After 1 s) and never answers 1 % (the connection stays open); ' +
        'liar answers after a median of 40 ms (σ 0.5, no stalls) and alters 10 % of the balances it returns (another hex quantity).',
      ...commonNotes(m),
      ...errorNotes(m.figures),
    ],
    charts: figuresCharts({
      id: 'evm-faults',
      title: 'Faults on anvil',
      figures: m.figures,
      latencies: m.latencies,
      p99Marker: { value: single.latencyMs.p99 * 0.2, label: '80 % below single' },
      extraPanel: { title: 'wrong answers (%)', values: m.figures.map((f) => wrong(f) * 100), digits: 1 },
    }),
    data: { plan: m.plan, relays: FAULT_RELAYS, relayStats: m.relayStats, contenders: m.figures },
  };
}

export const evmNormalScenario: Scenario = {
  id: 'evm-normal',
  title: 'Normal operation on a real node (anvil): ours vs viem fallback and ethers FallbackProvider',
  description:
    'A real Ethereum JSON-RPC node (anvil) behind four seeded relays of @x/testkit that behave like ordinary providers: ~50 ms on average, ' +
    '2 % of requests failing with HTTP 5xx. One provider alone, viem `fallback` and ethers `FallbackProvider` (each at its defaults and tuned ' +
    'for latency) and ours through the generic layers (@x/pool + @x/rpc-strategies + @x/http-transport) read `eth_getBalance`. ' +
    "The seed's targets for normal operation are evaluated here: average latency, success rate, endpoint utilization, timeouts.",
  run: async (context) => reportNormal(await measure(context, NORMAL_RELAYS)),
  settings: () => contenderSettings(NORMAL_RELAYS),
};

export const evmFaultsScenario: Scenario = {
  id: 'evm-faults',
  title: 'Faults on a real node (anvil): tails, stalls, 5xx, 429, hangs and wrong values',
  description:
    'The same real node behind four seeded relays with the faults of bad days: heavy tails and stalls, HTTP 5xx and 429, requests that are ' +
    'never answered, and one provider altering 10 % of the values it returns; the same contenders read `eth_getBalance`, and every answer ' +
    'is checked against the balance the bench set.',
  run: async (context) => reportFaults(await measure(context, FAULT_RELAYS)),
  settings: () => contenderSettings(FAULT_RELAYS),
};
