import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { LoopDelay } from '../remote-cluster.js';
import { requestsBetween } from '../remote-cluster.js';
import { spreadOf, summarize } from '../stats.js';
import type { ContenderFigures } from '../types.js';
import type { CallTarget, RpcContender } from './contender.js';

/** What the runner needs of a set of endpoints: their URLs, request counters and the event-loop delay of the process serving them. */
export interface CountedEndpoints {
  readonly endpoints: ReadonlyArray<{ readonly id: string; readonly url: string }>;
  stats(): Promise<ReadonlyArray<{ readonly id: string; readonly requests: number }>>;
  loopDelay(): Promise<LoopDelay>;
}

/** Repetitions every run is split into, each figure's spread being taken over them. */
export const REPETITIONS = 3;

/**
 * Whether a failed call failed by running out of time: an @x error of category `timeout` (a deadline or
 * attempt timeout), viem's `TimeoutError`, ethers' `TIMEOUT`, anywhere along the `cause` chain.
 */
export function isTimeoutError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    const fields = e as { category?: unknown; name?: unknown; code?: unknown; cause?: unknown };
    if (fields.category === 'timeout' || fields.name === 'TimeoutError' || fields.code === 'TIMEOUT') return true;
    e = fields.cause;
  }
  return false;
}

export type Verdict = 'current' | 'stale' | 'wrong';

export interface BlockPlan {
  /** Rounds; in each, every contender runs one block. */
  readonly rounds: number;
  /** Concurrent callers per block, each reading its own account. */
  readonly concurrency: number;
  /** Calls per caller per block. */
  readonly callsPerWorker: number;
  /** Unmeasured calls per caller per contender before the first round (connections, JIT, ethers' initial sync, viem's first ranking, pool statistics). */
  readonly warmupCalls: number;
}

/** Rounds for at least `calls` calls per contender, a whole number of rounds per repetition. */
export function roundsFor(calls: number, concurrency: number, callsPerWorker: number): number {
  const perRound = concurrency * callsPerWorker;
  return Math.ceil(calls / perRound / REPETITIONS) * REPETITIONS;
}

/** A scenario's plan: `quickRounds` rounds, or in a `--full` run enough rounds for `fullCalls` calls per contender; 3 warm-up calls. */
export function blockPlan(full: boolean, quickRounds: number, fullCalls: number, concurrency: number, callsPerWorker: number): BlockPlan {
  return { rounds: full ? roundsFor(fullCalls, concurrency, callsPerWorker) : quickRounds, concurrency, callsPerWorker, warmupCalls: 3 };
}

/** Closes every contender whatever state it is in: the `finally` of a scenario. */
export async function closeContenders(contenders: readonly RpcContender[]): Promise<void> {
  await Promise.allSettled(contenders.map((c) => c.close()));
}

export interface BlockHooks {
  /** Called before each block, with the cluster quiet: the place to move the chain on. */
  beforeBlock?(round: number, contender: RpcContender): Promise<void>;
  /** The account caller `worker` reads. */
  targetOf(worker: number): CallTarget;
  /** Judges a value right after it arrived (the chain does not move during a block). */
  judge?(value: bigint, target: CallTarget): Verdict;
}

/** Everything measured for one contender. */
export interface ContenderRun {
  readonly contender: RpcContender;
  readonly latencies: number[];
  ok: number;
  stale: number;
  wrong: number;
  /** Failed calls that failed by running out of time (`isTimeoutError`). */
  timeouts: number;
  /** Per repetition: the latencies and successes of its calls. */
  readonly repetitions: Array<{ readonly latencies: number[]; ok: number }>;
  readonly errors: Map<string, number>;
  /** Requests counted at the cluster during this contender's blocks, by endpoint id (background requests moved in). */
  readonly requests: Map<string, number>;
  /** Worst event-loop delay seen during this contender's blocks, in ms: in the measuring process and in the cluster's. */
  loopDelayMaxMs: { bench: number; cluster: number };
}

/** An error in one short line for the bench's "errors seen" notes: name, code and the first line of the message. */
export function errorName(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const name = typeof code === 'string' || typeof code === 'number' ? `${error.name} ${String(code)}` : error.name;
    return `${name}: ${error.message.split('\n')[0]!.slice(0, 90)}`;
  }
  return String(error).slice(0, 90);
}

function snapshot(map: ReadonlyMap<string, number> | undefined): Map<string, number> {
  return new Map(map ?? []);
}

/**
 * Runs the contenders in blocks: in each round every contender runs one block alone (its callers
 * concurrently), in an order that rotates round by round, so machine drift and the chain's activity
 * affect all of them alike. The cluster's request counters are read around every block, which makes
 * requests per call and per-endpoint load exact for each contender.
 */
