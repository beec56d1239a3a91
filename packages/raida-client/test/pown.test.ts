import { afterEach, describe, expect, it } from 'vitest';
import { isXError } from '@x/errors';
import { randomAns } from '@x/raida-client';
import { createRandom, createTestCoins, frackCoin } from '@x/testkit';
import { clientFor, closeAll, cluster, received } from './helpers.js';

afterEach(closeAll);

describe('pown', () => {
  it('moves every server to the new ANs: detect then passes with them and fails with the old ones', async () => {
    const coins = createTestCoins(2, 21);
    const raida = await cluster({ coins });
    const client = clientFor(raida, { attemptTimeoutMs: 2000 });
    const random = createRandom(5);
    const newAns = coins.map(() => randomAns(25, (n) => random.bytes(n)));

    const pown = await client.pown(coins, newAns);
    expect(pown.command).toBe('pown');
    expect(pown.statuses.every((status) => status === 'pass')).toBe(true);
    expect(pown.coins.map((coin) => coin.verdict)).toEqual(['authentic', 'authentic']);
    expect(raida.getAn(7, coins[1]!)).toEqual(newAns[1]![7]);

    const owned = coins.map((coin, i) => ({ ...coin, ans: newAns[i]! }));
    const withNew = await client.detect(owned);
    expect(withNew.coins.map((coin) => coin.verdict)).toEqual(['authentic', 'authentic']);
    const withOld = await client.detect(coins);
    expect(withOld.coins.map((coin) => coin.verdict)).toEqual(['counterfeit', 'counterfeit']);
  });

  it('changes nothing on servers that fail the coin: a fracked coin stays fracked on them', async () => {
    const [coin] = createTestCoins(1, 22);
    const raida = await cluster({ coins: [coin!] });
    const client = clientFor(raida, { attemptTimeoutMs: 2000 });
    const wallet = frackCoin(coin!, [3, 14]);
    const newAns = [randomAns(25)];

    const pown = await client.pown([wallet], newAns);
    expect(pown.coins[0]).toMatchObject({ verdict: 'fracked', pass: 23, fail: 2, failedOn: [3, 14] });
    expect(pown.statuses[3]).toBe('fail');
    expect(raida.getAn(3, coin!)).toEqual(coin!.ans[3]);
    expect(raida.getAn(4, coin!)).toEqual(newAns[0]![4]);

    const after = await client.detect([{ ...coin!, ans: newAns[0]! }]);
    expect(after.coins[0]).toMatchObject({ verdict: 'fracked', failedOn: [3, 14] });
  });

  it('is never resent: a silent server gets exactly one datagram', async () => {
    const [coin] = createTestCoins(1, 23);
    const raida = await cluster({ coins: [coin!], behaviors: { 10: { down: true } } });
    const result = await clientFor(raida, { attemptTimeoutMs: 300 }).pown([coin!], [randomAns(25)]);
    expect(result.servers[10]).toMatchObject({ status: 'timeout', attempts: 1, latencyMs: 300 });
    expect(received(raida).every((n) => n === 1)).toBe(true);
    expect(result.coins[0]).toMatchObject({ verdict: 'authentic', pass: 24, unknown: 1 });
  });

  it('refuses a retries option with a config error, before sending anything', async () => {
    const [coin] = createTestCoins(1, 24);
    const raida = await cluster({ coins: [coin!] });
    const client = clientFor(raida);
    const error: unknown = await client.pown([coin!], [randomAns(25)], { retries: 1 } as never).catch((e: unknown) => e);
    expect(isXError(error, 'RAIDA_CLIENT_INVALID_OPTIONS')).toBe(true);
    expect((error as { category: string }).category).toBe('config');
    expect((error as Error).message).toMatch(/not idempotent/);
    expect(received(raida).every((n) => n === 0)).toBe(true);
  });

  it('splits a large pown (26 coins per request) and checks every new AN before sending', async () => {
    const coins = createTestCoins(30, 25);
    const raida = await cluster({ coins });
    const client = clientFor(raida, { attemptTimeoutMs: 2000 });
    const newAns = coins.map(() => randomAns(25));

    const missing = newAns.map((ans, i) => (i === 29 ? ans.slice(0, 20) : ans));
    const error: unknown = await client.pown(coins, missing).catch((e: unknown) => e);
    expect(isXError(error, 'RAIDA_INVALID_COIN')).toBe(true);
    expect((error as Error).message).toBe('New ANs of coin 29: newAns[20] must be a Uint8Array of 16 bytes (the AN on RAIDA 20)');
    expect(received(raida).every((n) => n === 0)).toBe(true);

    const result = await client.pown(coins, newAns);
    expect(received(raida).every((n) => n === 2)).toBe(true);
    expect(result.coins.every((coin) => coin.verdict === 'authentic')).toBe(true);
    expect(raida.getAn(24, coins[29]!)).toEqual(newAns[29]![24]);
  });
});
