import { afterEach, describe, expect, it } from 'vitest';
import {
  buildFindRequest,
  buildFixRequest,
  buildGetTicketRequest,
  buildValidateTicketRequest,
  fixedAn,
  validateHealingReply,
} from '@x/raida-protocol';
import type { BuiltHealingRequest, ValidatedHealingReply } from '@x/raida-protocol';
import { coinForRaida, createTestCoins, frackCoin, startRaidaCluster } from '@x/testkit';
import type { RaidaCluster, RaidaClusterOptions, TestCoin } from '@x/testkit';
import { eventRecorder, openRawClient, resourceCounts } from './raida-helpers.js';
import type { RawClient } from './raida-helpers.js';

const PG = Uint8Array.from({ length: 16 }, (_, i) => i * 3);

let cluster: RaidaCluster | undefined;
let client: RawClient | undefined;
afterEach(async () => {
  await client?.close();
  await cluster?.close();
  client = undefined;
  cluster = undefined;
});

async function start(
  options: RaidaClusterOptions = {},
): Promise<{ coin: TestCoin; wallet: TestCoin; cluster: RaidaCluster; client: RawClient }> {
  const [coin] = createTestCoins(1, 7);
  cluster = await startRaidaCluster({ coins: [coin!], ...options });
  client = await openRawClient();
  // The wallet's ANs differ from the servers' on RAIDA 20 and 24: fracked there.
  return { coin: coin!, wallet: frackCoin(coin!, [20, 24]), cluster, client };
}

async function ask(raidaId: number, request: BuiltHealingRequest): Promise<ValidatedHealingReply> {
  const server = cluster!.servers[raidaId]!;
  await client!.send(server.port, request.bytes);
  const reply = await client!.next(5000);
  if (reply === undefined) throw new Error(`RAIDA ${raidaId} did not answer`);
  return validateHealingReply(reply.bytes, request.expectation);
}

async function ticketFrom(raidaId: number, wallet: TestCoin): Promise<number> {
  const reply = await ask(raidaId, buildGetTicketRequest({ raidaId, coins: [coinForRaida(wallet, raidaId)] }));
  if (reply.outcome !== 'ticket' || reply.ticket === undefined) throw new Error(`no ticket from RAIDA ${raidaId}`);
  return reply.ticket;
}

