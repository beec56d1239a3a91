import Table from 'cli-table3';
import picocolors from 'picocolors';
import { isXError } from '@x/errors';
import { DEFAULT_MAX_SLOT_LAG, createSolanaMultiRpc } from '@x/solana-rpc';
import type { SolanaCallDetails, SolanaCallOptions, SolanaRpc } from '@x/solana-rpc';
import { rpcProfiles, startRpcCluster } from '@x/testkit';
import type { RpcBehaviorPatch } from '@x/testkit';
import { heading, say } from './tour.js';
import type { TourOutput } from './tour.js';

export interface SolanaTourOptions {
  /** Calls per contender. Default 200. */
  readonly callsPerContender?: number;
  /** Calls in flight at once per contender. Default 8. */
  readonly concurrency?: number;
  /** Seed of the simulated cluster. Default 7. */
  readonly seed?: number;
}

/** The four simulated providers, in the order they appear in tables. */
const PROVIDERS: ReadonlyArray<{ readonly id: string; readonly behavior: RpcBehaviorPatch; readonly description: string }> = [
  { id: 'steady', behavior: { latency: { medianMs: 15, sigma: 0.3, stallProbability: 0 } }, description: '~15 ms, nothing wrong' },
  { id: 'slow-tail', behavior: rpcProfiles.heavyTail, description: '~40 ms, 3 % stalls of 0.5-1.5 s' },
  { id: 'flaky', behavior: { ...rpcProfiles.flaky, errorRate: 0.1 }, description: '~20 ms, 10 % errors' },
  { id: 'lagging', behavior: rpcProfiles.lagging, description: '~20 ms, 8 slots behind' },
];
const LAGGING = 'lagging';
/** The error of an answer older than the client's slot watermark allows. */
const STALE = 'SOLANA_STALE_SLOT';
const SINGLE = 'slow-tail';
/** The method every contender calls: its value changes every slot, so a lagging node is always wrong. */
const METHOD = 'getLatestBlockhash';
const BUDGET_MS = 500;
const WARM_UP_CALLS = 30;

interface Contender {
  readonly name: string;
  readonly rpc: SolanaRpc;
  readonly options: SolanaCallOptions;
}

interface CallRecord {
  readonly elapsedMs: number;
  readonly details: SolanaCallDetails<LatestBlockhash> | undefined;
  readonly errorCode: string | undefined;
}

interface LatestBlockhash {
  readonly context: { readonly slot: number };
  readonly value: { readonly blockhash: string; readonly lastValidBlockHeight: number };
}

interface ContenderResult {
  readonly name: string;
  readonly calls: readonly CallRecord[];
  /** Requests the client started during the run, losers cut early included (from its pool's totals). */
  readonly requests: number;
}

/** Every attempt the client's pool has recorded: each started request counts once, when it settles. */
function attemptsOf(rpc: SolanaRpc): number {
  let sum = 0;
  for (const endpoint of rpc.pool.snapshot().endpoints) for (const count of Object.values(endpoint.totals)) sum += count;
  return sum;
}

/** Nearest-rank quantile of a sorted array. */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

