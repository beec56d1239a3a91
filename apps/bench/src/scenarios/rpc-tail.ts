import { DEFAULT_HEDGE, DEFAULT_HEDGE_BUDGET } from '@x/pool';
import { rpcProfiles } from '@x/testkit';
import type { RpcEndpointOptions } from '@x/testkit';
import { figuresCharts, figuresTable, percent, errorNotes } from '../figures.js';
import { startRemoteRpcCluster, walletTargets } from '../remote-cluster.js';
import { kitSingle, kitSingleName, kitSingleSettings } from '../rpc/baselines.js';
import type { RpcContender } from '../rpc/contender.js';
import { libraryContenderSettings, libraryContenders } from '../rpc/lineup.js';
import { ours, oursName, oursSettings } from '../rpc/ours.js';
import type { OurStrategy } from '../rpc/ours.js';
import { blockPlan, closeContenders, figuresOf, runBlocks } from '../rpc/runner.js';
import { fmt } from '../stats.js';
import type { BenchContext, ContenderFigures, ContenderSettings, Goal, Scenario, ScenarioResult } from '../types.js';

const OUR_STRATEGIES: readonly OurStrategy[] = ['race', 'hedge', 'dual', 'consensus'];

const RATE_LIMIT_RPS = 50;

/** The cluster of this scenario: heavy tails everywhere, one endpoint failing 2 %, one rate-limited. */
const TAIL_ENDPOINTS: readonly RpcEndpointOptions[] = [
  { id: 'tail-a', behavior: rpcProfiles.heavyTail },
  { id: 'tail-b', behavior: rpcProfiles.heavyTail },
  { id: 'flaky', behavior: { ...rpcProfiles.heavyTail, errorRate: 0.02 } },
  { id: 'limited', behavior: { ...rpcProfiles.heavyTail, rateLimit: { requestsPerSecond: RATE_LIMIT_RPS } } },
];

const CONCURRENCY = 16;
/** Calls per contender in a `--full` run, at least. */
const FULL_CALLS = 2000;

async function run(context: BenchContext): Promise<ScenarioResult> {
  const cluster = await startRemoteRpcCluster({ seed: context.seed, endpoints: [...TAIL_ENDPOINTS] });
  let active = true;
  const contenders: RpcContender[] = [];
  try {
    const urls = cluster.endpoints.map((e) => e.url);
    const targets = await walletTargets(cluster, CONCURRENCY);
    const evmChainId = cluster.evmChainId;
    contenders.push(
      kitSingle(urls[0]!, cluster.endpoints[0]!.id),
      ...libraryContenders({ urls, evmChainId, unit: 'lamports', active: () => active }),
      ...OUR_STRATEGIES.map((strategy) => ours(strategy, cluster.endpoints)),
    );
    const plan = blockPlan(context.full, 12, FULL_CALLS, CONCURRENCY, 2);
    context.log(
      `${contenders.length} contenders × ${plan.rounds} rounds × ${plan.concurrency} callers × ${plan.callsPerWorker} calls, blocks in rotating order`,
    );
    const runs = await runBlocks(cluster, contenders, plan, { targetOf: (worker) => targets[worker]! }, (line) => context.log(line));
    const figures = runs.map((r) => figuresOf(r, false));
    return report(
      figures,
      runs.map((r) => r.latencies),
      plan,
    );
  } finally {
    active = false;
    await closeContenders(contenders);
    await cluster.close();
  }
}

function byName(figures: readonly ContenderFigures[], name: string): ContenderFigures {
  const found = figures.find((f) => f.name === name);
  if (found === undefined) throw new Error(`no contender ${name}`);
  return found;
}

