import type { ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport } from '@x/http-transport';
import type { HttpTransport, HttpTransportOptions } from '@x/http-transport';
import { activeResources, asRpcRequest, hang, rpcResults, sendJson, startServer, trickle } from './helpers.js';
import type { Received, TestServer } from './helpers.js';

let server: TestServer;
const open: HttpTransport[] = [];

function transport(options: Partial<HttpTransportOptions> = {}): HttpTransport {
  const created = createHttpTransport({ url: `${server.origin}/rpc`, timeoutMs: 5_000, connections: 1, ...options });
  open.push(created);
  return created;
}

/** Holds every request until the test answers it with `answer(index, respond)`. */
function holdRequests(): { answer: (index: number, respond: (response: ServerResponse, request: Received) => void) => void } {
  const held: { request: Received; response: ServerResponse }[] = [];
  server.setHandler((request, response) => held.push({ request, response }));
  return {
    answer: (index, respond) => {
      const entry = held[index];
      if (entry === undefined) throw new Error(`request ${index} was not received`);
      respond(entry.response, entry.request);
    },
  };
}

const result =
  (value: unknown) =>
  (response: ServerResponse, request: Received): void =>
    sendJson(response, 200, { jsonrpc: '2.0', id: asRpcRequest(request.json).id, result: value });

beforeAll(async () => {
  server = await startServer(hang);
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
  await server.waitForNoConnections();
});

afterAll(async () => {
  await server.stop();
});

