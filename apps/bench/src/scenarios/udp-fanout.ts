import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createRaidaClient } from '@x/raida-client';
import type { RaidaResult } from '@x/raida-client';
import { buildEchoRequest, validateReply } from '@x/raida-protocol';
import type { BuiltRequest } from '@x/raida-protocol';
import { createUdpClient } from '@x/udp-transport';
import type { UdpFanOutItem, UdpOutcome } from '@x/udp-transport';
import { startRemoteRaidaCluster } from '../remote-cluster.js';
import { fmt, summarize } from '../stats.js';
import type { LatencySummary } from '../stats.js';
import { barChart, cdfChart } from '../svg.js';
import { PYTHON_CONTENDER_NAME, pythonUnavailable, pythonVersion, startPythonEchoClient } from './udp-fanout-python.js';
import type { PythonRound } from './udp-fanout-python.js';
import type { BenchContext, Chart, ContenderFigures, Goal, Scenario, ScenarioResult, Table } from '../types.js';

const TARGETS = 25;
const HOST = '127.0.0.1';
const TIMEOUT_MS = 3000;
const PAYLOAD_BYTES = 48;
const GOAL_RATIO = 1.1;
/** Rounds per contender a `--full` run measures at least, whatever the time. */
const FULL_MIN_ROUNDS = 2000;
/** Issue #12: a warm @x/raida-client echo round, with its validation, within 15 % of the hand-written round. */
const CLIENT_GOAL_RATIO = 1.15;

// Plain JavaScript run with `node -e`: 25 echo sockets in one process of their own, so that server
// work does not share the measuring process's event loop (on 2 cores: one core each).
const ECHO_SERVERS = `
const dgram = require('node:dgram');
const count = Number(process.argv[1]);
const ports = [];
let ready = 0;
for (let i = 0; i < count; i++) {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (message, from) => socket.send(message, from.port, from.address));
  socket.bind(0, '${HOST}', () => {
    ports[i] = socket.address().port;
    if (++ready === count) process.stdout.write(JSON.stringify(ports) + '\\n');
  });
}
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
`;

async function startEchoServers(count: number): Promise<{ ports: number[]; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', ECHO_SERVERS, String(count)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const [line] = (await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(() => {
      throw new Error('echo server process exited before listening');
    }),
  ])) as [string];
  lines.close();
  return { ports: JSON.parse(line) as number[], child };
}

async function stopEchoServers(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.stdin!.end();
  await exited;
}

/** One timed round, and a check of its result made after the clock stopped. */
interface Round {
  run(): Promise<unknown>;
  correct(result: unknown): boolean;
  /** A round that times itself (in another process) reports its own time; otherwise the bench's clock does. */
  elapsedMs?(result: unknown): number;
}

/**
 * The hand-written baseline: what a careful user would write with node:dgram alone. One socket,
 * all datagrams sent at once, replies matched by source address and port, one timer per round.
 */
async function handWrittenRound(
  ports: readonly number[],
  payloads: readonly Uint8Array[],
  correct: (replies: readonly Uint8Array[]) => boolean,
): Promise<Round & { close(): void }> {
  const socket: Socket = createSocket('udp4');
  socket.bind(0);
  await once(socket, 'listening');
  const indexByPort = new Map(ports.map((port, index) => [port, index]));
  let current: { replies: Uint8Array[]; remaining: number; resolve: (replies: Uint8Array[]) => void; timer: NodeJS.Timeout } | undefined;
  socket.on('message', (message: Buffer, from: RemoteInfo) => {
    const round = current;
    if (round === undefined || from.address !== HOST) return;
    const index = indexByPort.get(from.port);
    if (index === undefined || round.replies[index] !== undefined) return;
    round.replies[index] = message;
    if (--round.remaining === 0) {
      clearTimeout(round.timer);
      current = undefined;
      round.resolve(round.replies);
    }
  });
  const run = (): Promise<Uint8Array[]> =>
    new Promise((resolve, reject) => {
      current = {
        replies: new Array<Uint8Array>(ports.length),
        remaining: ports.length,
        resolve,
        timer: setTimeout(() => {
          current = undefined;
          reject(new Error('baseline round timed out'));
        }, TIMEOUT_MS),
      };
      for (let i = 0; i < ports.length; i++) socket.send(payloads[i]!, ports[i], HOST);
    });
  return {
    run,
    correct: (replies) => correct(replies as Uint8Array[]),
    close: () => socket.close(),
  };
}