function report(
  figures: readonly ContenderFigures[],
  latencies: ReadonlyArray<readonly number[]>,
  plan: { rounds: number; concurrency: number; callsPerWorker: number },
): ScenarioResult {
  const single = figures[0]!;
  const race = byName(figures, 'ours: race');
  const hedge = byName(figures, 'ours: hedge (adaptive)');
  const oursFigures = figures.filter((f) => f.kind === 'ours');
  const theirs = figures.filter((f) => f.kind === 'baseline' && f !== single);
  const raceCut = 1 - race.latencyMs.p99 / single.latencyMs.p99;
  const hedgeOverRace = hedge.latencyMs.p99 / race.latencyMs.p99 - 1;
  const bestTheirs = theirs.reduce((best, f) => (f.latencyMs.p99 < best.latencyMs.p99 ? f : best));
  const lowestSuccess = oursFigures.reduce((low, f) => (f.successRate < low.successRate ? f : low));
  const goals: Goal[] = [
    {
      goal: "race p99 at least 80 % below the single endpoint's",
      met: raceCut >= 0.8,
      measured: `race p99 ${fmt(race.latencyMs.p99, 1)} ms vs ${fmt(single.latencyMs.p99, 1)} ms (${single.name}): ${(raceCut * 100).toFixed(1)} % lower`,
    },
    {
      goal: "adaptive hedge within 15 % of race's p99 at ≤ 1.15 requests per call",
      met: hedgeOverRace <= 0.15 && (hedge.requestsPerCall ?? Infinity) <= 1.15,
      measured:
        `hedge p99 ${fmt(hedge.latencyMs.p99, 1)} ms = race's ${hedgeOverRace >= 0 ? '+' : '−'}${fmt(Math.abs(hedgeOverRace) * 100, 1)} %, ` +
        `${fmt(hedge.requestsPerCall ?? Number.NaN, 2)} requests per call (race: ${fmt(race.requestsPerCall ?? Number.NaN, 2)})`,
    },
    {
      goal: 'success ≥ 99.9 % with one endpoint failing 2 % (every strategy of ours)',
      met: lowestSuccess.successRate >= 0.999,
      measured: oursFigures.map((f) => `${f.name.replace('ours: ', '')} ${percent(f.successRate)}`).join(', '),
    },
    ...[race, hedge].map((mine): Goal => ({
      goal: `better p99 than viem fallback and ethers FallbackProvider (${mine.name})`,
      met: theirs.every((f) => mine.latencyMs.p99 < f.latencyMs.p99),
      measured:
        `${fmt(mine.latencyMs.p99, 1)} ms at ${fmt(mine.requestsPerCall ?? Number.NaN, 2)} requests per call; best of theirs: ${bestTheirs.name} ` +
        `${fmt(bestTheirs.latencyMs.p99, 1)} ms at ${fmt(bestTheirs.requestsPerCall ?? Number.NaN, 2)} (${theirs.map((f) => `${f.name} ${fmt(f.latencyMs.p99, 0)}`).join(', ')})`,
    })),
  ];
  const calls = plan.rounds * plan.concurrency * plan.callsPerWorker;
  const budget = hedge.diagnostics?.hedgeBudget as { calls: number; acquired: number; denied: number } | undefined;
  const notes = [
    `Cluster (in a child process): tail-a, tail-b, flaky and limited all answer after a log-normal delay (median 40 ms, σ 0.5) and stall 0.5–1.5 s on 3 % of requests; ` +
      `flaky also fails 2 % of requests (HTTP 5xx or JSON-RPC -32603, half each); limited allows ${RATE_LIMIT_RPS} requests/s (HTTP 429 with Retry-After beyond).`,
    `Each contender runs ${plan.rounds} blocks of ${plan.concurrency} concurrent callers × ${plan.callsPerWorker} calls (${calls} calls), alone on the cluster, blocks in an order that rotates every round; ` +
      'every caller reads its own account (the EVM contenders read the same account through its EVM address), so no library can merge requests.',
    'Latency is the time each caller waited, failed calls included. Requests per call and load are counted by the cluster around each block; viem rank pings falling in its own blocks are charged to it.',
    `p99.9 of ${calls} calls is little more than the maximum: use \`--full\` for tighter tails.`,
    ...(budget === undefined
      ? []
      : [
          `Adaptive hedge: the pool hedges after each endpoint's own p${DEFAULT_HEDGE.quantile * 100} latency, and the default budget allows hedges on ` +
            `${DEFAULT_HEDGE_BUDGET.ratio * 100} % of calls plus ${DEFAULT_HEDGE_BUDGET.minPerSecond} a second (burst ${DEFAULT_HEDGE_BUDGET.burst}). Over its ${budget.calls} calls (warm-up included) the budget granted ${budget.acquired} hedges and refused ${budget.denied}; ` +
            'a refused call whose first request stalls (0.5–1.5 s) waits it out and fails at the 500 ms deadline of the getBalance preset — its failures and its p99.',
        ]),
    `Machine noise: the worst event-loop delay during each contender's blocks, measuring process / cluster process (ms): ${figures
      .map((f) => `${f.name} ${fmt(f.loopDelayMaxMs?.bench ?? Number.NaN, 0)} / ${fmt(f.loopDelayMaxMs?.cluster ?? Number.NaN, 0)}`)
      .join(', ')}. A stall of either delays every endpoint at once, which only a tail in the low hundreds of ms (race, dual) can show.`,
    ...errorNotes(figures),
  ];
  return {
    tables: [figuresTable('getBalance on 4 heavy-tailed endpoints (one failing 2 %, one rate-limited)', figures, { correctness: false })],
    settings: figures.map((f) => ({ name: f.name, settings: f.settings })),
    goals,
    notes,
    charts: figuresCharts({
      id: 'rpc-tail',
      title: 'Tail latency on JSON-RPC',
      figures,
      latencies,
      p99Marker: { value: single.latencyMs.p99 * 0.2, label: '80 % below single' },
    }),
    data: { plan, contenders: figures },
  };
}

export const rpcTailScenario: Scenario = {
  id: 'rpc-tail',
  title: 'Tail latency on JSON-RPC: ours vs @solana/kit, viem fallback and ethers FallbackProvider',
  description:
    'Four simulated JSON-RPC endpoints with heavy tails, one of them failing 2 % of requests and one rate-limited, read by every ' +
    'contender in turn: a single endpoint through @solana/kit, viem `fallback` and ethers v6 `FallbackProvider`, each at its ' +
    'defaults and tuned for latency (see the settings table), reading `eth_getBalance`, and @x/solana-rpc with race, adaptive hedge, dual and ' +
    'consensus reading `getBalance` of the same accounts on the same endpoints.',
  run,
  settings: (): ContenderSettings[] => [
    { name: kitSingleName(TAIL_ENDPOINTS[0]!.id!), settings: kitSingleSettings(TAIL_ENDPOINTS[0]!.id!) },
    ...libraryContenderSettings(TAIL_ENDPOINTS.length),
    ...OUR_STRATEGIES.map((strategy) => ({ name: oursName(strategy), settings: oursSettings(strategy) })),
  ],
};
