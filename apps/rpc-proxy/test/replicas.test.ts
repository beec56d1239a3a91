import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startRedisServer, startRpcCluster } from '@x/testkit';
import type { RedisServer, RpcCluster } from '@x/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createProxyServer } from '../src/server.js';
import type { ProxyServer, ProxyServerOptions } from '../src/server.js';
import { httpCall, rpcPost } from './helpers.js';

// Each upstream allows LIMIT requests per second with bursts of BURST (HTTP 429 beyond), and the proxy is told so.
const LIMIT = 10;
const BURST = 4;
const UPSTREAMS = 3;

interface Health {
  readonly budgets: { readonly mode: string; readonly detail?: string; readonly share?: number };
}

let redis: RedisServer;
let prefixes = 0;

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis.stop();
});

async function upstreams(): Promise<RpcCluster> {
  return await startRpcCluster({
    seed: 17,
    autoAdvance: false,
    endpoints: UPSTREAMS,
    behavior: { latency: { medianMs: 2, sigma: 0.2, stallProbability: 0 }, rateLimit: { requestsPerSecond: LIMIT, burst: BURST } },
  });
}

/** Two replicas in front of the same upstreams, with budgets equal to the upstreams' limits. */
async function replicas(cluster: RpcCluster, shared: ProxyServerOptions['sharedState']): Promise<[ProxyServer, ProxyServer]> {
  const options: ProxyServerOptions = {
    endpoints: cluster.endpoints.map((endpoint) => ({
      id: endpoint.id,
      url: endpoint.url,
      budget: { requestsPerSecond: LIMIT, burst: BURST },
    })),
    // One attempt per call, spread over the endpoints by headroom; a call may wait for a token up to its deadline.
    methods: { getBalance: { strategy: 'single', deadlineMs: 15_000 } },
    limits: { requestDeadlineMs: 20_000 },
    websocket: false,
    ...(shared === undefined ? {} : { sharedState: shared }),
  };
  const first = await createProxyServer(options);
  try {
    return [first, await createProxyServer(options)];
  } catch (error) {
    await first.close();
    throw error;
  }
}

const ADDRESS = '83astBRguLMdt2h5U1Tpdq5tjFoJ6noeGwaY3mDLVcri';

/** `count` getBalance calls, alternating between the replicas, all started at once. */
async function offer(proxies: readonly ProxyServer[], count: number): Promise<number> {
  const answers = await Promise.all(
    Array.from({ length: count }, (_, index) =>
      rpcPost((proxies[index % proxies.length] as ProxyServer).url, { jsonrpc: '2.0', id: index, method: 'getBalance', params: [ADDRESS] }),
    ),
  );
  return answers.filter((answer) => (answer.json as { result?: unknown }).result !== undefined).length;
}

const rateLimited = (cluster: RpcCluster): number =>
  cluster.endpoints.reduce((sum, endpoint) => sum + (cluster.stats(endpoint.id).responses['rate-limited'] ?? 0), 0);

describe('two rpc-proxy replicas sharing budgets through Redis', () => {
  it('never exceed any upstream limit together, and every upstream carries traffic', async () => {
    const cluster = await upstreams();
    const [a, b] = await replicas(cluster, { redis: { url: redis.url, keyPrefix: `replicas${++prefixes}:`, replicas: 2 } });
    try {
      for (const proxy of [a, b]) {
        const health = (await httpCall(`${proxy.url}/health`)).json as Health;
        expect(health.budgets).toMatchObject({ mode: 'shared', share: 0.5 });
      }
      // Twice one upstream's allowance for the first second, on top of every burst: the replicas must wait for tokens.
      const offered = UPSTREAMS * BURST + 2 * LIMIT;
      expect(await offer([a, b], offered)).toBe(offered);
      expect(rateLimited(cluster)).toBe(0);
      for (const endpoint of cluster.endpoints) expect(cluster.stats(endpoint.id).calls, endpoint.id).toBeGreaterThan(0);
      const served = cluster.endpoints.reduce((sum, endpoint) => sum + (cluster.stats(endpoint.id).methods['getBalance'] ?? 0), 0);
      expect(served).toBe(offered);
      // The pool's budget metrics reach /metrics.
      expect((await httpCall(`${a.url}/metrics`)).text).toMatch(/budget/);
    } finally {
      await a.close();
      await b.close();
      await cluster.close();
    }
  });

  it('(the control) without Redis, each replica spends the whole budget and the upstreams answer 429', async () => {
    const cluster = await upstreams();
    const [a, b] = await replicas(cluster, undefined);
    try {
      expect(((await httpCall(`${a.url}/health`)).json as Health).budgets).toEqual({ mode: 'local' });
      await offer([a, b], UPSTREAMS * BURST * 2);
      expect(rateLimited(cluster)).toBeGreaterThan(0);
    } finally {
      await a.close();
      await b.close();
      await cluster.close();
    }
  });

  it('keep serving on their local share when Redis stops, and /health says so', async () => {
    const own = await startRedisServer();
    const cluster = await upstreams();
    const [a, b] = await replicas(cluster, { redis: { url: own.url, keyPrefix: 'outage:', replicas: 2 } });
    try {
      expect(await offer([a, b], 2)).toBe(2);
      await own.stop();
      for (const proxy of [a, b]) {
        await vi.waitFor(async () => expect(((await httpCall(`${proxy.url}/health`)).json as Health).budgets.mode).toBe('degraded'), {
          timeout: 5_000,
          interval: 20,
        });
        const health = (await httpCall(`${proxy.url}/health`)).json as Health & { status: string };
        expect(health.status).toBe('ok');
        expect(health.budgets.share).toBe(0.5);
        expect(health.budgets.detail).toMatch(/redis/);
        const metrics = (await httpCall(`${proxy.url}/metrics`)).text;
        expect(metrics).toContain('rpc_proxy_budget_store_mode{mode="degraded"} 1');
        expect(metrics).toContain('rpc_proxy_budget_share 0.5');
      }
      expect(await offer([a, b], 4)).toBe(4);
      expect(rateLimited(cluster)).toBe(0);
    } finally {
      await a.close();
      await b.close();
      await cluster.close();
      await own.stop();
    }
  });
});

/** One inline Redis command on a fresh connection; resolves with the first reply line (`:1` for the integer 1). */
async function redisCommand(port: number, line: string): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply.split('\r\n')[0] as string);
      }
    });
  });
}

describe('the rpc-proxy process with --redis-url', () => {
  it('shares its budgets through that Redis, says so in /health, and closes its connection on SIGTERM', async () => {
    const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
    const child = spawn(
      process.execPath,
      ['--conditions=@x/source', '--import', 'tsx', 'apps/rpc-proxy/src/main.ts', '--local', '--port', '0', '--redis-url', redis.url],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await vi.waitFor(() => expect(out).toMatch(/listening on http:\/\/\S+/), { timeout: 15_000, interval: 20 });
      const url = (/listening on (http:\/\/\S+)/.exec(out) as RegExpExecArray)[1] as string;
      const health = (await httpCall(`${url}/health`)).json as Health;
      expect(health.budgets.mode).toBe('shared');
      expect(health.budgets.detail).toContain(redis.url);
      expect(err).toContain('budgets: shared');
      // Its heartbeat is in Redis under the default key prefix.
      expect(await redisCommand(redis.port, 'ZCARD rpc-proxy:replicas')).toBe(':1');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    // It left the replica set on its way out.
    expect(await redisCommand(redis.port, 'ZCARD rpc-proxy:replicas')).toBe(':0');
  });
});