function samePayloads(replies: readonly Uint8Array[], payloads: readonly Uint8Array[]): boolean {
  if (replies.length !== payloads.length) return false;
  for (let i = 0; i < payloads.length; i++) {
    const reply = replies[i];
    if (reply === undefined || Buffer.compare(reply, payloads[i]!) !== 0) return false;
  }
  return true;
}

interface ContenderRun {
  readonly name: string;
  readonly round: Round;
  readonly times: number[];
  wrong: number;
}

async function timeRound(round: Round, into: ContenderRun | undefined): Promise<void> {
  const started = performance.now();
  const result = await round.run();
  const elapsed = round.elapsedMs?.(result) ?? performance.now() - started;
  if (into === undefined) return;
  into.times.push(elapsed);
  if (!round.correct(result)) into.wrong++;
}

/**
 * Warms every contender up, then runs one round of each in turn until `measureMs` is spent and each has
 * at least `minRounds`; the order rotates every cycle so drift and ordering affect all of them alike.
 */
async function interleave(contenders: readonly ContenderRun[], warmupRounds: number, measureMs: number, minRounds = 0): Promise<void> {
  for (let i = 0; i < warmupRounds; i++) for (const c of contenders) await timeRound(c.round, undefined);
  const stopAt = performance.now() + measureMs;
  for (let cycle = 0; performance.now() < stopAt || cycle < minRounds; cycle++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[(cycle + k) % contenders.length]!;
      await timeRound(c.round, c);
    }
  }
}

interface Measured {
  readonly name: string;
  readonly summary: LatencySummary;
  readonly roundsPerSecond: number;
  readonly wrong: number;
  readonly times: readonly number[];
}

function measured(run: ContenderRun): Measured {
  const total = run.times.reduce((a, b) => a + b, 0);
  return {
    name: run.name,
    summary: summarize(run.times),
    roundsPerSecond: (run.times.length / total) * 1000,
    wrong: run.wrong,
    times: run.times,
  };
}

/** The standard figures of the JSON file: a round is a call, 25 datagrams each by construction. */
function figures(part: string, m: Measured, settings: string): ContenderFigures {
  const rounds = m.summary.count;
  return {
    name: `${part}: ${m.name}`,
    kind: m.name.startsWith('hand-written') || m.name === PYTHON_CONTENDER_NAME ? 'baseline' : 'ours',
    calls: rounds,
    latencyMs: m.summary,
    successRate: rounds === 0 ? Number.NaN : (rounds - m.wrong) / rounds,
    wrongRate: rounds === 0 ? Number.NaN : m.wrong / rounds,
    staleRate: null,
    requestsPerCall: TARGETS,
    utilisation: null,
    settings,
  };
}

function table(title: string, rows: readonly Measured[], baseline: Measured): Table {
  return {
    title,
    columns: [
      'contender',
      'rounds',
      'rounds/s',
      'p50 ms',
      'p99 ms',
      'mean ms',
      'mean ÷ hand-written',
      'p99 ÷ hand-written',
      'wrong rounds',
    ],
    rows: rows.map((m) => [
      m.name,
      m.summary.count,
      fmt(m.roundsPerSecond, 0),
      fmt(m.summary.p50, 3),
      fmt(m.summary.p99, 3),
      fmt(m.summary.mean, 3),
      fmt(m.summary.mean / baseline.summary.mean, 3),
      fmt(m.summary.p99 / baseline.summary.p99, 3),
      m.wrong,
    ]),
  };
}

/** Part A: 25 plain echo servers; the transport alone against the hand-written round. */
async function echoPart(
  context: BenchContext,
  warmupRounds: number,
  measureMs: number,
): Promise<{ hand: Measured; ours: Measured; stats: unknown; clean: boolean }> {
  const { ports, child } = await startEchoServers(TARGETS);
  const payloads = ports.map((_, i) => {
    const payload = new Uint8Array(PAYLOAD_BYTES);
    for (let b = 0; b < PAYLOAD_BYTES; b++) payload[b] = (context.seed * 31 + i * 7 + b) & 0xff;
    return payload;
  });
  const items: UdpFanOutItem[] = ports.map((port, i) => ({ target: { host: HOST, port }, payload: payloads[i]! }));
  const client = createUdpClient({ timeoutMs: TIMEOUT_MS });
  const baseline = await handWrittenRound(ports, payloads, (replies) => samePayloads(replies, payloads));
  const hand: ContenderRun = { name: 'hand-written node:dgram', round: baseline, times: [], wrong: 0 };
  const mine: ContenderRun = {
    name: '@x/udp-transport fanOut',
    round: {
      run: () => client.fanOut(items),
      correct: (outcomes) =>
        samePayloads(
          (outcomes as UdpOutcome[]).map((o) => (o.ok ? o.value : new Uint8Array(0))),
          payloads,
        ),
    },
    times: [],
    wrong: 0,
  };
  try {
    context.log(`A: 25 echo servers in a child process; ${warmupRounds} warm-up rounds each, then ${measureMs / 1000} s interleaved`);
    await interleave([hand, mine], warmupRounds, measureMs, context.full ? FULL_MIN_ROUNDS : 0);
  } finally {
    baseline.close();
    await client.close();
    await stopEchoServers(child);
  }
  const stats = client.stats();
  return { hand: measured(hand), ours: measured(mine), stats, clean: stats.timeouts === 0 && stats.errors === 0 };
}

