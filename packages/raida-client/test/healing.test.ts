import { afterEach, describe, expect, it } from 'vitest';
import { createRaidaHealer, createRaidaClient, DEFAULT_FIX_TIMEOUT_MS } from '@x/raida-client';
import type { RaidaHealer } from '@x/raida-client';
import { fixedAn } from '@x/raida-protocol';
import { createTestCoins, frackCoin, startRaidaCluster } from '@x/testkit';
import type { RaidaCluster, RaidaClusterOptions, TestCoin } from '@x/testkit';

let cluster: RaidaCluster | undefined;
let healer: RaidaHealer | undefined;
afterEach(async () => {
  await healer?.close();
  await cluster?.close();
  healer = undefined;
  cluster = undefined;
});

async function setup(
  options: RaidaClusterOptions = {},
): Promise<{ coin: TestCoin; wallet: TestCoin; cluster: RaidaCluster; healer: RaidaHealer }> {
  const [coin] = createTestCoins(1, 21);
  cluster = await startRaidaCluster({ coins: [coin!], ...options });
  healer = createRaidaHealer({ servers: cluster.servers, attemptTimeoutMs: 1000 });
  return { coin: coin!, wallet: frackCoin(coin!, [5, 20]), cluster, healer };
}

const PG = Uint8Array.from({ length: 16 }, (_, i) => 200 - i);

describe('healing calls across the RAIDA', () => {
  it('getTickets: a ticket from each passing server, 242 and no ticket where the coin is fracked, a status and latency each', async () => {
    const { wallet, healer: h } = await setup();
    const result = await h.getTickets([wallet]);
    expect(result.command).toBe('get_ticket');
    expect(result.statuses.filter((status) => status === 'pass')).toHaveLength(23);
    expect([result.statuses[5], result.statuses[20]]).toEqual(['fail', 'fail']);
    expect(result.tickets.filter((ticket) => ticket !== 0)).toHaveLength(23);
    expect([result.tickets[5], result.tickets[20]]).toEqual([0, 0]);
    expect(result.latencies.every((ms) => ms >= 0)).toBe(true);
    expect(result.servers[0]).toMatchObject({ id: 0, statusCode: 241, passed: [true] });
  });

  it('fix on the failing servers with those tickets sets the new ANs there, and detect then passes on all 25', async () => {
    const { wallet, coin, cluster: raida, healer: h } = await setup();
    const { tickets } = await h.getTickets([wallet]);
    const events: number[] = [];
    const fix = await h.fix([coin], PG, tickets, { only: [5, 20], onReply: (event) => events.push(event.server.id) });
    expect(fix.statuses.filter((status) => status === 'skipped')).toHaveLength(23);
    expect([fix.servers[5], fix.servers[20]]).toMatchObject([
      { status: 'pass', fixed: [true] },
      { status: 'pass', fixed: [true] },
    ]);
    expect(events.sort((a, b) => a - b)).toEqual([5, 20]);
    const healed = {
      ...wallet,
      ans: wallet.ans.map((an, id) => (id === 5 || id === 20 ? fixedAn(id, coin.denomination, coin.serialNumber, PG) : an)),
    };
    expect(raida.getAn(20, coin)).toEqual(healed.ans[20]);
    const client = createRaidaClient({ servers: raida.servers });
    const detect = await client.detect([healed]);
    await client.close();
    expect(detect.coins[0]).toMatchObject({ verdict: 'authentic', pass: 25 });
  });

  it('a server with the published header-size bug answers 242 (fail) and keeps the old AN', async () => {
    const { wallet, coin, cluster: raida, healer: h } = await setup({ healing: { headerSizeBug: [20] } });
    const { tickets } = await h.getTickets([wallet]);
    const before = raida.getAn(20, coin);
    const fix = await h.fix([coin], PG, tickets, { only: [5, 20] });
    expect([fix.statuses[5], fix.statuses[20]]).toEqual(['pass', 'fail']);
    expect(fix.servers[20]).toMatchObject({ statusCode: 242, fixed: [false] });
    expect(raida.getAn(20, coin)).toEqual(before);
  });

  it('find: which of AN and PAN each server holds; a silent server is a timeout after its own timeout', async () => {
    const { coin, healer: h } = await setup({ behaviors: { 7: { down: true } } });
    const pans = coin.ans.map((an) => an.map((byte) => byte ^ 1));
    const swapped = {
      ...coin,
      ans: coin.ans.map((an, id) => (id === 3 ? pans[id]! : an)),
      pans: coin.ans.map((an, id) => (id === 3 ? an : pans[id]!)),
    };
    const result = await h.find([swapped], { attemptTimeoutMs: 200 });
    expect(result.servers[0]).toMatchObject({ status: 'ready', statusCode: 209, found: ['an'] });
    expect(result.servers[3]).toMatchObject({ status: 'ready', statusCode: 210, found: ['pan'] });
    expect(result.servers[7]).toMatchObject({ status: 'timeout', latencyMs: 200 });
  });

  it('fix waits 65 s by default and needs the target list; bad coins are refused before anything is sent', async () => {
    const { coin, healer: h } = await setup();
    expect(DEFAULT_FIX_TIMEOUT_MS).toBeGreaterThanOrEqual(65_000);
    const tickets = new Array<number>(25).fill(0);
    await expect(h.fix([coin], PG, tickets, {} as { only: number[] })).rejects.toThrow(/only/);
    await expect(h.fix([coin], PG.subarray(1), tickets, { only: [1] })).rejects.toThrow(/pg/);
    await expect(h.getTickets([{ ...coin, ans: coin.ans.slice(0, 3) }])).rejects.toMatchObject({ code: 'RAIDA_INVALID_COIN' });
  });
});