function formatMs(ms: number): string {
  if (Number.isNaN(ms)) return '-';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

function percent(part: number, whole: number): string {
  return whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)} %`;
}

/** Runs `count` calls with at most `concurrency` in flight; every call is recorded, failures included. */
async function runCalls(contender: Contender, count: number, concurrency: number): Promise<CallRecord[]> {
  const records: CallRecord[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      const started = performance.now();
      try {
        const details = await contender.rpc.callWithDetails<LatestBlockhash>(METHOD, [], contender.options);
        records.push({ elapsedMs: performance.now() - started, details, errorCode: undefined });
      } catch (error) {
        records.push({ elapsedMs: performance.now() - started, details: undefined, errorCode: isXError(error) ? error.code : 'UNKNOWN' });
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return records;
}

function newTable(c: ReturnType<typeof picocolors.createColors>, head: string[], colAligns: Array<'left' | 'right'>): Table.Table {
  return new Table({ head: head.map((h) => c.bold(h)), colAligns, style: { head: [], border: [], 'padding-left': 1, 'padding-right': 1 } });
}

function comparisonTable(results: readonly ContenderResult[], c: ReturnType<typeof picocolors.createColors>): string {
  const table = newTable(
    c,
    ['contender', 'p50', 'p99', 'success', 'requests/call', 'answer from lagging node'],
    ['left', 'right', 'right', 'right', 'right', 'right'],
  );
  for (const result of results) {
    const sorted = result.calls.map((call) => call.elapsedMs).sort((a, b) => a - b);
    const succeeded = result.calls.filter((call) => call.details !== undefined);
    const fromLagging = succeeded.filter((call) => call.details?.endpoint === LAGGING).length;
    table.push([
      result.name,
      formatMs(quantile(sorted, 0.5)),
      formatMs(quantile(sorted, 0.99)),
      percent(succeeded.length, result.calls.length),
      (result.requests / Math.max(1, result.calls.length)).toFixed(2),
      fromLagging === 0 ? c.green('0') : c.red(`${fromLagging} (${percent(fromLagging, succeeded.length)})`),
    ]);
  }
  return `${table.toString()}\n`;
}

function verdictTable(consensus: ContenderResult, c: ReturnType<typeof picocolors.createColors>): string {
  const table = newTable(
    c,
    ['endpoint', 'behaviour', 'agreed', 'dissented', 'stale (rejected)', 'failed', 'cut off', 'answer returned'],
    ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
  for (const provider of PROVIDERS) {
    let agreed = 0;
    let dissented = 0;
    let stale = 0;
    let failed = 0;
    let cut = 0;
    let returned = 0;
    for (const call of consensus.calls) {
      const report = call.details?.consensus;
      if (report === undefined) continue;
      const id = provider.id;
      if (report.agreed.some((vote) => vote.endpoint === id)) agreed += 1;
      if (report.dissented.some((vote) => vote.endpoint === id)) dissented += 1;
      const failure = report.failed.find((entry) => entry.endpoint === id);
      if (failure !== undefined) {
        if (failure.error.code === STALE) stale += 1;
        else failed += 1;
      }
      if (report.unanswered.some((entry) => entry.endpoint === id)) cut += 1;
      if (call.details?.endpoint === id) returned += 1;
    }
    const paint = provider.id === LAGGING ? c.red : (text: string): string => text;
    table.push([
      paint(provider.id),
      provider.description,
      String(agreed),
      paint(String(dissented)),
      paint(String(stale)),
      String(failed),
      String(cut),
      String(returned),
    ]);
  }
  return `${table.toString()}\n`;
}

/** One decided vote in which the lagging node's answer was rejected as stale, told in words. */
function exampleVerdict(consensus: ContenderResult): string | undefined {
  for (const call of consensus.calls) {
    const details = call.details;
    const report = details?.consensus;
    const stale = report?.failed.find((entry) => entry.endpoint === LAGGING && entry.error.code === STALE);
    if (details === undefined || report === undefined || stale === undefined) continue;
    const agreed = report.agreed.map((vote) => `${vote.endpoint} (slot ${vote.slot ?? '?'})`).join(', ');
    const { slot, watermark } = stale.error.context as { slot?: number; watermark?: number };
    return (
      `For example: blockhash ${details.result.value.blockhash.slice(0, 8)}… of slot ${details.slot ?? '?'} was agreed by ${agreed}; ` +
      `lagging answered from slot ${slot ?? '?'}, ${(watermark ?? 0) - (slot ?? 0)} slots behind the freshest slot seen, and was rejected as stale.`
    );
  }
  return undefined;
}

/**
 * Part 2: four simulated Solana RPC providers (one steady, one with a slow tail, one flaky, one
 * lagging), the same call sent a few hundred times by each strategy of `@x/solana-rpc`, and how
 * consensus keeps the lagging node's answers out.
 */
export async function solanaTour(out: TourOutput, options: SolanaTourOptions = {}): Promise<void> {
  const calls = options.callsPerContender ?? 200;
  const concurrency = options.concurrency ?? 8;
  const c = picocolors.createColors(out.color);
  heading(out, 'Solana RPC: four providers, one answer: race, hedge, dual, consensus');

  const cluster = await startRpcCluster({
    seed: options.seed ?? 7,
    endpoints: PROVIDERS.map(({ id, behavior }) => ({ id, behavior })),
  });
  const urlOf = (id: string): string => cluster.endpoints.find((endpoint) => endpoint.id === id)?.url as string;
  const rpc = createSolanaMultiRpc({ endpoints: PROVIDERS.map(({ id }) => ({ id, url: urlOf(id) })) });
  const single = createSolanaMultiRpc({ endpoints: [{ id: SINGLE, url: urlOf(SINGLE) }] });
  try {
    say(out, 'Started a simulated Solana cluster on 127.0.0.1 (@x/testkit): one chain, a new slot every 400 ms, four JSON-RPC providers:');
    for (const provider of PROVIDERS) say(out, `  ${provider.id.padEnd(10)} ${provider.description}`);
    say(
      out,
      `\nEach contender sends ${METHOD} ${calls} times (${concurrency} at a time, ${BUDGET_MS} ms budget per call) through @x/solana-rpc.`,
    );
    say(out, `A blockhash changes every slot, so the lagging provider's answer is always an old one.\n`);

    // The pool learns every provider's latency first, so that hedge delays and dual pairs are informed.
    await runCalls({ name: 'warm-up', rpc, options: { strategy: 'race', deadlineMs: BUDGET_MS } }, WARM_UP_CALLS, concurrency);

    const contenders: Contender[] = [
      { name: `single endpoint (${SINGLE})`, rpc: single, options: { strategy: 'single', deadlineMs: BUDGET_MS } },
      { name: 'race (all four)', rpc, options: { strategy: 'race', deadlineMs: BUDGET_MS } },
      { name: 'hedge', rpc, options: { strategy: 'hedge', deadlineMs: BUDGET_MS } },
      { name: 'dual (2 pairs, raced)', rpc, options: { strategy: 'dual', deadlineMs: BUDGET_MS } },
      { name: 'consensus (3 of 4)', rpc, options: { strategy: 'consensus', deadlineMs: BUDGET_MS } },
    ];
    const results: ContenderResult[] = [];
    for (const contender of contenders) {
      const before = attemptsOf(contender.rpc);
      const records = await runCalls(contender, calls, concurrency);
      const requests = attemptsOf(contender.rpc) - before;
      results.push({ name: contender.name, calls: records, requests });
    }
    out.write(comparisonTable(results, c));
    say(out, 'single: one provider, its tail is your tail (calls cut at the budget count as failures).');
    say(out, 'race: every provider at once, the first answer wins: the shortest tail and the most requests.');
    say(out, `Every strategy checks each answer's context.slot against the freshest slot seen (the slot watermark): answers more`);
    say(out, `  than ${DEFAULT_MAX_SLOT_LAG} slots behind it are rejected as stale, however fast they come.`);
    const leaked = results.filter((result) => result.calls.some((call) => call.details?.endpoint === LAGGING)).map((result) => result.name);
    if (leaked.length > 0) {
      say(out, `  The watermark only moves when answers arrive: after a pause in calls it is itself a few slots old, which is how`);
      say(out, `  ${leaked.join(', ')} still returned a few lagging answers above.`);
    }
    say(
      out,
      'hedge: the best provider first, the next only when it is slower than usual or fails (hedges draw on a 10 % extra-load budget).',
    );
    say(out, "dual: each fast primary raced with a reliable secondary, both pairs at once (across: 'race').");
    say(out, 'consensus: everyone at once, 3 matching answers needed. The third-fastest sets the pace, and a stall or an error among');
    say(out, '  the three honest providers leaves no majority; but no answer it returns is stale.');

    const consensus = results.at(-1) as ContenderResult;
    const decided = consensus.calls.filter((call) => call.details !== undefined).length;
    say(out, `\nconsensus, vote by vote over the ${decided} calls that reached a verdict:`);
    out.write(verdictTable(consensus, c));
    const example = exampleVerdict(consensus);
    if (example !== undefined) say(out, example);
    const lagging = rpc.pool.snapshot().endpoints.find((endpoint) => endpoint.id === LAGGING);
    if (lagging !== undefined) {
      say(
        out,
        `The pool's view of ${LAGGING}: ${lagging.health}, ejected ${lagging.ejectionsTotal} time(s), last error ${lagging.lastError?.code ?? 'none'} — ` +
          'stale answers count as its failures, so it is ejected and only probed now and then instead of being asked on every call.',
      );
    }
    const failedCodes = new Map<string, number>();
    for (const call of consensus.calls)
      if (call.errorCode !== undefined) failedCodes.set(call.errorCode, (failedCodes.get(call.errorCode) ?? 0) + 1);
    if (failedCodes.size > 0) {
      say(
        out,
        `Calls without a verdict: ${[...failedCodes].map(([code, count]) => `${count} × ${code}`).join(', ')} — with the lagging node never counted, every other provider must answer in time.`,
      );
    }
    say(
      out,
      '\nTry it: pnpm rpc-proxy --local   (a JSON-RPC proxy on 127.0.0.1:8899 that any Solana client can use, with /health, /metrics and /stats)',
    );
  } finally {
    await Promise.all([rpc.close(), single.close()]);
    await cluster.close();
  }
}
