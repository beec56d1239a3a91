import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { once } from 'node:events';
import type { UdpTarget } from '@x/udp-transport';

/** A UDP server on loopback for tests. */
export interface TestServer {
  readonly target: UdpTarget;
  readonly socket: Socket;
  /** Every datagram it received, with the source it came from. */
  readonly received: Array<{ readonly payload: Buffer; readonly from: RemoteInfo }>;
  close(): Promise<void>;
}

type Handler = (payload: Buffer, from: RemoteInfo, server: ServerTools) => void;

interface ServerTools {
  readonly socket: Socket;
  /** setTimeout that the server's close() clears. */
  later(delayMs: number, action: () => void): void;
}

const open = new Set<TestServer>();

export async function startServer(handler: Handler, address = '127.0.0.1', port = 0): Promise<TestServer> {
  const socket = createSocket({ type: address.includes(':') ? 'udp6' : 'udp4', ipv6Only: address.includes(':') });
  const timers = new Set<NodeJS.Timeout>();
  const received: Array<{ payload: Buffer; from: RemoteInfo }> = [];
  const tools: ServerTools = {
    socket,
    later(delayMs, action) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        action();
      }, delayMs);
      timers.add(timer);
    },
  };
  socket.on('message', (payload, from) => {
    received.push({ payload, from });
    handler(payload, from, tools);
  });
  socket.bind(port, address);
  await once(socket, 'listening');
  let closed: Promise<void> | undefined;
  const server: TestServer = {
    target: { host: address, port: socket.address().port },
    socket,
    received,
    close() {
      if (closed === undefined) {
        for (const timer of timers) clearTimeout(timer);
        open.delete(server);
        closed = new Promise<void>((resolve) => socket.close(() => resolve())).then(handlesClosed);
      }
      return closed;
    },
  };
  open.add(server);
  return server;
}

/**
 * Resolves once handles closed before the call are gone from `process.getActiveResourcesInfo()`.
 * A socket's 'close' event comes on the next tick, but libuv drops the handle only in the
 * close-callbacks phase of the loop iteration, which follows the check phase: two check phases
 * later it is gone.
 */
export async function handlesClosed(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Closes every server the helpers started (call in afterEach). */
export async function closeServers(): Promise<void> {
  await Promise.all([...open].map((server) => server.close()));
}

function reply(socket: Socket, payload: Uint8Array, to: RemoteInfo): void {
  // A reply racing a server's close in teardown is not a failure of the code under test.
  socket.send(payload, to.port, to.address, () => undefined);
}

/** Replies with the same bytes, optionally after a real delay. */
export function startEcho(options: { delayMs?: number; address?: string } = {}): Promise<TestServer> {
  const { delayMs = 0, address } = options;
  return startServer((payload, from, server) => {
    if (delayMs === 0) reply(server.socket, payload, from);
    else server.later(delayMs, () => reply(server.socket, payload, from));
  }, address);
}

/** Receives and never answers. */
export function startSilent(address?: string): Promise<TestServer> {
  return startServer(() => undefined, address);
}

/** Answers every datagram twice. */
export function startDoubleEcho(): Promise<TestServer> {
  return startServer((payload, from, server) => {
    reply(server.socket, payload, from);
    reply(server.socket, payload, from);
  });
}

/** Answers with a datagram of `bytes` bytes. */
export function startBigReplier(bytes: number): Promise<TestServer> {
  return startServer((_payload, from, server) => reply(server.socket, new Uint8Array(bytes).fill(7), from));
}

/**
 * Answers from a second socket of its own (same host, another port) with `forged` first, then with
 * the echo from its real socket, so the forged datagram reaches the client first.
 */
export async function startSpoofer(forged: Uint8Array): Promise<{ server: TestServer; impostor: TestServer }> {
  const impostor = await startServer(() => undefined);
  const server = await startServer((payload, from, tools) => {
    impostor.socket.send(forged, from.port, from.address, () => reply(tools.socket, payload, from));
  });
  return { server, impostor };
}

/**
 * Answers from its own address and port with each of `first` in order, then (unless `echo` is false)
 * with the echo: a forger that can fake the server's source address and wins the race.
 */
export function startForger(first: readonly Uint8Array[], echo = true): Promise<TestServer> {
  return startServer((payload, from, tools) => {
    const queue = echo ? [...first, payload] : [...first];
    const next = (): void => {
      const datagram = queue.shift();
      // Each send waits for the previous one, so the datagrams leave in order.
      if (datagram !== undefined) tools.socket.send(datagram, from.port, from.address, next);
    };
    next();
  });
}

/** Polls `condition` once per event-loop turn until it holds; fails after `limitMs` of real time. */
export async function until(condition: () => boolean, limitMs = 5000): Promise<void> {
  const giveUpAt = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > giveUpAt) throw new Error('condition not reached');
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function text(value: Uint8Array): string {
  return new TextDecoder().decode(value);
}
