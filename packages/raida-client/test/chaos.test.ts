import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RAIDA_SERVER_STATUSES, createRaidaClient } from '@x/raida-client';
import type { CoinVerdict, RaidaClient, RaidaCoinResult, RaidaResult, RaidaServerStatus } from '@x/raida-client';
import { SPOOFED_EXECUTION_TIME_US, counterfeitCoin, createRandom, createTestCoins, frackCoin, startRaidaCluster } from '@x/testkit';
import type { RaidaBehaviorPatch, RaidaCluster, TestCoin } from '@x/testkit';
import { createUdpClient } from '@x/udp-transport';
import type { UdpClient, UdpStats } from '@x/udp-transport';
import { startChaosRelay } from './chaos-relay.js';
import type { ChaosFaults, ChaosRelay, DeliveryKind } from './chaos-relay.js';
import { handlesSettled, udpHandles } from './helpers.js';

// CI size: a couple of rounds per scenario. CHAOS_ROUNDS scales them, CHAOS_SEED replays another run,
// CHAOS_REPORT=1 prints the table kept in docs/reliability.md.
const ROUNDS = Number(process.env.CHAOS_ROUNDS ?? 2);
const SEED = process.env.CHAOS_SEED ?? 'raida-chaos';
const REPORT = process.env.CHAOS_REPORT === '1';
// The slowest scenarios take about 0.7 s per round; many rounds need more than the default limit.
vi.setConfig({ testTimeout: Math.max(20_000, ROUNDS * 2_000) });

/** Short enough that lost datagrams cost little, long enough for loopback; never used for exact counts. */
const LOSSY_TIMEOUT_MS = 150;
/** For scenarios where every server must be heard: the call ends when the last reply arrives, not at this. */
const AMPLE_TIMEOUT_MS = 3_000;
/**
 * For scenarios where some servers send only datagrams that fail validation: those are rejected in
 * case the genuine reply is still coming, so the call lasts this long; the honest servers answer well within it.
 */
const REJECTED_TIMEOUT_MS = 500;
const SERVERS = 25;

type Verdicts = Record<CoinVerdict, number>;
interface Tally {
  readonly scenario: string;
  calls: number;
  readonly statuses: Record<RaidaServerStatus, number>;
  readonly verdicts: Verdicts;
  udp: { droppedSpoofed: number; droppedLate: number; droppedOversize: number; droppedRejected: number };
}
const tallies: Tally[] = [];

let raida: RaidaCluster;
let relay: ChaosRelay;
let udp: UdpClient;
let client: RaidaClient;
let udpBefore = 0;
let timersBefore = 0;
const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
/** Servers that decided to answer a datagram in the current round (testkit's own account). */
const answered = new Set<number>();

const coins = createTestCoins(103, SEED);
const [genuine, toFrack, toFake] = [coins[0]!, coins[1]!, coins[2]!];
const FRACKED_ON = [2, 9, 17];
/** One authentic, one fracked on three servers, one counterfeit coin. */
const wallet: TestCoin[] = [genuine, frackCoin(toFrack, FRACKED_ON), counterfeitCoin(toFake)];
/** 100 authentic coins: three requests per server (46 + 46 + 8 coins). */
const bigWallet: TestCoin[] = coins.slice(3);

beforeAll(async () => {
  await handlesSettled();
  udpBefore = udpHandles();
  // The hook's own timeout timer is counted here, as the last test's is at its end.
  timersBefore = timers();
  raida = await startRaidaCluster({
    seed: SEED,
    coins,
    onRequest: (event) => {
      if (event.outcome === 'answered') answered.add(event.raidaId);
    },
  });
  relay = await startChaosRelay(raida.servers, SEED);
  // Default pooling: sockets are reused from call to call, as the client's own UDP client does.
  udp = createUdpClient();
  client = createRaidaClient({ servers: relay.servers, udp });
});

afterAll(async () => {
  await client.close();
  await udp.close();
  await relay.close();
  await raida.close();
  if (REPORT) printReport();
});

function newTally(scenario: string): Tally {
  const tally: Tally = {
    scenario,
    calls: 0,
    statuses: Object.fromEntries(RAIDA_SERVER_STATUSES.map((status) => [status, 0])) as Record<RaidaServerStatus, number>,
    verdicts: { authentic: 0, fracked: 0, counterfeit: 0, limbo: 0 },
    udp: { droppedSpoofed: 0, droppedLate: 0, droppedOversize: 0, droppedRejected: 0 },
  };
  tallies.push(tally);
  return tally;
}

