import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSolanaMultiRpc } from '@x/solana-rpc';
import type { SolanaBatchOutcome, SolanaRpc } from '@x/solana-rpc';
import { GENEROUS, GENEROUS_METHODS, setup } from './helpers.js';
import type { Setup } from './helpers.js';

interface Call {
  readonly id: number;
  readonly method: string;
  readonly params?: unknown;
}

interface RawServer {
  readonly url: string;
  /** Each HTTP request's calls (a single call is a list of one). */
  readonly requests: Call[][];
  close(): Promise<void>;
}

/** A JSON-RPC endpoint on 127.0.0.1 whose whole response body `answer` writes from the request's calls: hostile on purpose. */
async function startRawServer(answer: (calls: readonly Call[], batch: boolean) => string): Promise<RawServer> {
  const requests: Call[][] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Call | Call[];
      const calls = Array.isArray(parsed) ? parsed : [parsed];
      requests.push(calls);
      const body = answer(calls, Array.isArray(parsed));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
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

/** getBlockHeight answers: the call's own id times 10, so that a misplaced answer shows. */
const good = (call: Call): string => `{"jsonrpc":"2.0","id":${call.id},"result":${call.id * 10}}`;
const honest = (calls: readonly Call[], batch: boolean): string => (batch ? `[${calls.map(good).join(',')}]` : good(calls[0] as Call));

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function clientOver(servers: readonly RawServer[]): SolanaRpc {
  for (const server of servers) cleanups.push(() => server.close());
  const rpc = createSolanaMultiRpc({
    endpoints: servers.map((server, index) => ({ id: `e${index}`, url: server.url })),
    defaults: GENEROUS,
    methods: GENEROUS_METHODS,
  });
  cleanups.push(() => rpc.close());
  return rpc;
}

const heights = (count: number): Array<{ method: string }> => Array.from({ length: count }, () => ({ method: 'getBlockHeight' }));

function values(outcomes: readonly SolanaBatchOutcome[]): unknown[] {
  return outcomes.map((outcome) => (outcome.ok ? outcome.value : outcome.error.code));
}

describe('callBatch', () => {
  it('sends 100 reads to one healthy endpoint as one upstream request, one attempt in the pool, and it stays healthy', async () => {
    const server = await startRawServer(honest);
    const rpc = clientOver([server]);
    const outcomes = await rpc.callBatch(heights(100));
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toHaveLength(100);
    // Each call got its own answer (id × 10), in call order.
    const sentIds = (server.requests[0] as Call[]).map((call) => call.id * 10);
    expect(values(outcomes)).toEqual(sentIds);
    expect(outcomes.every((outcome) => outcome.ok && outcome.endpoint === 'e0')).toBe(true);
    const [endpoint] = rpc.pool.snapshot().endpoints;
    expect(endpoint?.health).toBe('healthy');
    expect(endpoint?.window).toMatchObject({ success: 1, error: 0, timeout: 0 });
  });

  it('gives each call a defined outcome when the batch answer misses ids', async () => {
    const server = await startRawServer((calls) => `[${calls.slice(0, 2).map(good).join(',')}]`);
    const rpc = clientOver([server]);
    const outcomes = await rpc.callBatch(heights(4));
    const ids = (server.requests[0] as Call[]).map((call) => call.id);
    expect(values(outcomes)).toEqual([ids[0]! * 10, ids[1]! * 10, 'HTTP_RPC_MISSING_RESPONSE', 'HTTP_RPC_MISSING_RESPONSE']);
    // The endpoint broke the protocol: its one request counts as a failure.
    expect(rpc.pool.snapshot().endpoints[0]?.window.error).toBe(1);
  });

  it('gives each call a defined outcome when the batch answer repeats an id', async () => {
    const server = await startRawServer((calls) => {
      const [first, second, third] = calls as [Call, Call, Call];
      return `[${good(first)},${good(second)},{"jsonrpc":"2.0","id":${second.id},"result":-1},${good(third)}]`;
    });
    const rpc = clientOver([server]);
    const outcomes = await rpc.callBatch(heights(3));
    const ids = (server.requests[0] as Call[]).map((call) => call.id);
    expect(values(outcomes)).toEqual([ids[0]! * 10, 'HTTP_RPC_ID_MISMATCH', ids[2]! * 10]);
  });

  it('fails every call with a protocol error when the batch is not answered with an array', async () => {
    const server = await startRawServer((calls) => good(calls[0] as Call));
    const rpc = clientOver([server]);
    const outcomes = await rpc.callBatch(heights(3));
    expect(values(outcomes)).toEqual(['HTTP_RPC_INVALID_RESPONSE', 'HTTP_RPC_INVALID_RESPONSE', 'HTTP_RPC_INVALID_RESPONSE']);
    expect(outcomes.every((outcome) => !outcome.ok && outcome.error.category === 'protocol')).toBe(true);
  });

  it('ignores entries for ids it never sent (a longer answer) and garbage entries fail only their own call', async () => {
    const server = await startRawServer((calls) => {
      const [first, second] = calls as [Call, Call];
      return `[{"jsonrpc":"2.0","id":999999,"result":1},"garbage",${good(second)},{"jsonrpc":"2.0","id":${first.id}},${good(first)}]`;
    });
    const rpc = clientOver([server]);
    const outcomes = await rpc.callBatch(heights(2));
    const ids = (server.requests[0] as Call[]).map((call) => call.id);
    // The first id is answered twice (once without result nor error): the repeat is the protocol break.
    expect(values(outcomes)).toEqual(['HTTP_RPC_ID_MISMATCH', ids[1]! * 10]);
  });

  it('sends what one endpoint failed to the next endpoint, as one batch, once', async () => {
    const broken = await startRawServer((calls) => `[${calls.slice(0, 1).map(good).join(',')}]`);
    const sound = await startRawServer(honest);
    const rpc = clientOver([broken, sound]);
    // With no statistics yet, the pool ranks in configuration order: the broken one is asked first. A method
    // without a preset is a single attempt (never sent twice), so these reads ask for a hedge.
    const outcomes = await rpc.callBatch(heights(3).map((call) => ({ ...call, options: { strategy: 'hedge' as const } })));
    expect(broken.requests).toHaveLength(1);
    expect(broken.requests[0]).toHaveLength(3);
    // The two calls it missed went on together to the sound one; the call it answered was not sent again.
    expect(sound.requests).toHaveLength(1);
    expect(sound.requests[0]).toHaveLength(2);
    const [first, second] = rpc.pool.snapshot().endpoints;
    expect(first?.window).toMatchObject({ attempts: 1, error: 1 });
    expect(second?.window).toMatchObject({ attempts: 1, success: 1 });
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
  });

  it('keeps consensus calls on their own path and batches the reads beside them', async () => {
    const harness: Setup = await setup([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    cleanups.push(() => harness.close());
    const wallet = harness.cluster.chain.wallets()[0]!;
    const signature = harness.cluster.chain.transfer({ from: wallet, to: harness.cluster.chain.wallets()[1]!, lamports: 1 }).signature;
    const outcomes = await harness.client.callBatch([
      ...Array.from({ length: 20 }, () => ({ method: 'getBalance', params: [wallet] })),
      { method: 'getTransaction', params: [signature, { maxSupportedTransactionVersion: 0 }] },
    ]);
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    const stats = harness.cluster.stats();
    const balanceCalls = stats.reduce((sum, entry) => sum + (entry.methods['getBalance'] ?? 0), 0);
    const transactionCalls = stats.reduce((sum, entry) => sum + (entry.methods['getTransaction'] ?? 0), 0);
    // Twenty reads, each sent once, in one request to one endpoint; the vote asked several endpoints.
    expect(balanceCalls).toBe(20);
    expect(stats.filter((entry) => (entry.methods['getBalance'] ?? 0) > 0)).toHaveLength(1);
    expect(transactionCalls).toBeGreaterThanOrEqual(2);
  });

  it('answers a call that is invalid on its own with its error and runs the others', async () => {
    const server = await startRawServer(honest);
    const rpc = clientOver([server]);
    const outcomes = await rpc.callBatch([{ method: 'getBlockHeight' }, { method: '' }, { method: 'getBlockHeight' }]);
    expect(outcomes[1]).toMatchObject({ ok: false, error: { code: 'SOLANA_INVALID_REQUEST' } });
    expect(outcomes[0]?.ok && outcomes[2]?.ok).toBe(true);
    expect(server.requests).toHaveLength(1);
  });
});
