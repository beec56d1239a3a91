import { afterEach, describe, expect, it, vi } from 'vitest';
import { isXError } from '@x/errors';
import {
  RAIDA_STATUS,
  buildDetectRequest,
  buildEchoRequest,
  buildPownRequest,
  buildVersionRequest,
  validateReply,
} from '@x/raida-protocol';
import {
  SPOOFED_EXECUTION_TIME_US,
  coinForRaida,
  createRandom,
  createTestCoins,
  sampleRaidaLatencyMs,
  startRaidaCluster,
  type RaidaCluster,
  type RaidaClusterOptions,
} from '@x/testkit';
import { ask, eventRecorder, exchange, openRawClient, thrownBy, type RawClient } from './raida-helpers.js';

const opened: { cluster?: RaidaCluster; client?: RawClient }[] = [];

async function setup(options: RaidaClusterOptions): Promise<{ cluster: RaidaCluster; client: RawClient }> {
  const entry: { cluster?: RaidaCluster; client?: RawClient } = {};
  opened.push(entry);
  entry.cluster = await startRaidaCluster(options);
  entry.client = await openRawClient();
  return { cluster: entry.cluster, client: entry.client };
}

afterEach(async () => {
  vi.useRealTimers();
  for (const entry of opened.splice(0)) {
    await entry.client?.close();
    await entry.cluster?.close();
  }
});

