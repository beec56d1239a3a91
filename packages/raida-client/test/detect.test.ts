import { afterEach, describe, expect, it } from 'vitest';
import { counterfeitCoin, createTestCoins, frackCoin } from '@x/testkit';
import { clientFor, closeAll, cluster, received } from './helpers.js';

afterEach(closeAll);

describe('detect: verdicts from 25 votes', () => {
  it('tells authentic, fracked and counterfeit coins apart and names the servers to heal', async () => {
    const [good, fracked, fake, unknown] = createTestCoins(4, 7);
    const raida = await cluster({ coins: [good!, fracked!, fake!] });
    const wallet = [good!, frackCoin(fracked!, [2, 9, 17]), counterfeitCoin(fake!), unknown!];

    const result = await clientFor(raida, { attemptTimeoutMs: 2000 }).detect(wallet);

    expect(result.command).toBe('detect');
    expect(result.coins.map((coin) => coin.verdict)).toEqual(['authentic', 'fracked', 'counterfeit', 'counterfeit']);
    expect(result.coins[0]).toMatchObject({
      index: 0,
      serialNumber: good!.serialNumber,
      denomination: 1,
      pass: 25,
      fail: 0,
      unknown: 0,
      failedOn: [],
    });
    expect(result.coins[1]).toMatchObject({ pass: 22, fail: 3, unknown: 0, failedOn: [2, 9, 17] });
    expect(result.coins[1]!.votes[9]).toBe('fail');
    expect(result.coins[1]!.votes[10]).toBe('pass');
    expect(result.coins[2]).toMatchObject({ pass: 0, fail: 25 });
    // Every server saw a mix: status 243 with a bitfield, read coin by coin.
    expect(result.statuses.every((status) => status === 'mixed')).toBe(true);
    expect(result.servers[0]).toMatchObject({ statusCode: 243, statusName: 'mixed', verdicts: [true, true, false, false] });
    expect(result.servers[9]!.verdicts).toEqual([true, false, false, false]);
    expect(result.totals).toMatchObject({ mixed: 25, replied: 25, consensus: true });
  });

  it('reports pass (241) and fail (242) when a server agrees on every coin', async () => {
    const coins = createTestCoins(3, 8);
    const raida = await cluster({ coins });
    const client = clientFor(raida, { attemptTimeoutMs: 2000 });

    const good = await client.detect(coins);
    expect(good.statuses.every((status) => status === 'pass')).toBe(true);
    expect(good.servers[3]).toMatchObject({ statusCode: 241, statusName: 'allPass', verdicts: [true, true, true] });
    expect(good.coins.every((coin) => coin.verdict === 'authentic')).toBe(true);

    const bad = await client.detect(coins.map(counterfeitCoin));
    expect(bad.statuses.every((status) => status === 'fail')).toBe(true);
    expect(bad.servers[3]).toMatchObject({ statusCode: 242, statusName: 'allFail' });
    expect(bad.totals).toMatchObject({ fail: 25, consensus: true });
  });

  it('leaves coins in limbo when too many servers are silent, and says there is no consensus', async () => {
    const [coin] = createTestCoins(1, 9);
    // 13 silent servers: at most 12 votes, never 13 either way.
    const behaviors = Object.fromEntries(Array.from({ length: 13 }, (_, i) => [i + 12, { down: true }]));
    const raida = await cluster({ coins: [coin!], behaviors });
    const result = await clientFor(raida, { attemptTimeoutMs: 300 }).detect([coin!]);
    expect(result.coins[0]).toMatchObject({ verdict: 'limbo', pass: 12, fail: 0, unknown: 13, failedOn: [] });
    expect(result.totals).toMatchObject({ pass: 12, timeout: 13, consensus: false });
  });

  it('counts servers that answer with an error as no vote: limbo again', async () => {
    const [coin] = createTestCoins(1, 10);
    const behaviors: Record<number, object> = {};
    for (let id = 0; id < 7; id++) behaviors[id] = { down: true };
    for (let id = 7; id < 13; id++) behaviors[id] = { statusOverride: 48 };
    const raida = await cluster({ coins: [coin!], behaviors });
    const result = await clientFor(raida, { attemptTimeoutMs: 300 }).detect([counterfeitCoin(coin!)]);
    expect(result.coins[0]).toMatchObject({ verdict: 'limbo', pass: 0, fail: 12, unknown: 13 });
    expect(result.servers[7]).toMatchObject({ status: 'server-error', statusCode: 48, statusName: 'legacyDatabaseError' });
  });

  it('still decides with a few servers silent: fracked with the unknowns counted apart', async () => {
    const [coin] = createTestCoins(1, 11);
    const raida = await cluster({ coins: [coin!], behaviors: { 0: { down: true }, 1: { down: true }, 2: { down: true } } });
    const result = await clientFor(raida, { attemptTimeoutMs: 300 }).detect([frackCoin(coin!, [4, 5])]);
    expect(result.coins[0]).toMatchObject({ verdict: 'fracked', pass: 20, fail: 2, unknown: 3, failedOn: [4, 5] });
  });

  it('splits more coins than fit in 1024 bytes into several requests per server', async () => {
    const coins = createTestCoins(100, 12);
    const raida = await cluster({ coins: coins.slice(0, 97) });
    const result = await clientFor(raida, { attemptTimeoutMs: 2000 }).detect(coins);
    // 46 detect coins fit in one request: 46 + 46 + 8.
    expect(received(raida).every((n) => n === 3)).toBe(true);
    expect(result.coins).toHaveLength(100);
    expect(result.coins.slice(0, 97).every((coin) => coin.verdict === 'authentic' && coin.pass === 25)).toBe(true);
    expect(result.coins.slice(97).every((coin) => coin.verdict === 'counterfeit')).toBe(true);
    // One status per server, as if a single request had carried every coin.
    expect(result.statuses.every((status) => status === 'mixed')).toBe(true);
    expect(result.servers[0]!.statusCode).toBe(243);
    expect(result.servers[0]!.verdicts).toEqual([...Array.from({ length: 97 }, () => true), false, false, false]);
  });

  it('uses encryption type 1 with a key coin the servers hold', async () => {
    const [key, coin, stranger] = createTestCoins(3, 13);
    const raida = await cluster({ coins: [key!, coin!] });
    const client = clientFor(raida, { attemptTimeoutMs: 2000 });

    const sealed = await client.detect([coin!, counterfeitCoin(coin!)], { encryption: { type: 1, keyCoin: key! } });
    expect(sealed.coins.map((c) => c.verdict)).toEqual(['authentic', 'counterfeit']);
    expect(sealed.statuses.every((status) => status === 'mixed')).toBe(true);

    // A key coin the servers do not hold: status 34 from everyone, so no vote at all.
    const unknownKey = await client.detect([coin!], { encryption: { type: 1, keyCoin: stranger! } });
    expect(unknownKey.statuses.every((status) => status === 'server-error')).toBe(true);
    expect(unknownKey.servers[0]).toMatchObject({ statusCode: 34, statusName: 'encryptionCoinNotFound' });
    expect(unknownKey.coins[0]!.verdict).toBe('limbo');

    // A key whose AN differs from the server's: the server decrypts garbage and answers 37 with a
    // signature nobody without its key can check, which is indistinguishable from a forgery.
    const wrongKey = await client.detect([coin!], { encryption: { type: 1, keyCoin: counterfeitCoin(key!) } });
    expect(wrongKey.statuses.every((status) => status === 'protocol-error')).toBe(true);
    expect(wrongKey.servers[0]!.errorCode).toBe('RAIDA_REPLY_SIGNATURE_MISMATCH');
  });

  it('retries detect for silent servers only', async () => {
    const [coin] = createTestCoins(1, 14);
    const raida = await cluster({ coins: [coin!], behaviors: { 6: { down: true } } });
    const result = await clientFor(raida, { attemptTimeoutMs: 200 }).detect([coin!], {
      retries: 1,
      onReply: (event) => {
        if (event.index === 6 && event.attempt === 0) raida.setBehavior(6, { down: false });
      },
    });
    expect(received(raida)[6]).toBe(2);
    expect(received(raida)[0]).toBe(1);
    expect(result.servers[6]).toMatchObject({ status: 'pass', attempts: 2 });
    expect(result.coins[0]).toMatchObject({ verdict: 'authentic', pass: 25 });
  });
});