function resetBehaviors(): void {
  for (let id = 0; id < SERVERS; id++)
    raida.setBehavior(id, { down: false, wrongSignature: false, spoof: false, statusOverride: null, dropRate: 0 });
}

interface RoundOptions {
  readonly attemptTimeoutMs?: number;
  readonly retries?: number;
  /** Called once per server per attempt while the call runs (to flap servers mid-call). */
  readonly onReply?: (completed: number) => void;
}

const VALID_REPLY: readonly RaidaServerStatus[] = ['ready', 'pass', 'fail', 'mixed', 'server-error'];

/**
 * The invariants every round must keep, whatever the faults:
 * - a server is reported with a valid reply only if the relay delivered at least one intact reply of
 *   it from its own address in this round, and testkit says the server answered;
 * - `protocol-error` only when something altered reached the client or the server itself misbehaves;
 * - verdicts: the genuine coin is never counterfeit or fracked, the counterfeit coin never authentic
 *   or fracked, the fracked coin never counterfeit; authentic and fracked need 13 passes, and passes
 *   never outnumber the servers whose intact replies arrived.
 */
function checkRound(result: RaidaResult, coinsSent: readonly TestCoin[] | undefined): void {
  const delivered = relay.deliveries();
  const intact = new Set(delivered.filter((d) => d.kind === 'intact').map((d) => d.server));
  const altered = new Set(
    delivered.filter((d) => (['truncated', 'oversized', 'garbage', 'forged'] as DeliveryKind[]).includes(d.kind)).map((d) => d.server),
  );
  expect(result.statuses).toHaveLength(SERVERS);
  result.statuses.forEach((status, index) => {
    if (VALID_REPLY.includes(status)) {
      expect(intact.has(index), `server ${index} is ${status} without an intact reply`).toBe(true);
      expect(answered.has(index), `server ${index} is ${status} but never answered`).toBe(true);
    }
    if (status === 'protocol-error') {
      const behavior = raida.behavior(index);
      expect(
        altered.has(index) || behavior.wrongSignature || behavior.statusOverride !== null,
        `server ${index}: protocol-error from an intact, honest reply`,
      ).toBe(true);
    }
    expect(['network-error', 'skipped']).not.toContain(status);
  });
  if (result.command === 'echo') expect(result.totals.consensus).toBe(result.totals.ready >= 13);
  if (coinsSent === wallet) {
    const [a, f, c] = (result as RaidaCoinResult).coins;
    expect(['authentic', 'limbo']).toContain(a!.verdict);
    expect(['fracked', 'authentic', 'limbo']).toContain(f!.verdict);
    expect(['counterfeit', 'limbo']).toContain(c!.verdict);
  }
  if (coinsSent !== undefined) {
    for (const coin of (result as RaidaCoinResult).coins) {
      if (coin.verdict === 'authentic' || coin.verdict === 'fracked') expect(coin.pass).toBeGreaterThanOrEqual(13);
      expect(coin.pass).toBeLessThanOrEqual(intact.size);
    }
  }
}

function udpDrops(): Pick<UdpStats, 'droppedSpoofed' | 'droppedLate' | 'droppedOversize' | 'droppedRejected'> {
  const { droppedSpoofed, droppedLate, droppedOversize, droppedRejected } = udp.stats();
  return { droppedSpoofed, droppedLate, droppedOversize, droppedRejected };
}

async function round(
  tally: Tally,
  call: 'echo' | 'detect',
  coinsSent: readonly TestCoin[] = wallet,
  options: RoundOptions = {},
): Promise<RaidaCoinResult | RaidaResult> {
  await relay.newRound();
  answered.clear();
  const before = udpDrops();
  const callOptions = {
    attemptTimeoutMs: options.attemptTimeoutMs ?? LOSSY_TIMEOUT_MS,
    retries: options.retries ?? 0,
    ...(options.onReply === undefined ? {} : { onReply: (event: { completed: number }) => options.onReply!(event.completed) }),
  };
  const result = call === 'echo' ? await client.echo(callOptions) : await client.detect(coinsSent, callOptions);
  checkRound(result, call === 'detect' ? coinsSent : undefined);
  tally.calls++;
  for (const status of result.statuses) tally.statuses[status]++;
  if (call === 'detect') for (const coin of (result as RaidaCoinResult).coins) tally.verdicts[coin.verdict]++;
  // Stragglers (duplicates, delayed copies) land after the call: count them once they are out.
  await relay.newRound();
  const after = udpDrops();
  tally.udp.droppedSpoofed += after.droppedSpoofed - before.droppedSpoofed;
  tally.udp.droppedLate += after.droppedLate - before.droppedLate;
  tally.udp.droppedOversize += after.droppedOversize - before.droppedOversize;
  tally.udp.droppedRejected += after.droppedRejected - before.droppedRejected;
  return result;
}

