import { afterEach, describe, expect, it } from 'vitest';
import { isXError } from '@x/errors';
import { AN_LENGTH, NETWORK_SERIAL_NUMBER_LIMIT, RAIDA_STATUS, buildDetectRequest, buildEchoRequest } from '@x/raida-protocol';
import { coinForRaida, counterfeitCoin, createTestCoins, frackCoin, startRaidaCluster, type RaidaCluster } from '@x/testkit';
import { ask, exchange, openRawClient, thrownBy, type RawClient } from './raida-helpers.js';

function expectInvalid(fn: () => unknown, field: string): void {
  const error = thrownBy(fn);
  expect(isXError(error, 'TESTKIT_RAIDA_INVALID_OPTIONS'), String(error)).toBe(true);
  expect(error).toMatchObject({ category: 'config', context: { option: field } });
}

async function expectInvalidStart(options: unknown, field: string): Promise<void> {
  const error: unknown = await startRaidaCluster(options as never).then(
    async (cluster) => {
      await cluster.close();
      throw new Error('expected startRaidaCluster to reject');
    },
    (rejection: unknown) => rejection,
  );
  expect(isXError(error, 'TESTKIT_RAIDA_INVALID_OPTIONS'), String(error)).toBe(true);
  expect(error).toMatchObject({ category: 'config', context: { option: field } });
}

describe('test coins', () => {
  it('createTestCoins is reproducible from its seed, with distinct serial numbers and one AN per server', () => {
    const coins = createTestCoins(50, 'wallet');
    expect(createTestCoins(50, 'wallet')).toEqual(coins);
    expect(createTestCoins(50, 'other')).not.toEqual(coins);
    expect(new Set(coins.map((coin) => coin.serialNumber)).size).toBe(50);
    expect(coins.every((coin) => coin.denomination === 1 && coin.serialNumber > 0 && coin.serialNumber < NETWORK_SERIAL_NUMBER_LIMIT)).toBe(
      true,
    );
    expect(
      coins.every((coin) => coin.ans.length === 25 && coin.ans.every((an) => an instanceof Uint8Array && an.length === AN_LENGTH)),
    ).toBe(true);
    const distinctAns = new Set(coins.flatMap((coin) => coin.ans.map((an) => Buffer.from(an).toString('hex'))));
    expect(distinctAns.size).toBe(50 * 25);
    // The first coins do not change when more are asked for.
    expect(createTestCoins(3, 'wallet')).toEqual(coins.slice(0, 3));
    const small = createTestCoins(2, 9, { raidaCount: 5, denomination: -3 });
    expect(small.map((coin) => [coin.denomination, coin.ans.length])).toEqual([
      [-3, 5],
      [-3, 5],
    ]);
  });

  it('frackCoin and counterfeitCoin change the ANs of the chosen servers only, leaving the original alone', () => {
    const [coin] = createTestCoins(1, 'frack');
    const original = coin!.ans.map((an) => an.slice());
    const fracked = frackCoin(coin!, [0, 24]);
    fracked.ans.forEach((an, id) => {
      if (id === 0 || id === 24) expect(an).not.toEqual(original[id]);
      else expect(an).toEqual(original[id]);
    });
    const fake = counterfeitCoin(coin!);
    fake.ans.forEach((an, id) => expect(an).not.toEqual(original[id]));
    expect(coin!.ans).toEqual(original);
    expect(coinForRaida(coin!, 7)).toEqual({ denomination: coin!.denomination, serialNumber: coin!.serialNumber, an: original[7] });
  });

  it('rejects bad arguments with a config error naming the argument', () => {
    const [coin] = createTestCoins(1, 'bad');
    expectInvalid(() => createTestCoins(-1), 'createTestCoins(n)');
    expectInvalid(() => createTestCoins(1, 1, { denomination: 7 }), 'createTestCoins(options).denomination');
    expectInvalid(() => coinForRaida(coin!, 25), 'coinForRaida(raidaId)');
    expectInvalid(() => frackCoin(coin!, [3, 30]), 'frackCoin(raidaIds)[1]');
    expectInvalid(() => counterfeitCoin({ ...coin!, ans: [new Uint8Array(3)] }), 'counterfeitCoin(coin).ans[0]');
  });
});

