/**
 * Throughput on rate-limited providers: one anvil node behind four @x/testkit relays, each allowing R requests a
 * second (a token bucket counted at the relay, HTTP 429 with Retry-After beyond), offered an open-loop load that
 * ramps past the sum of the limits. Ours (@x/pool with declared budgets equal to the limits) next to viem
 * `fallback` and ethers `FallbackProvider`, each at its defaults and tuned, on the same relays in the same run.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRandom, startRedisServer } from '@x/testkit';
import type { RedisServer } from '@x/testkit';
import type { RpcRelayOptions, RpcRelayStats } from '@x/testkit';
import { anvilVersion, fundAccounts, startAnvil } from '../anvil.js';
import { percent } from '../figures.js';
import { startRemoteRelays } from '../remote-cluster.js';
import type { CallTarget, RpcContender } from '../rpc/contender.js';
import { runOpenLoopStep } from '../rpc/open-loop.js';
import type { OpenLoopStep } from '../rpc/open-loop.js';
import { OURS_THROUGHPUT_VARIANTS, oursThroughput, oursThroughputName, oursThroughputSettings } from '../rpc/ours-throughput.js';
import { throughputLibraryContenders, throughputLibrarySettings } from '../rpc/throughput-lineup.js';
import { fmt, summarize } from '../stats.js';
import type { BenchContext, ContenderSettings, Goal, Scenario, ScenarioResult, Table } from '../types.js';
import { runReplicaPhase } from './throughput-replicas.js';
import type { ReplicaPhase } from './throughput-replicas.js';

/** The size of a run: the limit R of every endpoint, its burst, how long each load step lasts, and the steps (multiples of R). */
interface Size {
  readonly requestsPerSecond: number;
  readonly burst: number;
  readonly stepMs: number;
  readonly multiples: readonly number[];
  /** How long the two replicas run at once. */
  readonly replicaMs: number;
}

const QUICK: Size = { requestsPerSecond: 25, burst: 5, stepMs: 1500, multiples: [1, 2, 3, 4, 5], replicaMs: 3000 };
const FULL: Size = { requestsPerSecond: 60, burst: 12, stepMs: 2400, multiples: [1, 2, 3, 4, 5], replicaMs: 3000 };
const ENDPOINT_IDS = ['provider-a', 'provider-b', 'provider-c', 'provider-d'] as const;
/** Provider latency on an admitted request: log-normal, median 20 ms, σ 0.3, no stalls. */
const LATENCY = { medianMs: 20, sigma: 0.3, stallProbability: 0 } as const;
const ACCOUNTS = 32;
/** How long a step waits after its last call for the calls still running; calls still running then count as not served. */
const GRACE_MS = 2000;
/** Calls one at a time per contender before the first step (connections, ethers' first sync). */
const WARMUP_CALLS = 4;
/** Load offered to each of the two replicas, in multiples of R: 6R together where the endpoints allow 4R. */
const REPLICA_MULTIPLE = 3;
/** Ours in each replica: the defaults, which leave the providers' buckets a reserve for jitter, so that only sharing is in question. */
const REPLICA_VARIANT = 'defaults';

function relaysFor(size: Size): RpcRelayOptions[] {
  return ENDPOINT_IDS.map((id) => ({
    id,
    faults: { latency: LATENCY, rateLimit: { requestsPerSecond: size.requestsPerSecond, burst: size.burst } },
  }));
}

/** One contender at one load step, with what the relays counted during it. */
interface StepFigures {
  readonly contender: string;
  readonly kind: 'ours' | 'baseline';
  readonly multiple: number;
  readonly offeredPerS: number;
  readonly servedPerS: number;
  /** Served calls / offered calls. */
  readonly servedShare: number;
  readonly issued: number;
  readonly failed: number;
  readonly wrong: number;
  readonly unfinished: number;
  /** HTTP 429s the relays answered during the step because of their rate limit. */
  readonly tooManyRequests: number;
  /** Endpoint id → requests the endpoint served (forwarded to the node) / (R × step seconds). */
  readonly utilisation: Readonly<Record<string, number>>;
  /** Requests the endpoints served per served call. */
  readonly requestsPerServed: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number };
  readonly errors: string;
  /** Worst event-loop stall during the step, in ms: in the measuring process and in the relays' (machine noise that delays requests). */
  readonly loopDelayMaxMs: { readonly bench: number; readonly relays: number };
}

