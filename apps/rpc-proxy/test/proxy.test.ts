import { afterEach, describe, expect, it } from 'vitest';
import { PROXY_RPC_ERROR_CODES } from '../src/jsonrpc.js';
import { httpCall, postChunked, postUnfinished, rpcPost, startHarness } from './helpers.js';
import type { Harness } from './helpers.js';

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(...args: Parameters<typeof startHarness>): Promise<Harness> {
  harness = await startHarness(...args);
  return harness;
}

interface RpcAnswer {
  jsonrpc: string;
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

describe('JSON-RPC forwarding', () => {
  it('answers a single call with the chain state of the upstream endpoints', async () => {
    const { cluster, proxy } = await start();
    const wallet = cluster.chain.wallets()[0]!;
    const answer = await rpcPost(proxy.url, { jsonrpc: '2.0', id: 7, method: 'getBalance', params: [wallet] });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    const body = answer.json as RpcAnswer;
    expect(body).toMatchObject({
      jsonrpc: '2.0',
      id: 7,
      result: { context: { slot: cluster.chain.slot() }, value: cluster.chain.account(wallet)!.lamports },
    });
  });

  it('answers a batch in order, one entry per call, and nothing for notifications', async () => {
    const { cluster, proxy } = await start();
    const wallet = cluster.chain.wallets()[1]!;
    const answer = await rpcPost(proxy.url, [
      { jsonrpc: '2.0', id: 'slot', method: 'getSlot' },
      { jsonrpc: '2.0', method: 'getSlot' },
      { jsonrpc: '2.0', id: 2, method: 'getBalance', params: [wallet] },
      { jsonrpc: '1.0', id: 3, method: 'getSlot' },
      { jsonrpc: '2.0', id: 4, method: 'getBalance', params: ['not-an-address'] },
      42,
    ]);
    expect(answer.status).toBe(200);
    const body = answer.json as RpcAnswer[];
    expect(body.map((entry) => entry.id)).toEqual(['slot', 2, 3, 4, null]);
    expect(body[0]!.result).toBe(cluster.chain.slot());
    expect(body[1]!.result).toMatchObject({ value: cluster.chain.account(wallet)!.lamports });
    expect(body[2]!.error!.code).toBe(PROXY_RPC_ERROR_CODES.INVALID_REQUEST);
    // The node's own invalid-params error is passed through, code and message.
    expect(body[3]!.error).toMatchObject({ code: -32602, message: 'Invalid param: Invalid' });
    expect(body[4]!.error!.code).toBe(PROXY_RPC_ERROR_CODES.INVALID_REQUEST);
  });

  it('passes integers beyond 2^53 (rentEpoch = u64::MAX) through byte-exact, single and batched', async () => {
    const { cluster, proxy } = await start();
    const [data] = cluster.chain.dataAccounts();
    const [wallet] = cluster.chain.wallets();
    const nodeResultText = async (params: unknown[]): Promise<string> => {
      const direct = await rpcPost(cluster.endpoints[0]!.url, { jsonrpc: '2.0', id: 1, method: 'getAccountInfo', params });
      // The node writes { jsonrpc, result, id }: the result's text is what lies between.
      return direct.text.slice(direct.text.indexOf('"result":') + '"result":'.length, direct.text.lastIndexOf(',"id":'));
    };
    const dataResult = await nodeResultText([data, { encoding: 'base64' }]);
    const walletResult = await nodeResultText([wallet, { encoding: 'base58' }]);
    expect(dataResult).toContain('"rentEpoch":18446744073709551615');
    expect(walletResult).toContain('"rentEpoch":18446744073709551615');

    const single = await rpcPost(proxy.url, { jsonrpc: '2.0', id: 7, method: 'getAccountInfo', params: [data, { encoding: 'base64' }] });
    expect(single.status).toBe(200);
    // Members in the order of the JSON-RPC specification and of Solana nodes: result, then id.
    expect(single.text).toBe(`{"jsonrpc":"2.0","result":${dataResult},"id":7}`);

    const batch = await rpcPost(proxy.url, [
      { jsonrpc: '2.0', id: 1, method: 'getAccountInfo', params: [wallet, { encoding: 'base58' }] },
      { jsonrpc: '2.0', id: 2, method: 'getAccountInfo', params: [data, { encoding: 'base64' }] },
    ]);
    expect(batch.text).toBe(`[{"jsonrpc":"2.0","result":${walletResult},"id":1},{"jsonrpc":"2.0","result":${dataResult},"id":2}]`);
  });

  it('answers a request of notifications only with 204 and no body', async () => {
    const { proxy } = await start();
    const answer = await rpcPost(proxy.url, [{ jsonrpc: '2.0', method: 'getSlot' }]);
    expect(answer.status).toBe(204);
    expect(answer.text).toBe('');
  });

  it('answers bad JSON with -32700 and id null', async () => {
    const { cluster, proxy } = await start();
    const answer = await rpcPost(proxy.url, '{"jsonrpc":"2.0","id":1,"method":');
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: the body is not valid JSON' } });
    expect(cluster.stats().reduce((sum, endpoint) => sum + endpoint.requests, 0)).toBe(0);
  });

  it('rejects methods outside the allow-list with -32601 without asking any endpoint', async () => {
    const { cluster, proxy } = await start();
    const answer = await rpcPost(proxy.url, { jsonrpc: '2.0', id: 1, method: 'eth_chainId' });
    expect((answer.json as RpcAnswer).error).toMatchObject({ code: -32601 });
    expect((answer.json as RpcAnswer).error!.message).toContain('eth_chainId');
    expect(cluster.stats().reduce((sum, endpoint) => sum + endpoint.calls, 0)).toBe(0);
  });

  it('forwards a method the configuration allows', async () => {
    const { proxy } = await start({ allowMethods: ['eth_chainId'] });
    const answer = await rpcPost(proxy.url, { jsonrpc: '2.0', id: 1, method: 'eth_chainId' });
    expect((answer.json as RpcAnswer).result).toBe('0x7a69');
  });

  it('forwards any method with allowAnyMethod, and the node decides', async () => {
    const { proxy } = await start({ allowAnyMethod: true });
    const answer = await rpcPost(proxy.url, { jsonrpc: '2.0', id: 1, method: 'noSuchMethod' });
    expect((answer.json as RpcAnswer).error).toMatchObject({ code: -32601, message: expect.not.stringContaining('proxy') as unknown });
  });

  it('refuses a sendTransaction that does not parse with -32602 before sending it anywhere', async () => {
    const { cluster, proxy } = await start();
    const answer = await rpcPost(proxy.url, { jsonrpc: '2.0', id: 1, method: 'sendTransaction', params: ['AQID', { encoding: 'base64' }] });
    expect((answer.json as RpcAnswer).error).toMatchObject({
      code: -32602,
      data: { code: 'SOLANA_INVALID_TRANSACTION', category: 'config' },
    });
    expect(cluster.stats().reduce((sum, endpoint) => sum + endpoint.calls, 0)).toBe(0);
  });

  it('answers with the proxy code and the @x error when every endpoint is down', async () => {
    const { cluster, proxy } = await start();
    for (const endpoint of cluster.endpoints) cluster.setBehavior(endpoint.id, { mode: 'down' });
    const answer = await rpcPost(proxy.url, { jsonrpc: '2.0', id: 1, method: 'getSlot' });
    const error = (answer.json as RpcAnswer).error!;
    expect(error.code).toBe(PROXY_RPC_ERROR_CODES.UPSTREAM_UNAVAILABLE);
    expect(error.data).toEqual({ code: 'STRATEGY_ALL_ATTEMPTS_FAILED', category: 'network' });
  });
});

describe('limits', () => {
  it('refuses a body over maxBodyBytes with 413 from its Content-Length, asking no endpoint', async () => {
    const { cluster, proxy } = await start({ limits: { maxBodyBytes: 1024 } });
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getSlot', params: [{ padding: 'x'.repeat(2000) }] });
    const answer = await rpcPost(proxy.url, body);
    expect(answer.status).toBe(413);
    expect(answer.json).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600, data: { maxBodyBytes: 1024 } } });
    expect(cluster.stats().reduce((sum, endpoint) => sum + endpoint.requests, 0)).toBe(0);
  });

  it('stops reading a chunked body as soon as it passes maxBodyBytes', async () => {
    const { proxy } = await start({ limits: { maxBodyBytes: 1024 } });
    const answer = await postChunked(proxy.url, ['[', ' '.repeat(800), ' '.repeat(800), ' '.repeat(800), ']']);
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { code: -32600 } });
  });

  it('refuses a batch over maxBatchSize with -32600, and accepts one at the limit', async () => {
    const { cluster, proxy } = await start({ limits: { maxBatchSize: 3 } });
    const call = (id: number): unknown => ({ jsonrpc: '2.0', id, method: 'getSlot' });
    const tooBig = await rpcPost(proxy.url, [call(1), call(2), call(3), call(4)]);
    expect(tooBig.json).toMatchObject({ id: null, error: { code: -32600, data: { batchSize: 4, maxBatchSize: 3 } } });
    expect(cluster.stats().reduce((sum, endpoint) => sum + endpoint.requests, 0)).toBe(0);
    const atLimit = await rpcPost(proxy.url, [call(1), call(2), call(3)]);
    expect((atLimit.json as RpcAnswer[]).map((entry) => entry.result)).toEqual([
      cluster.chain.slot(),
      cluster.chain.slot(),
      cluster.chain.slot(),
    ]);
  });

  it('answers calls still running at requestDeadlineMs with -32051 and frees the upstream requests', async () => {
    const { cluster, proxy } = await start({
      limits: { requestDeadlineMs: 150 },
      methods: { getSlot: { strategy: 'race', deadlineMs: 60_000 } },
    });
    for (const endpoint of cluster.endpoints) cluster.setBehavior(endpoint.id, { mode: 'hung' });
    const answer = await rpcPost(proxy.url, [
      { jsonrpc: '2.0', id: 1, method: 'getSlot' },
      { jsonrpc: '2.0', id: 2, method: 'getHealth' },
    ]);
    expect(answer.status).toBe(200);
    const body = answer.json as RpcAnswer[];
    expect(body.map((entry) => entry.error?.code)).toEqual([
      PROXY_RPC_ERROR_CODES.UPSTREAM_TIMEOUT,
      PROXY_RPC_ERROR_CODES.UPSTREAM_TIMEOUT,
    ]);
    expect(body[0]!.error!.message).toBe('Request time limit exceeded');
    const snapshot = proxy.rpc.pool.snapshot();
    expect(snapshot.endpoints.every((endpoint) => endpoint.inFlight === 0)).toBe(true);
  });

  it('answers 408 with -32051 when the body is still incomplete at requestDeadlineMs', async () => {
    const { proxy } = await start({ limits: { requestDeadlineMs: 100 } });
    const answer = await postUnfinished(proxy.url, '{"jsonrpc":"2.0",');
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.text)).toMatchObject({ id: null, error: { code: PROXY_RPC_ERROR_CODES.UPSTREAM_TIMEOUT } });
  });

  it('cancels the upstream requests of a client that goes away', async () => {
    const { cluster, proxy } = await start({ methods: { getSlot: { strategy: 'race', deadlineMs: 60_000 } } });
    // Answers planned 30 s out: an endpoint counts the request as aborted when its client leaves.
    for (const endpoint of cluster.endpoints) cluster.setBehavior(endpoint.id, { latency: { medianMs: 30_000, sigma: 0 } });
    const controller = new AbortController();
    const pending = fetch(proxy.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getSlot' }),
      signal: controller.signal,
    });
    const inFlight = (): number => proxy.rpc.pool.snapshot().endpoints.reduce((sum, endpoint) => sum + endpoint.inFlight, 0);
    await expect.poll(inFlight).toBe(3);
    controller.abort();
    await expect(pending).rejects.toThrow();
    await expect.poll(inFlight).toBe(0);
    await expect.poll(() => cluster.stats().reduce((sum, endpoint) => sum + endpoint.aborted, 0)).toBe(3);
    expect(proxy.counters().failed).toBe(1);
  });

  it('requires Content-Type application/json (415), POST on / (405) and a known path (404)', async () => {
    const { proxy } = await start();
    const wrongType = await httpCall(proxy.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    expect(wrongType.status).toBe(415);
    expect(wrongType.json).toMatchObject({ error: { code: -32600 } });
    const charset = await rpcPost(
      proxy.url,
      { jsonrpc: '2.0', id: 1, method: 'getSlot' },
      { 'content-type': 'application/json; charset=utf-8' },
    );
    expect(charset.status).toBe(200);
    const get = await httpCall(proxy.url);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await httpCall(`${proxy.url}/nope`)).status).toBe(404);
    expect((await httpCall(`${proxy.url}/health`, { method: 'POST' })).status).toBe(405);
  });
});

