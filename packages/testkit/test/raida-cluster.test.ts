import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  RAIDA_STATUS,
  buildDetectRequest,
  buildEchoRequest,
  buildPownRequest,
  buildVersionRequest,
  parseServerList,
  validateReply,
} from '@x/raida-protocol';
import type { Coin } from '@x/raida-protocol';
import { coinForRaida, counterfeitCoin, createTestCoins, frackCoin, startRaidaCluster, type RaidaCluster } from '@x/testkit';
import { ask, exchange, fromHex, openRawClient, toHex, type RawClient } from './raida-helpers.js';

const REFERENCE_AN = fromHex('00112233445566778899AABBCCDDEEFF');
const REFERENCE_ECHO = fromHex(`
  01 00 03 00 00 00 00 06 00 00 00 00 00 00 00 00
  00 00 00 00 00 00 00 12 00 00 00 00 00 00 AB CD
  00 01 02 03 04 05 06 07 08 09 0A 0B 92 70 C9 65
  3E 3E`);

function outcomeOf(result: ReturnType<typeof validateReply>): string {
  if (result.outcome === 'coins') return result.verdicts.map((v) => (v ? 'P' : 'F')).join('');
  return `${result.outcome}:${result.status.code}`;
}

describe('startRaidaCluster: the protocol on real sockets', () => {
  const coins = createTestCoins(10, 'cluster-test');
  let cluster: RaidaCluster;
  let client: RawClient;

  beforeAll(async () => {
    cluster = await startRaidaCluster({
      seed: 7,
      coins: [...coins, { denomination: 0, serialNumber: 0x1234, an: REFERENCE_AN }],
    });
  });
  afterAll(() => cluster.close());
  beforeEach(async () => {
    client = await openRawClient();
  });
  afterEach(() => client.close());

  it('starts 25 servers on 127.0.0.1 with distinct ports and a server list the protocol package reads back', () => {
    expect(cluster.servers).toHaveLength(25);
    expect(cluster.servers.map((server) => server.id)).toEqual([...Array(25).keys()]);
    expect(new Set(cluster.servers.map((server) => server.port)).size).toBe(25);
    for (const server of cluster.servers) expect(server.host).toBe('127.0.0.1');
    expect(parseServerList(cluster.serverList, { expectedCount: 25 })).toEqual(cluster.servers);
    expect(cluster.coinId).toBe(6);
  });

  it('answers an echo from all 25 servers at once, each from its own port with its own id', async () => {
    const requests = cluster.servers.map((server) => buildEchoRequest({ raidaId: server.id }));
    await Promise.all(cluster.servers.map((server, id) => client.send(server.port, requests[id]!.bytes)));
    const replies = await client.collect(25);
    const byPort = new Map(replies.map((reply) => [reply.port, reply]));
    for (const server of cluster.servers) {
      const reply = byPort.get(server.port);
      expect(reply, `RAIDA ${server.id}`).toBeDefined();
      const result = validateReply(reply!.bytes, requests[server.id]!.expectation);
      expect(result.outcome).toBe('success');
      expect(result.reply.raidaId).toBe(server.id);
    }
    for (const stats of cluster.stats()) expect(stats.byStatus[250]).toBeGreaterThanOrEqual(1);
  });

  it('reproduces the reference echo vector byte for byte (execution time aside)', async () => {
    const reply = await exchange(client, cluster, 3, REFERENCE_ECHO);
    expect(reply).toBeDefined();
    const bytes = reply!.bytes;
    expect(bytes).toHaveLength(32);
    bytes.fill(0, 12, 16);
    expect(toHex(bytes)).toBe(
      toHex(fromHex('03 00 FA 00 00 01 AB CD 00 00 00 00 00 00 00 00  00 01 02 03 04 05 06 07 08 09 0A 0B 92 70 C9 65')),
    );
  });

  it('answers version with 250 and the 8-byte version body, as in the reference', async () => {
    const version = REFERENCE_ECHO.slice();
    version[5] = 1;
    const reply = await exchange(client, cluster, 3, version);
    expect(reply!.bytes).toHaveLength(42);
    expect(toHex(reply!.bytes.subarray(9, 12))).toBe('00 00 0a');
    expect(toHex(reply!.bytes.subarray(32))).toBe(toHex(fromHex('32 30 32 35 30 33 32 33 3E 3E')));

    const result = await ask(client, cluster, 11, buildVersionRequest({ raidaId: 11 }));
    expect(result.outcome === 'success' && result.version).toBe('20250323');
  });

  it('detects authentic, counterfeit and mixed coin sets with the reference bitfields', async () => {
    const id = 5;
    const good = coins.map((coin) => coinForRaida(coin, id));
    const bad = coins.map((coin) => coinForRaida(counterfeitCoin(coin), id));
    const detect = async (list: Coin[]): Promise<string> =>
      outcomeOf(await ask(client, cluster, id, buildDetectRequest({ raidaId: id, coins: list })));

    const allPass = await ask(client, cluster, id, buildDetectRequest({ raidaId: id, coins: good.slice(0, 3) }));
    expect(allPass.status.code).toBe(RAIDA_STATUS.allPass);
    const allFail = await ask(client, cluster, id, buildDetectRequest({ raidaId: id, coins: bad.slice(0, 3) }));
    expect(allFail.status.code).toBe(RAIDA_STATUS.allFail);

    expect(await detect([good[0]!, bad[1]!])).toBe('PF');
    expect(await detect([bad[0]!, good[1]!, good[2]!, bad[3]!])).toBe('FPPF');

    // The reference's raw bitfields: [good, bad] → 01, [bad, good] → 02, [good, bad, good] → 05, [bad × 8, good] → 00 01.
    const bodies: [Coin[], string][] = [
      [[good[0]!, bad[1]!], '01'],
      [[bad[0]!, good[1]!], '02'],
      [[good[0]!, bad[1]!, good[2]!], '05'],
      [[...bad.slice(0, 8), good[8]!], '00 01'],
    ];
    for (const [list, body] of bodies) {
      const result = await ask(client, cluster, id, buildDetectRequest({ raidaId: id, coins: list }));
      expect(result.status.code).toBe(RAIDA_STATUS.mixed);
      expect(toHex(result.reply.body!)).toBe(body);
    }
  });

  it('fails a coin on exactly the servers where it is fracked, and an unknown coin everywhere', async () => {
    const fracked = frackCoin(coins[0]!, [2, 9]);
    for (const id of [1, 2, 9]) {
      const result = await ask(client, cluster, id, buildDetectRequest({ raidaId: id, coins: [coinForRaida(fracked, id)] }));
      expect(result.status.code, `RAIDA ${id}`).toBe(id === 1 ? RAIDA_STATUS.allPass : RAIDA_STATUS.allFail);
    }
    const unknown: Coin = { denomination: 1, serialNumber: 4, an: REFERENCE_AN };
    expect((await ask(client, cluster, 1, buildDetectRequest({ raidaId: 1, coins: [unknown] }))).status.code).toBe(RAIDA_STATUS.allFail);
  });

  it('answers the reference detect (den 0, sn 0x1234) with 241', async () => {
    const result = await ask(
      client,
      cluster,
      3,
      buildDetectRequest({ raidaId: 3, coins: [{ denomination: 0, serialNumber: 0x1234, an: REFERENCE_AN }] }),
    );
    expect(result.status.code).toBe(241);
  });

  it('pown makes the PAN the AN for each passing coin only', async () => {
    const id = 12;
    const target = coins[9]!;
    const other = coins[8]!;
    const pan = fromHex('A0A1A2A3A4A5A6A7A8A9AAABACADAEAF');
    const otherPan = fromHex('B0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF');
    const oldAn = coinForRaida(target, id).an;
    const otherAn = coinForRaida(other, id).an;

    const pown = await ask(
      client,
      cluster,
      id,
      buildPownRequest({
        raidaId: id,
        coins: [
          { ...coinForRaida(target, id), pan },
          { ...coinForRaida(counterfeitCoin(other), id), pan: otherPan },
        ],
      }),
    );
    expect(outcomeOf(pown)).toBe('PF');
    expect(cluster.getAn(id, target)).toEqual(pan);
    expect(cluster.getAn(id, other)).toEqual(otherAn);
    expect(cluster.getAn(id + 1, target)).toEqual(coinForRaida(target, id + 1).an);

    const detectWith = async (an: Uint8Array): Promise<number> =>
      (await ask(client, cluster, id, buildDetectRequest({ raidaId: id, coins: [{ ...target, an }] }))).status.code;
    expect(await detectWith(pan)).toBe(RAIDA_STATUS.allPass);
    expect(await detectWith(oldAn)).toBe(RAIDA_STATUS.allFail);
  });

  it('speaks encryption type 1 keyed by the key coin AN this server holds', async () => {
    const id = 4;
    const keyCoin = coinForRaida(coins[1]!, id);
    const encryption = { type: 1, keyCoin } as const;

    const echo = await ask(client, cluster, id, buildEchoRequest({ raidaId: id, encryption }));
    expect(echo.outcome).toBe('success');

    const version = await ask(client, cluster, id, buildVersionRequest({ raidaId: id, encryption }));
    expect(version.outcome === 'success' && version.version).toBe('20250323');
    expect(version.outcome === 'success' && version.replyCounter).toBe('continue');

    const list = [coinForRaida(coins[2]!, id), coinForRaida(counterfeitCoin(coins[3]!), id), coinForRaida(coins[4]!, id)];
    // The convention the version reply showed, as a client learns it once: under 'auto', a 1-byte bitfield reads
    // well-formed under both conventions about one time in 32 and validation refuses to guess.
    const detect = await ask(client, cluster, id, buildDetectRequest({ raidaId: id, encryption, coins: list }), {
      replyCounter: 'continue',
    });
    expect(outcomeOf(detect)).toBe('PFP');
    // The bitfield travels encrypted: on the wire it is not the plain 05.
    expect(detect.reply.body).toHaveLength(1);
  });

  it('answers type 1 with 34 when the key coin is unknown, and a key coin AN that is wrong cannot produce a valid reply', async () => {
    const id = 4;
    const unknownKey = { type: 1, keyCoin: { denomination: 2, serialNumber: 999, an: REFERENCE_AN } } as const;
    const unknownRequest = buildEchoRequest({ raidaId: id, encryption: unknownKey });
    const previous = buildEchoRequest({ raidaId: id, echo: fromHex('0F 0F') });
    expect((await ask(client, cluster, id, previous)).outcome).toBe('success');
    const missing = await exchange(client, cluster, id, unknownRequest.bytes);
    expect(missing!.bytes[2]).toBe(RAIDA_STATUS.encryptionCoinNotFound);
    // As observed on a real server: fresh echo bytes, and a stale signature (the previous request's), since a
    // server without the key cannot compute challenge XOR key.
    expect(missing!.bytes.subarray(6, 8)).toEqual(unknownRequest.expectation.echo);
    expect(missing!.bytes.subarray(16, 32)).toEqual(previous.expectation.signature);
    expect(missing!.bytes).toHaveLength(32);

    // The server decrypts with its own AN, gets a challenge with a broken CRC and answers 37,
    // signed with a key the client does not have.
    const wrongKey = { type: 1, keyCoin: coinForRaida(counterfeitCoin(coins[1]!), id) } as const;
    const request = buildEchoRequest({ raidaId: id, encryption: wrongKey });
    const reply = await exchange(client, cluster, id, request.bytes);
    expect(reply!.bytes[2]).toBe(RAIDA_STATUS.invalidCrc);
    expect(() => validateReply(reply!.bytes, request.expectation)).toThrow(
      expect.objectContaining({ code: 'RAIDA_REPLY_SIGNATURE_MISMATCH' }),
    );
  });

  it('answers every header and packet error with its status', async () => {
    const id = 3;
    const echo = (): Uint8Array => buildEchoRequest({ raidaId: id }).bytes;
    const mutate = (bytes: Uint8Array, change: (b: Uint8Array) => void): Uint8Array => {
      change(bytes);
      return bytes;
    };
    const detectBytes = buildDetectRequest({ raidaId: id, coins: [coinForRaida(coins[0]!, id)] }).bytes;
    const cases: [string, Uint8Array, number][] = [
      ['routing byte 0', mutate(echo(), (b) => (b[0] = 0)), 255],
      ['split id', mutate(echo(), (b) => (b[1] = 1)), 2],
      ['request for another RAIDA', buildEchoRequest({ raidaId: id + 1 }).bytes, 3],
      ['shard 4', mutate(echo(), (b) => (b[3] = 4)), 4],
      ['command group 16', mutate(echo(), (b) => (b[4] = 16)), 5],
      ['unknown command 0/99', mutate(echo(), (b) => (b[5] = 99)), 6],
      ['coin id 1', buildEchoRequest({ raidaId: id, coinId: 1 }).bytes, 7],
      ['body length past the datagram', mutate(echo(), (b) => (b[23] = 0x13)), 16],
      [
        'over the 1024-byte limit',
        buildDetectRequest({ raidaId: id, maxLength: 4096, coins: Array(60).fill(coinForRaida(coins[0]!, id)) }).bytes,
        16,
      ],
      ['encryption type 2', mutate(echo(), (b) => (b[16] = 2)), 27],
      ['bad terminator', mutate(echo(), (b) => (b[b.length - 1] = 0x3f)), 33],
      ['challenge CRC', buildEchoRequest({ raidaId: id, challenge: new Uint8Array(16).fill(0xee) }).bytes, 37],
      [
        'detect body of a partial coin',
        mutate(detectBytes.slice(0, detectBytes.length - 3), (b) => {
          b[23] = b[23]! - 3;
          b[b.length - 2] = 0x3e;
          b[b.length - 1] = 0x3e;
        }),
        39,
      ],
    ];
    for (const [name, bytes, status] of cases) {
      const reply = await exchange(client, cluster, id, bytes);
      expect(reply, name).toBeDefined();
      expect(reply!.bytes[2], name).toBe(status);
      if (status === 27) {
        // The observed 48-byte layout: 00 00 1B 00, execution µs, 8 × 00, the encryption type, 31 × 00.
        const expected = fromHex(`00 00 1B 00 00 00 00 00 00 00 00 00 00 00 00 00 02 ${'00 '.repeat(31)}`);
        expected.set(reply!.bytes.subarray(4, 8), 4);
        expect(reply!.bytes, name).toEqual(expected);
      } else {
        expect(reply!.bytes[0], name).toBe(id);
      }
    }
  });

  it('fills the stale fields of a header error with leftovers of the previous request', async () => {
    const id = 20;
    const first = buildEchoRequest({ raidaId: id, echo: fromHex('AB CD') });
    expect((await ask(client, cluster, id, first)).outcome).toBe('success');
    const misrouted = buildEchoRequest({ raidaId: id + 1, echo: fromHex('12 34') });
    const reply = await exchange(client, cluster, id, misrouted.bytes);
    expect(reply!.bytes[2]).toBe(RAIDA_STATUS.invalidRaidaId);
    expect(toHex(reply!.bytes.subarray(6, 8))).toBe('ab cd');
    expect(reply!.bytes.subarray(16, 32)).toEqual(first.expectation.signature);
    const result = validateReply(reply!.bytes, misrouted.expectation);
    expect(result.outcome === 'error' && result.staleFields).toBe(true);
  });

  it('stays silent for datagrams shorter than a header, then answers the next request normally', async () => {
    const id = 6;
    for (const length of [0, 1, 16, 31]) {
      await client.send(cluster.servers[id]!.port, REFERENCE_ECHO.slice(0, length));
    }
    // Replies leave in arrival order: if any short datagram had been answered, its reply would come first.
    const probe = buildEchoRequest({ raidaId: id });
    expect((await ask(client, cluster, id, probe)).outcome).toBe('success');
    const stats = cluster.stats(id);
    expect(stats.ignored).toBe(4);
    expect(client.queued()).toBe(0);
  });

  it('counts what each server saw', async () => {
    cluster.resetStats();
    const id = 15;
    await ask(client, cluster, id, buildEchoRequest({ raidaId: id }));
    await exchange(client, cluster, id, buildEchoRequest({ raidaId: id, coinId: 9 }).bytes);
    await client.send(cluster.servers[id]!.port, new Uint8Array(3));
    await ask(client, cluster, id, buildEchoRequest({ raidaId: id }));
    expect(cluster.stats(id)).toEqual({
      id,
      received: 4,
      ignored: 1,
      dropped: 0,
      crashes: 0,
      answered: 3,
      spoofed: 0,
      pending: 0,
      socketErrors: 0,
      byStatus: { 250: 2, 7: 1 },
    });
    expect(cluster.stats()[0]!.received).toBe(0);
  });
});