function delta(before: readonly RpcRelayStats[], after: readonly RpcRelayStats[], id: string, pick: (s: RpcRelayStats) => number): number {
  const start = before.find((s) => s.id === id);
  const end = after.find((s) => s.id === id);
  return end === undefined ? 0 : pick(end) - (start === undefined ? 0 : pick(start));
}

function stepFigures(
  contender: RpcContender,
  size: Size,
  multiple: number,
  step: OpenLoopStep,
  before: readonly RpcRelayStats[],
  after: readonly RpcRelayStats[],
  loopDelayMaxMs: StepFigures['loopDelayMaxMs'],
): StepFigures {
  // Served calls and endpoint use over the time they were served in (the step, and its grace period as far as calls ran on).
  const seconds = step.elapsedMs / 1000;
  const utilisation: Record<string, number> = {};
  let forwarded = 0;
  let tooMany = 0;
  for (const id of ENDPOINT_IDS) {
    const served = delta(before, after, id, (s) => s.outcomes.forwarded);
    forwarded += served;
    tooMany += delta(before, after, id, (s) => s.outcomes['over-limit']);
    utilisation[id] = served / (size.requestsPerSecond * seconds);
  }
  const latency = summarize(step.servedLatencies);
  return {
    contender: contender.name,
    kind: contender.kind,
    multiple,
    offeredPerS: step.issued / (size.stepMs / 1000),
    servedPerS: step.served / seconds,
    servedShare: step.issued === 0 ? Number.NaN : step.served / step.issued,
    issued: step.issued,
    failed: step.failed,
    wrong: step.wrong,
    unfinished: step.unfinished,
    tooManyRequests: tooMany,
    utilisation,
    requestsPerServed: step.served === 0 ? Number.NaN : forwarded / step.served,
    latencyMs: { p50: latency.p50, p99: latency.p99 },
    loopDelayMaxMs,
    errors: [...step.errors]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 2)
      .map(([name, count]) => `${count}× ${name}`)
      .join('; '),
  };
}

interface Measured {
  readonly size: Size;
  readonly steps: StepFigures[];
  readonly contenders: ReadonlyArray<{ name: string; kind: 'ours' | 'baseline'; settings: string }>;
  readonly anvil: string;
  readonly relayStats: readonly RpcRelayStats[];
  /** The two-replica part: its two phases (local budgets, then one shared Redis store), or why it did not run. */
  readonly replicas: { readonly phases: readonly ReplicaPhase[] } | { readonly skipped: string };
}

/** Two replicas at once, each with budgets of its own, then sharing one Redis budget store (a real redis-server). */
async function measureReplicas(
  context: BenchContext,
  size: Size,
  endpoints: ReadonlyArray<{ id: string; url: string }>,
  accounts: ReadonlyArray<{ evm: `0x${string}`; wei: string }>,
  stats: () => Promise<readonly RpcRelayStats[]>,
  refillMs: number,
): Promise<Measured['replicas']> {
  let redis: RedisServer;
  try {
    redis = await startRedisServer();
  } catch (error) {
    const reason = `not run: no Redis server could be started (${error instanceof Error ? error.message : String(error)})`;
    context.log(`replicas ${reason}`);
    return { skipped: reason };
  }
  try {
    const phases: ReplicaPhase[] = [];
    for (const store of ['local', 'redis'] as const) {
      const phase = await runReplicaPhase(store, {
        endpoints,
        limit: { requestsPerSecond: size.requestsPerSecond, burst: size.burst },
        variant: REPLICA_VARIANT,
        redis: { url: redis.url, keyPrefix: `bench-throughput-${context.seed}:` },
        callsPerSecond: REPLICA_MULTIPLE * size.requestsPerSecond,
        durationMs: size.replicaMs,
        graceMs: GRACE_MS,
        seed: context.seed,
        accounts,
        stats,
      });
      phases.push(phase);
      context.log(
        `2 replicas, ${store} budgets: ${fmt(phase.servedPerS, 1)} served/s of ${fmt(phase.offeredPerS, 0)}, ` +
          `${phase.tooManyRequests} × 429 (${phase.modes.join(', ')})`,
      );
      await sleep(refillMs);
    }
    return { phases };
  } finally {
    await redis.stop();
  }
}