/** Part B: the 25 simulated RAIDA servers of @x/testkit; the same echo round three ways. */
async function raidaPart(
  context: BenchContext,
  warmupRounds: number,
  measureMs: number,
): Promise<{ hand: Measured; transport: Measured; client: Measured; python: Measured | string }> {
  const cluster = await startRemoteRaidaCluster({ seed: context.seed });
  const ports = cluster.servers.map((s) => s.port);
  // A fixed, valid echo request per server, built once: the minimal hand-written RAIDA round.
  const requests: BuiltRequest[] = cluster.servers.map((server) => buildEchoRequest({ raidaId: server.id }));
  const payloads = requests.map((r) => r.bytes);
  const allReady = (replies: ReadonlyArray<Uint8Array | undefined>): boolean =>
    replies.length === TARGETS &&
    replies.every((reply, i) => {
      if (reply === undefined) return false;
      try {
        return validateReply(reply, requests[i]!.expectation).reply.status === 250;
      } catch {
        return false;
      }
    });
  const udp = createUdpClient({ timeoutMs: TIMEOUT_MS });
  const raida = createRaidaClient({ servers: cluster.servers, attemptTimeoutMs: TIMEOUT_MS });
  const items: UdpFanOutItem[] = ports.map((port, i) => ({ target: { host: HOST, port }, payload: payloads[i]! }));
  const baseline = await handWrittenRound(ports, payloads, allReady);
  const pythonSkipped = pythonUnavailable();
  const python = pythonSkipped === undefined ? await startPythonEchoClient({ host: HOST, ports, timeoutMs: TIMEOUT_MS }) : undefined;
  const runs: ContenderRun[] = [
    { name: 'hand-written node:dgram', round: baseline, times: [], wrong: 0 },
    {
      name: '@x/udp-transport fanOut',
      round: {
        run: () => udp.fanOut(items),
        correct: (outcomes) => allReady((outcomes as UdpOutcome[]).map((o) => (o.ok ? o.value : undefined))),
      },
      times: [],
      wrong: 0,
    },
    {
      name: '@x/raida-client echo()',
      round: { run: () => raida.echo(), correct: (result) => (result as RaidaResult).totals.ready === TARGETS },
      times: [],
      wrong: 0,
    },
    ...(python === undefined
      ? []
      : [
          {
            name: PYTHON_CONTENDER_NAME,
            round: {
              run: () => python.round(),
              correct: (r: unknown) => (r as PythonRound).ready === TARGETS,
              elapsedMs: (r: unknown) => (r as PythonRound).elapsedMs,
            },
            times: [],
            wrong: 0,
          },
        ]),
  ];
  try {
    context.log(
      `B: 25 simulated RAIDA servers in a child process; ${warmupRounds} warm-up rounds each, then ${measureMs / 1000} s interleaved`,
    );
    await interleave(runs, warmupRounds, measureMs, context.full ? FULL_MIN_ROUNDS : 0);
  } finally {
    baseline.close();
    await raida.close();
    await udp.close();
    await python?.close();
    await cluster.close();
  }
  const [hand, transport, client, py] = runs.map(measured) as [Measured, Measured, Measured, Measured | undefined];
  return { hand, transport, client, python: py ?? `skipped: ${pythonSkipped ?? 'not run'}` };
}

