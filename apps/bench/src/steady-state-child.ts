/**
 * Child-process entry of the steady-state scenario, run with `--expose-gc` so heap figures are taken
 * after full collections. Receives `{ poolCalls, raidaRounds, seed }` over IPC, answers with the figures.
 * Nothing but the work under test runs here: the RAIDA servers live in a grandchild process.
 */
import { XError } from '@x/errors';
import { createPool } from '@x/pool';
import type { PoolEndpoint } from '@x/pool';
import { createRaidaClient } from '@x/raida-client';
import type { RaidaClient } from '@x/raida-client';
import { createRandom, createTestCoins } from '@x/testkit';
import { createUdpClient } from '@x/udp-transport';
import { startRemoteRaidaCluster } from './remote-cluster.js';

export interface SteadyStateRequest {
  readonly poolCalls: number;
  readonly raidaRounds: number;
  readonly seed: number;
}

export interface HeapReading {
  readonly heapUsedBytes: number;
  readonly rssBytes: number;
  /**
   * `process.getActiveResourcesInfo()` grouped by type, e.g. `{ Timeout: 1, PipeWrap: 2 }`. It lists what
   * keeps the event loop alive: ref'd timers and handles. @x/udp-transport unrefs its pooled sockets, so
   * those are counted separately, from the UDP client's own `openSockets` gauge.
   */
  readonly resources: Record<string, number>;
  readonly openUdpSockets?: number;
}

export interface SteadyStatePart {
  readonly calls: number;
  readonly elapsedMs: number;
  readonly failures: number;
  readonly before: HeapReading;
  readonly after: HeapReading;
  /** After the client (pool or RAIDA client) was closed and dropped. */
  readonly afterClose: HeapReading;
  /** Heap used after the first and after the last tenth of the calls: growth that continues shows a leak. */
  readonly heapAfterFirstTenthBytes: number;
}

export interface SteadyStateResult {
  readonly gcExposed: boolean;
  readonly pool: SteadyStatePart;
  readonly raida: SteadyStatePart;
}

const gc = (globalThis as { gc?: () => void }).gc;

async function settle(): Promise<void> {
  // Two turns of the event loop let finished promises and closed handles drop their references.
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  if (gc) {
    gc();
    gc();
  }
}

async function reading(openUdpSockets?: () => number): Promise<HeapReading> {
  await settle();
  const resources: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) resources[type] = (resources[type] ?? 0) + 1;
  const memory = process.memoryUsage();
  return {
    heapUsedBytes: memory.heapUsed,
    rssBytes: memory.rss,
    resources,
    ...(openUdpSockets ? { openUdpSockets: openUdpSockets() } : {}),
  };
}

/**
 * 4 in-memory endpoints behind one pool; every call runs a strategy in turn (race, hedge, consensus,
 * dual) with 64 calls in flight. Attempts answer after a microtask; 2 % of them fail with a network
 * error and a few time out, so failure, health and timer paths run as well as the happy one.
 */
async function poolPart(calls: number, seed: number): Promise<SteadyStatePart> {
  const random = createRandom(seed).fork('steady-pool');
  const pool = createPool({ endpoints: ['a', 'b', 'c', 'd'].map((id) => ({ id, target: id })) });
  const strategies = ['race', 'hedge', 'consensus', 'dual'] as const;
  const attempt = (endpoint: PoolEndpoint<string>, context: { signal: AbortSignal }): Promise<string> => {
    if (random.chance(0.02))
      return Promise.reject(new XError({ code: 'BENCH_FAILED', category: 'network', message: `${endpoint.id} failed` }));
    if (random.chance(0.002)) {
      // Never answers: the per-attempt timeout (a timer) ends it, and the abort must release everything.
      return new Promise((_, reject) =>
        context.signal.addEventListener('abort', () => reject(context.signal.reason as Error), { once: true }),
      );
    }
    return Promise.resolve('value');
  };
  let failures = 0;
  let next = 0;
  const run = async (count: number): Promise<void> => {
    const target = next + count;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < target) {
          const strategy = strategies[next++ % strategies.length]!;
          try {
            await pool.execute(attempt, { strategy, attemptTimeoutMs: 20, deadlineMs: 100 });
          } catch {
            failures++;
          }
        }
      }),
    );
  };
  await run(Math.min(2_000, calls));
  next = 0;
  failures = 0;
  const before = await reading();
  const started = performance.now();
  await run(Math.ceil(calls / 10));
  const heapAfterFirstTenthBytes = (await reading()).heapUsedBytes;
  await run(calls - Math.ceil(calls / 10));
  const elapsedMs = performance.now() - started;
  const after = await reading();
  // The pool holds no timers or sockets of its own; dropping it must leave nothing behind.
  const afterClose = await reading();
  return { calls, elapsedMs, failures, before, after, afterClose, heapAfterFirstTenthBytes };
}

/** Echo and detect (3 coins) rounds in turn through one RAIDA client, one round at a time. */
async function raidaPart(rounds: number, seed: number): Promise<SteadyStatePart> {
  const coins = createTestCoins(3, seed);
  const cluster = await startRemoteRaidaCluster({ seed, coins });
  // The RAIDA client is given its UDP client (and never closes a client it was given) so that the
  // sockets can be counted and closed here.
  const udp = createUdpClient();
  const sockets = (): number => udp.stats().openSockets;
  let client: RaidaClient | undefined = createRaidaClient({ servers: cluster.servers, attemptTimeoutMs: 2_000, udp });
  let failures = 0;
  const round = async (i: number): Promise<void> => {
    const result = i % 2 === 0 ? await client!.echo() : await client!.detect(coins);
    if (!result.totals.consensus) failures++;
  };
  try {
    for (let i = 0; i < Math.min(500, rounds); i++) await round(i);
    const before = await reading(sockets);
    const started = performance.now();
    const tenth = Math.ceil(rounds / 10);
    for (let i = 0; i < tenth; i++) await round(i);
    const heapAfterFirstTenthBytes = (await reading()).heapUsedBytes;
    for (let i = tenth; i < rounds; i++) await round(i);
    const elapsedMs = performance.now() - started;
    const after = await reading(sockets);
    await client.close();
    client = undefined;
    await udp.close();
    const afterClose = await reading(sockets);
    return { calls: rounds, elapsedMs, failures, before, after, afterClose, heapAfterFirstTenthBytes };
  } finally {
    await client?.close();
    await udp.close();
    await cluster.close();
  }
}

process.once('message', (request: SteadyStateRequest) => {
  void (async () => {
    try {
      const pool = await poolPart(request.poolCalls, request.seed);
      const raida = await raidaPart(request.raidaRounds, request.seed);
      const result: SteadyStateResult = { gcExposed: gc !== undefined, pool, raida };
      process.send?.({ ok: true, result });
    } catch (error) {
      process.send?.({ ok: false, message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    } finally {
      process.disconnect?.();
    }
  })();
});