describe('bearer token', () => {
  const token = 'proxy-token-0123456789abcdef';

  it('answers 401 without the token or with a wrong one, on every route', async () => {
    const { cluster, proxy } = await start({ token });
    const call = { jsonrpc: '2.0', id: 1, method: 'getSlot' };
    const missing = await rpcPost(proxy.url, call);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(missing.json).toMatchObject({ error: { code: PROXY_RPC_ERROR_CODES.UNAUTHORIZED } });
    expect((await rpcPost(proxy.url, call, { authorization: `Bearer ${token}x` })).status).toBe(401);
    expect((await rpcPost(proxy.url, call, { authorization: `Basic ${token}` })).status).toBe(401);
    for (const path of ['/health', '/metrics', '/stats']) expect((await httpCall(`${proxy.url}${path}`)).status).toBe(401);
    expect(cluster.stats().reduce((sum, endpoint) => sum + endpoint.requests, 0)).toBe(0);
    expect(missing.text).not.toContain(token);
  });

  it('serves requests that carry it', async () => {
    const { cluster, proxy } = await start({ token });
    const answer = await rpcPost(proxy.url, { jsonrpc: '2.0', id: 1, method: 'getSlot' }, { authorization: `Bearer ${token}` });
    expect((answer.json as RpcAnswer).result).toBe(cluster.chain.slot());
    const metrics = await httpCall(`${proxy.url}/metrics`, { headers: { authorization: `bearer ${token}` } });
    expect(metrics.status).toBe(200);
  });
});

