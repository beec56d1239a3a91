import { getEventListeners } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { XError, isXError } from '@x/errors';
import { createHttpTransport } from '@x/http-transport';
import type { HttpTransport, HttpTransportOptions } from '@x/http-transport';
import { activeResources, asRpcRequest, hang, rpcResults, sendJson, startServer, trickle } from './helpers.js';
import type { TestServer } from './helpers.js';

let server: TestServer;
const open: HttpTransport[] = [];

function transport(options: Partial<HttpTransportOptions> = {}): HttpTransport {
  const created = createHttpTransport({ url: `${server.origin}/rpc`, timeoutMs: 2_000, ...options });
  open.push(created);
  return created;
}

beforeAll(async () => {
  server = await startServer(hang);
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

afterAll(async () => {
  await server.stop();
});

describe('single calls', () => {
  it('posts a JSON-RPC 2.0 request and resolves with its result', async () => {
    server.setHandler(rpcResults((method, params) => ({ method, params })));
    const rpc = transport({ headers: { 'X-Api-Team': 'bots' } });
    const before = server.received.length;

    const value = await rpc.call('getBalance', ['addr', { commitment: 'confirmed' }]);

    expect(value).toEqual({ method: 'getBalance', params: ['addr', { commitment: 'confirmed' }] });
    const seen = server.received[before]!;
    expect(seen.url).toBe('/rpc');
    expect(seen.headers['content-type']).toBe('application/json');
    expect(seen.headers['x-api-team']).toBe('bots');
    expect(seen.json).toEqual({
      jsonrpc: '2.0',
      id: expect.any(Number) as number,
      method: 'getBalance',
      params: ['addr', { commitment: 'confirmed' }],
    });
  });

  it('omits params when none are given and numbers ids in sequence', async () => {
    server.setHandler(rpcResults(() => 7));
    const rpc = transport();
    const before = server.received.length;
    await rpc.call('getSlot');
    await rpc.call('getSlot');
    const [first, second] = server.received.slice(before).map((r) => r.json as Record<string, unknown>);
    expect(first).not.toHaveProperty('params');
    expect(second!.id).toBe((first!.id as number) + 1);
  });

  it('sends the caller-chosen id and accepts the answer carrying it', async () => {
    server.setHandler(rpcResults(() => 'ok'));
    const rpc = transport();
    await expect(rpc.call('getHealth', [], { id: 'req-42' })).resolves.toBe('ok');
    expect(asRpcRequest(server.received.at(-1)!.json).id).toBe('req-42');
  });

  it('reports the latency of the exchange with callWithLatency', async () => {
    server.setHandler(rpcResults(() => 123));
    const rpc = transport();
    const timed = await rpc.callWithLatency<number>('getSlot');
    expect(timed.value).toBe(123);
    expect(Number.isFinite(timed.latencyMs)).toBe(true);
    expect(timed.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('turns user info in the URL into Basic authorization and keeps it out of the label', async () => {
    server.setHandler(rpcResults(() => true));
    const rpc = transport({ url: `http://alice:s%3Ccret@127.0.0.1:${server.port}/rpc` });
    await rpc.call('getHealth');
    expect(server.received.at(-1)!.headers.authorization).toBe(`Basic ${Buffer.from('alice:s<cret').toString('base64')}`);
    expect(rpc.label).toBe(`http://***@127.0.0.1:${server.port}/rpc`);
  });
});

describe('connection pool', () => {
  it('keeps its connection alive and reuses it for later calls', async () => {
    server.setHandler(rpcResults(() => 1));
    // One connection allowed: had the first one been closed after a call, the server would see more.
    const rpc = transport({ connections: 1 });
    const before = server.connectionCount();
    for (let i = 0; i < 5; i += 1) await rpc.call('getSlot');
    expect(server.connectionCount() - before).toBe(1);
  });

  it('never opens more connections than configured; extra calls queue', async () => {
    server.setHandler(rpcResults(() => 1));
    const rpc = transport({ connections: 2 });
    const before = server.connectionCount();
    const values = await Promise.all(Array.from({ length: 8 }, () => rpc.call('getSlot')));
    expect(values).toEqual(Array.from({ length: 8 }, () => 1));
    expect(server.connectionCount() - before).toBeLessThanOrEqual(2);
  });

  it('close() closes every connection: no socket handle remains', async () => {
    server.setHandler(rpcResults(() => 1));
    const rpc = createHttpTransport({ url: `${server.origin}/rpc`, connections: 3 });
    await Promise.all(Array.from({ length: 6 }, () => rpc.call('getSlot')));
    expect(server.openConnections()).toBeGreaterThan(0);

    await rpc.close();
    await server.waitForNoConnections();

    expect(activeResources('TCPSocketWrap')).toBe(0);
  });

  it('close() rejects calls in flight with HTTP_CLOSED, then new calls too, and is idempotent', async () => {
    server.setHandler(hang);
    const rpc = transport();
    const requestsBefore = server.received.length;
    const pending = rpc.call('getSlot');
    await server.waitForRequests(requestsBefore + 1);

    const closing = rpc.close();
    expect(rpc.close()).toBe(closing);
    await expect(pending).rejects.toMatchObject({ code: 'HTTP_CLOSED', category: 'aborted' });
    await closing;
    await expect(rpc.call('getSlot')).rejects.toMatchObject({ code: 'HTTP_CLOSED', category: 'aborted' });
    await expect(rpc.batch([{ method: 'getSlot' }])).rejects.toMatchObject({ code: 'HTTP_CLOSED' });
    await server.waitForNoConnections();
  });
});

describe('batch', () => {
  it('matches responses sent in reverse order to their requests by id', async () => {
    server.setHandler((request, response) => {
      const items = (request.json as unknown[]).map(asRpcRequest);
      const answers = items.map((item) =>
        item.method === 'bad'
          ? { jsonrpc: '2.0', id: item.id, error: { code: -32602, message: 'Invalid params' } }
          : { jsonrpc: '2.0', id: item.id, result: `${item.method}:${JSON.stringify(item.params)}` },
      );
      sendJson(response, 200, answers.reverse());
    });
    const rpc = transport();

    const outcomes = await rpc.batch([{ method: 'a', params: [1] }, { method: 'bad', params: [] }, { method: 'c' }]);

    expect(outcomes).toHaveLength(3);
    expect(outcomes[0]).toMatchObject({ ok: true, value: 'a:[1]' });
    expect(outcomes[1]).toMatchObject({ ok: false, error: { code: 'HTTP_RPC_CALLER_ERROR', category: 'config' } });
    expect(outcomes[2]).toMatchObject({ ok: true, value: 'c:undefined' });
    const latencies = new Set(outcomes.map((o) => o.latencyMs));
    expect(latencies.size).toBe(1);
    const sent = server.received.at(-1)!.json as Record<string, unknown>[];
    expect(sent.map((item) => item.jsonrpc)).toEqual(['2.0', '2.0', '2.0']);
    expect(new Set(sent.map((item) => item.id)).size).toBe(3);
  });

  it('keeps caller-chosen ids and gives the other items ids that do not collide with them', async () => {
    server.setHandler(rpcResults((method) => method));
    const rpc = transport();
    await rpc.call('warmup'); // the transport's next sequence number is now 2
    const outcomes = await rpc.batch([{ method: 'x' }, { method: 'y', id: 2 }, { method: 'z', id: 'named' }]);
    expect(outcomes.map((o) => o.ok && o.value)).toEqual(['x', 'y', 'z']);
    const ids = (server.received.at(-1)!.json as Record<string, unknown>[]).map((item) => item.id);
    expect(ids[1]).toBe(2);
    expect(ids[2]).toBe('named');
    expect(ids[0]).not.toBe(2);
  });

  it('reports a missing response, a duplicated one and an unknown id per item, losing none of the good ones', async () => {
    server.setHandler((request, response) => {
      const [first, second] = (request.json as unknown[]).map(asRpcRequest);
      sendJson(response, 200, [
        { jsonrpc: '2.0', id: first!.id, result: 'one' },
        { jsonrpc: '2.0', id: second!.id, result: 'two' },
        { jsonrpc: '2.0', id: second!.id, result: 'two again' },
        { jsonrpc: '2.0', id: 'nobody', result: 'stray' },
      ]);
    });
    const rpc = transport();

    const [one, two, three] = await rpc.batch([{ method: 'a' }, { method: 'b' }, { method: 'c' }]);

    expect(one).toMatchObject({ ok: true, value: 'one' });
    expect(two).toMatchObject({ ok: false, error: { code: 'HTTP_RPC_ID_MISMATCH', category: 'protocol' } });
    expect(three).toMatchObject({
      ok: false,
      error: { code: 'HTTP_RPC_MISSING_RESPONSE', category: 'protocol', context: { unmatchedResponses: 1 } },
    });
  });

  it('rejects the whole batch when the server answers it with one id-less error', async () => {
    server.setHandler((_request, response) => {
      sendJson(response, 200, { jsonrpc: '2.0', id: null, error: { code: -32429, message: 'rate limited' } });
    });
    const rpc = transport();
    await expect(rpc.batch([{ method: 'a' }, { method: 'b' }])).rejects.toMatchObject({
      code: 'HTTP_RPC_RATE_LIMITED',
      category: 'rate-limit',
      context: { rpcCode: -32429 },
    });
  });

  it('rejects a batch answered with a single result object as an invalid response', async () => {
    server.setHandler((_request, response) => sendJson(response, 200, { jsonrpc: '2.0', id: 1, result: 1 }));
    const rpc = transport();
    await expect(rpc.batch([{ method: 'a' }])).rejects.toMatchObject({ code: 'HTTP_RPC_INVALID_RESPONSE', category: 'protocol' });
  });

  it('refuses an empty batch and duplicate ids before sending anything', async () => {
    const rpc = transport();
    const before = server.received.length;
    await expect(rpc.batch([])).rejects.toMatchObject({ code: 'HTTP_INVALID_REQUEST', category: 'config' });
    await expect(
      rpc.batch([
        { method: 'a', id: 1 },
        { method: 'b', id: 1 },
      ]),
    ).rejects.toMatchObject({ code: 'HTTP_INVALID_REQUEST' });
    expect(server.received.length).toBe(before);
  });
});

describe('timeouts and cancellation', () => {
  it('times out on a server that accepts and never answers, then serves the next call on the freed connection', async () => {
    // A short drain: the server never finishes, so the connection is destroyed once it expires.
    const rpc = transport({ connections: 1, drainOnAbort: { maxMs: 20 } });
    server.setHandler(hang);
    const error: unknown = await rpc.call('getSlot', [], { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(XError);
    expect(error).toMatchObject({ code: 'HTTP_TIMEOUT', category: 'timeout', context: { timeoutMs: 100, phase: 'response' } });

    server.setHandler(rpcResults(() => 'after'));
    await expect(rpc.call('getSlot')).resolves.toBe('after');
  });

  it('times out on a body that trickles in forever, measured over the whole exchange', async () => {
    // A short drain: the server never finishes, so the connection is destroyed once it expires.
    const rpc = transport({ connections: 1, drainOnAbort: { maxMs: 20 } });
    server.setHandler(trickle);
    await expect(rpc.call('getSlot', [], { timeoutMs: 400 })).rejects.toMatchObject({
      code: 'HTTP_TIMEOUT',
      category: 'timeout',
      context: { phase: 'body' },
    });
    server.setHandler(rpcResults(() => 'after'));
    await expect(rpc.call('getSlot')).resolves.toBe('after');
  });

  it('an abort while waiting for headers rejects as aborted and frees the only connection', async () => {
    // A short drain: the server never finishes, so the connection is destroyed once it expires.
    const rpc = transport({ connections: 1, drainOnAbort: { maxMs: 20 } });
    server.setHandler(hang);
    const controller = new AbortController();
    const before = server.received.length;
    const pending = rpc.call('getSlot', [], { signal: controller.signal });
    await server.waitForRequests(before + 1);
    controller.abort(new Error('user left'));

    await expect(pending).rejects.toMatchObject({ code: 'ABORTED', category: 'aborted', context: { reason: 'user left' } });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    server.setHandler(rpcResults(() => 'after'));
    await expect(rpc.call('getSlot')).resolves.toBe('after');
  });

  it('an abort mid-body rejects as aborted and frees the only connection', async () => {
    // A short drain: the server never finishes, so the connection is destroyed once it expires.
    const rpc = transport({ connections: 1, drainOnAbort: { maxMs: 20 } });
    let headersSent!: () => void;
    const streaming = new Promise<void>((resolve) => {
      headersSent = resolve;
    });
    server.setHandler((request, response) => {
      trickle(request, response);
      headersSent();
    });
    const controller = new AbortController();
    const pending = rpc.call('getSlot', [], { signal: controller.signal, timeoutMs: 10_000 });
    await streaming;
    controller.abort();

    await expect(pending).rejects.toMatchObject({ code: 'ABORTED', category: 'aborted' });
    server.setHandler(rpcResults(() => 'after'));
    await expect(rpc.call('getSlot')).resolves.toBe('after');
  });

  it('a call aborted while queued for the only connection rejects at once and costs no connection', async () => {
    const rpc = transport({ connections: 1 });
    const held: { id: unknown; respond: (value: unknown) => void }[] = [];
    server.setHandler((request, response) => {
      const id = asRpcRequest(request.json).id;
      held.push({ id, respond: (value) => sendJson(response, 200, { jsonrpc: '2.0', id, result: value }) });
    });
    const requestsBefore = server.received.length;
    const connectionsBefore = server.connectionCount();
    const first = rpc.call('first');
    await server.waitForRequests(requestsBefore + 1);

    const controller = new AbortController();
    const queued = rpc.call('queued', [], { signal: controller.signal });
    controller.abort();
    // Settles while the first call still holds the connection.
    await expect(queued).rejects.toMatchObject({ code: 'ABORTED' });

    held[0]!.respond('one');
    await expect(first).resolves.toBe('one');
    server.setHandler(rpcResults(() => 'three'));
    await expect(rpc.call('third')).resolves.toBe('three');
    expect(server.received.slice(requestsBefore).map((r) => asRpcRequest(r.json).method)).toEqual(['first', 'third']);
    expect(server.connectionCount() - connectionsBefore).toBe(1);
  });

  it('keeps an @x error given as the abort reason (a strategy deadline stays a timeout)', async () => {
    const rpc = transport();
    server.setHandler(hang);
    const controller = new AbortController();
    const deadline = new XError({ code: 'STRATEGY_DEADLINE', category: 'timeout', message: 'overall deadline' });
    const before = server.received.length;
    const pending = rpc.call('getSlot', [], { signal: controller.signal });
    await server.waitForRequests(before + 1);
    controller.abort(deadline);
    await expect(pending).rejects.toBe(deadline);
  });

  it('rejects at once, sending nothing, when the signal is already aborted', async () => {
    const rpc = transport();
    const before = server.received.length;
    await expect(rpc.call('getSlot', [], { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(rpc.batch([{ method: 'a' }], { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(server.received.length).toBe(before);
  });

  it('leaves no listener on the caller signal, whatever the outcome', async () => {
    const rpc = transport();
    const controller = new AbortController();
    server.setHandler(rpcResults(() => 1));
    await rpc.call('getSlot', [], { signal: controller.signal });
    server.setHandler((_request, response) => sendJson(response, 500, {}));
    await rpc.call('getSlot', [], { signal: controller.signal }).catch(() => undefined);
    server.setHandler(hang);
    await rpc.call('getSlot', [], { signal: controller.signal, timeoutMs: 50 }).catch(() => undefined);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

describe('network failures', () => {
  it('classifies a refused connection as network with the system code', async () => {
    const closed = await startServer(hang);
    const port = closed.port;
    await closed.stop();
    const rpc = createHttpTransport({ url: `http://127.0.0.1:${port}/` });
    open.push(rpc);
    const error: unknown = await rpc.call('getSlot').catch((e: unknown) => e);
    expect(isXError(error, 'HTTP_NETWORK')).toBe(true);
    expect(error).toMatchObject({ category: 'network', context: { causeCode: 'ECONNREFUSED' } });
  });

  it('classifies a connection dropped mid-body as network', async () => {
    server.setHandler((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': 100 });
      response.write('{"jsonrpc":"2.0",', () => response.destroy());
    });
    const rpc = transport();
    await expect(rpc.call('getSlot')).rejects.toMatchObject({
      code: 'HTTP_NETWORK',
      category: 'network',
      context: { causeCode: 'UND_ERR_SOCKET' },
    });
  });
});