async function measure(context: BenchContext): Promise<Measured> {
  const size = context.full ? FULL : QUICK;
  const version = await anvilVersion();
  const anvil = await startAnvil();
  const contenders: RpcContender[] = [];
  let relays: Awaited<ReturnType<typeof startRemoteRelays>> | undefined;
  try {
    relays = await startRemoteRelays({ upstream: anvil.url, seed: context.seed, relays: relaysFor(size) });
    const random = createRandom(context.seed).fork('throughput-balances');
    const truth = new Map<string, bigint>();
    const targets: CallTarget[] = [];
    const accounts: Array<{ evm: `0x${string}`; wei: string }> = [];
    for (const { evm, wei } of await fundAccounts(anvil, random, ACCOUNTS)) {
      truth.set(evm.toLowerCase(), wei);
      targets.push({ solana: evm, evm });
      accounts.push({ evm, wei: wei.toString() });
    }
    const endpoints = relays.endpoints.map((e) => ({ id: e.id, url: e.url }));
    contenders.push(
      ...OURS_THROUGHPUT_VARIANTS.map((variant) => oursThroughput(variant, endpoints, size)),
      ...throughputLibraryContenders(
        endpoints.map((e) => e.url),
        anvil.chainId,
      ),
    );
    const refillMs = (size.burst / size.requestsPerSecond) * 1000 + 250;
    context.log(
      `${version}; 4 endpoints × ${size.requestsPerSecond} requests/s (burst ${size.burst}); ${contenders.length} contenders × ` +
        `${size.multiples.length} steps of ${size.stepMs / 1000} s (${size.multiples.map((m) => `${m}R`).join(', ')})`,
    );
    for (const contender of contenders) {
      for (let i = 0; i < WARMUP_CALLS; i++) await contender.getBalance(targets[i % ACCOUNTS]!).catch(() => undefined);
    }
    await sleep(refillMs);
    const isTrue = (value: bigint, target: CallTarget): boolean => value === truth.get(target.evm.toLowerCase());
    const steps: StepFigures[] = [];
    let offset = 0;
    const benchLoop = monitorEventLoopDelay({ resolution: 5 });
    benchLoop.enable();
    for (const [s, multiple] of size.multiples.entries()) {
      for (let k = 0; k < contenders.length; k++) {
        // The order rotates step by step, so no contender always runs right after the same one.
        const contender = contenders[(s + k) % contenders.length]!;
        const before = await relays.stats();
        await relays.loopDelay();
        benchLoop.reset();
        // Every contender gets the same arrival times at the same step.
        const arrivals = createRandom(context.seed).fork(`throughput-arrivals-${multiple}`);
        const step = await runOpenLoopStep(contender, {
          callsPerSecond: multiple * size.requestsPerSecond,
          random: () => arrivals.next(),
          durationMs: size.stepMs,
          graceMs: GRACE_MS,
          targetOf: (index) => targets[(offset + index) % ACCOUNTS]!,
          isTrue,
        });
        offset += step.issued;
        const loopDelayMaxMs = {
          bench: Number((benchLoop.max / 1e6).toFixed(1)),
          relays: Number((await relays.loopDelay()).max.toFixed(1)),
        };
        const after = await relays.stats();
        const figures = stepFigures(contender, size, multiple, step, before, after, loopDelayMaxMs);
        steps.push(figures);
        context.log(
          `${multiple}R ${contender.name}: ${fmt(figures.servedPerS, 1)} served/s of ${fmt(figures.offeredPerS, 0)}, ` +
            `${figures.tooManyRequests} × 429, p50 ${fmt(figures.latencyMs.p50, 0)} ms`,
        );
        // Every bucket (the relays' and ours) full again before the next contender starts.
        await sleep(refillMs);
      }
    }
    benchLoop.disable();
    const counted = relays;
    const replicas = await measureReplicas(context, size, endpoints, accounts, () => counted.stats(), refillMs);
    return {
      size,
      replicas,
      steps,
      contenders: contenders.map((c) => ({ name: c.name, kind: c.kind, settings: c.settings })),
      anvil: version,
      relayStats: await relays.stats(),
    };
  } finally {
    await Promise.allSettled(contenders.map((c) => c.close()));
    await relays?.close();
    await anvil.close();
  }
}

