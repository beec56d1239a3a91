import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HeapReading, SteadyStatePart, SteadyStateRequest, SteadyStateResult } from '../steady-state-child.js';
import { fmt } from '../stats.js';
import type { BenchContext, Goal, Scenario, ScenarioResult } from '../types.js';

const FULL_POOL_CALLS = 100_000;
const FULL_RAIDA_ROUNDS = 10_000;

/** Runs steady-state-child.ts in a process of its own with `--expose-gc` and the loader flags of this one (tsx). */
function runChild(request: SteadyStateRequest): Promise<SteadyStateResult> {
  const child = fork(fileURLToPath(new URL('../steady-state-child.ts', import.meta.url)), [], {
    execArgv: [...process.execArgv, '--expose-gc'],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    child.once('message', (message: { ok: true; result: SteadyStateResult } | { ok: false; message: string }) => {
      settled = true;
      if (message.ok) resolve(message.result);
      else reject(new Error(`steady-state child: ${message.message}`));
    });
    child.once('exit', (code) => {
      if (!settled) reject(new Error(`steady-state child exited (code ${String(code)}) without a result`));
    });
    child.send(request);
  });
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(2)} MiB`;

function resourcesText(reading: HeapReading): string {
  const entries = Object.entries(reading.resources).sort(([a], [b]) => a.localeCompare(b));
  const text = entries.length === 0 ? 'none' : entries.map(([type, n]) => `${type} ${n}`).join(', ');
  return reading.openUdpSockets === undefined ? text : `${text}; UDP sockets ${reading.openUdpSockets}`;
}

function sameResources(a: HeapReading, b: HeapReading): boolean {
  return resourcesText(a) === resourcesText(b);
}

function row(name: string, unit: string, part: SteadyStatePart): Array<string | number> {
  return [
    name,
    part.calls,
    fmt((part.calls / part.elapsedMs) * 1000, 0) + ` ${unit}/s`,
    part.failures,
    mib(part.before.heapUsedBytes),
    mib(part.after.heapUsedBytes),
    `${part.after.heapUsedBytes >= part.before.heapUsedBytes ? '+' : '−'}${mib(Math.abs(part.after.heapUsedBytes - part.before.heapUsedBytes))}`,
    resourcesText(part.before),
    resourcesText(part.after),
    resourcesText(part.afterClose),
  ];
}

export const steadyStateScenario: Scenario = {
  id: 'steady-state',
  title: 'Steady state: pool calls and RAIDA rounds, heap and handles before and after',
  description:
    'Many calls in a row through @x/pool (every strategy in turn, in-memory endpoints) and many RAIDA rounds through ' +
    '@x/raida-client (echo and detect in turn, against the 25 simulated servers), in a process of their own started with ' +
    '`--expose-gc`, with the heap (after full collections) and the active handles read before, after, and after closing.',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const request: SteadyStateRequest = {
      poolCalls: FULL_POOL_CALLS,
      raidaRounds: context.full ? FULL_RAIDA_ROUNDS : 3_000,
      seed: context.seed,
    };
    context.log(`${request.poolCalls} pool calls, then ${request.raidaRounds} RAIDA rounds, in a child process with --expose-gc`);
    const result = await runChild(request);
    const { pool, raida } = result;
    const growth = (part: SteadyStatePart) => part.after.heapUsedBytes - part.heapAfterFirstTenthBytes;
    const goals: Goal[] = [
      {
        goal: 'no handle left behind: active handles after the run (and after close) as before it',
        met:
          sameResources(pool.before, pool.after) &&
          sameResources(pool.after, pool.afterClose) &&
          sameResources(raida.before, raida.after) &&
          raida.afterClose.openUdpSockets === 0 &&
          raida.afterClose.resources.Timeout === undefined,
        measured: `pool: ${resourcesText(pool.before)} → ${resourcesText(pool.after)}; RAIDA: ${resourcesText(raida.before)} → ${resourcesText(raida.after)} → closed: ${resourcesText(raida.afterClose)}`,
      },
      {
        goal: 'no heap growth over the last nine tenths of the calls (≤ 1 MiB)',
        met: growth(pool) <= 2 ** 20 && growth(raida) <= 2 ** 20,
        measured: `pool ${growth(pool) >= 0 ? '+' : '−'}${mib(Math.abs(growth(pool)))} over ${Math.floor(pool.calls * 0.9)} calls; RAIDA ${growth(raida) >= 0 ? '+' : '−'}${mib(Math.abs(growth(raida)))} over ${Math.floor(raida.calls * 0.9)} rounds`,
      },
    ];
    return {
      tables: [
        {
          title: 'Heap (after full GC) and active handles before and after',
          columns: [
            'work',
            'calls',
            'rate',
            'failed calls',
            'heap before',
            'heap after',
            'heap Δ',
            'handles before',
            'handles after',
            'handles after close',
          ],
          rows: [
            row('@x/pool execute (race, hedge, consensus, dual in turn)', 'calls', pool),
            row('@x/raida-client echo / detect(3 coins) in turn', 'rounds', raida),
          ],
        },
      ],
      goals,
      notes: [
        `Pool: ${pool.calls} calls, 64 in flight, over 4 in-memory endpoints whose attempts answer after a microtask, 2 % fail with a network error and 0.2 % never answer ` +
          '(ended by the 20 ms per-attempt timeout). In-memory rather than the simulated HTTP cluster on purpose: it measures the pool and the strategies ' +
          '(selection, statistics, health, timers, abort signals) without the HTTP stack and the simulator, and 100,000 HTTP calls would take minutes. ' +
          'The failed calls are those whose every attempt failed or timed out (all endpoints unlucky, or the 100 ms deadline).',
        `RAIDA: ${raida.calls} rounds, one at a time, echo and detect of 3 coins in turn, against the 25 simulated RAIDA servers (a separate process). ` +
          (context.full
            ? ''
            : `The default run does ${raida.calls} of the 10,000 rounds to stay near two minutes; \`--full\` runs all 10,000. `) +
          'A failed round is one without consensus (13 of 25).',
        `Heap figures are read after two full collections (\`global.gc()\`: ${result.gcExposed ? 'available' : 'NOT available — figures include garbage'}) ` +
          'once 2,000 pool calls / 500 RAIDA rounds of warm-up have run. "Handles" are `process.getActiveResourcesInfo()` by type: pipes and the process handle ' +
          'are the IPC channels to the parent and (for RAIDA) to the servers’ process. @x/udp-transport unrefs its pooled sockets, which therefore do not show there: ' +
          'they are counted from the UDP client’s `openSockets` gauge; they stay open (pooled) while the client lives and must be gone after `close()`.',
        `Growth check: heap after the first tenth vs after the whole run — pool ${mib(pool.heapAfterFirstTenthBytes)} → ${mib(pool.after.heapUsedBytes)}, RAIDA ${mib(raida.heapAfterFirstTenthBytes)} → ${mib(raida.after.heapUsedBytes)}.`,
      ],
      data: result,
    };
  },
};
