import { createRandom, rpcProfiles } from '@x/testkit';
import type { RpcEndpointOptions } from '@x/testkit';
import { figuresCharts, figuresTable, percent, errorNotes } from '../figures.js';
import { startRemoteRpcCluster, walletTargets } from '../remote-cluster.js';
import type { RemoteRpcCluster } from '../remote-cluster.js';
import { KIT_ROTATING, kitRotating } from '../rpc/baselines.js';
import type { CallTarget, RpcContender } from '../rpc/contender.js';
import { DEFAULT_MAX_SLOT_LAG } from '@x/solana-rpc';
import { libraryContenderSettings, libraryContenders } from '../rpc/lineup.js';
import { ours, oursName, oursSettings } from '../rpc/ours.js';
import type { OurStrategy } from '../rpc/ours.js';
import { blockPlan, closeContenders, figuresOf, runBlocks } from '../rpc/runner.js';
import type { Verdict } from '../rpc/runner.js';
import { fmt } from '../stats.js';
import type { BenchContext, ContenderFigures, ContenderSettings, Goal, Scenario, ScenarioResult } from '../types.js';

const OUR_STRATEGIES: readonly OurStrategy[] = ['race', 'hedge', 'dual', 'consensus'];

const SLOT_LAG = rpcProfiles.lagging.slotLag ?? 8;
const LATENCY = { medianMs: 20, sigma: 0.5 };

/** Four endpoints with the same latency, so that speed favours nobody: two honest, one lagging, one lying. */
const CORRECTNESS_ENDPOINTS: readonly RpcEndpointOptions[] = [
  { id: 'honest-a', behavior: { latency: LATENCY } },
  { id: 'honest-b', behavior: { latency: LATENCY } },
  { id: 'lagging', behavior: { latency: LATENCY, slotLag: SLOT_LAG } },
  { id: 'liar', behavior: { latency: LATENCY, lieRate: 1 } },
];

const CONCURRENCY = 16;
/** Calls per contender in a `--full` run, at least. */
const FULL_CALLS = 2000;

/**
 * The truth, kept by the bench: the chain only moves between blocks (no timer), and before every block
 * each account read gets a fresh balance at a new slot. A value equal to the current balance is right;
 * one equal to an earlier balance of that account is stale; anything else was never true.
 */
function createTruth(cluster: RemoteRpcCluster, targets: readonly CallTarget[], seed: number) {
  const random = createRandom(seed).fork('correctness-balances');
  const current = new Map<string, bigint>();
  const history = new Map<string, Set<bigint>>(targets.map((t) => [t.solana, new Set<bigint>()]));
  return {
    async init(): Promise<void> {
      for (const target of targets) {
        const account = await cluster.chain<{ lamports: number } | null>('account', target.solana);
        const lamports = BigInt(account?.lamports ?? 0);
        current.set(target.solana, lamports);
        history.get(target.solana)!.add(lamports);
      }
    },
    /** A new slot in which every account read has a balance it never had before. */
    async tick(): Promise<void> {
      await cluster.chain('advance', 1);
      for (const target of targets) {
        const seen = history.get(target.solana)!;
        let lamports: bigint;
        do lamports = BigInt(random.int(1_000_000_000, 900_000_000_000));
        while (seen.has(lamports));
        await cluster.chain('setAccount', target.solana, { lamports: Number(lamports) });
        current.set(target.solana, lamports);
        seen.add(lamports);
      }
    },
    judge(value: bigint, target: CallTarget): Verdict {
      if (value === current.get(target.solana)) return 'current';
      return history.get(target.solana)!.has(value) ? 'stale' : 'wrong';
    },
  };
}