describe('per-server behaviour', () => {
  it('a down server reads every datagram and answers none, while the others answer', async () => {
    const recorder = eventRecorder();
    const { cluster, client } = await setup({ count: 3, behaviors: { 1: { down: true } }, onRequest: recorder.onRequest });
    await client.send(cluster.servers[1]!.port, buildEchoRequest({ raidaId: 1 }).bytes);
    await recorder.waitFor(1);
    expect(recorder.events[0]).toMatchObject({ raidaId: 1, outcome: 'dropped', reason: 'server is down' });
    expect((await ask(client, cluster, 2, buildEchoRequest({ raidaId: 2 }))).outcome).toBe('success');
    expect(await client.next(100)).toBeUndefined();
    expect(cluster.stats(1)).toMatchObject({ received: 1, dropped: 1, answered: 0 });

    cluster.setBehavior(1, { down: false });
    expect((await ask(client, cluster, 1, buildEchoRequest({ raidaId: 1 }))).outcome).toBe('success');
  });

  it('a wrong-signature server sends replies validateReply rejects as a protocol error', async () => {
    const coins = createTestCoins(2, 'sig', { raidaCount: 2 });
    const { cluster, client } = await setup({ count: 2, coins, behaviors: [undefined, { wrongSignature: true }] });
    for (const request of [buildEchoRequest({ raidaId: 1 }), buildDetectRequest({ raidaId: 1, coins: [coinForRaida(coins[0]!, 1)] })]) {
      const reply = await exchange(client, cluster, 1, request.bytes);
      expect(reply!.port).toBe(cluster.servers[1]!.port);
      expect(() => validateReply(reply!.bytes, request.expectation)).toThrow(
        expect.objectContaining({ code: 'RAIDA_REPLY_SIGNATURE_MISMATCH', category: 'protocol' }),
      );
    }
    expect((await ask(client, cluster, 0, buildEchoRequest({ raidaId: 0 }))).outcome).toBe('success');
  });

  it("spoof 'only' answers from another 127.0.0.1 port and never from its own", async () => {
    const { cluster, client } = await setup({ count: 2, behaviors: { 0: { spoof: 'only' } } });
    const request = buildEchoRequest({ raidaId: 0 });
    const reply = await exchange(client, cluster, 0, request.bytes);
    expect(reply!.address).toBe('127.0.0.1');
    expect(reply!.port).not.toBe(cluster.servers[0]!.port);
    expect(cluster.servers.map((server) => server.port)).not.toContain(reply!.port);
    // The content is a perfect reply: only the source port gives it away.
    const result = validateReply(reply!.bytes, request.expectation);
    expect(result.outcome).toBe('success');
    expect(result.reply.executionTimeUs).toBe(SPOOFED_EXECUTION_TIME_US);
    // Nothing follows from the real port: the next datagram is the answer to a probe of server 1.
    expect((await ask(client, cluster, 1, buildEchoRequest({ raidaId: 1 }))).outcome).toBe('success');
    expect(cluster.stats(0)).toMatchObject({ answered: 1, spoofed: 1 });
  });

  it("spoof 'before-real' sends the spoofed copy first, then the real reply from the server's port", async () => {
    const { cluster, client } = await setup({ count: 1, behaviors: { 0: { spoof: 'before-real' } } });
    const request = buildVersionRequest({ raidaId: 0 });
    await client.send(cluster.servers[0]!.port, request.bytes);
    const [first, second] = await client.collect(2);
    expect(first!.port).not.toBe(cluster.servers[0]!.port);
    expect(second!.port).toBe(cluster.servers[0]!.port);
    const real = validateReply(second!.bytes, request.expectation);
    expect(real.outcome === 'success' && real.version).toBe('20250323');
    expect(real.reply.executionTimeUs).not.toBe(SPOOFED_EXECUTION_TIME_US);
  });

  it('statusOverride answers every request with that status and runs nothing', async () => {
    const coins = createTestCoins(1, 'override', { raidaCount: 1 });
    const { cluster, client } = await setup({ count: 1, coins, behavior: { statusOverride: RAIDA_STATUS.legacyDatabaseError } });
    const coin = coinForRaida(coins[0]!, 0);
    const pown = buildPownRequest({ raidaId: 0, coins: [{ ...coin, pan: new Uint8Array(16).fill(7) }] });
    const result = await ask(client, cluster, 0, pown);
    expect(result.outcome === 'error' && !result.staleFields && result.status.code).toBe(48);
    expect(cluster.getAn(0, coin)).toEqual(coin.an);

    // Header errors are overridden too; a stale-field status keeps the stale rules.
    cluster.setBehavior(0, { statusOverride: RAIDA_STATUS.invalidShardId });
    const misrouted = await exchange(client, cluster, 0, buildEchoRequest({ raidaId: 9 }).bytes);
    expect(misrouted!.bytes[2]).toBe(4);

    cluster.setBehavior(0, { statusOverride: null });
    expect((await ask(client, cluster, 0, pown)).outcome).toBe('coins');
    expect(cluster.getAn(0, coin)).toEqual(new Uint8Array(16).fill(7));
  });

  it('serves a configurable version and the restart counter convention', async () => {
    const coins = createTestCoins(1, 'version', { raidaCount: 2 });
    const { cluster, client } = await setup({ count: 2, coins, behaviors: { 1: { version: '20990101', replyCounter: 'restart' } } });
    const encryption = { type: 1, keyCoin: coinForRaida(coins[0]!, 1) } as const;
    // Fixed echo, nonce and challenge: under 'auto', a restart-convention body can in rare keystreams also
    // decrypt to printable ASCII the continue way; a random request would let this test fail by chance.
    const fixed = {
      echo: new Uint8Array([0xab, 0xcd]),
      nonce: new Uint8Array([1, 2, 3, 4, 5, 6]),
      random: (n: number) => new Uint8Array(n).fill(7),
    };
    const result = await ask(client, cluster, 1, buildVersionRequest({ raidaId: 1, encryption, ...fixed }));
    expect(result.outcome === 'success' && [result.version, result.replyCounter]).toEqual(['20990101', 'restart']);
    const plain = await ask(client, cluster, 0, buildVersionRequest({ raidaId: 0 }));
    expect(plain.outcome === 'success' && plain.version).toBe('20250323');
  });

  it('reports slowMs in the execution time and adds it to the delay', async () => {
    const recorder = eventRecorder();
    const { cluster, client } = await setup({ count: 1, behavior: { slowMs: 5 }, onRequest: recorder.onRequest });
    const result = await ask(client, cluster, 0, buildEchoRequest({ raidaId: 0 }));
    expect(result.reply.executionTimeUs).toBeGreaterThanOrEqual(5000);
    expect(recorder.events[0]!.delayMs).toBe(5);
  });

  it('survives an onRequest observer that throws, reporting it as a process warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning.message);
    };
    process.on('warning', onWarning);
    try {
      const { cluster, client } = await setup({
        count: 1,
        onRequest: () => {
          throw new Error('observer bug');
        },
      });
      expect((await ask(client, cluster, 0, buildEchoRequest({ raidaId: 0 }))).outcome).toBe('success');
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.some((message) => message.includes('observer bug'))).toBe(true);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('rejects a bad behaviour patch with a config error naming the field, and keeps the old behaviour', async () => {
    const { cluster } = await setup({ count: 2 });
    const before = cluster.behavior(1);
    const cases: [unknown, string][] = [
      [{ dropRate: 2 }, 'setBehavior(1).dropRate'],
      [{ latency: { medianMs: 10 } }, 'setBehavior(1).latency.sigma'],
      [{ latency: -1 }, 'setBehavior(1).latency'],
      [{ spoof: true }, 'setBehavior(1).spoof'],
      [{ statusOverride: 256 }, 'setBehavior(1).statusOverride'],
      [{ version: 'é' }, 'setBehavior(1).version'],
      [{ speed: 1 }, 'setBehavior(1)'],
    ];
    for (const [patch, field] of cases) {
      const error = thrownBy(() => cluster.setBehavior(1, patch as never));
      expect(isXError(error, 'TESTKIT_RAIDA_INVALID_OPTIONS')).toBe(true);
      expect(error).toMatchObject({ category: 'config', context: { option: field } });
    }
    expect(() => cluster.setBehavior(2, { down: true })).toThrow(expect.objectContaining({ code: 'TESTKIT_RAIDA_UNKNOWN_SERVER' }));
    expect(cluster.behavior(1)).toBe(before);
  });
});