const multipleLabel = (size: Size, multiple: number): string => `${multiple}R (${multiple * size.requestsPerSecond}/s)`;

function summaryTables(m: Measured): Table[] {
  const { size } = m;
  const at = (name: string, multiple: number): StepFigures | undefined =>
    m.steps.find((s) => s.contender === name && s.multiple === multiple);
  const stepColumns = size.multiples.map((multiple) => multipleLabel(size, multiple));
  const byContender = (cellOf: (f: StepFigures) => string): Array<Array<string | number>> =>
    m.contenders.map((c) => [
      c.name,
      ...size.multiples.map((multiple) => {
        const f = at(c.name, multiple);
        return f === undefined ? '—' : cellOf(f);
      }),
    ]);
  return [
    {
      title:
        `Successful calls per second (share of the offered load served), offered load in multiples of R = ${size.requestsPerSecond} ` +
        'requests/s per endpoint; the 4 endpoints allow 4R',
      columns: ['contender', ...stepColumns],
      rows: byContender((f) => `${fmt(f.servedPerS, 1)} (${percent(f.servedShare, 0)})`),
    },
    {
      title: 'HTTP 429 caused, counted at the endpoints',
      columns: ['contender', ...stepColumns],
      rows: byContender((f) => String(f.tooManyRequests)),
    },
    {
      title: 'Per contender and step: throughput, 429s, utilization of each endpoint (requests it served / R), latency of served calls',
      columns: [
        'contender',
        'offered/s',
        'served/s',
        'served',
        '429s',
        ...ENDPOINT_IDS.map((id) => `${id} util.`),
        'requests/served call',
        'p50 ms',
        'p99 ms',
        'failed',
        'unfinished',
        'worst stall ms (bench / relays)',
      ],
      rows: m.steps.map((f) => [
        `${f.contender} @ ${f.multiple}R`,
        fmt(f.offeredPerS, 0),
        fmt(f.servedPerS, 1),
        percent(f.servedShare, 1),
        f.tooManyRequests,
        ...ENDPOINT_IDS.map((id) => percent(f.utilisation[id] ?? Number.NaN, 0)),
        fmt(f.requestsPerServed, 2),
        fmt(f.latencyMs.p50, 1),
        fmt(f.latencyMs.p99, 1),
        f.failed + f.wrong,
        f.unfinished,
        `${fmt(f.loopDelayMaxMs.bench, 0)} / ${fmt(f.loopDelayMaxMs.relays, 0)}`,
      ]),
    },
  ];
}

function goalsOf(m: Measured): Goal[] {
  const { size } = m;
  const capacity = 4 * size.requestsPerSecond;
  const high = m.steps.filter((s) => s.multiple >= 4);
  const theirs = (pick: (f: StepFigures) => string): string =>
    m.contenders
      .filter((c) => c.kind === 'baseline')
      .map(
        (c) =>
          `${c.name} ${high
            .filter((f) => f.contender === c.name)
            .map(pick)
            .join(' / ')}`,
      )
      .join('; ');
  return (
    m.contenders
      // The goals are the defaults'; the variant without a reserve is shown beside them to say what the reserve is for.
      .filter((c) => c.kind === 'ours' && c.name === oursThroughputName('defaults'))
      .flatMap((c): Goal[] => {
        const mine = m.steps.filter((f) => f.contender === c.name);
        const mineHigh = mine.filter((f) => f.multiple >= 4);
        const tooMany = mine.reduce((sum, f) => sum + f.tooManyRequests, 0);
        const lowest = (f: StepFigures): number => Math.min(...Object.values(f.utilisation));
        return [
          {
            goal: `≥ 0.9 × 4R successful calls per second at offered ≥ 4R (${c.name})`,
            met: mineHigh.length > 0 && mineHigh.every((f) => f.servedPerS >= 0.9 * capacity),
            measured:
              `${mineHigh.map((f) => `${fmt(f.servedPerS, 1)}/s at ${f.multiple}R`).join(', ')} (0.9 × 4R = ${fmt(0.9 * capacity, 1)}/s); ` +
              `at 4R and 5R: ${theirs((f) => fmt(f.servedPerS, 1))}`,
          },
          {
            goal: `zero HTTP 429 caused, counted at the endpoints, at every step (${c.name})`,
            met: tooMany === 0,
            measured: `${mine.map((f) => `${f.tooManyRequests} at ${f.multiple}R`).join(', ')}; at 4R and 5R: ${theirs((f) => String(f.tooManyRequests))}`,
          },
          {
            goal: `every endpoint above 80 % utilization (requests served / R) at offered ≥ 4R (${c.name})`,
            met: mineHigh.length > 0 && mineHigh.every((f) => lowest(f) > 0.8),
            measured: mineHigh
              .map(
                (f) =>
                  `${f.multiple}R: ${ENDPOINT_IDS.map((id) => `${id.replace('provider-', '')} ${percent(f.utilisation[id] ?? Number.NaN, 0)}`).join(' · ')}`,
              )
              .join('; '),
          },
        ];
      })
  );
}