describe('detect with earlyFinish', () => {
  it('stops waiting once every verdict is settled: the slow server is skipped', async () => {
    const coins = createTestCoins(2, 15);
    const raida = await cluster({ coins, behaviors: { 4: { slowMs: 400 } } });
    const client = clientFor(raida, { attemptTimeoutMs: 2000 });

    const early = await client.detect(coins, { earlyFinish: true });
    expect(early.coins.every((coin) => coin.verdict === 'authentic')).toBe(true);
    expect(early.servers[4]).toMatchObject({ status: 'skipped', errorCode: 'RAIDA_EARLY_FINISH', errorCategory: 'aborted' });
    expect(early.totals.skipped).toBeGreaterThanOrEqual(1);
    expect(early.totals.pass + early.totals.skipped).toBe(25);
    expect(early.coins[0]!.pass).toBeGreaterThanOrEqual(13);

    const full = await client.detect(coins);
    expect(full.servers[4]!.status).toBe('pass');
    expect(full.totals.skipped).toBe(0);
  });

  it('settles limbo too: once neither side can reach 13, the servers still out are not awaited', async () => {
    const [coin] = createTestCoins(1, 16);
    const behaviors: Record<number, object> = { 23: { down: true }, 24: { down: true } };
    for (let id = 20; id < 23; id++) behaviors[id] = { statusOverride: 48 };
    const raida = await cluster({ coins: [coin!], behaviors });
    // 10 pass, 10 fail, 3 errors: with only 2 servers left, neither side can reach 13.
    const wallet = frackCoin(coin!, [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    const result = await clientFor(raida, { attemptTimeoutMs: 10_000 }).detect([wallet], { earlyFinish: true });
    expect(result.coins[0]).toMatchObject({ verdict: 'limbo', pass: 10, fail: 10, unknown: 5 });
    // Nobody timed out: the two silent servers were simply no longer awaited.
    expect(result.totals).toMatchObject({ fail: 10, pass: 10, 'server-error': 3, skipped: 2, timeout: 0, consensus: false });
    expect(result.statuses.slice(23)).toEqual(['skipped', 'skipped']);
  });
});
