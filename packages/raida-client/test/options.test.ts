import { afterEach, describe, expect, it } from 'vitest';
import { isXError } from '@x/errors';
import { createRaidaClient, randomAns } from '@x/raida-client';
import { PUBLIC_RAIDA_SERVERS } from '@x/raida-protocol';
import { createTestCoins, startRaidaCluster } from '@x/testkit';
import { createUdpClient } from '@x/udp-transport';
import { buildEchoRequest, validateReply } from '@x/raida-protocol';
import { clientFor, closeAll, cluster, received } from './helpers.js';

afterEach(closeAll);

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('createRaidaClient options', () => {
  it('defaults to the 25 public servers and a 13-server quorum', async () => {
    const client = createRaidaClient();
    expect(client.servers).toEqual(PUBLIC_RAIDA_SERVERS);
    expect(client.quorum).toBe(13);
    await client.close();
  });

  it.each([
    [{ servers: [] }, /servers must be a non-empty array/],
    [{ servers: [{ id: 0, host: '127.0.0.1', port: 0 }] }, /servers\[0\]\.port/],
    [{ servers: [{ id: 300, host: '127.0.0.1', port: 1 }] }, /servers\[0\]\.id/],
    [
      {
        servers: [
          { id: 1, host: 'a', port: 1 },
          { id: 1, host: 'b', port: 2 },
        ],
      },
      /names id 1 twice/,
    ],
    [
      {
        servers: [
          { id: 1, host: 'a', port: 1 },
          { id: 2, host: 'A', port: 1 },
        ],
      },
      /names address a:1 twice/,
    ],
    [{ servers: [{ id: 25, host: 'a', port: 1 }] }, /servers\[0\]\.id must be a RAIDA id, an integer from 0 to 24/],
    [
      { servers: Array.from({ length: 26 }, (_, id) => ({ id, host: 'a', port: id + 1 })) },
      /servers has 26 entries; a RAIDA has 25 servers/,
    ],
    [{ attemptTimeoutMs: 0 }, /attemptTimeoutMs/],
    [{ coinId: 70_000 }, /coinId/],
    [{ quorum: 12 }, /strict majority of the 25 RAIDA servers: an integer from 13 to 25/],
    [{ servers: [{ id: 0, host: 'a', port: 1 }], quorum: 1 }, /strict majority of the 25 RAIDA servers: an integer from 13 to 25/],
    [{ maxRequestBytes: 80 }, /maxRequestBytes/],
    [{ random: 'dice' }, /random must be a function/],
    [{ encryption: { type: 2 } }, /encryption.type must be 0 or 1/],
  ])('rejects %j with RAIDA_CLIENT_INVALID_OPTIONS', (options, message) => {
    const error = thrown(() => createRaidaClient(options as never));
    expect(isXError(error, 'RAIDA_CLIENT_INVALID_OPTIONS')).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  it('checks a key coin for every server', () => {
    const [key] = createTestCoins(1, 1);
    const error = thrown(() => createRaidaClient({ encryption: { type: 1, keyCoin: { ...key!, ans: key!.ans.slice(0, 3) } } }));
    expect(isXError(error, 'RAIDA_INVALID_COIN')).toBe(true);
    expect((error as Error).message).toBe('Key coin: ans[3] must be a Uint8Array of 16 bytes (the AN on RAIDA 3)');
  });
});

describe('call options and coins', () => {
  it('rejects bad call options and bad coins before sending anything, never quoting an AN', async () => {
    const [coin] = createTestCoins(1, 2);
    const raida = await cluster({ coins: [coin!] });
    const client = clientFor(raida);
    const failures = await Promise.all(
      [
        client.echo({ retries: 11 }),
        client.echo({ attemptTimeoutMs: -1 }),
        client.echo({ earlyFinish: true } as never),
        client.echo({ signal: 'stop' } as never),
        client.detect([]),
        client.detect([{ ...coin!, denomination: 9 }]),
        client.detect([coin!, { ...coin!, ans: coin!.ans.map((an, id) => (id === 12 ? an.subarray(0, 15) : an)) }]),
      ].map((call) =>
        call.then(
          () => undefined,
          (error: unknown) => error,
        ),
      ),
    );
    const codes = failures.map((error) => (isXError(error) ? `${error.code}/${error.category}` : String(error)));
    expect(codes).toEqual([
      'RAIDA_CLIENT_INVALID_OPTIONS/config',
      'RAIDA_CLIENT_INVALID_OPTIONS/config',
      'RAIDA_CLIENT_INVALID_OPTIONS/config',
      'RAIDA_CLIENT_INVALID_OPTIONS/config',
      'RAIDA_INVALID_COIN/config',
      'RAIDA_INVALID_COIN/config',
      'RAIDA_INVALID_COIN/config',
    ]);
    expect((failures[5] as Error).message).toMatch(/^Coin 0: denomination/);
    expect((failures[6] as Error).message).toBe('Coin 1: ans[12] must be a Uint8Array of 16 bytes (the AN on RAIDA 12)');
    const hex = Buffer.from(coin!.ans[12]!).toString('hex');
    expect(JSON.stringify(failures.map((error) => (isXError(error) ? error.toJSON() : error)))).not.toContain(hex);
    expect(received(raida).every((n) => n === 0)).toBe(true);
  });

  it('randomAns makes fresh 16-byte ANs and checks its source', () => {
    const ans = randomAns(25);
    expect(ans).toHaveLength(25);
    expect(ans.every((an) => an.length === 16)).toBe(true);
    expect(new Set(ans.map((an) => Buffer.from(an).toString('hex'))).size).toBe(25);
    expect(
      isXError(
        thrown(() => randomAns(0)),
        'RAIDA_CLIENT_INVALID_OPTIONS',
      ),
    ).toBe(true);
    expect(
      isXError(
        thrown(() => randomAns(2, () => new Uint8Array(3))),
        'RAIDA_CLIENT_INVALID_OPTIONS',
      ),
    ).toBe(true);
  });
});

describe('a shared UDP client', () => {
  it('is used for the calls and left open by close()', async () => {
    const raida = await cluster();
    const udp = createUdpClient();
    try {
      const client = createRaidaClient({ servers: raida.servers, udp, attemptTimeoutMs: 2000 });
      const result = await client.echo();
      expect(result.totals.ready).toBe(25);
      expect(udp.stats().received).toBe(25);
      await client.close();
      const server = raida.servers[0]!;
      const request = buildEchoRequest({ raidaId: server.id });
      const reply = await udp.request(server, request.bytes, { timeoutMs: 2000 });
      expect(validateReply(reply.value, request.expectation).outcome).toBe('success');
    } finally {
      await udp.close();
    }
  });
});

describe('a subset of the servers', () => {
  it('never lowers the 13 of 25 needed: 10 servers all ready are no echo consensus, and coins stay in limbo', async () => {
    const coins = createTestCoins(1, 3);
    const raida = await startRaidaCluster({ count: 10, coins: coins.map((coin) => ({ ...coin, ans: coin.ans.slice(0, 10) })) });
    const client = createRaidaClient({ servers: raida.servers, attemptTimeoutMs: 2000 });
    try {
      expect(client.quorum).toBe(13);
      const echo = await client.echo();
      expect(echo.totals).toMatchObject({ ready: 10, quorum: 13, consensus: false });
      const detect = await client.detect(coins);
      expect(detect.coins[0]).toMatchObject({ pass: 10, verdict: 'limbo' });
      expect(detect.totals.consensus).toBe(false);
    } finally {
      await client.close();
      await raida.close();
    }
  });
});
