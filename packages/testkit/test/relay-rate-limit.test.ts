import { isXError } from '@x/errors';
import { startRpcRelays } from '@x/testkit';
import type { RpcRelayEvent, RpcRelays } from '@x/testkit';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { post, startUpstream } from './relay-helpers.js';
import type { Upstream } from './relay-helpers.js';

// The bucket refills on performance.now(), the only thing faked here: sockets and timers stay real, and
// the clock moves only when a test says so, so every count below is exact.
const balanceCall = (id: number) => ({ jsonrpc: '2.0', id, method: 'eth_getBalance', params: ['0x' + '11'.repeat(20), 'latest'] });

let upstream: Upstream;
let relays: RpcRelays | undefined;

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['performance'] });
  upstream = await startUpstream();
});

afterEach(async () => {
  vi.useRealTimers();
  await relays?.close();
  relays = undefined;
  await upstream.close();
});

async function statuses(url: string, count: number, body: (i: number) => unknown = balanceCall): Promise<number[]> {
  const seen: number[] = [];
  for (let i = 0; i < count; i++) seen.push((await post(url, body(i))).status);
  return seen;
}

describe('startRpcRelays rateLimit', () => {
  it('admits the burst, then answers 429 with Retry-After without reaching the upstream, and counts it as over-limit', async () => {
    relays = await startRpcRelays({
      upstream: upstream.url,
      relays: [{ id: 'limited', faults: { rateLimit: { requestsPerSecond: 2, burst: 3 } } }],
    });
    const url = relays.relays[0]!.url;
    expect(await statuses(url, 3)).toEqual([200, 200, 200]);
    const refused = await post(url, balanceCall(9));
    expect(refused.status).toBe(429);
    // One token comes back in 0.5 s: Retry-After is in whole seconds, rounded up.
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(JSON.parse(refused.text)).toMatchObject({ error: { code: 429 } });
    expect(upstream.received).toHaveLength(3);
    expect(relays.stats()[0]).toMatchObject({ requests: 4, outcomes: { forwarded: 3, 'over-limit': 1, 'rate-limited': 0 } });
  });

  it('refills at requestsPerSecond, never above the burst', async () => {
    relays = await startRpcRelays({
      upstream: upstream.url,
      relays: [{ id: 'limited', faults: { rateLimit: { requestsPerSecond: 2, burst: 3 } } }],
    });
    const url = relays.relays[0]!.url;
    expect(await statuses(url, 4)).toEqual([200, 200, 200, 429]);
    vi.advanceTimersByTime(500);
    expect(await statuses(url, 2)).toEqual([200, 429]);
    vi.advanceTimersByTime(60_000);
    expect(await statuses(url, 4)).toEqual([200, 200, 200, 429]);
    expect(relays.stats()[0]!.outcomes).toMatchObject({ forwarded: 7, 'over-limit': 3 });
  });

  it('takes one token per call of a batch, and states the wait for the whole batch', async () => {
    relays = await startRpcRelays({
      upstream: upstream.url,
      relays: [{ id: 'limited', faults: { rateLimit: { requestsPerSecond: 0.5, burst: 5 } } }],
    });
    const url = relays.relays[0]!.url;
    const batch = (size: number) => Array.from({ length: size }, (_, i) => balanceCall(i));
    expect((await post(url, batch(4))).status).toBe(200);
    const refused = await post(url, batch(3));
    expect(refused.status).toBe(429);
    // 1 token left, 3 needed, 0.5 a second: 4 s.
    expect(refused.headers.get('retry-after')).toBe('4');
    expect((await post(url, balanceCall(1))).status).toBe(200);
    expect(upstream.received).toEqual([batch(4), balanceCall(1)]);
  });

  it('makes no draw for a refused request: admitted requests get the fates the seed gives them without a limit', async () => {
    const fates = async (rateLimit: { requestsPerSecond: number; burst: number } | null, sends: number): Promise<string[]> => {
      const events: RpcRelayEvent[] = [];
      const set = await startRpcRelays({
        upstream: upstream.url,
        seed: 11,
        relays: [{ id: 'r', faults: { serverErrorRate: 0.5, rateLimit } }],
        onRequest: (event) => events.push(event),
      });
      const url = set.relays[0]!.url;
      for (let i = 0; i < sends; i++) {
        await post(url, balanceCall(i));
        // With a limit, a second request at once finds the bucket empty.
        if (rateLimit !== null) await post(url, balanceCall(100 + i));
        vi.advanceTimersByTime(1000);
      }
      await set.close();
      return events.map((e) => `${e.outcome}:${e.status}`);
    };
    const free = await fates(null, 12);
    const limited = await fates({ requestsPerSecond: 1, burst: 1 }, 12);
    expect(limited.filter((f) => f === 'over-limit:429')).toHaveLength(12);
    expect(limited.filter((f) => f !== 'over-limit:429')).toEqual(free);
    expect(new Set(free).size).toBeGreaterThan(1);
  });

  it('applies setFaults live: a new limit starts with a full bucket, null lifts it', async () => {
    relays = await startRpcRelays({ upstream: upstream.url, relays: [{ id: 'r' }] });
    const url = relays.relays[0]!.url;
    expect(relays.faults('r').rateLimit).toBeNull();
    expect(await statuses(url, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(relays.setFaults('r', { rateLimit: { requestsPerSecond: 1, burst: 2 } }).rateLimit).toEqual({ requestsPerSecond: 1, burst: 2 });
    expect(await statuses(url, 3)).toEqual([200, 200, 429]);
    relays.setFaults('r', { rateLimit: { requestsPerSecond: 1, burst: 2 } });
    expect(await statuses(url, 3)).toEqual([200, 200, 429]);
    // Another fault changed leaves the bucket as it is.
    relays.setFaults('r', { wrongValueRate: 0 });
    expect(await statuses(url, 1)).toEqual([429]);
    relays.setFaults('r', { rateLimit: null });
    expect(await statuses(url, 3)).toEqual([200, 200, 200]);
  });

  it('rejects a bad rateLimit with a config XError naming the option', async () => {
    const attempts: Array<[unknown, string]> = [
      [{ requestsPerSecond: 0, burst: 1 }, 'relays[0].faults.rateLimit.requestsPerSecond'],
      [{ requestsPerSecond: -1, burst: 1 }, 'relays[0].faults.rateLimit.requestsPerSecond'],
      [{ requestsPerSecond: 5, burst: 0.5 }, 'relays[0].faults.rateLimit.burst'],
      [{ requestsPerSecond: 5 }, 'relays[0].faults.rateLimit.burst'],
      [{ requestsPerSecond: 5, burst: 2, perMinute: 1 }, 'relays[0].faults.rateLimit'],
      [5, 'relays[0].faults.rateLimit'],
    ];
    for (const [rateLimit, option] of attempts) {
      const error = await startRpcRelays({ upstream: upstream.url, relays: [{ id: 'a', faults: { rateLimit } }] } as never).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isXError(error)).toBe(true);
      expect(error).toMatchObject({ code: 'TESTKIT_RELAY_INVALID_OPTIONS', category: 'config', context: { option } });
    }
  });
});
