import { isXError } from '@x/errors';
import { alterValue, createRandom, startRpcRelays } from '@x/testkit';
import type { RpcRelayEvent, RpcRelays } from '@x/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UPSTREAM_RESULTS, post, startUpstream } from './relay-helpers.js';
import type { Upstream } from './relay-helpers.js';

const balanceCall = (id: number) => ({ jsonrpc: '2.0', id, method: 'eth_getBalance', params: ['0x' + '11'.repeat(20), 'latest'] });

let upstream: Upstream;
let relays: RpcRelays | undefined;

beforeEach(async () => {
  upstream = await startUpstream();
});

afterEach(async () => {
  await relays?.close();
  relays = undefined;
  await upstream.close();
});

describe('startRpcRelays', () => {
  it('forwards a request untouched when no fault is set, and answers with the upstream body', async () => {
    relays = await startRpcRelays({ upstream: upstream.url, relays: [{ id: 'clean' }] });
    const [relay] = relays.relays;
    expect(relay!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const answer = await post(relay!.url, balanceCall(7));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ jsonrpc: '2.0', id: 7, result: UPSTREAM_RESULTS.eth_getBalance });
    expect(upstream.received).toEqual([balanceCall(7)]);
    expect(relays.stats()[0]).toMatchObject({
      id: 'clean',
      requests: 1,
      wrongValues: 0,
      outcomes: { forwarded: 1, 'server-error': 0, hung: 0 },
    });
  });

  it('answers injected HTTP 5xx without reaching the upstream', async () => {
    relays = await startRpcRelays({ upstream: upstream.url, relays: [{ id: 'broken', faults: { serverErrorRate: 1 } }] });
    const statuses = [];
    for (let i = 0; i < 8; i++) statuses.push((await post(relays.relays[0]!.url, balanceCall(i))).status);
    for (const status of statuses) expect([500, 502, 503, 504]).toContain(status);
    expect(upstream.received).toEqual([]);
    expect(relays.stats()[0]!.outcomes['server-error']).toBe(8);
  });

  it('answers injected HTTP 429 with the configured Retry-After', async () => {
    relays = await startRpcRelays({
      upstream: upstream.url,
      relays: [{ id: 'limited', faults: { rateLimitRate: 1, retryAfterSeconds: 3 } }],
    });
    const answer = await post(relays.relays[0]!.url, balanceCall(1));
    expect(answer.status).toBe(429);
    expect(answer.headers.get('retry-after')).toBe('3');
    expect(upstream.received).toEqual([]);
  });

  it('never answers a hung request; the client gives up and close() releases the connection', async () => {
    let reported: (event: RpcRelayEvent) => void = () => undefined;
    const drawn = new Promise<RpcRelayEvent>((resolve) => {
      reported = resolve;
    });
    relays = await startRpcRelays({
      upstream: upstream.url,
      relays: [{ id: 'hangs', faults: { hangRate: 1 } }],
      onRequest: (e) => reported(e),
    });
    const controller = new AbortController();
    const pending = post(relays.relays[0]!.url, balanceCall(1), controller.signal);
    // The relay has read the request once it reports its fate; only then does the client give up.
    expect(await drawn).toEqual({ relayId: 'hangs', outcome: 'hung', delayMs: 0, status: 0 });
    controller.abort();
    await expect(pending).rejects.toThrow();
    expect(upstream.received).toEqual([]);
    const before = process.getActiveResourcesInfo().filter((t) => t === 'TCPSocketWrap' || t === 'TCPServerWrap').length;
    await relays.close();
    const after = process.getActiveResourcesInfo().filter((t) => t === 'TCPSocketWrap' || t === 'TCPServerWrap').length;
    expect(after).toBeLessThan(before);
  });

  it('alters returned values, keeping their shape and the request id, in single and batch answers', async () => {
    relays = await startRpcRelays({ upstream: upstream.url, relays: [{ id: 'liar', faults: { wrongValueRate: 1 } }] });
    const url = relays.relays[0]!.url;
    const single = JSON.parse((await post(url, balanceCall(5))).text) as { id: number; result: string };
    expect(single.id).toBe(5);
    expect(single.result).toMatch(/^0x[0-9a-f]+$/);
    expect(single.result).not.toBe(UPSTREAM_RESULTS.eth_getBalance);
    const batch = JSON.parse(
      (await post(url, [balanceCall(1), { jsonrpc: '2.0', id: 2, method: 'eth_blockNumber' }, { jsonrpc: '2.0', id: 3, method: 'nope' }]))
        .text,
    ) as Array<{ id: number; result?: unknown; error?: { code: number } }>;
    expect(batch.map((e) => e.id)).toEqual([1, 2, 3]);
    expect(batch[0]!.result).not.toBe(UPSTREAM_RESULTS.eth_getBalance);
    expect(batch[1]!.result).not.toBe(UPSTREAM_RESULTS.eth_blockNumber);
    // An error answer carries no value to alter.
    expect(batch[2]!.error?.code).toBe(-32601);
    expect(relays.stats()[0]!.wrongValues).toBe(3);
  });

  it('answers HTTP 502 when the upstream cannot be reached', async () => {
    const gone = upstream.url;
    await upstream.close();
    upstream = await startUpstream();
    relays = await startRpcRelays({ upstream: gone, relays: [{ id: 'orphan' }] });
    const answer = await post(relays.relays[0]!.url, balanceCall(1));
    expect(answer.status).toBe(502);
    expect(relays.stats()[0]!.outcomes['upstream-error']).toBe(1);
  });

  it('draws the same fates and delays from the same seed, and different ones from another', async () => {
    const faults = {
      serverErrorRate: 0.2,
      rateLimitRate: 0.2,
      latency: { medianMs: 1, sigma: 0.5, stallProbability: 0.1, stallMs: [2, 4] as [number, number] },
    };
    const run = async (seed: number): Promise<string[]> => {
      const events: RpcRelayEvent[] = [];
      const started = await startRpcRelays({
        upstream: upstream.url,
        seed,
        relays: [
          { id: 'a', faults },
          { id: 'b', faults },
        ],
        onRequest: (e) => events.push(e),
      });
      try {
        for (let i = 0; i < 20; i++) for (const relay of started.relays) await post(relay.url, balanceCall(i));
      } finally {
        await started.close();
      }
      return events.map((e) => `${e.relayId}:${e.outcome}:${e.status}:${e.delayMs.toFixed(6)}`);
    };
    const first = await run(11);
    expect(await run(11)).toEqual(first);
    expect(await run(12)).not.toEqual(first);
    const outcomes = new Set(first.map((e) => e.split(':')[1]));
    expect(outcomes).toEqual(new Set(['forwarded', 'server-error', 'rate-limited']));
    for (const event of first) {
      const delay = Number(event.split(':')[3]);
      expect(delay).toBeGreaterThan(0);
    }
  });

  it('applies setFaults to later requests', async () => {
    relays = await startRpcRelays({ upstream: upstream.url, relays: [{ id: 'r' }] });
    const url = relays.relays[0]!.url;
    expect((await post(url, balanceCall(1))).status).toBe(200);
    expect(relays.setFaults('r', { rateLimitRate: 1 }).rateLimitRate).toBe(1);
    expect((await post(url, balanceCall(2))).status).toBe(429);
    relays.setFaults('r', { rateLimitRate: 0 });
    expect((await post(url, balanceCall(3))).status).toBe(200);
  });

  it('rejects bad options with a config XError naming the field', async () => {
    const attempts: Array<[unknown, string]> = [
      [{ upstream: 'ftp://x', relays: [{ id: 'a' }] }, 'upstream'],
      [{ upstream: upstream.url, relays: [] }, 'relays'],
      [{ upstream: upstream.url, relays: [{ id: 'a' }, { id: 'a' }] }, 'relays[1].id'],
      [{ upstream: upstream.url, relays: [{ id: 'a', faults: { hangRate: 2 } }] }, 'relays[0].faults.hangRate'],
      [{ upstream: upstream.url, relays: [{ id: 'a', faults: { hangRate: 0.6, serverErrorRate: 0.6 } }] }, 'relays[0].faults'],
      [{ upstream: upstream.url, relays: [{ id: 'a', faults: { latency: { sigma: -1 } } }] }, 'relays[0].faults.latency.sigma'],
      [{ upstream: upstream.url, relays: [{ id: 'a', faults: { typo: 1 } }] }, 'relays[0].faults'],
    ];
    for (const [options, field] of attempts) {
      const error = await startRpcRelays(options as never).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isXError(error)).toBe(true);
      expect(error).toMatchObject({ code: 'TESTKIT_RELAY_INVALID_OPTIONS', category: 'config', context: { option: field } });
    }
  });
});

describe('alterValue', () => {
  it('returns a different value of the same shape', () => {
    const random = createRandom(3);
    for (const value of ['0x0', '0x10', '0xde0b6b3a7640000']) {
      const altered = alterValue(value, random) as string;
      expect(altered).toMatch(/^0x[0-9a-f]+$/);
      expect(BigInt(altered)).not.toBe(BigInt(value));
    }
    expect(alterValue(true, random)).toBe(false);
    expect(typeof alterValue(5, random)).toBe('number');
    expect(alterValue(5, random)).not.toBe(5);
    expect(alterValue({ value: '0x1', slot: 2 }, random)).not.toEqual({ value: '0x1', slot: 2 });
    expect(alterValue('abc', random)).not.toBe('abc');
  });
});
