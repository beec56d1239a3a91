import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createUdpClient } from '@x/udp-transport';
import type { UdpFanOutItem, UdpOutcome } from '@x/udp-transport';
import { fmt, summarize } from '../stats.js';
import type { LatencySummary } from '../stats.js';
import type { BenchContext, Scenario, ScenarioResult } from '../types.js';

const TARGETS = 25;
const HOST = '127.0.0.1';
const TIMEOUT_MS = 3000;
const PAYLOAD_BYTES = 48;
const GOAL_RATIO = 1.1;

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
}

/**
 * The hand-written baseline: what a careful user would write with node:dgram alone. One socket,
 * all datagrams sent at once, replies matched by source address and port, one timer per round.
 */
async function handWrittenRound(ports: readonly number[], payloads: readonly Uint8Array[]): Promise<Round & { close(): void }> {
  const socket: Socket = createSocket('udp4');
  socket.bind(0);
  await once(socket, 'listening');
  const indexByPort = new Map(ports.map((port, index) => [port, index]));
  let current:
    | { replies: Uint8Array[]; remaining: number; resolve: (replies: Uint8Array[]) => void; timer: NodeJS.Timeout }
    | undefined;
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
    correct: (replies) => samePayloads(replies as Uint8Array[], payloads),
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
  readonly times: number[];
  wrong: number;
}

async function timeRound(round: Round, into: ContenderRun | undefined): Promise<void> {
  const started = performance.now();
  const result = await round.run();
  const elapsed = performance.now() - started;
  if (into === undefined) return;
  into.times.push(elapsed);
  if (!round.correct(result)) into.wrong++;
}

function row(name: string, summary: LatencySummary, totalMs: number): Array<string | number> {
  return [name, summary.count, fmt((summary.count / totalMs) * 1000, 0), fmt(summary.p50, 3), fmt(summary.p99, 3), fmt(summary.mean, 3)];
}

async function run(context: BenchContext): Promise<ScenarioResult> {
  const warmupRounds = 2000;
  const measureMs = context.full ? 60_000 : 12_000;
  const { ports, child } = await startEchoServers(TARGETS);
  const payloads = ports.map((_, i) => {
    const payload = new Uint8Array(PAYLOAD_BYTES);
    for (let b = 0; b < PAYLOAD_BYTES; b++) payload[b] = (context.seed * 31 + i * 7 + b) & 0xff;
    return payload;
  });
  const items: UdpFanOutItem[] = ports.map((port, i) => ({ target: { host: HOST, port }, payload: payloads[i]! }));
  const client = createUdpClient({ timeoutMs: TIMEOUT_MS });
  const baseline = await handWrittenRound(ports, payloads);
  const ours: Round = {
    run: () => client.fanOut(items),
    correct: (outcomes) => samePayloads((outcomes as UdpOutcome[]).map((o) => (o.ok ? o.value : new Uint8Array(0))), payloads),
  };

  const hand: ContenderRun = { times: [], wrong: 0 };
  const mine: ContenderRun = { times: [], wrong: 0 };
  try {
    context.log(`25 echo servers in a child process; warming up (${warmupRounds} rounds each)…`);
    for (let i = 0; i < warmupRounds; i++) {
      await timeRound(baseline, undefined);
      await timeRound(ours, undefined);
    }
    context.log(`measuring for ${measureMs / 1000} s, rounds interleaved…`);
    const stopAt = performance.now() + measureMs;
    // Alternate which contender goes first in each pair, so drift and ordering affect both equally.
    for (let pair = 0; performance.now() < stopAt; pair++) {
      if (pair % 2 === 0) {
        await timeRound(baseline, hand);
        await timeRound(ours, mine);
      } else {
        await timeRound(ours, mine);
        await timeRound(baseline, hand);
      }
    }
  } finally {
    baseline.close();
    await client.close();
    await stopEchoServers(child);
  }

  const handSummary = summarize(hand.times);
  const mineSummary = summarize(mine.times);
  const handTotal = hand.times.reduce((a, b) => a + b, 0);
  const mineTotal = mine.times.reduce((a, b) => a + b, 0);
  const meanRatio = mineSummary.mean / handSummary.mean;
  const p50Ratio = mineSummary.p50 / handSummary.p50;
  const p99Ratio = mineSummary.p99 / handSummary.p99;
  const stats = client.stats();
  const correct = hand.wrong === 0 && mine.wrong === 0 && stats.timeouts === 0 && stats.errors === 0;

  return {
    tables: [
      {
        title: `25-target UDP echo fan-out (${PAYLOAD_BYTES}-byte payloads, different per target, loopback)`,
        columns: ['contender', 'rounds', 'rounds/s', 'p50 ms', 'p99 ms', 'mean ms'],
        rows: [row('hand-written node:dgram', handSummary, handTotal), row('@x/udp-transport fanOut', mineSummary, mineTotal)],
      },
      {
        title: 'Ratio ours / hand-written (round time; lower is better)',
        columns: ['mean', 'p50', 'p99'],
        rows: [[fmt(meanRatio, 3), fmt(p50Ratio, 3), fmt(p99Ratio, 3)]],
      },
    ],
    goals: [
      {
        goal: 'UDP fan-out within 10 % of hand-written dgram',
        met: correct && meanRatio <= GOAL_RATIO,
        measured: `mean round time ratio ${fmt(meanRatio, 3)} (p50 ${fmt(p50Ratio, 3)}, p99 ${fmt(p99Ratio, 3)})${correct ? '' : '; some rounds returned wrong or missing replies'}`,
      },
    ],
    notes: [
      'The 25 echo servers run in a child Node process (one event loop, 25 sockets), so server work does not share the measuring event loop.',
      'Both contenders reuse one socket pool across rounds, send all 25 datagrams before awaiting, and check every reply byte for byte outside the timed section.',
      `Pairs of rounds alternate which contender goes first; ${warmupRounds} warm-up rounds each are not counted.`,
      `Wrong or missing replies: hand-written ${hand.wrong}, ours ${mine.wrong}; ours timeouts ${stats.timeouts}, errors ${stats.errors}.`,
    ],
    data: {
      targets: TARGETS,
      payloadBytes: PAYLOAD_BYTES,
      measureMs,
      handWritten: { ...handSummary, roundsPerSecond: (handSummary.count / handTotal) * 1000, wrong: hand.wrong },
      ours: { ...mineSummary, roundsPerSecond: (mineSummary.count / mineTotal) * 1000, wrong: mine.wrong, stats },
      ratio: { mean: meanRatio, p50: p50Ratio, p99: p99Ratio },
    },
  };
}

export const udpFanoutScenario: Scenario = {
  id: 'udp-fanout',
  title: 'UDP fan-out: @x/udp-transport vs hand-written node:dgram',
  description:
    'One round sends a different 48-byte datagram to each of 25 local UDP echo servers and waits for all 25 replies. ' +
    'The hand-written baseline uses one node:dgram socket, matches replies by source and arms one timer per round; ' +
    '@x/udp-transport `fanOut` does the same with per-item timeouts, spoof/late/oversize filtering, latency per item and ' +
    'outcomes in input order. Rounds of the two alternate in one run against the same servers.',
  run,
};