describe('seeded randomness', () => {
  async function dropPattern(seed: number): Promise<string> {
    const recorder = eventRecorder();
    const { cluster, client } = await setup({ count: 1, seed, behavior: { dropRate: 0.5 }, onRequest: recorder.onRequest });
    const requests = Array.from({ length: 40 }, () => buildEchoRequest({ raidaId: 0 }));
    for (const request of requests) await client.send(cluster.servers[0]!.port, request.bytes);
    await recorder.waitFor(40);
    const pattern = recorder.events.map((event) => (event.outcome === 'dropped' ? 'x' : '.')).join('');
    const answered = pattern.split('').filter((c) => c === '.').length;
    // Every answered request got exactly its reply, in order.
    const replies = await client.collect(answered);
    const expected = requests.filter((_, i) => pattern[i] === '.');
    replies.forEach((reply, i) => expect(validateReply(reply.bytes, expected[i]!.expectation).outcome).toBe('success'));
    expect(cluster.stats(0)).toMatchObject({ received: 40, dropped: 40 - answered, answered });
    return pattern;
  }

  it('dropRate drops the same requests for the same seed, and others for another seed', async () => {
    const first = await dropPattern(42);
    const again = await dropPattern(42);
    const other = await dropPattern(43);
    expect(again).toBe(first);
    expect(other).not.toBe(first);
    const dropped = first.split('').filter((c) => c === 'x').length;
    expect(dropped).toBeGreaterThan(8);
    expect(dropped).toBeLessThan(32);
  });

  it('draws log-normal latencies from the seed, one stream per server', async () => {
    async function delays(seed: number): Promise<number[]> {
      const recorder = eventRecorder();
      const { cluster, client } = await setup({
        count: 1,
        seed,
        behavior: { latency: { medianMs: 20, sigma: 0.5 } },
        onRequest: recorder.onRequest,
      });
      for (let i = 0; i < 30; i++) await client.send(cluster.servers[0]!.port, buildEchoRequest({ raidaId: 0 }).bytes);
      await recorder.waitFor(30);
      return recorder.events.map((event) => event.delayMs);
    }
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const a = await delays(5);
    expect(await delays(5)).toEqual(a);
    expect(await delays(6)).not.toEqual(a);
    const sorted = [...a].sort((x, y) => x - y);
    expect(sorted[15]).toBeGreaterThan(10);
    expect(sorted[15]).toBeLessThan(40);
    expect(new Set(a).size).toBe(30);
    // The same draws a user gets from the exported sampler with the server's stream.
    const stream = createRandom(5).fork('raida:0').fork('latency');
    expect(a[0]).toBe(sampleRaidaLatencyMs({ medianMs: 20, sigma: 0.5 }, stream));
  });

  it('holds each reply for its latency (fake timers) and sends it when the time has passed', async () => {
    const recorder = eventRecorder();
    const { cluster, client } = await setup({ count: 2, behaviors: { 0: { latency: 50 } }, onRequest: recorder.onRequest });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const slow = buildEchoRequest({ raidaId: 0 });
    await client.send(cluster.servers[0]!.port, slow.bytes);
    await recorder.waitFor(1);
    expect(recorder.events[0]).toMatchObject({ outcome: 'answered', delayMs: 50 });
    expect(cluster.stats(0)).toMatchObject({ pending: 1, answered: 0 });

    // The fast server is not held up by the slow one.
    expect((await ask(client, cluster, 1, buildEchoRequest({ raidaId: 1 }))).outcome).toBe('success');

    vi.advanceTimersByTime(49);
    expect(cluster.stats(0)).toMatchObject({ pending: 1, answered: 0 });
    vi.advanceTimersByTime(1);
    expect(cluster.stats(0)).toMatchObject({ pending: 0, answered: 1 });
    const reply = await client.next();
    expect(reply!.port).toBe(cluster.servers[0]!.port);
    expect(validateReply(reply!.bytes, slow.expectation).outcome).toBe('success');
  });

  it('keeps the fate a request drew when the behaviour changes before its reply is due', async () => {
    const recorder = eventRecorder();
    const { cluster, client } = await setup({ count: 1, behavior: { latency: 30, spoof: 'only' }, onRequest: recorder.onRequest });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    await client.send(cluster.servers[0]!.port, buildEchoRequest({ raidaId: 0 }).bytes);
    await recorder.waitFor(1);
    cluster.setBehavior(0, { spoof: false, down: true });
    vi.advanceTimersByTime(30);
    const reply = await client.next();
    expect(reply!.port).not.toBe(cluster.servers[0]!.port);
  });
});