const STORE_NAMES = {
  local: '2 replicas, budgets each of its own (local store)',
  redis: '2 replicas, one shared Redis budget store',
} as const;

function replicaTables(m: Measured): Table[] {
  if (!('phases' in m.replicas)) return [];
  return [
    {
      title:
        `Two replicas at once (two processes, each ${oursThroughputName(REPLICA_VARIANT)}), each offered ${REPLICA_MULTIPLE}R = ` +
        `${REPLICA_MULTIPLE * m.size.requestsPerSecond} calls/s: the endpoints allow 4R together`,
      columns: [
        'replicas',
        'store mode',
        'offered/s',
        'served/s',
        'served',
        '429s',
        ...ENDPOINT_IDS.map((id) => `${id} util.`),
        'failed',
        'unfinished',
      ],
      rows: m.replicas.phases.map((p) => [
        STORE_NAMES[p.store],
        p.modes.join(', '),
        fmt(p.offeredPerS, 0),
        fmt(p.servedPerS, 1),
        percent(p.servedShare, 1),
        p.tooManyRequests,
        ...ENDPOINT_IDS.map((id) => percent(p.utilisation[id] ?? Number.NaN, 0)),
        p.failed,
        p.unfinished,
      ]),
    },
  ];
}

function replicaGoals(m: Measured): Goal[] {
  const goal =
    "2 replicas sharing one Redis never exceed any endpoint's limit (0 HTTP 429 counted at the endpoints), where 2 replicas on local budgets alone do";
  if (!('phases' in m.replicas)) return [{ goal, met: false, measured: m.replicas.skipped }];
  const local = m.replicas.phases.find((p) => p.store === 'local');
  const shared = m.replicas.phases.find((p) => p.store === 'redis');
  if (local === undefined || shared === undefined) return [{ goal, met: false, measured: 'a phase is missing' }];
  return [
    {
      goal,
      met: shared.tooManyRequests === 0 && shared.modes.every((mode) => mode === 'shared') && local.tooManyRequests > 0,
      measured:
        `shared Redis: ${shared.tooManyRequests} × 429, ${fmt(shared.servedPerS, 1)} served/s (stores ${shared.modes.join(', ')}); ` +
        `local budgets: ${local.tooManyRequests} × 429, ${fmt(local.servedPerS, 1)} served/s`,
    },
  ];
}