describe('drain on abort', () => {
  it('settles an aborted call at once, drains the late answer and reuses the same connection', async () => {
    const rpc = transport();
    const requestsBefore = server.received.length;
    const connectionsBefore = server.connectionCount();
    const requests = holdRequests();
    const controller = new AbortController();
    const aborted = rpc.call('loser', [], { signal: controller.signal });
    await server.waitForRequests(requestsBefore + 1);
    controller.abort(new Error('race lost'));
    // Rejects while the server has not answered yet.
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED', category: 'aborted', context: { reason: 'race lost' } });

    // The drain keeps the only connection busy: this call waits for it instead of opening another.
    const next = rpc.call('next');
    requests.answer(0, result('late'));
    await server.waitForRequests(requestsBefore + 2);
    requests.answer(1, result('fresh'));
    await expect(next).resolves.toBe('fresh');
    expect(server.connectionCount() - connectionsBefore).toBe(1);
    expect(server.openConnections()).toBe(1);
  });

  it('a call queued behind a drain and aborted there is never sent and costs the drained connection nothing', async () => {
    const rpc = transport();
    const requestsBefore = server.received.length;
    const connectionsBefore = server.connectionCount();
    const requests = holdRequests();
    const loser = new AbortController();
    const aborted = rpc.call('loser', [], { signal: loser.signal });
    await server.waitForRequests(requestsBefore + 1);
    loser.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });

    const impatient = new AbortController();
    const queued = rpc.call('queued', [], { signal: impatient.signal });
    impatient.abort();
    await expect(queued).rejects.toMatchObject({ code: 'ABORTED' });

    requests.answer(0, result('late'));
    server.setHandler(rpcResults(() => 'after'));
    await expect(rpc.call('next')).resolves.toBe('after');
    expect(server.received.slice(requestsBefore).map((r) => asRpcRequest(r.json).method)).toEqual(['loser', 'next']);
    expect(server.connectionCount() - connectionsBefore).toBe(1);
  });

  it('drains after the call’s own timeout too, keeping the timeout error', async () => {
    const rpc = transport();
    const requestsBefore = server.received.length;
    const connectionsBefore = server.connectionCount();
    const requests = holdRequests();
    await expect(rpc.call('slow', [], { timeoutMs: 30 })).rejects.toMatchObject({ code: 'HTTP_TIMEOUT', context: { phase: 'response' } });
    requests.answer(0, result('late'));
    server.setHandler(rpcResults(() => 'after'));
    await expect(rpc.call('next')).resolves.toBe('after');
    expect(server.received.length - requestsBefore).toBe(2);
    expect(server.connectionCount() - connectionsBefore).toBe(1);
  });

  it('drains a body that was being read when the call was aborted', async () => {
    const rpc = transport();
    const connectionsBefore = server.connectionCount();
    let finish!: () => void;
    let headersSent!: () => void;
    const streaming = new Promise<void>((resolve) => {
      headersSent = resolve;
    });
    server.setHandler((request, response) => {
      const id = asRpcRequest(request.json).id;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},`);
      finish = () => response.end('"result":"late"}');
      headersSent();
    });
    const controller = new AbortController();
    const aborted = rpc.call('loser', [], { signal: controller.signal });
    await streaming;
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });

    server.setHandler(rpcResults(() => 'after'));
    const next = rpc.call('next');
    finish();
    await expect(next).resolves.toBe('after');
    expect(server.connectionCount() - connectionsBefore).toBe(1);
  });

  it('destroys the connection when the answer is bigger than maxBytes; the next call opens a new one', async () => {
    const rpc = transport({ drainOnAbort: { maxBytes: 1024 } });
    const requestsBefore = server.received.length;
    const connectionsBefore = server.connectionCount();
    const requests = holdRequests();
    const controller = new AbortController();
    const aborted = rpc.call('loser', [], { signal: controller.signal });
    await server.waitForRequests(requestsBefore + 1);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });

    requests.answer(0, result('x'.repeat(64 * 1024)));
    server.setHandler(rpcResults(() => 'after'));
    await expect(rpc.call('next')).resolves.toBe('after');
    expect(server.connectionCount() - connectionsBefore).toBe(2);
  });

  it('destroys the connection when the answer is still incomplete after maxMs', async () => {
    const rpc = transport({ drainOnAbort: { maxMs: 20 } });
    const connectionsBefore = server.connectionCount();
    let headersSent!: () => void;
    const streaming = new Promise<void>((resolve) => {
      headersSent = resolve;
    });
    server.setHandler((request, response) => {
      trickle(request, response);
      headersSent();
    });
    const controller = new AbortController();
    const aborted = rpc.call('loser', [], { signal: controller.signal });
    await streaming;
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });

    server.setHandler(rpcResults(() => 'after'));
    await expect(rpc.call('next')).resolves.toBe('after');
    expect(server.connectionCount() - connectionsBefore).toBe(2);
  });

  it('destroys the connection when no answer has started within maxMs', async () => {
    const rpc = transport({ drainOnAbort: { maxMs: 20 } });
    const requestsBefore = server.received.length;
    const connectionsBefore = server.connectionCount();
    server.setHandler(hang);
    const controller = new AbortController();
    const aborted = rpc.call('loser', [], { signal: controller.signal });
    await server.waitForRequests(requestsBefore + 1);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });

    server.setHandler(rpcResults(() => 'after'));
    await expect(rpc.call('next')).resolves.toBe('after');
    expect(server.connectionCount() - connectionsBefore).toBe(2);
  });

  it('with drainOnAbort: false destroys the connection at once, as a plain abort does', async () => {
    const rpc = transport({ drainOnAbort: false });
    const requestsBefore = server.received.length;
    const connectionsBefore = server.connectionCount();
    const requests = holdRequests();
    const controller = new AbortController();
    const aborted = rpc.call('loser', [], { signal: controller.signal });
    await server.waitForRequests(requestsBefore + 1);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });

    // Served on a new connection while the server still holds the first request unanswered.
    await server.waitForRequests(requestsBefore + 1);
    const next = rpc.call('next');
    await server.waitForRequests(requestsBefore + 2);
    requests.answer(1, result('after'));
    await expect(next).resolves.toBe('after');
    expect(server.connectionCount() - connectionsBefore).toBe(2);
  });

  it('close() during a drain does not wait for it and leaves no socket behind', async () => {
    const baseline = activeResources('TCPSocketWrap');
    const rpc = transport({ drainOnAbort: { maxMs: 600_000 } });
    const requestsBefore = server.received.length;
    server.setHandler(hang);
    const controller = new AbortController();
    const aborted = rpc.call('loser', [], { signal: controller.signal });
    await server.waitForRequests(requestsBefore + 1);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });

    await rpc.close();
    await server.waitForNoConnections();
    expect(activeResources('TCPSocketWrap')).toBe(baseline);
    await expect(rpc.call('next')).rejects.toMatchObject({ code: 'HTTP_CLOSED' });
  });

  it('refuses invalid drain limits', () => {
    const url = `${server.origin}/rpc`;
    expect(() => createHttpTransport({ url, drainOnAbort: { maxMs: 0 } })).toThrow(
      expect.objectContaining({ code: 'HTTP_INVALID_OPTIONS' }),
    );
    expect(() => createHttpTransport({ url, drainOnAbort: { maxBytes: -1 } })).toThrow(
      expect.objectContaining({ code: 'HTTP_INVALID_OPTIONS' }),
    );
    expect(() => createHttpTransport({ url, drainOnAbort: true as unknown as false })).toThrow(
      expect.objectContaining({ code: 'HTTP_INVALID_OPTIONS' }),
    );
  });
});