async function run(context: BenchContext): Promise<ScenarioResult> {
  const warmupRounds = context.full ? 2000 : 500;
  const measureMs = context.full ? 30_000 : 5_000;
  const a = await echoPart(context, warmupRounds, measureMs);
  const b = await raidaPart(context, warmupRounds, measureMs);

  const ratio = (m: Measured, base: Measured) => ({
    mean: m.summary.mean / base.summary.mean,
    p50: m.summary.p50 / base.summary.p50,
    p99: m.summary.p99 / base.summary.p99,
  });
  const transportA = ratio(a.ours, a.hand);
  const transportB = ratio(b.transport, b.hand);
  const clientB = ratio(b.client, b.hand);
  const ratioText = (r: { mean: number; p50: number; p99: number }) => `mean ${fmt(r.mean, 3)}, p50 ${fmt(r.p50, 3)}, p99 ${fmt(r.p99, 3)}`;
  const cleanA = a.clean && a.hand.wrong === 0 && a.ours.wrong === 0;
  const cleanB = b.hand.wrong === 0 && b.transport.wrong === 0 && b.client.wrong === 0;
  const goals: Goal[] = [
    {
      goal: 'UDP fan-out within 10 % of hand-written dgram (@x/udp-transport, echo servers)',
      met: cleanA && transportA.mean <= GOAL_RATIO,
      measured: `round time ratio ${ratioText(transportA)}${cleanA ? '' : '; some rounds had wrong or missing replies'}`,
    },
    {
      goal: 'UDP fan-out within 10 % of hand-written dgram (@x/udp-transport, RAIDA servers)',
      met: cleanB && transportB.mean <= GOAL_RATIO,
      measured: `round time ratio ${ratioText(transportB)}`,
    },
    {
      goal: 'RAIDA round within 15 % of hand-written dgram (@x/raida-client echo, RAIDA servers)',
      met: cleanB && clientB.mean <= CLIENT_GOAL_RATIO,
      measured: `round time ratio ${ratioText(clientB)}`,
    },
    ...(typeof b.python === 'string'
      ? []
      : [
          {
            goal: '@x/raida-client echo() faster than the Python asyncio reference client (RAIDA servers)',
            met: cleanB && b.python.wrong === 0 && b.client.summary.mean < b.python.summary.mean,
            measured: `mean ${fmt(b.client.summary.mean, 3)} ms vs ${fmt(b.python.summary.mean, 3)} ms, p99 ${fmt(b.client.summary.p99, 3)} ms vs ${fmt(b.python.summary.p99, 3)} ms`,
          },
        ]),
  ];
  const charts: Chart[] = [
    {
      file: 'bench-udp-fanout-cdf.svg',
      title: 'UDP fan-out: round time CDF per contender',
      svg: cdfChart({
        title: '25-target UDP echo round: round time CDF',
        subtitle: 'dashed: hand-written node:dgram · solid: ours · A: plain echo servers · B: simulated RAIDA servers',
        xLabel: 'round time (ms, log scale)',
        yLabel: 'rounds completed within (percentile)',
        series: [
          { name: 'A: hand-written dgram', samples: a.hand.times, dashed: true },
          { name: 'A: @x/udp-transport', samples: a.ours.times },
          { name: 'B: hand-written dgram', samples: b.hand.times, dashed: true },
          { name: 'B: @x/udp-transport', samples: b.transport.times },
          { name: 'B: @x/raida-client echo()', samples: b.client.times },
          ...(typeof b.python === 'string' ? [] : [{ name: 'B: Python asyncio reference', samples: b.python.times, dashed: true }]),
        ],
      }),
    },
    {
      file: 'bench-udp-fanout-ratio.svg',
      title: 'UDP fan-out: round time relative to hand-written node:dgram',
      svg: barChart({
        title: 'UDP fan-out: round time ÷ hand-written node:dgram',
        rows: ['A: @x/udp-transport', 'B: @x/udp-transport', 'B: @x/raida-client echo()'],
        panels: [
          {
            title: 'mean ratio',
            values: [transportA.mean, transportB.mean, clientB.mean],
            digits: 3,
            marker: { value: GOAL_RATIO, label: 'goal 1.1' },
          },
          { title: 'p99 ratio', values: [transportA.p99, transportB.p99, clientB.p99], digits: 3, marker: { value: 1, label: '1' } },
        ],
      }),
    },
  ];
  return {
    tables: [
      table(`A: 25 plain UDP echo servers (${PAYLOAD_BYTES}-byte payloads, different per target, loopback)`, [a.hand, a.ours], a.hand),
      table(
        'B: 25 simulated RAIDA servers (@x/testkit), one echo request per server, loopback',
        [b.hand, b.transport, b.client, ...(typeof b.python === 'string' ? [] : [b.python])],
        b.hand,
      ),
    ],
    goals,
    charts,
    notes: [
      'Both sets of servers run in a child Node process, so server work does not share the measuring event loop.',
      'Every contender keeps its socket(s) across rounds, sends all 25 datagrams before awaiting, and has every reply checked outside the timed section ' +
        '(A: byte for byte; B: `validateReply` against the request, status 250, or for raida-client all 25 servers `ready`).',
      'B: the hand-written round and @x/udp-transport send the same pre-built echo request per server every round; @x/raida-client `echo()` builds ' +
        'a new request with a fresh random challenge and echo bytes per server per round and validates each reply (signature, status) as its users need — ' +
        'that work is part of its round time.',
      `One round of each contender in turn, the order rotating every cycle; ${warmupRounds} warm-up rounds each are not counted.`,
      typeof b.python === 'string'
        ? `${PYTHON_CONTENDER_NAME}: ${b.python}.`
        : `${PYTHON_CONTENDER_NAME} (${pythonVersion()}, apps/bench/python/raida_asyncio_echo.py): a child process running the RAIDA guide's pattern — per round, one asyncio task and one UDP socket per server ` +
          '(`create_datagram_endpoint`), `asyncio.gather` over the 25, `asyncio.wait_for` as the per-request timeout, a fresh challenge per request and each reply checked (status 250, signature); ' +
          'its round time is measured inside Python (`time.perf_counter`, first send to last settled task), so the pipe that tells it to start is not counted.',
      '@x/raida-client echo() before issue #12 (fresh requests drawn in place, leaner planning and result assembly): mean 1.590 ×, p50 1.662 ×, ' +
        'p99 1.221 × hand-written in the 2026-11-21 run of this scenario, and mean 1.211 ×, p50 1.246 × on the day of the change (same command).',
      `Wrong or missing replies — A: hand-written ${a.hand.wrong}, ours ${a.ours.wrong}; B: hand-written ${b.hand.wrong}, udp-transport ${b.transport.wrong}, raida-client ${b.client.wrong}.`,
    ],
    data: {
      targets: TARGETS,
      measureMs,
      contenders: [
        figures('A', a.hand, 'one node:dgram socket, one timer per round'),
        figures('A', a.ours, `createUdpClient({ timeoutMs: ${TIMEOUT_MS} }).fanOut(items)`),
        figures('B', b.hand, 'one node:dgram socket, one timer per round, pre-built echo requests'),
        figures('B', b.transport, `createUdpClient({ timeoutMs: ${TIMEOUT_MS} }).fanOut(items), pre-built echo requests`),
        figures('B', b.client, `createRaidaClient({ servers, attemptTimeoutMs: ${TIMEOUT_MS} }).echo()`),
        ...(typeof b.python === 'string'
          ? []
          : [
              figures(
                'B',
                b.python,
                `python3 asyncio: one task and socket per server, asyncio.gather, wait_for timeout ${TIMEOUT_MS / 1000} s`,
              ),
            ]),
      ],
      echoServers: {
        handWritten: { ...a.hand.summary, roundsPerSecond: a.hand.roundsPerSecond, wrong: a.hand.wrong },
        udpTransport: { ...a.ours.summary, roundsPerSecond: a.ours.roundsPerSecond, wrong: a.ours.wrong, stats: a.stats },
        ratio: transportA,
      },
      raidaServers: {
        handWritten: { ...b.hand.summary, roundsPerSecond: b.hand.roundsPerSecond, wrong: b.hand.wrong },
        udpTransport: { ...b.transport.summary, roundsPerSecond: b.transport.roundsPerSecond, wrong: b.transport.wrong },
        raidaClient: { ...b.client.summary, roundsPerSecond: b.client.roundsPerSecond, wrong: b.client.wrong },
        ratio: { udpTransport: transportB, raidaClient: clientB },
      },
    },
  };
}

export const udpFanoutScenario: Scenario = {
  id: 'udp-fanout',
  title: 'UDP fan-out: @x/raida-client and @x/udp-transport vs hand-written node:dgram',
  description:
    'One round sends a different datagram to each of 25 local UDP servers and waits for all 25 replies. The hand-written baseline uses one ' +
    'node:dgram socket, matches replies by source and arms one timer per round. A: against 25 plain echo servers, @x/udp-transport `fanOut` ' +
    '(per-item timeouts, spoof/late/oversize filtering, latency per item, outcomes in input order) against the baseline. B: against the 25 ' +
    'simulated RAIDA servers of @x/testkit, the same echo round through the baseline, through @x/udp-transport alone and through ' +
    '@x/raida-client `echo()`. Rounds of the contenders alternate in one run against the same servers.',
  run,
};