describe('/health', () => {
  it('is 200 while an endpoint is healthy and 503 once every endpoint is ejected', async () => {
    const { cluster, proxy } = await start({ client: { pool: { ejection: { consecutiveFailures: 1 } } } });
    const healthy = await httpCall(`${proxy.url}/health`);
    expect(healthy.status).toBe(200);
    expect(healthy.json).toMatchObject({ status: 'ok', healthy: 3, total: 3 });

    for (const endpoint of cluster.endpoints) cluster.setBehavior(endpoint.id, { mode: 'down' });
    await rpcPost(proxy.url, { jsonrpc: '2.0', id: 1, method: 'getAccountInfo', params: [cluster.chain.wallets()[0]] });
    const down = await httpCall(`${proxy.url}/health`);
    expect(down.status).toBe(503);
    const body = down.json as { status: string; healthy: number; endpoints: Array<{ id: string; health: string }> };
    expect(body.status).toBe('unavailable');
    expect(body.healthy).toBe(0);
    expect(body.endpoints.map((endpoint) => endpoint.health)).toEqual(['ejected', 'ejected', 'ejected']);
  });
});

describe('/metrics and /stats', () => {
  const key = 'AbCdEf123456GhIjKl7890MnOp';
  const apiKey = 'q-secret-5e1f9a0b7c';

  function parsePrometheus(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
    const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (match === null) throw new Error(`not a Prometheus sample line: ${line}`);
      const labels: Record<string, string> = {};
      for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
      samples.push({ name: match[1]!, labels, value: Number(match[3]) });
    }
    return samples;
  }

  async function startWithKeys(): Promise<Harness> {
    return start({
      endpoints: (cluster) =>
        cluster.endpoints.map((endpoint, index) => ({
          id: endpoint.id,
          url: index === 0 ? `${endpoint.url}/v2/${key}?api-key=${apiKey}` : endpoint.url,
        })),
    });
  }

  it('exports the pool as Prometheus text without the keys of endpoint URLs', async () => {
    const { cluster, proxy } = await startWithKeys();
    await rpcPost(proxy.url, { jsonrpc: '2.0', id: 1, method: 'getSlot' });
    const answer = await httpCall(`${proxy.url}/metrics`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parsePrometheus(answer.text);
    const attempts = samples.filter((sample) => sample.name === 'x_pool_endpoint_attempts_total');
    expect(new Set(attempts.map((sample) => sample.labels['endpoint']))).toEqual(new Set(cluster.endpoints.map((endpoint) => endpoint.id)));
    const successes = attempts.filter((sample) => sample.labels['result'] === 'success').reduce((sum, sample) => sum + sample.value, 0);
    expect(successes).toBeGreaterThanOrEqual(1);
    const keyed = samples.find(
      (sample) => sample.name === 'x_pool_endpoint_available' && sample.labels['endpoint'] === cluster.endpoints[0]!.id,
    );
    expect(keyed!.labels['label']).toBe(`${cluster.endpoints[0]!.url}/v2/***?api-key=***`);
    expect(answer.text).not.toContain(key);
    expect(answer.text).not.toContain(apiKey);
  });

  it('keeps the keys out of /stats, /health and upstream errors', async () => {
    const { cluster, proxy } = await startWithKeys();
    cluster.setBehavior(cluster.endpoints[0]!.id, { errorRate: 1, errorMode: 'http' });
    const keyedOnly = await rpcPost(proxy.url, { jsonrpc: '2.0', id: 1, method: 'getSlot' });
    expect((keyedOnly.json as RpcAnswer).result).toBe(cluster.chain.slot());
    for (const endpoint of cluster.endpoints) cluster.setBehavior(endpoint.id, { mode: 'down' });
    const failed = await rpcPost(proxy.url, [
      { jsonrpc: '2.0', id: 1, method: 'getSlot' },
      { jsonrpc: '2.0', id: 2, method: 'getTransaction', params: ['x'] },
    ]);
    expect((failed.json as RpcAnswer[]).every((entry) => entry.error !== undefined)).toBe(true);
    const stats = await httpCall(`${proxy.url}/stats`);
    const health = await httpCall(`${proxy.url}/health`);
    for (const text of [keyedOnly.text, failed.text, stats.text, health.text]) {
      expect(text).not.toContain(key);
      expect(text).not.toContain(apiKey);
    }
    const lastError = (stats.json as { pool: { endpoints: Array<{ lastError: { message: string } | null }> } }).pool.endpoints[0]!
      .lastError;
    expect(lastError!.message).toContain('***');
  });

  it('reports the pool snapshot, the slot watermark and the proxy counters in /stats', async () => {
    const { cluster, proxy } = await start();
    await rpcPost(proxy.url, [
      { jsonrpc: '2.0', id: 1, method: 'getBalance', params: [cluster.chain.wallets()[0]] },
      { jsonrpc: '2.0', id: 2, method: 'eth_chainId' },
    ]);
    const answer = await httpCall(`${proxy.url}/stats`);
    expect(answer.status).toBe(200);
    const stats = answer.json as {
      proxy: { calls: number; succeeded: number; rejected: number };
      slotWatermark: number;
      pool: { degraded: boolean; endpoints: Array<{ id: string; health: string; totals: { success: number } }> };
    };
    expect(stats.proxy).toMatchObject({ calls: 2, succeeded: 1, rejected: 1 });
    expect(stats.slotWatermark).toBe(cluster.chain.slot());
    expect(stats.pool.degraded).toBe(false);
    expect(stats.pool.endpoints.map((endpoint) => endpoint.id)).toEqual(cluster.endpoints.map((endpoint) => endpoint.id));
    expect(stats.pool.endpoints.reduce((sum, endpoint) => sum + endpoint.totals.success, 0)).toBeGreaterThanOrEqual(1);
  });
});