export async function runBlocks(
  cluster: CountedEndpoints,
  contenders: readonly RpcContender[],
  plan: BlockPlan,
  hooks: BlockHooks,
  log: (line: string) => void,
): Promise<ContenderRun[]> {
  const runs: ContenderRun[] = contenders.map((contender) => ({
    contender,
    latencies: [],
    ok: 0,
    stale: 0,
    wrong: 0,
    timeouts: 0,
    repetitions: Array.from({ length: REPETITIONS }, () => ({ latencies: [], ok: 0 })),
    errors: new Map(),
    requests: new Map(cluster.endpoints.map((e) => [e.id, 0])),
    loopDelayMaxMs: { bench: 0, cluster: 0 },
  }));
  const idOfUrl = new Map(cluster.endpoints.map((e) => [e.url, e.id]));

  log(`warm-up: ${plan.concurrency} callers × ${plan.warmupCalls} calls per contender`);
  for (const contender of contenders) {
    await hooks.beforeBlock?.(-1, contender);
    await Promise.all(
      Array.from({ length: plan.concurrency }, async (_, worker) => {
        for (let i = 0; i < plan.warmupCalls; i++) await contender.getBalance(hooks.targetOf(worker)).catch(() => undefined);
      }),
    );
  }
  // Event-loop stalls are the machine's noise (other processes, GC); they are recorded per contender so
  // that a figure hit by one can be recognised.
  const benchLoop = monitorEventLoopDelay({ resolution: 5 });
  benchLoop.enable();

  const started = performance.now();
  for (let round = 0; round < plan.rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      // Rotate the order each round, and reverse it every other round, so no contender always follows the same one.
      const position = round % 2 === 0 ? (round + k) % contenders.length : (round + contenders.length - 1 - k) % contenders.length;
      const run = runs[position]!;
      const contender = run.contender;
      const repetition = run.repetitions[Math.min(REPETITIONS - 1, Math.floor((round * REPETITIONS) / plan.rounds))]!;
      await hooks.beforeBlock?.(round, contender);
      const backgroundBefore = contenders.map((c) => snapshot(c.backgroundRequests?.()));
      const before = await cluster.stats();
      await cluster.loopDelay();
      benchLoop.reset();
      await Promise.all(
        Array.from({ length: plan.concurrency }, async (_, worker) => {
          const target = hooks.targetOf(worker);
          for (let call = 0; call < plan.callsPerWorker; call++) {
            const callStarted = performance.now();
            try {
              const value = await contender.getBalance(target);
              const elapsed = performance.now() - callStarted;
              run.latencies.push(elapsed);
              repetition.latencies.push(elapsed);
              run.ok++;
              repetition.ok++;
              const verdict = hooks.judge?.(value, target) ?? 'current';
              if (verdict === 'stale') run.stale++;
              else if (verdict === 'wrong') run.wrong++;
            } catch (error) {
              const elapsed = performance.now() - callStarted;
              run.latencies.push(elapsed);
              repetition.latencies.push(elapsed);
              if (isTimeoutError(error)) run.timeouts++;
              const name = errorName(error);
              run.errors.set(name, (run.errors.get(name) ?? 0) + 1);
            }
          }
        }),
      );
      run.loopDelayMaxMs.bench = Math.max(run.loopDelayMaxMs.bench, benchLoop.max / 1e6);
      run.loopDelayMaxMs.cluster = Math.max(run.loopDelayMaxMs.cluster, (await cluster.loopDelay()).max);
      const after = await cluster.stats();
      const counted = requestsBetween(before, after);
      // Background requests (viem's ranking pings) land in whatever block is running. They are taken out
      // of that block's count and charged to their owner only when they fall in the owner's own blocks: a
      // user calling at the rate of those blocks all the time pays exactly that many pings per call.
      contenders.forEach((owner, index) => {
        const now = owner.backgroundRequests?.();
        if (now === undefined) return;
        for (const [url, total] of now) {
          const id = idOfUrl.get(url);
          if (id === undefined) continue;
          const sent = total - (backgroundBefore[index]!.get(url) ?? 0);
          counted.set(id, (counted.get(id) ?? 0) - sent);
          if (index === position) run.requests.set(id, (run.requests.get(id) ?? 0) + sent);
        }
      });
      for (const [id, count] of counted) run.requests.set(id, (run.requests.get(id) ?? 0) + count);
    }
    if ((round + 1) % Math.max(1, Math.floor(plan.rounds / 5)) === 0) {
      log(`round ${round + 1}/${plan.rounds} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
  }
  benchLoop.disable();
  return runs;
}

/** The standard per-contender figures of a run. */
export function figuresOf(run: ContenderRun, measuresCorrectness: boolean): ContenderFigures {
  const calls = run.latencies.length;
  const totalRequests = [...run.requests.values()].reduce((a, b) => a + b, 0);
  const utilisation: Record<string, number> = {};
  // A ranking ping sent in one block can reach its endpoint in the next, leaving a count of -1 there: clamp.
  for (const [id, count] of run.requests) utilisation[id] = totalRequests === 0 ? 0 : Math.max(0, count) / totalRequests;
  return {
    name: run.contender.name,
    kind: run.contender.kind,
    calls,
    latencyMs: summarize(run.latencies),
    successRate: calls === 0 ? Number.NaN : run.ok / calls,
    wrongRate: measuresCorrectness ? (calls === 0 ? Number.NaN : run.wrong / calls) : null,
    staleRate: measuresCorrectness ? (calls === 0 ? Number.NaN : run.stale / calls) : null,
    requestsPerCall: calls === 0 ? Number.NaN : totalRequests / calls,
    utilisation,
    timeoutRate: calls === 0 ? Number.NaN : run.timeouts / calls,
    spread: spreadOf(
      run.repetitions.map((r) => ({
        latency: summarize(r.latencies),
        successRate: r.latencies.length === 0 ? Number.NaN : r.ok / r.latencies.length,
      })),
    ),
    settings: run.contender.settings,
    loopDelayMaxMs: { bench: Number(run.loopDelayMaxMs.bench.toFixed(1)), cluster: Number(run.loopDelayMaxMs.cluster.toFixed(1)) },
    errors: topErrors(run),
    ...(run.contender.diagnostics ? { diagnostics: run.contender.diagnostics() } : {}),
  };
}

/** The most frequent errors of a run, for the notes. */
function topErrors(run: ContenderRun, limit = 3): string {
  return [...run.errors]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, count]) => `${count}× ${name}`)
    .join('; ');
}