function report(m: Measured): ScenarioResult {
  const { size } = m;
  const errors = m.contenders
    .map((c) => {
      const seen = m.steps.filter((f) => f.contender === c.name && f.errors !== '').map((f) => `${f.multiple}R: ${f.errors}`);
      return seen.length === 0 ? '' : `${c.name} — ${seen.join(' · ')}`;
    })
    .filter(Boolean);
  return {
    tables: [...summaryTables(m), ...replicaTables(m)],
    settings: m.contenders.map((c) => ({ name: c.name, settings: c.settings })),
    goals: [...goalsOf(m), ...replicaGoals(m)],
    notes: [
      `Server: ${m.anvil} (\`--no-mining\`) on 127.0.0.1, behind 4 relays of @x/testkit in a child process. Each relay admits ` +
        `${size.requestsPerSecond} requests a second with a burst of ${size.burst} (a token bucket counted at the relay, on arrival; a ` +
        'JSON-RPC batch of n calls takes n tokens) and answers HTTP 429 with `Retry-After` (whole seconds until a token is back) beyond; ' +
        'an admitted request is delayed by a log-normal draw (median 20 ms, σ 0.3) and forwarded to anvil.',
      `Open-loop load: step k offers k × R = k × ${size.requestsPerSecond} calls a second on average (k = ${size.multiples.join(', ')}; ` +
        `the 4 endpoints together allow 4R) for ${size.stepMs / 1000} s, as a seeded Poisson process (the same arrival times for every ` +
        'contender at a step), each call started at its time whatever the earlier ones are doing; every call reads `eth_getBalance` of ' +
        `one of ${ACCOUNTS} accounts whose balance the bench set, and is served only with the true value. Calls still running ` +
        `${GRACE_MS / 1000} s after the step's end count as not served. Contenders take turns step by step, in an order that rotates; ` +
        `every bucket refills between turns. ${m.steps.filter((f) => f.contender === m.contenders[0]?.name).reduce((sum, f) => sum + f.issued, 0)} ` +
        'calls per contender over the steps (the same arrival times for all).',
      "served/s: served calls divided by the time they were served in: from the step's start to the end of its last call (at least the " +
        'step, at most the step and its grace period), so retries that finish after the step do not count as throughput. Utilization: ' +
        `requests an endpoint served (forwarded to the node) in that time / (R × that time); the burst of ${size.burst} lets it exceed ` +
        '100 % slightly. Latency is that of served calls only. "failed" counts rejected calls and wrong values. "worst stall": the longest ' +
        "event-loop delay during the step in the measuring process and in the relays' (machine noise: a stall longer than B / 2R can " +
        'bring requests to a provider closer together than they were sent).',
      'Why the pool holds back half of each declared burst by default (`burstReserve`): spending it to the last token, the pool may send a request the moment a token is ' +
        'back in its own bucket; if that request reaches the provider a little sooner after the previous one than the pool sent it (the ' +
        "network, a busy event loop), the provider's bucket is still empty and answers 429, and the pool then keeps that endpoint out for " +
        "the whole `Retry-After`. The reserve leaves the provider's bucket that many tokens in hand; the variant with `burstReserve: 0` shows the difference.",
      'phases' in m.replicas
        ? `Replicas: two child processes, each one pool of ${oursThroughputName(REPLICA_VARIANT)} (hedge, onBudgetExhausted 'wait', deadline 1 s), ` +
          `offered ${REPLICA_MULTIPLE}R each for ${size.replicaMs / 1000} s at once, as seeded Poisson processes; first each with a local ` +
          'budget store (each believes it has the whole of every limit), then both with `createRedisBudgetStore` of @x/budget-redis on ' +
          'one real redis-server (started by the bench on a loopback port; token buckets on the Redis clock). 429s and utilization are ' +
          'counted at the relays.'
        : `Replicas: ${m.replicas.skipped}.`,
      ...(errors.length === 0 ? ['Errors seen: none.'] : [`Errors seen (most frequent first, per step): ${errors.join(' — ')}.`]),
    ],
    data: { size, relays: relaysFor(size), steps: m.steps, replicas: m.replicas, relayStats: m.relayStats },
  };
}

function settings(): ContenderSettings[] {
  return [
    ...OURS_THROUGHPUT_VARIANTS.map((variant) => ({ name: oursThroughputName(variant), settings: oursThroughputSettings(variant) })),
    ...throughputLibrarySettings(),
  ];
}

export const throughputScenario: Scenario = {
  id: 'throughput',
  title: 'Throughput on rate-limited providers (anvil): the sum of 4 limits, without 429s',
  description:
    'A real node (anvil) behind 4 seeded @x/testkit relays, each limited to R requests a second (a token bucket at the relay, HTTP 429 with ' +
    'Retry-After beyond, counted at the relay). An open-loop load ramps from 1R to 5R (the 4 endpoints together allow 4R) against ours ' +
    '(@x/pool with declared budgets equal to the limits, at its defaults and with no burst reserve; hedge degrading to single attempts spread by headroom) ' +
    'and viem `fallback` and ethers `FallbackProvider`, each at its defaults and tuned for throughput, on the same relays in the same run: ' +
    "successful calls per second, the share of the offered load served, the 429s caused, each endpoint's utilization and the latency of " +
    'served calls, per contender and step. Then two replicas (two processes, each a pool of ours) at once, first on budgets each of its own, ' +
    'then sharing one Redis budget store (@x/budget-redis on a real redis-server): the 429s each way, counted at the endpoints.',
  run: async (context) => report(await measure(context)),
  settings,
};