describe('close()', () => {
  it('answers a request in flight, then stops listening and releases every connection', async () => {
    const started = await start({ shutdownGraceMs: 20, methods: { getSlot: { strategy: 'race', deadlineMs: 60_000 } } });
    const { cluster, proxy } = started;
    for (const endpoint of cluster.endpoints) cluster.setBehavior(endpoint.id, { mode: 'hung' });
    const pending = rpcPost(proxy.url, { jsonrpc: '2.0', id: 1, method: 'getSlot' });
    // Wait until the call is upstream: the hung endpoints have counted the request.
    await expect.poll(() => cluster.stats().reduce((sum, endpoint) => sum + endpoint.requests, 0)).toBeGreaterThan(0);
    await proxy.close();
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect((answer.json as RpcAnswer).error).toMatchObject({
      code: PROXY_RPC_ERROR_CODES.INTERNAL_ERROR,
      message: 'The proxy is shutting down',
    });
    await expect(fetch(proxy.url, { method: 'POST' })).rejects.toThrow();
    expect(proxy.close()).toBe(proxy.close());
  });

  it('rejects with PROXY_LISTEN_FAILED when the port is taken, leaving nothing open', async () => {
    const { proxy } = await start();
    const port = Number(new URL(proxy.url).port);
    await expect(startHarness({ port })).rejects.toMatchObject({ code: 'PROXY_LISTEN_FAILED', category: 'network' });
  });
});