async function run(context: BenchContext): Promise<ScenarioResult> {
  const cluster = await startRemoteRpcCluster({
    seed: context.seed,
    endpoints: [...CORRECTNESS_ENDPOINTS],
    autoAdvance: false,
  });
  let active = true;
  const contenders: RpcContender[] = [];
  try {
    const urls = cluster.endpoints.map((e) => e.url);
    const targets = await walletTargets(cluster, CONCURRENCY);
    const truth = createTruth(cluster, targets, context.seed);
    await truth.init();
    // Enough slots that the lagging endpoint serves balances the bench set (and knows) from the start.
    for (let i = 0; i <= SLOT_LAG; i++) await truth.tick();

    const evmChainId = cluster.evmChainId;
    contenders.push(
      kitRotating(cluster.endpoints),
      ...libraryContenders({ urls, evmChainId, unit: 'lamports', active: () => active }),
      ...OUR_STRATEGIES.map((strategy) => ours(strategy, cluster.endpoints)),
    );
    const plan = blockPlan(context.full, 9, FULL_CALLS, CONCURRENCY, 3);
    context.log(
      `${contenders.length} contenders × ${plan.rounds} rounds × ${plan.concurrency} callers × ${plan.callsPerWorker} calls; a new slot before every block`,
    );
    const runs = await runBlocks(
      cluster,
      contenders,
      plan,
      { beforeBlock: () => truth.tick(), targetOf: (worker) => targets[worker]!, judge: (value, target) => truth.judge(value, target) },
      (line) => context.log(line),
    );
    const figures = runs.map((r) => figuresOf(r, true));
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

const notCurrent = (f: ContenderFigures): number => (f.wrongRate ?? 0) + (f.staleRate ?? 0);

function report(
  figures: readonly ContenderFigures[],
  latencies: ReadonlyArray<readonly number[]>,
  plan: { rounds: number; concurrency: number; callsPerWorker: number },
): ScenarioResult {
  const consensus = figures.find((f) => f.name.startsWith('ours: consensus'))!;
  const theirs = figures.filter((f) => f.name.startsWith('viem') || f.name.startsWith('ethers'));
  const quorumTwo = theirs.filter((f) => f.name.includes('quorum 2'));
  const others = theirs.filter((f) => !quorumTwo.includes(f));
  const compare = (group: readonly ContenderFigures[], label: string): Goal => {
    const fewer = group.every((f) => notCurrent(consensus) < notCurrent(f));
    const equal = group.filter((f) => notCurrent(consensus) === notCurrent(f));
    return {
      goal: `fewer stale or wrong answers than ${label} (ours: consensus)`,
      met: fewer,
      measured:
        `consensus ${percent(notCurrent(consensus))} at p50 ${fmt(consensus.latencyMs.p50, 0)} ms; ` +
        group.map((f) => `${f.name} ${percent(notCurrent(f))} at p50 ${fmt(f.latencyMs.p50, 0)} ms`).join(', ') +
        (equal.length > 0 ? ` — not fewer: equal to ${equal.map((f) => f.name).join(', ')}` : ''),
    };
  };
  const goals: Goal[] = [
    compare(others, 'viem fallback (defaults and tuned) and ethers FallbackProvider quorum 1 (tuned)'),
    compare(quorumTwo, 'ethers FallbackProvider quorum 2 (defaults and tuned)'),
  ];
  const calls = plan.rounds * plan.concurrency * plan.callsPerWorker;
  const notes = [
    `Cluster (in a child process, chain moved only by the bench): four endpoints answering after a log-normal delay (median ${LATENCY.medianMs} ms, σ ${LATENCY.sigma}), ` +
      `so that speed favours none of them: honest-a and honest-b; lagging serves the chain as of ${SLOT_LAG} slots ago; liar alters every value it returns.`,
    'Before every block the chain moves one slot and every account read gets a balance it never had before, so the bench knows the truth exactly: ' +
      'an answer equal to the current balance is right, one equal to an earlier balance of that account is **stale**, anything else is **wrong**.',
    `Each contender: ${plan.rounds} blocks of ${plan.concurrency} concurrent callers × ${plan.callsPerWorker} calls (${calls} calls), alone on the cluster, blocks in rotating order. ` +
      'Endpoint order is rotated call by call for the contenders that always start with the first endpoint (@solana/kit on one endpoint at a time, viem fallback at its defaults, which rank nothing), so none of them is lucky or unlucky in where the honest endpoints sit.',
    `Ours run with their defaults, among them \`maxSlotLag\` ${DEFAULT_MAX_SLOT_LAG}: once an up-to-date answer has raised the slot watermark, the lagging endpoint's answers ` +
      `(${SLOT_LAG} slots behind) are rejected as stale and the call fails over, and the pool soon ejects that endpoint for its failures. ` +
      'Nothing but a vote can catch the liar, whose slots are right: race, hedge and dual return its values whenever it answers first; consensus needs two endpoints to agree on the value.',
    'viem tuned uses `rank`, which orders the endpoints by the latency and success of its pings; with four equally fast endpoints whom it prefers is the luck of ' +
      'the draw (seeded, so the same in every run with the same `--seed`): its figure says little about viem, a lot about trusting any single endpoint.',
    ...errorNotes(figures),
  ];
  return {
    tables: [figuresTable('getBalance with one lagging and one lying endpoint among four', figures, { correctness: true })],
    settings: figures.map((f) => ({ name: f.name, settings: f.settings })),
    goals,
    notes,
    charts: figuresCharts({
      id: 'rpc-correctness',
      title: 'Correctness under a lagging and a lying endpoint',
      figures,
      latencies,
      extraPanel: { title: 'stale or wrong answers (%)', values: figures.map((f) => notCurrent(f) * 100), digits: 1 },
    }),
    data: {
      plan,
      slotLag: SLOT_LAG,
      contenders: figures,
      summary: { consensusNotCurrent: notCurrent(consensus), theirs: theirs.map((f) => ({ name: f.name, notCurrent: notCurrent(f) })) },
    },
  };
}

export const rpcCorrectnessScenario: Scenario = {
  id: 'rpc-correctness',
  title: 'Correctness under a lagging and a lying endpoint',
  description:
    'Four simulated endpoints with the same latency, one of them 8 slots behind and one altering every value, read by the same ' +
    'contenders as the tail-latency scenario; the bench moves the chain itself, so every answer is classed as right, stale or wrong.',
  run,
  settings: (): ContenderSettings[] => [
    { ...KIT_ROTATING },
    ...libraryContenderSettings(CORRECTNESS_ENDPOINTS.length),
    ...OUR_STRATEGIES.map((strategy) => ({ name: oursName(strategy), settings: oursSettings(strategy) })),
  ],
};