describe('an AES-NI host (aesNiHost)', () => {
  // The reference's type-1 echo to RAIDA 3 (key coin den 1, sn 0x1234, AN 00112233…EEFF), header and encrypted challenge.
  const HEADER = fromHexText('01 00 03 00 00 00 00 06 00 00 00 00 00 00 00 00 01 01 00 00 12 34 00 12 A1 B2 C3 D4 E5 F6 AB CD');
  const SEALED_CHALLENGE = fromHexText('AA 76 F6 F3 70 7F 74 8B B8 58 1F 24 77 0D FB AA');
  const KEY = { denomination: 1, serialNumber: 0x1234, an: fromHexText('00112233445566778899AABBCCDDEEFF') };

  /** That echo with its body stretched to `bodyLength` (zeros after the challenge), as the reference's crash runs did. */
  function type1Echo(bodyLength: number): Uint8Array {
    const bytes = new Uint8Array(32 + bodyLength);
    bytes.set(HEADER);
    bytes[22] = bodyLength >> 8;
    bytes[23] = bodyLength & 0xff;
    bytes.set(SEALED_CHALLENGE, 32);
    bytes.set([0x3e, 0x3e], bytes.length - 2);
    return bytes;
  }

  function fromHexText(text: string): Uint8Array {
    const clean = text.replace(/\s+/g, '');
    return Uint8Array.from({ length: clean.length / 2 }, (_, i) => parseInt(clean.slice(i * 2, i * 2 + 2), 16));
  }

  it('gets no answer to the body lengths that crashed a real server, counts each as a crash, and answers the ones that survived', async () => {
    const recorder = eventRecorder();
    const { cluster, client } = await setup({ count: 4, coins: [KEY], behavior: { aesNiHost: true }, onRequest: recorder.onRequest });
    const crashed = [19, 22, 24, 39];
    const survived = [18, 25, 26, 30, 33, 34, 41, 42, 49, 50, 57];
    for (const bodyLength of [...crashed, ...survived]) await client.send(cluster.servers[3]!.port, type1Echo(bodyLength));
    await recorder.waitFor(crashed.length + survived.length);
    const outcomes = recorder.events.map((event) => [event.length - 32, event.outcome]);
    expect(outcomes).toEqual([...crashed.map((n) => [n, 'crashed']), ...survived.map((n) => [n, 'answered'])]);
    expect(recorder.events[0]).toMatchObject({
      command: 'echo',
      status: undefined,
      reason: 'a type-1 body of 19 bytes overruns the decryption buffer',
    });
    const replies = await client.collect(survived.length);
    expect(replies.every((reply) => reply.bytes[2] === RAIDA_STATUS.success)).toBe(true);
    expect(cluster.stats(3)).toMatchObject({ received: 15, crashes: 4, answered: 11 });
  });

  it('crashes only on type 1: the reference one-coin detect in plain (body length 39) is answered', async () => {
    const { cluster, client } = await setup({ count: 4, behavior: { aesNiHost: true } });
    const detect = fromHexText(`01 00 03 00 01 0A 00 06 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 27 00 00 00 00 00 00 AB CD
      00 01 02 03 04 05 06 07 08 09 0A 0B 92 70 C9 65 00 00 00 12 34 00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF 3E 3E`);
    const reply = await exchange(client, cluster, 3, detect);
    expect(reply!.bytes[2]).toBe(RAIDA_STATUS.allFail);
    expect(cluster.stats(3).crashes).toBe(0);
  });

  it('is off by default: the same crash length is answered', async () => {
    const { cluster, client } = await setup({ count: 4, coins: [KEY] });
    const reply = await exchange(client, cluster, 3, type1Echo(39));
    expect(reply!.bytes[2]).toBe(RAIDA_STATUS.success);
    expect(cluster.stats(3).crashes).toBe(0);
  });
});
