import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSolanaMultiRpc } from '@x/solana-rpc';
import type { SolanaBatchOutcome, SolanaRpc } from '@x/solana-rpc';
import { setup } from './helpers.js';

interface Call {
  readonly id: number;
  readonly method: string;
  readonly params?: unknown[];
}

interface Answer {
  readonly status?: number;
  readonly body: string;
}

interface Upstream {
  readonly url: string;
  /** Each HTTP request's calls, and whether it was a batch. */
  readonly requests: Array<{ readonly batch: boolean; readonly calls: Call[] }>;
  close(): Promise<void>;
}

/** A JSON-RPC endpoint on 127.0.0.1 whose status and body `answer` writes from each request's calls. */
async function startUpstream(answer: (calls: readonly Call[], batch: boolean) => Answer): Promise<Upstream> {
  const requests: Upstream['requests'] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Call | Call[];
      const batch = Array.isArray(parsed);
      const calls = batch ? parsed : [parsed];
      requests.push({ batch, calls });
      const reply = answer(calls, batch);
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(reply.body)) });
      res.end(reply.body);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** `echo [k]` is answered `k * 10` (unless `override` says otherwise for that k); `undefined` from override leaves the entry out. */
function echoing(override: (k: number) => string | null | undefined = () => null): (calls: readonly Call[], batch: boolean) => Answer {
  const entry = (call: Call): string | undefined => {
    const k = Number(call.params?.[0]);
    const special = override(k);
    if (special === undefined) return undefined;
    return special ?? `{"jsonrpc":"2.0","id":${call.id},"result":${k * 10}}`;
  };
  return (calls, batch) => {
    // In reverse order: answers are matched by id, not by position.
    const entries = calls.map(entry).reverse();
    return { body: batch ? `[${entries.filter((text) => text !== undefined).join(',')}]` : (entries[0] ?? '{}') };
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function clientOver(upstreams: readonly Upstream[], strategy: 'consensus' | 'single' | 'race' = 'consensus', quorum?: number): SolanaRpc {
  for (const upstream of upstreams) cleanups.push(() => upstream.close());
  const rpc = createSolanaMultiRpc({
    endpoints: upstreams.map((upstream, index) => ({ id: `e${index}`, url: upstream.url })),
    methods: { echo: { strategy, deadlineMs: 10_000, ...(quorum === undefined ? {} : { quorum }) } },
  });
  cleanups.push(() => rpc.close());
  return rpc;
}

const echoes = (count: number): Array<{ method: string; params: number[] }> =>
  Array.from({ length: count }, (_, k) => ({ method: 'echo', params: [k + 1] }));

function values(outcomes: readonly SolanaBatchOutcome[]): unknown[] {
  return outcomes.map((outcome) => (outcome.ok ? outcome.value : outcome.error.code));
}

describe('callBatch upstream', () => {
  it('sends the consensus calls of a batch to each endpoint as one upstream batch, each call with its own vote', async () => {
    const upstreams = await Promise.all([startUpstream(echoing()), startUpstream(echoing()), startUpstream(echoing())]);
    const rpc = clientOver(upstreams);
    const outcomes = await rpc.callBatch(echoes(8));
    expect(values(outcomes)).toEqual([10, 20, 30, 40, 50, 60, 70, 80]);
    for (const upstream of upstreams) {
      expect(upstream.requests).toHaveLength(1);
      expect(upstream.requests[0]).toMatchObject({ batch: true });
      expect(upstream.requests[0]?.calls.map((call) => call.params?.[0])).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    }
  });

  it('fails only the call whose entries are missing or malformed, and outvotes a lie on one call', async () => {
    const upstreams = await Promise.all([
      startUpstream(echoing()),
      // e1: leaves call 3 out, answers call 4 with garbage, lies on call 2.
      startUpstream(
        echoing((k) => {
          if (k === 3) return undefined;
          if (k === 4) return '{"nonsense":true}';
          return k === 2 ? '{"jsonrpc":"2.0","id":2,"result":999}' : null;
        }),
      ),
      // e2: leaves call 3 out too, so call 3 cannot reach a quorum of two.
      startUpstream(echoing((k) => (k === 3 ? undefined : null))),
    ]);
    const rpc = clientOver(upstreams);
    const outcomes = await rpc.callBatch(echoes(5));
    expect(values(outcomes)).toEqual([10, 20, 'SOLANA_NO_CONSENSUS', 40, 50]);
    const third = outcomes[2];
    expect(third?.ok === false && third.error.message).toMatch(/no consensus/);
    for (const upstream of upstreams) expect(upstream.requests).toHaveLength(1);
  });

  it('falls back to one request per call for an endpoint that answers a batch with HTTP 413, and remembers it', async () => {
    const refusing = await startUpstream((calls, batch) => (batch ? { status: 413, body: 'too large' } : echoing()(calls, false)));
    const rpc = clientOver([refusing], 'single');
    expect(values(await rpc.callBatch(echoes(4)))).toEqual([10, 20, 30, 40]);
    // The refused batch, then one request per call.
    expect(refusing.requests.map((request) => request.calls.length)).toEqual([4, 1, 1, 1, 1]);
    expect(rpc.refusingBatches()).toEqual(['e0']);
    refusing.requests.length = 0;
    expect(values(await rpc.callBatch(echoes(3)))).toEqual([10, 20, 30]);
    expect(refusing.requests.every((request) => !request.batch)).toBe(true);
    expect(refusing.requests).toHaveLength(3);
  });

  it('forgets a refusal after five minutes and tries a batch again', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      let refuse = true;
      const upstream = await startUpstream((calls, batch) => (batch && refuse ? { status: 403, body: 'quota' } : echoing()(calls, batch)));
      const rpc = clientOver([upstream], 'single');
      expect(values(await rpc.callBatch(echoes(2)))).toEqual([10, 20]);
      expect(rpc.refusingBatches()).toEqual(['e0']);
      refuse = false;
      vi.advanceTimersByTime(299_000);
      upstream.requests.length = 0;
      await rpc.callBatch(echoes(2));
      expect(upstream.requests.map((request) => request.batch)).toEqual([false, false]);
      vi.advanceTimersByTime(1_001);
      expect(rpc.refusingBatches()).toEqual([]);
      upstream.requests.length = 0;
      expect(values(await rpc.callBatch(echoes(2)))).toEqual([10, 20]);
      expect(upstream.requests.map((request) => request.batch)).toEqual([true]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('falls back for an endpoint that answers a batch with one JSON-RPC error, in consensus too', async () => {
    const refusal = '{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"batch requests are not supported"}}';
    const upstreams = await Promise.all([
      startUpstream(echoing()),
      startUpstream((calls, batch) => (batch ? { body: refusal } : echoing()(calls, false))),
      startUpstream(echoing()),
    ]);
    // Every endpoint must agree: e1's answers are needed.
    const rpc = clientOver(upstreams, 'consensus', 3);
    expect(values(await rpc.callBatch(echoes(3)))).toEqual([10, 20, 30]);
    expect(rpc.refusingBatches()).toEqual(['e1']);
    expect(upstreams[1]?.requests.map((request) => request.batch)).toEqual([true, false, false, false]);
    expect(upstreams[0]?.requests).toHaveLength(1);
  });

  it('does not take a rate-limited batch (HTTP 429) for a refusal', async () => {
    const limited = await startUpstream(() => ({ status: 429, body: '' }));
    const rpc = clientOver([limited], 'single');
    const outcomes = await rpc.callBatch(echoes(2));
    expect(outcomes.every((outcome) => !outcome.ok && outcome.error.category === 'rate-limit')).toBe(true);
    expect(rpc.refusingBatches()).toEqual([]);
    expect(limited.requests).toHaveLength(1);
  });

  it('cuts the shared upstream batches when the caller aborts, and leaves no request open', async () => {
    // An aborted exchange's connection is closed at once, not drained: the endpoint sees it go.
    const harness = await setup([{ id: 'a' }, { id: 'b' }, { id: 'c' }], { client: { http: { drainOnAbort: false } } });
    cleanups.push(() => harness.close());
    const { cluster, client } = harness;
    // Answers planned 30 s out: an endpoint counts the request as aborted when its client leaves.
    for (const endpoint of cluster.endpoints) cluster.setBehavior(endpoint.id, { latency: { medianMs: 30_000, sigma: 0 } });
    const controller = new AbortController();
    const calls = Array.from({ length: 4 }, (_, index) => ({ method: 'getTransaction', params: [`${'1'.repeat(63)}${index + 2}`] }));
    const pending = client.callBatch(calls, { signal: controller.signal });
    const inFlight = (): number => client.pool.snapshot().endpoints.reduce((sum, endpoint) => sum + endpoint.inFlight, 0);
    await expect.poll(inFlight).toBe(12);
    // One request per endpoint carries the four calls.
    await expect
      .poll(() => cluster.stats().map((entry) => [entry.requests, entry.calls]))
      .toEqual([
        [1, 4],
        [1, 4],
        [1, 4],
      ]);
    controller.abort();
    const outcomes = await pending;
    expect(outcomes.every((outcome) => !outcome.ok && outcome.error.category === 'aborted')).toBe(true);
    expect(inFlight()).toBe(0);
    // Each was cut.
    await expect.poll(() => cluster.stats().reduce((sum, entry) => sum + entry.aborted, 0)).toBe(3);
  });

  it('never puts writes into an upstream batch', async () => {
    const upstreams = await Promise.all([startUpstream(echoing()), startUpstream(echoing())]);
    for (const upstream of upstreams) cleanups.push(() => upstream.close());
    const rpc = createSolanaMultiRpc({
      endpoints: upstreams.map((upstream, index) => ({ id: `e${index}`, url: upstream.url })),
      methods: { requestAirdrop: { strategy: 'broadcast', deadlineMs: 10_000 } },
    });
    cleanups.push(() => rpc.close());
    const airdrops = echoes(3).map((call) => ({ ...call, method: 'requestAirdrop' }));
    expect(values(await rpc.callBatch(airdrops))).toEqual([10, 20, 30]);
    for (const upstream of upstreams) {
      expect(upstream.requests).toHaveLength(3);
      expect(upstream.requests.every((request) => !request.batch)).toBe(true);
    }
  });
});
