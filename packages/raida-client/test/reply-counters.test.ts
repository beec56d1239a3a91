import { afterEach, describe, expect, it } from 'vitest';
import { counterfeitCoin, createRandom, createTestCoins } from '@x/testkit';
import type { RaidaRequestEvent, RaidaReplyCounter, TestCoin } from '@x/testkit';
import { clientFor, closeAll, cluster } from './helpers.js';

afterEach(closeAll);

/** `n` coins from `seed`, each counterfeit or not by a seeded draw, with the truth alongside. */
function wallet(n: number, seed: number, key: TestCoin): { held: TestCoin[]; sent: TestCoin[]; truth: boolean[] } {
  const coins = createTestCoins(n, seed);
  const draws = createRandom(`counterfeits:${seed}`);
  const truth = coins.map((_, i) => (i === 0 ? true : i === 1 ? false : draws.chance(0.5)));
  return { held: [key, ...coins], sent: coins.map((coin, i) => (truth[i] ? coin : counterfeitCoin(coin))), truth };
}

function commands(events: readonly RaidaRequestEvent[], command: string): number {
  return events.filter((event) => event.command === command).length;
}

describe('reply counter conventions: learned once per server, never guessed', () => {
  it.each([
    ['continue', () => 'continue' as const],
    ['restart', () => 'restart' as const],
    ['mixed (odd ids restart)', (id: number): RaidaReplyCounter => (id % 2 === 1 ? 'restart' : 'continue')],
  ])(
    'a cluster whose servers %s: type-1 detects of 8 random coins give the right verdicts on every server',
    async (_name, conventionOf) => {
      const [key] = createTestCoins(1, 400);
      for (const seed of [401, 402, 403]) {
        const { held, sent, truth } = wallet(8, seed, key!);
        const events: RaidaRequestEvent[] = [];
        const behaviors = Object.fromEntries(Array.from({ length: 25 }, (_, id) => [id, { replyCounter: conventionOf(id) }]));
        const raida = await cluster({ coins: held, behaviors, onRequest: (event) => events.push(event) });
        const client = clientFor(raida, { attemptTimeoutMs: 2000 });
        const encryption = { type: 1, keyCoin: key! } as const;

        const first = await client.detect(sent, { encryption });
        for (const server of first.servers) {
          expect(server.verdicts, `server ${server.id}`).toEqual(truth);
          expect(server).toMatchObject({ status: 'mixed', replyCounter: conventionOf(server.id), replyCounterSource: 'learned' });
        }
        expect(first.coins.map((coin) => coin.verdict)).toEqual(truth.map((good) => (good ? 'authentic' : 'counterfeit')));
        // Learned from a type-1 version per server, before the detect. The client's nonce is random, and about one
        // version reply in 2,800 reads as printable under both conventions: that server is asked once more.
        const learned = commands(events, 'version');
        expect(learned).toBeGreaterThanOrEqual(25);
        expect(learned).toBeLessThanOrEqual(27);

        const second = await client.detect(sent, { encryption });
        expect(second.servers.every((server) => JSON.stringify(server.verdicts) === JSON.stringify(truth))).toBe(true);
        // Never asked again.
        expect(commands(events, 'version')).toBe(learned);
        await closeAll();
      }
    },
  );

  it('takes the conventions a user sets per server, and asks nothing', async () => {
    const [key] = createTestCoins(1, 410);
    const { held, sent, truth } = wallet(8, 411, key!);
    const events: RaidaRequestEvent[] = [];
    const raida = await cluster({ coins: held, behavior: { replyCounter: 'restart' }, onRequest: (event) => events.push(event) });
    const replyCounters = Object.fromEntries(Array.from({ length: 25 }, (_, id) => [id, 'restart' as const]));
    const client = clientFor(raida, { attemptTimeoutMs: 2000, replyCounters });
    const result = await client.detect(sent, { encryption: { type: 1, keyCoin: key! } });
    expect(result.servers.every((server) => JSON.stringify(server.verdicts) === JSON.stringify(truth))).toBe(true);
    expect(result.servers[3]).toMatchObject({ replyCounter: 'restart', replyCounterSource: 'configured' });
    expect(commands(events, 'version')).toBe(0);
  });

  it('a convention set by the user is used as set: a wrong one reads the body as a malformed bitfield', async () => {
    const [key] = createTestCoins(1, 420);
    const { held, sent } = wallet(3, 421, key!);
    const raida = await cluster({
      count: 1,
      coins: held.map((coin) => ({ ...coin, ans: coin.ans.slice(0, 1) })),
      behavior: { replyCounter: 'restart' },
    });
    // Seeded: read with the wrong convention, a 3-coin bitfield still looks valid about once in 43 draws of the
    // keystream, so the client's nonces are fixed to ones that show the usual case.
    const client = clientFor(raida, { attemptTimeoutMs: 300, replyCounters: { 0: 'continue' }, random: createRandom(422).bytes });
    const result = await client.detect(
      sent.map((coin) => ({ ...coin, ans: coin.ans.slice(0, 1) })),
      { encryption: { type: 1, keyCoin: { ...key!, ans: key!.ans.slice(0, 1) } } },
    );
    expect(result.servers[0]!.verdicts).toBeUndefined();
    expect(result.servers[0]).toMatchObject({ status: 'protocol-error', errorCode: 'RAIDA_REPLY_BAD_BODY' });
  });

  it('where the convention is unknown and the reply reads both ways, the answer is protocol-error, never a verdict', async () => {
    const [key] = createTestCoins(1, 430);
    const { held, sent, truth } = wallet(8, 431, key!);
    // A one-character version reads as printable ASCII under the wrong convention too, about 37 % of the time, so
    // after its three probes a server stays unknown about once in 20. Clients with seeded randomness, so which
    // servers those are is fixed.
    const raida = await cluster({ coins: held, behavior: { replyCounter: 'restart', version: 'A' } });
    let ambiguous = 0;
    let verdicts = 0;
    for (const seed of [432, 433, 434, 435, 436, 437]) {
      const client = clientFor(raida, { attemptTimeoutMs: 2000, random: createRandom(seed).bytes });
      const result = await client.detect(sent, { encryption: { type: 1, keyCoin: key! } });
      for (const server of result.servers) {
        if (server.status === 'protocol-error') {
          expect(server.errorCode).toBe('RAIDA_REPLY_COUNTER_AMBIGUOUS');
          expect(server.replyCounter).toBeUndefined();
          expect(server.verdicts).toBeUndefined();
          ambiguous++;
        } else {
          expect(server.verdicts, `server ${server.id}`).toEqual(truth);
          expect(server.replyCounter).toBe('restart');
          verdicts++;
        }
      }
    }
    expect(ambiguous).toBeGreaterThan(0);
    expect(verdicts).toBeGreaterThan(0);
  });

  it('refuses a replyCounters option that names no configured server or no convention', async () => {
    const raida = await cluster({ count: 2 });
    expect(() => clientFor(raida, { replyCounters: { 5: 'restart' } })).toThrow(
      expect.objectContaining({ code: 'RAIDA_CLIENT_INVALID_OPTIONS' }),
    );
    expect(() => clientFor(raida, { replyCounters: { 0: 'auto' as 'restart' } })).toThrow(
      expect.objectContaining({ code: 'RAIDA_CLIENT_INVALID_OPTIONS' }),
    );
  });
});