async function withFaults(faults: ChaosFaults, perServer: Readonly<Record<number, ChaosFaults>>, body: () => Promise<void>): Promise<void> {
  relay.setFaults(faults, perServer);
  try {
    await body();
  } finally {
    relay.setFaults({});
    resetBehaviors();
  }
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('RAIDA under packet loss', () => {
  it('0 %: every server ready, every verdict exact', async () => {
    const tally = newTally('loss 0 %');
    await withFaults({}, {}, async () => {
      for (let r = 0; r < ROUNDS; r++) {
        const echo = await round(tally, 'echo', wallet, { attemptTimeoutMs: AMPLE_TIMEOUT_MS });
        expect(echo.totals.ready).toBe(SERVERS);
        const detect = (await round(tally, 'detect', wallet, { attemptTimeoutMs: AMPLE_TIMEOUT_MS })) as RaidaCoinResult;
        expect(detect.coins.map((coin) => coin.verdict)).toEqual(['authentic', 'fracked', 'counterfeit']);
        expect(detect.coins[1]!.failedOn).toEqual(FRACKED_ON);
      }
    });
  });

  it.each([0.1, 0.3, 0.5])('%s loss each way: only servers whose replies arrived are ready or vote', async (loss) => {
    const tally = newTally(`loss ${loss * 100} % each way`);
    await withFaults({ requestLoss: loss, replyLoss: loss }, {}, async () => {
      for (let r = 0; r < ROUNDS; r++) {
        const echo = await round(tally, 'echo');
        expect(echo.statuses.every((status) => status === 'ready' || status === 'timeout')).toBe(true);
        await round(tally, 'detect');
      }
    });
    // Some datagrams must actually have been lost, or this scenario proved nothing.
    expect(tally.statuses.timeout).toBeGreaterThan(0);
  });

  it('30 % loss each way with 2 retries: retried servers are validated like the first attempt', async () => {
    const tally = newTally('loss 30 % each way, retries 2');
    await withFaults({ requestLoss: 0.3, replyLoss: 0.3 }, {}, async () => {
      for (let r = 0; r < Math.max(1, ROUNDS / 2); r++) {
        const echo = await round(tally, 'echo', wallet, { retries: 2 });
        expect(echo.statuses.every((status) => status === 'ready' || status === 'timeout')).toBe(true);
        expect(echo.servers.some((server) => server.attempts > 1)).toBe(true);
      }
    });
  });
});

describe('RAIDA with duplicated, delayed and reordered replies', () => {
  it('duplicates: the first copy counts, the others are dropped as late', async () => {
    const tally = newTally('every reply sent 2–3 times');
    await withFaults({ duplicate: 1, delayMs: [0, 20] }, {}, async () => {
      for (let r = 0; r < ROUNDS; r++) {
        expect((await round(tally, 'echo', wallet, { attemptTimeoutMs: AMPLE_TIMEOUT_MS })).totals.ready).toBe(SERVERS);
        const detect = (await round(tally, 'detect', wallet, { attemptTimeoutMs: AMPLE_TIMEOUT_MS })) as RaidaCoinResult;
        expect(detect.coins.map((coin) => coin.verdict)).toEqual(['authentic', 'fracked', 'counterfeit']);
      }
    });
    // Every copy after the first reaches the pooled socket once its item has settled: dropped as late.
    expect(tally.udp.droppedLate).toBeGreaterThan(0);
  });

  it('delays of 0–300 ms against a 150 ms timeout: late replies are timeouts, never taken for a later call', async () => {
    const tally = newTally('replies delayed 0–300 ms, timeout 150 ms');
    await withFaults({ delayMs: [0, 300] }, {}, async () => {
      for (let r = 0; r < ROUNDS; r++) {
        const echo = await round(tally, 'echo');
        expect(echo.statuses.every((status) => status === 'ready' || status === 'timeout')).toBe(true);
        await round(tally, 'detect');
      }
    });
    expect(tally.statuses.timeout).toBeGreaterThan(0);
    expect(tally.statuses['protocol-error']).toBe(0);
  });

  it('reordered across servers and across the three requests of a split detect: every verdict exact', async () => {
    const tally = newTally('replies shuffled in groups of 8');
    await withFaults({ reorderWindow: 8, delayMs: [0, 5] }, {}, async () => {
      for (let r = 0; r < ROUNDS; r++) {
        expect((await round(tally, 'echo', wallet, { attemptTimeoutMs: AMPLE_TIMEOUT_MS })).totals.ready).toBe(SERVERS);
        const detect = (await round(tally, 'detect', bigWallet, { attemptTimeoutMs: AMPLE_TIMEOUT_MS })) as RaidaCoinResult;
        expect(detect.statuses.every((status) => status === 'pass')).toBe(true);
        expect(detect.coins.every((coin) => coin.verdict === 'authentic' && coin.pass === SERVERS)).toBe(true);
        const small = (await round(tally, 'detect', wallet, { attemptTimeoutMs: AMPLE_TIMEOUT_MS })) as RaidaCoinResult;
        expect(small.coins.map((coin) => coin.verdict)).toEqual(['authentic', 'fracked', 'counterfeit']);
      }
    });
  });
});

describe('RAIDA with spoofed, forged and malformed replies', () => {
  it('spoofed sources are never accepted: a server heard only through a spoof times out', async () => {
    const tally = newTally('spoofed sources (10 of 25 servers)');
    for (const id of range(0, 5)) raida.setBehavior(id, { spoof: 'only' });
    for (const id of range(5, 10)) raida.setBehavior(id, { spoof: 'before-real' });
    const relaySpoofed = Object.fromEntries(range(10, 15).map((index) => [index, { spoof: 1 }]));
    await withFaults({}, relaySpoofed, async () => {
      for (let r = 0; r < ROUNDS; r++) {
        const echo = await round(tally, 'echo');
        for (const index of [...range(0, 5), ...range(10, 15)]) expect(echo.statuses[index]).toBe('timeout');
        for (const index of range(5, 10)) {
          // Only under load can the real reply miss the deadline; the spoofed copy is never the one taken.
          if (echo.statuses[index] === 'ready') expect(echo.servers[index]!.executionTimeUs).not.toBe(SPOOFED_EXECUTION_TIME_US);
        }
        const detect = (await round(tally, 'detect')) as RaidaCoinResult;
        for (const index of [...range(0, 5), ...range(10, 15)]) expect(detect.statuses[index]).toBe('timeout');
      }
    });
    expect(tally.udp.droppedSpoofed).toBeGreaterThan(0);
  });

  it('wrong signatures are protocol errors, and 25 forged "all pass" replies cannot make a counterfeit coin authentic', async () => {
    const tally = newTally('wrong signatures (12 of 25, then all 25 forging 241)');
    for (const id of range(0, 12)) raida.setBehavior(id, { wrongSignature: true });
    await withFaults({}, {}, async () => {
      for (let r = 0; r < ROUNDS; r++) {
        const echo = await round(tally, 'echo', wallet, { attemptTimeoutMs: REJECTED_TIMEOUT_MS });
        expect(echo.statuses.slice(0, 12).every((status) => status === 'protocol-error')).toBe(true);
        // Reported once no valid reply came in time: the bad one might have been a forgery.
        expect(echo.servers[0]).toMatchObject({ errorCode: 'RAIDA_REPLY_SIGNATURE_MISMATCH', latencyMs: REJECTED_TIMEOUT_MS });
        expect(echo.totals).toMatchObject({ ready: 13, consensus: true });
      }
      for (let id = 0; id < SERVERS; id++) raida.setBehavior(id, { wrongSignature: true, statusOverride: 241 });
      for (let r = 0; r < ROUNDS; r++) {
        const forged = (await round(tally, 'detect', [counterfeitCoin(toFake)], {
          attemptTimeoutMs: REJECTED_TIMEOUT_MS,
        })) as RaidaCoinResult;
        expect(forged.statuses.every((status) => status === 'protocol-error')).toBe(true);
        expect(forged.coins[0]).toMatchObject({ verdict: 'limbo', pass: 0 });
      }
    });
  });

  it('a minority of servers lying with valid signatures cannot make a counterfeit coin authentic', async () => {
    const tally = newTally('12 servers answer 241 to everything (valid signatures)');
    for (const id of range(0, 12)) raida.setBehavior(id, { statusOverride: 241 });
    await withFaults({}, {}, async () => {
      for (let r = 0; r < ROUNDS; r++) {
        const detect = (await round(tally, 'detect', wallet, { attemptTimeoutMs: AMPLE_TIMEOUT_MS })) as RaidaCoinResult;
        expect(detect.coins[2]).toMatchObject({ verdict: 'counterfeit', pass: 12, fail: 13 });
      }
    });
  });

  it('replies truncated: every server a protocol error, none ready', async () => {
    const tally = newTally('every reply truncated');
    await withFaults({ truncate: 1 }, {}, async () => {
      for (let r = 0; r < ROUNDS; r++) {
        const echo = await round(tally, 'echo', wallet, { attemptTimeoutMs: REJECTED_TIMEOUT_MS });
        expect(echo.statuses.every((status) => status === 'protocol-error')).toBe(true);
        const detect = (await round(tally, 'detect', wallet, { attemptTimeoutMs: REJECTED_TIMEOUT_MS })) as RaidaCoinResult;
        expect(detect.coins.every((coin) => coin.verdict === 'limbo')).toBe(true);
      }
    });
    expect(tally.udp.droppedRejected).toBe(tally.calls * SERVERS);
  });

  it('replies preceded by garbage from the server address: the garbage is rejected, the real reply taken', async () => {
    const tally = newTally('every reply preceded by garbage from the server address');
    await withFaults({ garbage: 1 }, {}, async () => {
      for (let r = 0; r < ROUNDS; r++) {
        const echo = await round(tally, 'echo', wallet, { attemptTimeoutMs: AMPLE_TIMEOUT_MS });
        expect(echo.totals.ready).toBe(SERVERS);
        const detect = (await round(tally, 'detect', wallet, { attemptTimeoutMs: AMPLE_TIMEOUT_MS })) as RaidaCoinResult;
        expect(detect.coins.map((coin) => coin.verdict)).toEqual(['authentic', 'fracked', 'counterfeit']);
      }
    });
    expect(tally.udp.droppedRejected).toBe(tally.calls * SERVERS);
  });

  it('replies preceded by a forged success from the server address: the forgery is rejected, never ready or pass', async () => {
    const tally = newTally('every reply preceded by a forged 250/241 (guessed signature)');
    await withFaults({ forge: 1 }, {}, async () => {
      for (let r = 0; r < ROUNDS; r++) {
        const echo = await round(tally, 'echo', wallet, { attemptTimeoutMs: AMPLE_TIMEOUT_MS });
        expect(echo.totals.ready).toBe(SERVERS);
        // The forged "all pass" arrives first; the genuine "all fail" behind it is the one counted.
        const detect = (await round(tally, 'detect', [counterfeitCoin(toFake)], { attemptTimeoutMs: AMPLE_TIMEOUT_MS })) as RaidaCoinResult;
        expect(detect.statuses.every((status) => status === 'fail')).toBe(true);
        expect(detect.coins[0]).toMatchObject({ verdict: 'counterfeit', pass: 0, fail: SERVERS });
      }
    });
    expect(tally.udp.droppedRejected).toBe(tally.calls * SERVERS);
  });

  it('replies padded with up to 64 KiB of junk: protocol errors (or timeouts where the OS dropped a burst), none ready', async () => {
    const tally = newTally('every reply padded (20 % to 65,507 bytes)');
    await withFaults({ oversize: 1 }, {}, async () => {
      for (let r = 0; r < ROUNDS; r++) {
        for (const call of ['echo', 'detect'] as const) {
          const result = await round(tally, call);
          // A burst of 64 KiB datagrams can overflow the client socket's receive buffer: the OS drops them.
          expect(result.statuses.every((status) => status === 'protocol-error' || status === 'timeout')).toBe(true);
        }
      }
    });
    expect(tally.statuses['protocol-error']).toBeGreaterThan(0);
    // Datagrams up to the UDP maximum are read and rejected by the codec, not dropped unread.
    expect(tally.udp.droppedOversize).toBe(0);
  });

  it('half the replies truncated, padded or preceded by garbage: each server is ready only on an intact reply', async () => {
    const tally = newTally('half the replies altered');
    await withFaults({ truncate: 0.2, oversize: 0.2, garbage: 0.15 }, {}, async () => {
      for (let r = 0; r < ROUNDS; r++) {
        await round(tally, 'echo');
        await round(tally, 'detect');
      }
    });
    expect(tally.statuses['protocol-error']).toBeGreaterThan(0);
    expect(tally.statuses.ready).toBeGreaterThan(0);
  });
});

describe('RAIDA servers flapping between up and down', () => {
  it('before and during calls: a server is ready or votes only when it answered', async () => {
    const tally = newTally('servers flapping (30 % down, 5 flip mid-call)');
    const random = createRandom(`${SEED}:flap`);
    const flip = (): void => {
      for (let i = 0; i < 5; i++) {
        const id = random.int(0, SERVERS - 1);
        raida.setBehavior(id, { down: !raida.behavior(id).down });
      }
    };
    let flipped = false;
    const onReply = (completed: number): void => {
      if (!flipped && completed >= 5) {
        flipped = true;
        flip();
      }
    };
    await withFaults({ delayMs: [0, 10] }, {}, async () => {
      for (let r = 0; r < ROUNDS * 3; r++) {
        for (let id = 0; id < SERVERS; id++) raida.setBehavior(id, { down: random.chance(0.3) });
        flipped = false;
        await round(tally, r % 2 === 0 ? 'echo' : 'detect', wallet, { onReply });
      }
    });
    expect(tally.statuses.timeout).toBeGreaterThan(0);
  });
});

describe('RAIDA under every fault at once', () => {
  it('keeps every invariant', async () => {
    const tally = newTally('all faults at once + flapping');
    const random = createRandom(`${SEED}:soak`);
    const faults: ChaosFaults = {
      requestLoss: 0.1,
      replyLoss: 0.1,
      duplicate: 0.2,
      delayMs: [0, 60],
      reorderWindow: 4,
      truncate: 0.05,
      oversize: 0.05,
      garbage: 0.05,
      forge: 0.05,
      spoof: 0.05,
    };
    await withFaults(faults, {}, async () => {
      for (let r = 0; r < ROUNDS * 3; r++) {
        for (let id = 0; id < SERVERS; id++) {
          const patch: RaidaBehaviorPatch = {
            down: random.chance(0.1),
            wrongSignature: random.chance(0.05),
            spoof: random.chance(0.05) ? 'before-real' : false,
          };
          raida.setBehavior(id, patch);
        }
        await round(tally, r % 2 === 0 ? 'echo' : 'detect', wallet, { retries: r % 3 === 0 ? 1 : 0 });
      }
    });
    expect(tally.calls).toBe(ROUNDS * 3);
  });

  it('leaves no socket or timer behind once client, relay and cluster are closed', async () => {
    await relay.newRound();
    // Between calls nothing is pending; the pooled sockets are released by close() below.
    expect(udp.stats()).toMatchObject({ inFlight: 0 });
    await client.close();
    await udp.close();
    await relay.close();
    await raida.close();
    await handlesSettled();
    expect(udpHandles()).toBe(udpBefore);
    expect(timers()).toBe(timersBefore);
  });
});

function printReport(): void {
  const head =
    '| scenario | calls | ready | pass / fail / mixed | timeout | protocol-error | server-error | verdicts authentic / fracked / counterfeit / limbo | client dropped: spoofed / late / rejected |';
  const lines = [head, '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'];
  for (const t of tallies) {
    const s = t.statuses;
    const v = t.verdicts;
    lines.push(
      `| ${t.scenario} | ${t.calls} | ${s.ready} | ${s.pass} / ${s.fail} / ${s.mixed} | ${s.timeout} | ${s['protocol-error']} | ${s['server-error']} | ${v.authentic} / ${v.fracked} / ${v.counterfeit} / ${v.limbo} | ${t.udp.droppedSpoofed} / ${t.udp.droppedLate} / ${t.udp.droppedRejected} |`,
    );
  }
  console.log(`\nRAIDA chaos, CHAOS_ROUNDS=${ROUNDS}, seed ${SEED}\n${lines.join('\n')}\n`);
}
