import { afterEach, describe, expect, it, vi } from 'vitest';
import { isXError } from '@x/errors';
import {
  DEFAULT_RPC_BEHAVIOR,
  createRandom,
  rpcProfiles,
  sampleLatencyMs,
  startRpcCluster,
  type RpcCluster,
  type RpcClusterOptions,
  type RpcRequestEvent,
} from '@x/testkit';
import { base58, call, fill, parse, post, rawPost, result, transferWire, type Contextual } from './solana-helpers.js';

const clusters: RpcCluster[] = [];

async function start(options: RpcClusterOptions): Promise<RpcCluster> {
  const cluster = await startRpcCluster({ autoAdvance: false, ...options });
  clusters.push(cluster);
  return cluster;
}

afterEach(async () => {
  await Promise.all(clusters.splice(0).map((cluster) => cluster.close()));
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

/** Resolves with the first event that matches, as reported by the cluster's onRequest hook. */
function eventWaiter(): {
  onRequest: (event: RpcRequestEvent) => void;
  next: (match: (event: RpcRequestEvent) => boolean) => Promise<RpcRequestEvent>;
} {
  const waiting: { match: (event: RpcRequestEvent) => boolean; resolve: (event: RpcRequestEvent) => void }[] = [];
  return {
    onRequest(event) {
      const index = waiting.findIndex((entry) => entry.match(event));
      if (index >= 0) waiting.splice(index, 1)[0]!.resolve(event);
    },
    next: (match) => new Promise((resolve) => waiting.push({ match, resolve })),
  };
}

function sortedResources(): string[] {
  return [...process.getActiveResourcesInfo()].sort();
}

/** Sockets and servers alive in the process (timers are left out: the test runner's own come and go). */
function tcpResources(): string[] {
  return sortedResources().filter((kind) => kind.startsWith('TCP'));
}

describe('latency', () => {
  it('heavyTail draws a log-normal body around 40 ms with about 3 % stalls of 0.5-1.5 s', () => {
    const random = createRandom('latency');
    const latency = { ...DEFAULT_RPC_BEHAVIOR.latency, ...rpcProfiles.heavyTail.latency };
    const samples = Array.from({ length: 20_000 }, () => sampleLatencyMs(latency, random)).sort((a, b) => a - b);
    const stalls = samples.filter((ms) => ms >= 500);
    expect(stalls.length / samples.length).toBeGreaterThan(0.025);
    expect(stalls.length / samples.length).toBeLessThan(0.035);
    expect(Math.max(...stalls)).toBeLessThanOrEqual(1500);
    const median = samples[samples.length / 2]!;
    expect(median).toBeGreaterThan(38);
    expect(median).toBeLessThan(44);
    expect(samples[Math.floor(samples.length * 0.99)]!).toBeGreaterThan(500);
    expect(sampleLatencyMs(DEFAULT_RPC_BEHAVIOR.latency, random)).toBe(0);
  });

  it('waits the drawn latency before answering (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const waiter = eventWaiter();
      const cluster = await start({ endpoints: 1, behavior: { latency: { medianMs: 5000, sigma: 0 } }, onRequest: waiter.onRequest });
      const seen = waiter.next(() => true);
      let settled = false;
      const answer = result<number>(cluster.endpoints[0]!.url, 'getSlot').finally(() => {
        settled = true;
      });
      expect((await seen).delayMs).toBe(5000);
      vi.advanceTimersByTime(4999);
      await Promise.resolve();
      expect(settled).toBe(false);
      vi.advanceTimersByTime(1);
      expect(await answer).toBe(cluster.chain.slot());
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('determinism', () => {
  async function run(seed: string, touchOther: boolean): Promise<{ events: RpcRequestEvent[]; bodies: string[] }> {
    const events: RpcRequestEvent[] = [];
    const cluster = await start({
      seed,
      endpoints: [
        { id: 'a', behavior: { latency: { medianMs: 1, sigma: 1, stallProbability: 0.2, stallMs: [2, 4] }, errorRate: 0.3, lieRate: 0.5 } },
        { id: 'b', behavior: { latency: { medianMs: 1, sigma: 1 } } },
      ],
      onRequest: (event) => {
        if (event.endpointId === 'a') events.push(event);
      },
    });
    const wallet = cluster.chain.wallets()[0]!;
    const bodies: string[] = [];
    for (let i = 0; i < 15; i++) {
      if (touchOther) await post(cluster.endpoints[1]!.url, { jsonrpc: '2.0', id: i, method: 'getSlot' });
      const answer = await post(cluster.endpoints[0]!.url, [
        { jsonrpc: '2.0', id: 1, method: 'getBalance', params: [wallet] },
        { jsonrpc: '2.0', id: 2, method: 'getSignaturesForAddress', params: [wallet, { limit: 3 }] },
      ]);
      bodies.push(`${answer.status} ${answer.text}`);
    }
    return { events, bodies };
  }

  it('the same seed gives the same latencies, failures and answers; another endpoint’s traffic changes nothing', async () => {
    const first = await run('determinism', false);
    const second = await run('determinism', true);
    expect(second.events).toEqual(first.events);
    expect(second.bodies).toEqual(first.bodies);
    const outcomes = new Set(first.events.map((event) => event.outcome));
    expect(outcomes.has('ok') && (outcomes.has('rpc-error') || outcomes.has('server-error'))).toBe(true);
    expect(first.events.some((event) => event.lies > 0)).toBe(true);
    expect(new Set(first.events.map((event) => event.delayMs)).size).toBeGreaterThan(10);

    const other = await run('another seed', false);
    expect(other.events.map((event) => event.delayMs)).not.toEqual(first.events.map((event) => event.delayMs));
  });
});

describe('slot lag', () => {
  it('a lagging endpoint serves the state of tip - lag, with that context.slot, until it catches up', async () => {
    const cluster = await start({
      endpoints: [{ id: 'fresh' }, { id: 'lagging', behavior: rpcProfiles.lagging }],
      chain: { transactionsPerSlot: 0 },
    });
    const fresh = cluster.endpoints[0]!;
    const lagging = cluster.endpoints[1]!;
    const [from, to] = cluster.chain.wallets() as [string, string];
    const tx = cluster.chain.transfer({ from, to, lamports: 500 });
    const tip = cluster.chain.slot();

    const freshBalance = await result<Contextual<number>>(fresh.url, 'getBalance', [to]);
    const staleBalance = await result<Contextual<number>>(lagging.url, 'getBalance', [to]);
    expect(freshBalance.context.slot).toBe(tip);
    expect(staleBalance.context.slot).toBe(tip - 8);
    expect(freshBalance.value - staleBalance.value).toBe(500);
    expect(await result<unknown>(lagging.url, 'getTransaction', [tx.signature])).toBeNull();
    expect(await result<unknown>(fresh.url, 'getTransaction', [tx.signature])).not.toBeNull();

    cluster.chain.advance(8);
    expect((await result<Contextual<number>>(lagging.url, 'getBalance', [to])).value).toBe(freshBalance.value);
    expect(await result<unknown>(lagging.url, 'getTransaction', [tx.signature])).not.toBeNull();

    cluster.setBehavior('lagging', { slotLag: 200 });
    expect((await call(lagging.url, 'getHealth')).error).toEqual({
      code: -32005,
      message: 'Node is behind by 158 slots',
      data: { numSlotsBehind: 158 },
    });
    // Never older than the chain remembers: 150 slots of history before startSlot, 8 produced since.
    expect(await result<number>(lagging.url, 'getSlot')).toBe(cluster.chain.oldestSlot());
    expect(await (await fetch(`${lagging.url}/health`)).text()).toBe('behind');
  });
});

describe('lying', () => {
  it('a liar alters lamports, data, transactions, signature lists and balances, but not slots', async () => {
    const cluster = await start({
      endpoints: [{ id: 'honest' }, { id: 'liar', behavior: rpcProfiles.liar }],
      behavior: { latency: { medianMs: 0 } },
    });
    const [honest, liar] = cluster.endpoints.map((endpoint) => endpoint.url) as [string, string];
    const wallet = cluster.chain.wallets()[0]!;
    const data = cluster.chain.dataAccounts()[0]!;
    const signature = cluster.chain.signatures(wallet)[0]!;
    const ask = (target: string, method: string, params?: unknown[]): Promise<unknown> => result<unknown>(target, method, params);

    for (const [method, params] of [
      ['getBalance', [wallet]],
      ['getAccountInfo', [data]],
      ['getTransaction', [signature]],
      ['getSignaturesForAddress', [wallet, { limit: 5 }]],
      ['getLatestBlockhash', []],
      ['eth_getBalance', [cluster.chain.evmAddressOf(wallet), 'latest']],
    ] as const) {
      const truth = await ask(honest, method, [...params]);
      const lie = await ask(liar, method, [...params]);
      expect(lie, method).not.toEqual(truth);
      expect(await ask(honest, method, [...params]), method).toEqual(truth);
    }
    const truthAccount = await result<Contextual<{ lamports: number; data: [string, string] }>>(honest, 'getAccountInfo', [data]);
    const lieAccount = await result<Contextual<{ lamports: number; data: [string, string] }>>(liar, 'getAccountInfo', [data]);
    expect(lieAccount.context).toEqual(truthAccount.context);
    expect(lieAccount.value.lamports).not.toBe(truthAccount.value.lamports);
    expect(lieAccount.value.data[0]).not.toBe(truthAccount.value.data[0]);
    expect(await ask(liar, 'getSlot')).toBe(await ask(honest, 'getSlot'));
    expect(await ask(liar, 'eth_blockNumber')).toBe(await ask(honest, 'eth_blockNumber'));
    expect(cluster.stats('liar').lies).toBe(7);
    expect(cluster.stats('honest').lies).toBe(0);

    // A lying node also reports a signature that is not the transaction's, yet forwards the transaction.
    const payer = base58(fill(32, 71));
    cluster.chain.setAccount(payer, { lamports: 1_000_000 });
    const sent = transferWire({ payer, to: wallet, lamports: 10, blockhash: cluster.chain.blockhash(), signatureSeed: 71 });
    const claimed = await result<string>(liar, 'sendTransaction', [base58(sent.wire)]);
    expect(claimed).not.toBe(sent.signature);
    cluster.chain.advance(3);
    expect(cluster.chain.transaction(sent.signature)).not.toBeNull();
  });
});

describe('injected errors', () => {
  it('errorMode "http" answers a 5xx with a text body; "json-rpc" answers -32603 for every call on HTTP 200', async () => {
    const cluster = await start({
      endpoints: [
        { id: 'http', behavior: { errorRate: 1, errorMode: 'http' } },
        { id: 'rpc', behavior: { errorRate: 1, errorMode: 'json-rpc' } },
      ],
    });
    const http = await post(cluster.endpoints[0]!.url, { jsonrpc: '2.0', id: 1, method: 'getSlot' });
    expect([500, 502, 503, 504]).toContain(http.status);
    expect(http.headers.get('content-type')).toContain('text/plain');
    const rpc = await post(cluster.endpoints[1]!.url, [
      { jsonrpc: '2.0', id: 1, method: 'getSlot' },
      { jsonrpc: '2.0', id: 2, method: 'getHealth' },
    ]);
    expect(rpc.status).toBe(200);
    expect(parse(rpc.text)).toEqual([
      { jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: 1 },
      { jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: 2 },
    ]);
    expect(cluster.stats('http').responses['server-error']).toBe(1);
    expect(cluster.stats('rpc').responses['rpc-error']).toBe(1);
  });

  it('the flaky profile fails about 2 % of requests', async () => {
    const events: RpcRequestEvent[] = [];
    const cluster = await start({
      endpoints: [{ id: 'flaky', behavior: { ...rpcProfiles.flaky, latency: { medianMs: 0 } } }],
      onRequest: (event) => events.push(event),
    });
    const batch = Array.from({ length: 4 }, (_, id) => ({ jsonrpc: '2.0', id, method: 'getSlot' }));
    for (let i = 0; i < 250; i++) await post(cluster.endpoints[0]!.url, i % 2 === 0 ? batch : batch[0]);
    const failed = events.filter((event) => event.outcome !== 'ok').length;
    expect(failed).toBeGreaterThanOrEqual(1);
    expect(failed).toBeLessThanOrEqual(15);
    const stats = cluster.stats('flaky');
    expect(stats.requests).toBe(250);
    expect(stats.calls).toBe(125 * 4 + 125);
    expect(stats.methods).toEqual({ getSlot: 625 });
    expect(stats.responses.ok).toBe(250 - failed);
    expect(stats.responses['rpc-error'] + stats.responses['server-error']).toBe(failed);
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After once the bucket is empty, and serves again after it refills', async () => {
    let nowMs = 0;
    const cluster = await start({
      endpoints: [{ id: 'limited', behavior: { rateLimit: { requestsPerSecond: 0.5, burst: 2 } } }],
      now: () => nowMs,
    });
    const target = cluster.endpoints[0]!.url;
    expect((await post(target, { jsonrpc: '2.0', id: 1, method: 'getSlot' })).status).toBe(200);
    expect((await post(target, { jsonrpc: '2.0', id: 2, method: 'getSlot' })).status).toBe(200);
    const limited = await post(target, { jsonrpc: '2.0', id: 3, method: 'getSlot' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(parse(limited.text)).toEqual({ jsonrpc: '2.0', error: { code: 429, message: 'Too many requests' }, id: null });

    nowMs = 1500;
    const stillLimited = await post(target, { jsonrpc: '2.0', id: 4, method: 'getSlot' });
    expect(stillLimited.status).toBe(429);
    expect(stillLimited.headers.get('retry-after')).toBe('1');
    nowMs = 2000;
    expect((await post(target, { jsonrpc: '2.0', id: 5, method: 'getSlot' })).status).toBe(200);
    expect(cluster.stats('limited').responses).toMatchObject({ ok: 3, 'rate-limited': 2 });

    cluster.setBehavior('limited', { rateLimit: null });
    for (let i = 0; i < 5; i++) expect((await post(target, { jsonrpc: '2.0', id: i, method: 'getSlot' })).status).toBe(200);
  });
});

describe('down and hung', () => {
  it('a down endpoint resets every connection, and comes back at the same URL', async () => {
    const cluster = await start({ endpoints: [{ id: 'flappy' }] });
    const target = cluster.endpoints[0]!.url;
    expect(await result<number>(target, 'getSlot')).toBe(cluster.chain.slot());
    cluster.setBehavior('flappy', rpcProfiles.down);
    const failure = await rejection(post(target, { jsonrpc: '2.0', id: 1, method: 'getSlot' }));
    expect(failure).toBeInstanceOf(TypeError);
    const raw = rawPost(target, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getSlot' }));
    expect((await rejection(raw.answer)) as { code?: string }).toMatchObject({ code: 'ECONNRESET' });
    expect(cluster.stats('flappy').connectionsReset).toBeGreaterThanOrEqual(2);
    cluster.setBehavior('flappy', { mode: 'up' });
    expect(await result<number>(target, 'getSlot')).toBe(cluster.chain.slot());
  });

  it('a hung endpoint reads the request and never answers; close() still ends it and leaves no handle behind', async () => {
    // Latency timers are faked so that they can be counted exactly; sockets are counted by the process.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const baseline = tcpResources();
      const waiter = eventWaiter();
      const cluster = await startRpcCluster({
        autoAdvance: true,
        slotMs: 50,
        endpoints: [
          { id: 'hung', behavior: rpcProfiles.hung },
          { id: 'slow', behavior: { latency: { medianMs: 60_000 } } },
        ],
        onRequest: waiter.onRequest,
      });
      const hungSeen = waiter.next((event) => event.endpointId === 'hung');
      const slowSeen = waiter.next((event) => event.endpointId === 'slow');
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getSlot' });
      const hung = rawPost(cluster.endpoints[0]!.url, body);
      const slow = rawPost(cluster.endpoints[1]!.url, body);
      expect(await hungSeen).toMatchObject({ outcome: 'hung', methods: ['getSlot'] });
      expect(await slowSeen).toMatchObject({ outcome: 'ok', delayMs: 60_000 });
      expect(cluster.stats('hung').responses.hung).toBe(1);
      expect(vi.getTimerCount()).toBe(1);
      expect(tcpResources().length).toBeGreaterThan(baseline.length);

      await cluster.close();
      expect(vi.getTimerCount()).toBe(0);
      expect(await rejection(hung.answer)).toMatchObject({ code: 'ECONNRESET' });
      expect(await rejection(slow.answer)).toMatchObject({ code: 'ECONNRESET' });
      await Promise.all([hung.closed, slow.closed]);
      expect(tcpResources()).toEqual(baseline);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a client that gives up before the latency elapses frees the pending answer and its timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const waiter = eventWaiter();
      const cluster = await start({
        endpoints: [{ id: 'slow', behavior: { latency: { medianMs: 60_000 } } }],
        onRequest: waiter.onRequest,
      });
      const seen = waiter.next(() => true);
      expect(vi.getTimerCount()).toBe(0);
      const request = rawPost(cluster.endpoints[0]!.url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getSlot' }));
      await seen;
      expect(vi.getTimerCount()).toBe(1);
      request.abort();
      await request.closed;
      await vi.waitFor(() => expect(cluster.stats('slow').aborted).toBe(1));
      expect(vi.getTimerCount()).toBe(0);
      expect(cluster.stats('slow').responses.ok).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('cluster options and control', () => {
  it('starts 4 endpoints on distinct 127.0.0.1 ports by default, with ids rpc-0..rpc-3', async () => {
    const cluster = await start({});
    expect(cluster.endpoints.map((endpoint) => endpoint.id)).toEqual(['rpc-0', 'rpc-1', 'rpc-2', 'rpc-3']);
    expect(new Set(cluster.endpoints.map((endpoint) => endpoint.port)).size).toBe(4);
    for (const endpoint of cluster.endpoints) {
      expect(endpoint.url).toBe(`http://127.0.0.1:${endpoint.port}`);
      expect(await result<number>(endpoint.url, 'getSlot')).toBe(cluster.chain.slot());
    }
    expect(cluster.seed).toBe(1);
    expect(cluster.behavior('rpc-2')).toEqual(DEFAULT_RPC_BEHAVIOR);
  });

  it('setBehavior merges a patch live and validates it, naming the bad field', async () => {
    const cluster = await start({ endpoints: [{ id: 'x', behavior: rpcProfiles.heavyTail }] });
    const next = cluster.setBehavior('x', { latency: { medianMs: 5 }, errorRate: 0.5 });
    expect(next.latency).toEqual({ medianMs: 5, sigma: 0.5, stallProbability: 0.03, stallMs: [500, 1500] });
    expect(cluster.behavior('x').errorRate).toBe(0.5);

    const bad = catchError(() => cluster.setBehavior('x', { latency: { sigma: -1 } }));
    expect(isXError(bad, 'TESTKIT_RPC_INVALID_OPTIONS')).toBe(true);
    expect((bad as Error).message).toContain('latency.sigma');
    expect(
      isXError(
        catchError(() => cluster.setBehavior('x', { lag: 3 } as never)),
        'TESTKIT_RPC_INVALID_OPTIONS',
      ),
    ).toBe(true);
    expect(
      isXError(
        catchError(() => cluster.setBehavior('x', { mode: 'sleepy' } as never)),
        'TESTKIT_RPC_INVALID_OPTIONS',
      ),
    ).toBe(true);
    expect(
      isXError(
        catchError(() => cluster.setBehavior('x', { rateLimit: { requestsPerSecond: 0 } })),
        'TESTKIT_RPC_INVALID_OPTIONS',
      ),
    ).toBe(true);
    expect(
      isXError(
        catchError(() => cluster.setBehavior('x', { slotLag: 1.5 })),
        'TESTKIT_RPC_INVALID_OPTIONS',
      ),
    ).toBe(true);
    expect(cluster.behavior('x')).toBe(next);
    expect(Object.isFrozen(next.latency) && Object.isFrozen(rpcProfiles.heavyTail.latency)).toBe(true);
    const unknown = catchError(() => cluster.setBehavior('y', {}));
    expect(isXError(unknown, 'TESTKIT_RPC_UNKNOWN_ENDPOINT')).toBe(true);
    expect(
      isXError(
        catchError(() => cluster.stats('y')),
        'TESTKIT_RPC_UNKNOWN_ENDPOINT',
      ),
    ).toBe(true);

    await cluster.close();
    expect(
      isXError(
        catchError(() => cluster.setBehavior('x', {})),
        'TESTKIT_RPC_CLOSED',
      ),
    ).toBe(true);
  });

  it('rejects bad options before listening on anything', async () => {
    const before = tcpResources();
    const cases: [unknown, string][] = [
      [{ endpoints: 0 }, 'endpoints'],
      [{ endpoints: 65 }, 'endpoints'],
      [{ endpoints: [{ id: 'a' }, { id: 'a' }] }, 'endpoints[1].id'],
      [{ endpoints: [{ id: 'has space' }] }, 'endpoints[0].id'],
      [{ endpoints: [{ behavior: { errorRate: 2 } }] }, 'endpoints[0].behavior.errorRate'],
      [{ behavior: { latency: { stallMs: [10, 5] } } }, 'behavior.latency.stallMs[1]'],
      [{ slotMs: 0 }, 'slotMs'],
      [{ seed: Number.NaN }, 'seed'],
      [{ chain: { wallets: -1 } }, 'chain.wallets'],
      [{ chain: { startSlot: 3 } }, 'chain.startSlot'],
      [{ chain: { retainSlots: 200 }, behavior: { slotLag: 201 } }, 'behavior.slotLag'],
      [{ onRequest: 'log' }, 'onRequest'],
      [{ port: 8899 }, 'options'],
      ['fast', 'options'],
    ];
    for (const [options, field] of cases) {
      const error = await rejection(startRpcCluster(options as RpcClusterOptions));
      expect(isXError(error, 'TESTKIT_RPC_INVALID_OPTIONS'), field).toBe(true);
      expect((error as { context: { option: string } }).context.option).toBe(field);
    }
    expect(tcpResources()).toEqual(before);
  });

  it('counts requests, calls and methods per endpoint, and resetStats() zeroes them', async () => {
    const cluster = await start({ endpoints: 2 });
    const [a] = cluster.endpoints.map((endpoint) => endpoint.url) as [string];
    await post(a, [
      { jsonrpc: '2.0', id: 1, method: 'getSlot' },
      { jsonrpc: '2.0', id: 2, method: 'getBalance', params: [base58(fill(32, 1))] },
      { jsonrpc: '2.0', id: 3, method: 'getSlot' },
    ]);
    await post(a, 'not json');
    expect(cluster.stats('rpc-0')).toEqual({
      id: 'rpc-0',
      requests: 2,
      calls: 3,
      methods: { getSlot: 2, getBalance: 1 },
      responses: { ok: 2, 'rpc-error': 0, 'server-error': 0, 'rate-limited': 0, hung: 0, rejected: 0 },
      lies: 0,
      aborted: 0,
      connectionsReset: 0,
      stream: {
        connections: 0,
        openConnections: 0,
        subscriptions: 0,
        notifications: 0,
        dropped: 0,
        duplicated: 0,
        reordered: 0,
        disconnects: 0,
        stalls: 0,
        stalled: 0,
      },
    });
    expect(cluster.stats().map((stats) => stats.requests)).toEqual([2, 0]);
    cluster.resetStats();
    expect(cluster.stats('rpc-0').requests).toBe(0);
  });

  it('an onRequest hook that throws becomes a process warning, not a crash', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning.message);
    };
    process.on('warning', onWarning);
    try {
      const cluster = await start({
        endpoints: 1,
        onRequest: () => {
          throw new Error('observer bug');
        },
      });
      expect(await result<number>(cluster.endpoints[0]!.url, 'getSlot')).toBe(cluster.chain.slot());
      await vi.waitFor(() => expect(warnings.some((message) => message.includes('observer bug'))).toBe(true));
    } finally {
      process.off('warning', onWarning);
    }
  });
});
