import { fakeLogsResult, startFakeWsProvider, startRpcCluster } from '@x/testkit';
import type { FakeWsProvider, RpcCluster } from '@x/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createProxyServer } from '../src/server.js';
import type { ProxyServer, ProxyServerOptions } from '../src/server.js';

const PROGRAM = '6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P';
const TOKEN = 'a-long-enough-token-1234';

let cluster: RpcCluster | undefined;
let proxy: ProxyServer | undefined;
let providers: FakeWsProvider[] = [];
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await proxy?.close();
  await cluster?.close();
  await Promise.all(providers.map((p) => p.close()));
  proxy = undefined;
  cluster = undefined;
  providers = [];
});

async function start(extra: Partial<ProxyServerOptions> = {}, websocket: ProxyServerOptions['websocket'] = {}): Promise<ProxyServer> {
  cluster = await startRpcCluster({ seed: 7, endpoints: [{ id: 'h1' }] });
  providers = await Promise.all([startFakeWsProvider(), startFakeWsProvider()]);
  proxy = await createProxyServer({
    endpoints: cluster.endpoints.map((e) => ({ id: e.id, url: e.url })),
    ...extra,
    websocket: websocket === false ? false : { endpoints: providers.map((p, i) => ({ url: p.url, id: `ws${i}` })), ...websocket },
  });
  return proxy;
}

interface Client {
  readonly ws: WebSocket;
  readonly messages: Array<Record<string, unknown>>;
  request(id: number, method: string, params?: unknown): Promise<Record<string, unknown>>;
  nextNotification(): Promise<Record<string, unknown>>;
}

async function connect(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const ws = new WebSocket(url.replace('http:', 'ws:'), { headers });
  clients.push(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const messages: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data: Buffer) => {
    messages.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
    for (const wake of waiters.splice(0)) wake();
  });
  async function find(match: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    for (;;) {
      const at = messages.findIndex(match);
      if (at !== -1) return messages.splice(at, 1)[0] as Record<string, unknown>;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  }
  return {
    ws,
    messages,
    request(id, method, params) {
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      return find((m) => m.id === id);
    },
    nextNotification: () => find((m) => typeof m.method === 'string'),
  };
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setImmediate(resolve));
}

describe('rpc-proxy WebSocket subscriptions', () => {
  it('clients subscribe as to a provider; identical subscriptions share one merged upstream; each event once', async () => {
    const server = await start();
    const one = await connect(server.url);
    const two = await connect(server.url);
    const params = [{ mentions: [PROGRAM] }, { commitment: 'processed' }];
    const s1 = await one.request(1, 'logsSubscribe', params);
    const s2 = await two.request(7, 'logsSubscribe', params);
    expect(s1).toEqual({ jsonrpc: '2.0', id: 1, result: expect.any(Number) as number });
    expect(typeof s2.result).toBe('number');
    for (const p of providers) await p.waitForSubscriptions('logsSubscribe', 1);
    expect(providers.map((p) => p.subscriptions.length)).toEqual([1, 1]);
    expect(server.websocket?.stats()).toMatchObject({ connections: 2, clientSubscriptions: 2, upstreamSubscriptions: 1 });

    for (const p of providers) p.notify('logsSubscribe', fakeLogsResult('sigA', 5));
    providers[1]?.notify('logsSubscribe', fakeLogsResult('sigB', 6));
    for (const [client, sub] of [
      [one, s1.result],
      [two, s2.result],
    ] as const) {
      const a = await client.nextNotification();
      expect(a).toEqual({ jsonrpc: '2.0', method: 'logsNotification', params: { subscription: sub, result: fakeLogsResult('sigA', 5) } });
      const b = await client.nextNotification();
      expect((b.params as { result: { value: { signature: string } } }).result.value.signature).toBe('sigB');
    }
    // The second copy of sigA was dropped upstream of the clients: nothing more is queued for them.
    await until(() => (server.websocket?.stats().providers.reduce((n, p) => n + p.first + p.late, 0) ?? 0) === 3);
    expect(one.messages).toEqual([]);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const firsts = [...metrics.matchAll(/^rpc_proxy_stream_first_total\{endpoint="ws\d"\} (\d+)$/gm)].map((m) => Number(m[1]));
    expect(firsts.reduce((x, y) => x + y, 0)).toBe(2);
    expect(metrics).toMatch(/^rpc_proxy_ws_upstream_subscriptions 1$/m);
    const stats = (await (await fetch(`${server.url}/stats`)).json()) as {
      websocket: { clientSubscriptions: number; providers: unknown[] };
    };
    expect(stats.websocket).toMatchObject({ clientSubscriptions: 2, providers: [{ id: 'ws0' }, { id: 'ws1' }] });

    // Forwarded HTTP method over the same socket.
    const slot = await one.request(2, 'getSlot');
    expect(typeof slot.result).toBe('number');

    expect(await one.request(3, 'logsUnsubscribe', [s1.result])).toMatchObject({ result: true });
    expect(await one.request(4, 'logsUnsubscribe', [s1.result])).toMatchObject({ result: false });
    expect(providers.map((p) => p.subscriptions.length)).toEqual([1, 1]);
    two.ws.close();
    await until(() => providers.every((p) => p.subscriptions.length === 0));
    expect(server.websocket?.stats()).toMatchObject({ connections: 1, upstreamSubscriptions: 0 });
  });

  it('limits subscriptions per connection and message size', async () => {
    const server = await start({}, { maxSubscriptionsPerConnection: 2, maxMessageBytes: 2_048 });
    const client = await connect(server.url);
    expect((await client.request(1, 'slotSubscribe')).result).toEqual(expect.any(Number));
    expect((await client.request(2, 'accountSubscribe', [PROGRAM, { commitment: 'processed' }])).result).toEqual(expect.any(Number));
    expect(await client.request(3, 'logsSubscribe', ['all'])).toMatchObject({ error: { code: -32005 } });
    expect(await client.request(4, 'blockSubscribe', [])).toMatchObject({ error: { code: -32601 } });
    const closed = new Promise<number>((resolve) => client.ws.once('close', (code) => resolve(code)));
    client.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'slotSubscribe', params: ['x'.repeat(4_096)] }));
    expect(await closed).toBe(1009);
    await until(() => server.websocket?.stats().connections === 0);
    await until(() => providers.every((p) => p.subscriptions.length === 0));
  });

  it('the bearer token applies to the upgrade', async () => {
    const server = await start({ token: TOKEN });
    const refused = new WebSocket(server.url.replace('http:', 'ws:'));
    clients.push(refused);
    refused.on('error', () => undefined);
    const status = await new Promise<number>((resolve) => refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(401);
    const client = await connect(server.url, { authorization: `Bearer ${TOKEN}` });
    expect((await client.request(1, 'slotSubscribe')).result).toEqual(expect.any(Number));
    expect(server.websocket?.stats().refused).toBe(1);
  });

  it('close() ends client connections with 1001 and every upstream subscription', async () => {
    const server = await start();
    const client = await connect(server.url);
    await client.request(1, 'slotSubscribe');
    for (const p of providers) await p.waitForSubscriptions('slotSubscribe', 1);
    const closed = new Promise<number>((resolve) => client.ws.once('close', (code) => resolve(code)));
    await server.close();
    expect(await closed).toBe(1001);
    await until(() => providers.every((p) => p.openConnections === 0));
  });
});