describe('the coin table', () => {
  let cluster: RaidaCluster | undefined;
  let client: RawClient | undefined;
  afterEach(async () => {
    await client?.close();
    await cluster?.close();
    client = cluster = undefined;
  });

  it('loads a shared AN or per-server ANs, and changes live through setAn, addCoin and removeCoin', async () => {
    const shared = new Uint8Array(16).fill(1);
    const [own] = createTestCoins(1, 'table', { raidaCount: 3 });
    cluster = await startRaidaCluster({ count: 3, coins: [{ denomination: 0, serialNumber: 5, an: shared }, own!] });
    client = await openRawClient();
    const detect = async (id: number, an: Uint8Array, serialNumber = 5): Promise<number> =>
      (await ask(client!, cluster!, id, buildDetectRequest({ raidaId: id, coins: [{ denomination: 0, serialNumber, an }] }))).status.code;

    for (const id of [0, 1, 2]) {
      expect(cluster.getAn(id, { denomination: 0, serialNumber: 5 })).toEqual(shared);
      expect(cluster.getAn(id, own!)).toEqual(own!.ans[id]);
      expect(await detect(id, shared)).toBe(RAIDA_STATUS.allPass);
    }
    expect(cluster.getAn(0, { denomination: 0, serialNumber: 6 })).toBeUndefined();

    const replaced = new Uint8Array(16).fill(2);
    cluster.setAn(1, { denomination: 0, serialNumber: 5 }, replaced);
    replaced.fill(9); // the table keeps its own copy
    expect(await detect(1, shared)).toBe(RAIDA_STATUS.allFail);
    expect(await detect(1, new Uint8Array(16).fill(2))).toBe(RAIDA_STATUS.allPass);
    expect(await detect(0, shared)).toBe(RAIDA_STATUS.allPass);

    cluster.addCoin({ denomination: 0, serialNumber: 77, ans: [shared, shared, replaced] });
    expect(await detect(2, new Uint8Array(16).fill(9), 77)).toBe(RAIDA_STATUS.allPass);
    cluster.removeCoin({ denomination: 0, serialNumber: 77 });
    expect(await detect(2, new Uint8Array(16).fill(9), 77)).toBe(RAIDA_STATUS.allFail);
    expect(cluster.getAn(2, { denomination: 0, serialNumber: 77 })).toBeUndefined();

    // A coin only one server knows works as a type-1 key there and nowhere else.
    cluster.setAn(0, { denomination: 2, serialNumber: 8 }, shared);
    const encryption = { type: 1, keyCoin: { denomination: 2, serialNumber: 8, an: shared } } as const;
    expect((await ask(client, cluster, 0, buildEchoRequest({ raidaId: 0, encryption }))).outcome).toBe('success');
    expect((await exchange(client, cluster, 1, buildEchoRequest({ raidaId: 1, encryption }).bytes))!.bytes[2]).toBe(
      RAIDA_STATUS.encryptionCoinNotFound,
    );

    expectInvalid(() => cluster!.setAn(0, { denomination: 0, serialNumber: 5 }, new Uint8Array(15)), 'setAn(an)');
    expectInvalid(() => cluster!.addCoin({ denomination: 0, serialNumber: 1, ans: [shared] }), 'addCoin(coin).ans');
    expectInvalid(() => cluster!.getAn(0, { denomination: 9, serialNumber: 1 }), 'getAn(coin).denomination');
    expect(thrownBy(() => cluster!.getAn(3, own!))).toMatchObject({ code: 'TESTKIT_RAIDA_UNKNOWN_SERVER', category: 'config' });
  });

  it('honours count, coinId and maxRequestLength', async () => {
    cluster = await startRaidaCluster({ count: 2, coinId: 9, maxRequestLength: 100 });
    client = await openRawClient();
    expect(cluster.servers).toHaveLength(2);
    expect(cluster.coinId).toBe(9);
    expect((await ask(client, cluster, 1, buildEchoRequest({ raidaId: 1, coinId: 9 }))).outcome).toBe('success');
    expect((await exchange(client, cluster, 1, buildEchoRequest({ raidaId: 1 }).bytes))!.bytes[2]).toBe(RAIDA_STATUS.invalidCoinId);
    const coins = createTestCoins(3, 'len', { raidaCount: 2 }).map((coin) => coinForRaida(coin, 0));
    // 32 + 18 + 3 × 21 = 113 bytes: over this server's 100-byte limit.
    const reply = await exchange(client, cluster, 0, buildDetectRequest({ raidaId: 0, coinId: 9, coins }).bytes);
    expect(reply!.bytes[2]).toBe(RAIDA_STATUS.invalidPacketLength);
  });

  it('rejects bad options with a config error naming the field', async () => {
    const an = new Uint8Array(16);
    await expectInvalidStart({ count: 0 }, 'count');
    await expectInvalidStart({ count: 257 }, 'count');
    await expectInvalidStart({ coinId: 70_000 }, 'coinId');
    await expectInvalidStart({ maxRequestLength: 40 }, 'maxRequestLength');
    await expectInvalidStart({ seed: Number.NaN }, 'seed');
    await expectInvalidStart({ coins: [{ denomination: 1, serialNumber: 1 }] }, 'coins[0]');
    await expectInvalidStart({ coins: [{ denomination: 1, serialNumber: 1, an, ans: [] }] }, 'coins[0]');
    await expectInvalidStart({ count: 2, coins: [{ denomination: 1, serialNumber: 1, ans: [an] }] }, 'coins[0].ans');
    await expectInvalidStart(
      {
        coins: [
          { denomination: 1, serialNumber: 1, an },
          { denomination: 1, serialNumber: 1, an },
        ],
      },
      'coins[1]',
    );
    await expectInvalidStart({ coins: [{ denomination: 1, serialNumber: -1, an }] }, 'coins[0].serialNumber');
    await expectInvalidStart({ behaviors: { 25: { down: true } } }, 'behaviors');
    await expectInvalidStart({ behaviors: { 3: { dropRate: -0.1 } } }, 'behaviors[3].dropRate');
    await expectInvalidStart({ behavior: { latency: { medianMs: 5, sigma: 9 } } }, 'behavior.latency.sigma');
    await expectInvalidStart({ onRequest: 'log' }, 'onRequest');
    await expectInvalidStart({ servers: 3 }, 'options');
  });
});
