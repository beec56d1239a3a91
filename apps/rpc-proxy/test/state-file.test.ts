import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRpcCluster } from '@x/testkit';
import type { RpcCluster } from '@x/testkit';
import type { PoolExport } from '@x/pool';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createProxyServer } from '../src/server.js';
import type { ProxyServer, ProxyServerOptions } from '../src/server.js';
import { createStateKeeper, restorePoolState, savePoolState } from '../src/state-file.js';
import { rpcPost } from './helpers.js';

let directory: string;
let cluster: RpcCluster | undefined;
const proxies: ProxyServer[] = [];

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'rpc-proxy-state-'));
});

afterEach(async () => {
  vi.useRealTimers();
  for (const proxy of proxies.splice(0)) await proxy.close();
  await cluster?.close();
  cluster = undefined;
  await rm(directory, { recursive: true, force: true });
});

/** `slow` is listed first, so a cold pool (no statistics: configuration order) asks it first. */
async function startCluster(): Promise<RpcCluster> {
  cluster = await startRpcCluster({
    seed: 5,
    autoAdvance: false,
    endpoints: [
      { id: 'slow', behavior: { latency: { medianMs: 25, sigma: 0 } } },
      { id: 'fast', behavior: { latency: { medianMs: 0, sigma: 0 } } },
    ],
  });
  return cluster;
}

async function startProxy(from: RpcCluster, extra: Partial<ProxyServerOptions> = {}): Promise<ProxyServer> {
  const proxy = await createProxyServer({
    endpoints: from.endpoints.map((endpoint) => ({ id: endpoint.id, url: endpoint.url })),
    methods: {
      // Learning: both endpoints answer every call. Then a single-endpoint read shows who ranks first.
      getSlot: { strategy: 'consensus', quorum: 2, deadlineMs: 10_000 },
      getBalance: { strategy: 'single', deadlineMs: 10_000 },
    },
    ...extra,
  });
  proxies.push(proxy);
  return proxy;
}

/** Sends one getBalance through the proxy; returns the endpoint that served it. */
async function firstCallGoesTo(proxy: ProxyServer, from: RpcCluster): Promise<string> {
  const before = from.stats().map((entry) => entry.methods['getBalance'] ?? 0);
  const answer = await rpcPost(proxy.url, { jsonrpc: '2.0', id: 1, method: 'getBalance', params: [from.chain.wallets()[0]] });
  expect(answer.status).toBe(200);
  const after = from.stats().map((entry) => entry.methods['getBalance'] ?? 0);
  const served = from.stats().filter((_entry, index) => (after[index] ?? 0) > (before[index] ?? 0));
  expect(served).toHaveLength(1);
  return served[0]!.id;
}

async function learn(proxy: ProxyServer, from: RpcCluster): Promise<void> {
  for (let call = 0; call < 10; call += 1) {
    const answer = await rpcPost(proxy.url, { jsonrpc: '2.0', id: call, method: 'getSlot' });
    expect(answer.json).toMatchObject({ result: from.chain.slot() });
  }
}

describe('--state-file', () => {
  it('a restarted proxy routes its first call by what the previous run learned', async () => {
    const from = await startCluster();
    const path = join(directory, 'pool.json');
    const first = await startProxy(from, { stateFile: { path } });
    expect(first.stateRestore).toEqual({ kind: 'missing' });
    await learn(first, from);
    await first.close();
    // Saved atomically at shutdown: the file, and no temporary file left beside it.
    expect(await readdir(directory)).toEqual(['pool.json']);
    const saved = JSON.parse(await readFile(path, 'utf8')) as PoolExport;
    expect(saved.endpoints.map((endpoint) => endpoint.id)).toEqual(['slow', 'fast']);

    const restarted = await startProxy(from, { stateFile: { path } });
    expect(restarted.stateRestore).toMatchObject({ kind: 'restored', imported: ['slow', 'fast'], unknown: [] });
    expect(await firstCallGoesTo(restarted, from)).toBe('fast');

    // Without the file, the same first call goes by configuration order.
    const cold = await startProxy(from);
    expect(await firstCallGoesTo(cold, from)).toBe('slow');
  });

  it('starts cold from a file older than maxAgeMs, and from one that is not a pool export', async () => {
    const from = await startCluster();
    const path = join(directory, 'pool.json');
    const first = await startProxy(from, { stateFile: { path } });
    await learn(first, from);
    await first.close();
    const saved = JSON.parse(await readFile(path, 'utf8')) as PoolExport;
    await writeFile(path, JSON.stringify({ ...saved, exportedAt: saved.exportedAt - 2 * 60 * 60_000 }));
    const lines: string[] = [];
    const stale = await startProxy(from, { stateFile: { path, maxAgeMs: 60 * 60_000 }, log: (line) => lines.push(line) });
    expect(stale.stateRestore?.kind).toBe('stale');
    expect(await firstCallGoesTo(stale, from)).toBe('slow');
    expect(lines.join('\n')).toContain('starting cold');

    const broken = join(directory, 'broken.json');
    await writeFile(broken, '{"version":1,"exportedAt":');
    const fromBroken = await startProxy(from, { stateFile: { path: broken } });
    expect(fromBroken.stateRestore).toEqual({ kind: 'invalid', reason: 'The state file broken.json is not JSON' });
    const wrongShape = join(directory, 'wrong.json');
    await writeFile(wrongShape, JSON.stringify({ version: 1, exportedAt: Date.now(), endpoints: [{ id: 'slow' }] }));
    const fromWrong = await startProxy(from, { stateFile: { path: wrongShape } });
    expect(fromWrong.stateRestore?.kind).toBe('invalid');
    expect(fromWrong.rpc.pool.snapshot().endpoints.every((endpoint) => endpoint.window.attempts === 0)).toBe(true);
  });

  it('saves every saveEveryMs while running and once more at stop, never leaving a temporary file', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let exports = 0;
    const pool = {
      export: (): PoolExport => {
        exports += 1;
        return { version: 1, exportedAt: exports, endpoints: [] };
      },
      import: () => ({ imported: [], unknown: [] }),
    };
    const path = join(directory, 'state.json');
    const keeper = createStateKeeper(pool, { path }, () => undefined);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(exports).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    await keeper.save();
    expect(exports).toBe(2);
    await vi.advanceTimersByTimeAsync(60_000);
    await keeper.stop();
    expect(exports).toBe(4);
    expect((JSON.parse(await readFile(path, 'utf8')) as PoolExport).exportedAt).toBe(4);
    expect(await readdir(directory)).toEqual(['state.json']);
  });

  it('reports an unwritable path as SOLANA_STATE_FILE and restores nothing from a missing one', async () => {
    const pool = {
      export: (): PoolExport => ({ version: 1, exportedAt: 1, endpoints: [] }),
      import: () => ({ imported: [], unknown: [] }),
    };
    await expect(savePoolState(pool, join(directory, 'missing-dir', 'state.json'))).rejects.toMatchObject({
      code: 'SOLANA_STATE_FILE',
      category: 'config',
    });
    expect(await restorePoolState(pool, join(directory, 'none.json'))).toEqual({ kind: 'missing' });
  });
});