describe('rpc-proxy WebSocket lead statistics', () => {
  it("each provider's lead is in the pool: /stats (pool.endpoints[].stream) and /metrics", async () => {
    cluster = await startRpcCluster({
      seed: 7,
      autoAdvance: false,
      chain: { transactionsPerSlot: 0 },
      endpoints: [{ id: 'p0' }, { id: 'p1' }],
    });
    // No websocket.endpoints: the proxy subscribes at each HTTP endpoint's address, under the pool's ids.
    proxy = await createProxyServer({ endpoints: cluster.endpoints.map((e) => ({ id: e.id, url: e.url })) });
    const client = await connect(proxy.url);
    const [a, b] = cluster.chain.wallets();
    const sub = await client.request(1, 'logsSubscribe', [{ mentions: [a] }, { commitment: 'processed' }]);
    expect(typeof sub.result).toBe('number');
    const live = cluster;
    await until(() => live.endpoints.every((e) => live.stats(e.id).stream.subscriptions === 1));
    for (let i = 0; i < 5; i++) live.chain.transfer({ from: a!, to: b!, lamports: 1 });
    for (let i = 0; i < 5; i++) await client.nextNotification();
    const server = proxy;
    await until(() => (server.websocket?.stats().providers.reduce((n, p) => n + p.first + p.late, 0) ?? 0) === 10);

    const stats = (await (await fetch(`${server.url}/stats`)).json()) as {
      pool: { endpoints: Array<{ id: string; stream: { deliveries: number; firsts: number; firstShare: number | null } }> };
    };
    const streams = stats.pool.endpoints.map((e) => [e.id, e.stream.deliveries] as const);
    expect(streams).toEqual([
      ['p0', 5],
      ['p1', 5],
    ]);
    expect(stats.pool.endpoints.reduce((n, e) => n + e.stream.firsts, 0)).toBe(5);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const firsts = [...metrics.matchAll(/^\w*endpoint_stream_firsts_total\{[^}]*\} (\d+)$/gm)].map((m) => Number(m[1]));
    expect(firsts.reduce((x, y) => x + y, 0)).toBe(5);
    expect(metrics).toMatch(/endpoint_stream_behind_seconds\{[^}]*quantile="0.99"/);
  });
});