async function tickets(ids: readonly number[], wallet: TestCoin): Promise<number[]> {
  const out = new Array<number>(25).fill(0);
  for (const id of ids) out[id] = await ticketFrom(id, wallet);
  return out;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const id = (coin: TestCoin) => ({ denomination: coin.denomination, serialNumber: coin.serialNumber });

describe('simulated RAIDA healing', () => {
  it('get_ticket: 241 with a ticket where the AN matches, 242 with none where it does not', async () => {
    const { wallet } = await start();
    expect(await ask(0, buildGetTicketRequest({ raidaId: 0, coins: [coinForRaida(wallet, 0)] }))).toMatchObject({
      outcome: 'ticket',
      passed: [true],
    });
    expect(await ask(20, buildGetTicketRequest({ raidaId: 20, coins: [coinForRaida(wallet, 20)] }))).toMatchObject({
      outcome: 'ticket',
      passed: [false],
      ticket: undefined,
    });
    const unknown = { denomination: 6, serialNumber: 2_000_000, an: new Uint8Array(16) };
    expect(await ask(0, buildGetTicketRequest({ raidaId: 0, coins: [unknown] }))).toMatchObject({ outcome: 'error', status: { code: 40 } });
  });

  it('validate_ticket: one claim per claimant (250, then 44), 43 for an unknown ticket, 18 for claimant 25', async () => {
    const { wallet, coin } = await start();
    const ticket = await ticketFrom(3, wallet);
    const validate = (claimantId: number, value = ticket) => ask(3, buildValidateTicketRequest({ raidaId: 3, claimantId, ticket: value }));
    expect(await validate(9)).toMatchObject({ outcome: 'claimed', coins: [id(coin)] });
    expect(await validate(9)).toMatchObject({ outcome: 'error', status: { code: 44 } });
    expect(await validate(10)).toMatchObject({ outcome: 'claimed' });
    expect(await validate(9, (ticket ^ 1) >>> 0)).toMatchObject({ outcome: 'error', status: { code: 43 } });
    expect(await validate(25)).toMatchObject({ outcome: 'error', status: { code: 18 } });
  });

  it('tickets live 300 s and there are 512 slots: the 513th get_ticket is 42 until the oldest expire', async () => {
    let now = 0;
    const { wallet } = await start({ healing: { clock: () => now, ticketSlots: 512 } });
    const first = await ticketFrom(1, wallet);
    for (let i = 1; i < 512; i++) await ticketFrom(1, wallet);
    expect(await ask(1, buildGetTicketRequest({ raidaId: 1, coins: [coinForRaida(wallet, 1)] }))).toMatchObject({
      outcome: 'error',
      status: { code: 42 },
    });
    now = 299_999;
    expect(await ask(1, buildValidateTicketRequest({ raidaId: 1, claimantId: 4, ticket: first }))).toMatchObject({ outcome: 'claimed' });
    now = 300_000;
    expect(await ask(1, buildValidateTicketRequest({ raidaId: 1, claimantId: 5, ticket: first }))).toMatchObject({
      outcome: 'error',
      status: { code: 43 },
    });
    expect(await ask(1, buildGetTicketRequest({ raidaId: 1, coins: [coinForRaida(wallet, 1)] }))).toMatchObject({
      outcome: 'ticket',
      passed: [true],
    });
  });

  it('fix with 13 peer tickets sets MD5(raida ‖ den ‖ SN ‖ PG); with 12 it answers 242 and changes nothing', async () => {
    const { wallet, coin, cluster: raida } = await start();
    const before = raida.getAn(20, coin);
    const twelve = await tickets(range(0, 12), wallet);
    expect(await ask(20, buildFixRequest({ raidaId: 20, coins: [id(coin)], pg: PG, tickets: twelve }))).toMatchObject({
      outcome: 'fix',
      fixed: [false],
    });
    expect(raida.getAn(20, coin)).toEqual(before);
    const thirteen = await tickets(range(0, 13), wallet);
    expect(await ask(20, buildFixRequest({ raidaId: 20, coins: [id(coin)], pg: PG, tickets: thirteen }))).toMatchObject({
      outcome: 'fix',
      fixed: [true],
    });
    expect(raida.getAn(20, coin)).toEqual(fixedAn(20, coin.denomination, coin.serialNumber, PG));
    // The same tickets again, on the same RAIDA: every peer has seen this claimant, so no vote counts.
    const otherPg = PG.map((byte) => byte ^ 0x55);
    expect(await ask(20, buildFixRequest({ raidaId: 20, coins: [id(coin)], pg: otherPg, tickets: thirteen }))).toMatchObject({
      fixed: [false],
    });
    expect(raida.getAn(20, coin)).toEqual(fixedAn(20, coin.denomination, coin.serialNumber, PG));
  });

  it('one body fixes several failing RAIDAs, and a mixed list answers 243 with a bitfield', async () => {
    const [a, b] = createTestCoins(2, 9);
    cluster = await startRaidaCluster({ coins: [a!] });
    client = await openRawClient();
    const good = range(0, 20);
    const ticketList = new Array<number>(25).fill(0);
    for (const raidaId of good) {
      const reply = await ask(raidaId, buildGetTicketRequest({ raidaId, coins: [coinForRaida(a!, raidaId)] }));
      ticketList[raidaId] = reply.outcome === 'ticket' ? (reply.ticket ?? 0) : 0;
    }
    for (const target of [20, 24]) {
      const reply = await ask(target, buildFixRequest({ raidaId: target, coins: [id(a!), id(b!)], pg: PG, tickets: ticketList }));
      expect(reply).toMatchObject({ outcome: 'fix', status: { code: 243 }, fixed: [true, false] });
      expect(cluster.getAn(target, a!)).toEqual(fixedAn(target, a!.denomination, a!.serialNumber, PG));
    }
  });

  it('with the published server’s header-size bug every fix is 242, and the peers still mark the tickets claimed', async () => {
    const { wallet, coin, cluster: raida } = await start({ healing: { headerSizeBug: true } });
    const all = await tickets(range(0, 20), wallet);
    const before = raida.getAn(20, coin);
    expect(await ask(20, buildFixRequest({ raidaId: 20, coins: [id(coin)], pg: PG, tickets: all }))).toMatchObject({
      outcome: 'fix',
      fixed: [false],
    });
    expect(raida.getAn(20, coin)).toEqual(before);
    expect(await ask(0, buildValidateTicketRequest({ raidaId: 0, claimantId: 20, ticket: all[0]! }))).toMatchObject({
      outcome: 'error',
      status: { code: 44 },
    });
  });

  it('a fix waits for a silent peer until its timeout and still counts the others', async () => {
    const { wallet, coin, cluster: raida } = await start({ healing: { peerTimeoutMs: 300 }, behaviors: { 3: { down: true } } });
    const ids = range(0, 20).filter((raidaId) => raidaId !== 3);
    const list = await tickets(ids, wallet);
    expect(await ask(20, buildFixRequest({ raidaId: 20, coins: [id(coin)], pg: PG, tickets: list }))).toMatchObject({ fixed: [true] });
    expect(raida.getAn(20, coin)).toEqual(fixedAn(20, coin.denomination, coin.serialNumber, PG));
  });

  it('find tells AN, PAN or neither per coin and changes nothing', async () => {
    const [a, b, c] = createTestCoins(3, 11);
    cluster = await startRaidaCluster({ coins: [a!, b!, c!] });
    client = await openRawClient();
    const pan = new Uint8Array(16).fill(7);
    cluster.setAn(5, b!, pan);
    const on5 = (coin: TestCoin) => ({ ...coinForRaida(coin, 5), pan });
    const wrong = { ...on5(c!), an: new Uint8Array(16).fill(1) };
    expect(await ask(5, buildFindRequest({ raidaId: 5, coins: [on5(a!), on5(b!), wrong] }))).toMatchObject({
      status: { code: 211 },
      found: ['an', 'pan', 'neither'],
    });
    expect(await ask(5, buildFindRequest({ raidaId: 5, coins: [on5(a!), on5(c!)] }))).toMatchObject({ status: { code: 209 } });
    expect(await ask(5, buildFindRequest({ raidaId: 5, coins: [on5(b!)] }))).toMatchObject({ status: { code: 210 } });
    expect(await ask(5, buildFindRequest({ raidaId: 5, coins: [wrong] }))).toMatchObject({ status: { code: 208 } });
    expect(cluster.getAn(5, b!)).toEqual(pan);
  });

  it('close() during a fix waiting on a silent peer releases the peer socket and ends the fix', async () => {
    const recorder = eventRecorder();
    const {
      wallet,
      coin,
      cluster: raida,
    } = await start({ healing: { peerTimeoutMs: 600_000 }, behaviors: { 3: { down: true } }, onRequest: recorder.onRequest });
    const list = await tickets(range(4, 17), wallet);
    const baseline = resourceCounts().get('UDPWrap') ?? 0;
    const seen = recorder.events.length;
    await client!.send(raida.servers[20]!.port, buildFixRequest({ raidaId: 20, coins: [id(coin)], pg: PG, tickets: list }).bytes);
    // The 24 peers have answered (23) or dropped (RAIDA 3) the fix's validate_ticket: the fix now waits on RAIDA 3.
    await recorder.waitFor(seen + 24);
    expect(recorder.events.slice(seen).filter((event) => event.command === 'validate_ticket')).toHaveLength(23);
    expect(raida.stats(20).pending).toBe(1);
    // The fixing server's peer socket is open on top of the 25 servers and the client.
    expect(resourceCounts().get('UDPWrap') ?? 0).toBe(baseline + 1);
    await client!.close();
    client = undefined;
    await raida.close();
    cluster = undefined;
    expect(raida.stats(20).pending).toBe(0);
    expect(resourceCounts().get('UDPWrap') ?? 0).toBe(baseline - 26);
  });
});
