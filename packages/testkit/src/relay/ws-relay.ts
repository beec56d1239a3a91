import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { XError } from '@x/errors';
import { handlesReleased } from '../handles.js';
import { createRandom, type Random, type RandomSeed } from '../random.js';
import { checkKeys, invalidOptions, isRecord, number } from './relay.js';

/**
 * What a WebSocket relay does to the messages the upstream sends back. Subscription notifications
 * (messages with a `method` and no `id`) draw their fate from the relay's seeded stream, in this
 * order: disconnect, drop, duplicate, delay. Answers to requests are only delayed. Messages keep
 * their order on each connection.
 */
export interface WsRelayFaults {
  /** Delay added to every message from the upstream, in ms. */
  readonly delayMs: number;
  /** Extra delay drawn uniformly from [0, jitterMs] per message. */
  readonly jitterMs: number;
  /** Fraction of notifications never passed on (0..1). */
  readonly dropRate: number;
  /** Fraction of notifications passed on twice (0..1). */
  readonly duplicateRate: number;
  /** Fraction of notifications that, instead of being passed on, drop the client's connection abruptly (and its upstream one) (0..1). */
  readonly disconnectRate: number;
}

export const DEFAULT_WS_RELAY_FAULTS: WsRelayFaults = Object.freeze({
  delayMs: 0,
  jitterMs: 0,
  dropRate: 0,
  duplicateRate: 0,
  disconnectRate: 0,
});

export interface WsRelayOptions {
  /** Shown in stats. */
  readonly id: string;
  readonly faults?: Partial<WsRelayFaults>;
}

export interface WsRelaysOptions {
  /** The real WebSocket JSON-RPC server behind every relay, `ws://host:port[/path]` (anvil serves it on its HTTP port). */
  readonly upstream: string;
  /** Seeds every draw; each relay draws from its own stream (forked by id). Default 1. */
  readonly seed?: RandomSeed;
  readonly relays: readonly WsRelayOptions[];
  /** Largest message accepted in either direction, in bytes. Default 16 MiB. */
  readonly maxPayload?: number;
}

export interface WsRelayStats {
  readonly id: string;
  /** Client connections accepted (each gets its own upstream connection). */
  readonly connections: number;
  readonly openConnections: number;
  /** Messages from clients passed to the upstream. */
  readonly requests: number;
  /** Answers to requests passed back. */
  readonly responses: number;
  /** Notifications passed back (a duplicate counts twice). */
  readonly notifications: number;
  readonly dropped: number;
  readonly duplicated: number;
  /** Client connections dropped by `disconnectRate` or `disconnect()`. */
  readonly disconnects: number;
}

export interface WsRelayInfo {
  readonly id: string;
  /** `ws://127.0.0.1:<port>`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
}

export interface WsRelays {
  readonly relays: readonly WsRelayInfo[];
  readonly faults: (id: string) => WsRelayFaults;
  /** Changes a relay's faults live; messages already scheduled keep their fate. Returns the new faults. */
  readonly setFaults: (id: string, patch: Partial<WsRelayFaults>) => WsRelayFaults;
  /** Drops every client connection of a relay abruptly (no close frame), and their upstream connections; returns how many. */
  readonly disconnect: (id: string) => number;
  /** Every relay in order. */
  readonly stats: () => readonly WsRelayStats[];
  /** Closes every connection (both sides) and timer, and stops listening. Idempotent. */
  readonly close: () => Promise<void>;
}

const HOST = '127.0.0.1';
const HOUR_MS = 3_600_000;

function resolveFaults(base: WsRelayFaults, patch: unknown, field: string): WsRelayFaults {
  if (patch === undefined) return base;
  if (!isRecord(patch)) throw invalidOptions('must be an object', field, patch);
  checkKeys(patch, Object.keys(DEFAULT_WS_RELAY_FAULTS), field);
  const pick = (key: keyof WsRelayFaults, max: number): number =>
    patch[key] === undefined ? base[key] : number(patch[key], `${field}.${key}`, 0, max);
  return Object.freeze({
    delayMs: pick('delayMs', HOUR_MS),
    jitterMs: pick('jitterMs', HOUR_MS),
    dropRate: pick('dropRate', 1),
    duplicateRate: pick('duplicateRate', 1),
    disconnectRate: pick('disconnectRate', 1),
  });
}

interface MutableStats {
  connections: number;
  requests: number;
  responses: number;
  notifications: number;
  dropped: number;
  duplicated: number;
  disconnects: number;
}

interface Pair {
  readonly client: WebSocket;
  readonly upstream: WebSocket;
  /** Client messages waiting for the upstream connection to open. */
  readonly pending: string[];
  /** Messages to the client in order, with when each is due; one timer for the first. */
  readonly queue: { readonly sendAt: number; readonly text: string; readonly copies: number; readonly notification: boolean }[];
  timer: NodeJS.Timeout | undefined;
}

interface Relay {
  readonly id: string;
  readonly server: Server;
  readonly wss: WebSocketServer;
  readonly sockets: Set<Socket>;
  readonly pairs: Set<Pair>;
  readonly random: Random;
  faults: WsRelayFaults;
  readonly stats: MutableStats;
  info: WsRelayInfo | undefined;
}

function isNotification(text: string): boolean {
  try {
    const message = JSON.parse(text) as unknown;
    return isRecord(message) && typeof message.method === 'string' && (message.id === undefined || message.id === null);
  } catch {
    return false;
  }
}

/**
 * Starts seeded fault-injecting WebSocket relays on 127.0.0.1 ephemeral ports in front of one real
 * WebSocket JSON-RPC server (anvil's `eth_subscribe`, say). Each client connection gets its own
 * upstream connection; requests pass through untouched, answers are delayed, and notifications are
 * delayed, dropped, duplicated or turned into an abrupt disconnect as each relay's faults say.
 */
export async function startWsRelays(options: WsRelaysOptions): Promise<WsRelays> {
  if (!isRecord(options)) throw invalidOptions('must be an object', 'options', options);
  checkKeys(options, ['upstream', 'seed', 'relays', 'maxPayload'], 'options');
  let upstream: URL;
  try {
    upstream = new URL(String(options.upstream));
  } catch {
    throw invalidOptions('must be a ws:// URL', 'upstream', options.upstream);
  }
  if (upstream.protocol !== 'ws:') throw invalidOptions('must be a ws:// URL', 'upstream', options.upstream);
  if (!Array.isArray(options.relays) || options.relays.length === 0)
    throw invalidOptions('must be a non-empty array', 'relays', options.relays);
  const maxPayload = options.maxPayload === undefined ? 16 << 20 : number(options.maxPayload, 'maxPayload', 1, 1 << 30);
  const root = createRandom(options.seed ?? 1);
  const ids = new Set<string>();
  const specs = options.relays.map((relay, index) => {
    const field = `relays[${index}]`;
    if (!isRecord(relay)) throw invalidOptions('must be an object', field, relay);
    checkKeys(relay, ['id', 'faults'], field);
    if (typeof relay.id !== 'string' || relay.id.length === 0) throw invalidOptions('must be a non-empty string', `${field}.id`, relay.id);
    if (ids.has(relay.id)) throw invalidOptions('is used twice', `${field}.id`, relay.id);
    ids.add(relay.id);
    return { id: relay.id, faults: resolveFaults(DEFAULT_WS_RELAY_FAULTS, relay.faults, `${field}.faults`) };
  });
  const relays: Relay[] = [];
  let closed = false;
  let closing: Promise<void> | undefined;

  function end(relay: Relay, pair: Pair): void {
    if (!relay.pairs.delete(pair)) return;
    if (pair.timer !== undefined) clearTimeout(pair.timer);
    pair.timer = undefined;
    pair.queue.length = 0;
    pair.client.terminate();
    pair.upstream.terminate();
  }

  function deliver(relay: Relay, pair: Pair, text: string, copies: number, notification: boolean): void {
    if (pair.client.readyState !== WebSocket.OPEN) return;
    for (let copy = 0; copy < copies; copy++) pair.client.send(text);
    if (notification) relay.stats.notifications += copies;
    else relay.stats.responses++;
  }

  function schedule(relay: Relay, pair: Pair, from: number): void {
    const first = pair.queue[0];
    if (first === undefined) return;
    pair.timer = setTimeout(
      () => {
        pair.timer = undefined;
        const due = pair.queue.shift()!;
        deliver(relay, pair, due.text, due.copies, due.notification);
        while (pair.queue[0] !== undefined && pair.queue[0].sendAt <= due.sendAt) {
          const next = pair.queue.shift()!;
          deliver(relay, pair, next.text, next.copies, next.notification);
        }
        schedule(relay, pair, Math.max(performance.now(), due.sendAt));
      },
      Math.max(0, first.sendAt - from),
    );
  }

  function fromUpstream(relay: Relay, pair: Pair, text: string): void {
    const { faults, random, stats } = relay;
    const notification = isNotification(text);
    let copies = 1;
    if (notification) {
      if (faults.disconnectRate > 0 && random.chance(faults.disconnectRate)) {
        stats.disconnects++;
        end(relay, pair);
        return;
      }
      if (faults.dropRate > 0 && random.chance(faults.dropRate)) {
        stats.dropped++;
        return;
      }
      if (faults.duplicateRate > 0 && random.chance(faults.duplicateRate)) {
        stats.duplicated++;
        copies = 2;
      }
    }
    const delayMs = faults.delayMs + (faults.jitterMs > 0 ? random.uniform(0, faults.jitterMs) : 0);
    const now = performance.now();
    const last = pair.queue[pair.queue.length - 1];
    if (delayMs <= 0 && last === undefined) {
      deliver(relay, pair, text, copies, notification);
      return;
    }
    pair.queue.push({ sendAt: Math.max(now + delayMs, last?.sendAt ?? now), text, copies, notification });
    if (pair.timer === undefined) schedule(relay, pair, now);
  }

  function onClient(relay: Relay, client: WebSocket): void {
    const upstreamSocket = new WebSocket(upstream, { maxPayload, perMessageDeflate: false });
    const pair: Pair = { client, upstream: upstreamSocket, pending: [], queue: [], timer: undefined };
    relay.pairs.add(pair);
    relay.stats.connections++;
    client.on('error', () => undefined);
    upstreamSocket.on('error', () => undefined);
    client.on('message', (data) => {
      relay.stats.requests++;
      const text = (data as Buffer).toString('utf8');
      if (upstreamSocket.readyState === WebSocket.OPEN) upstreamSocket.send(text);
      else pair.pending.push(text);
    });
    upstreamSocket.once('open', () => {
      for (const text of pair.pending.splice(0)) upstreamSocket.send(text);
    });
    upstreamSocket.on('message', (data) => fromUpstream(relay, pair, (data as Buffer).toString('utf8')));
    client.once('close', () => end(relay, pair));
    upstreamSocket.once('close', () => end(relay, pair));
  }

  async function listen(spec: { id: string; faults: WsRelayFaults }): Promise<void> {
    const server = createServer((_request, response) => {
      response
        .writeHead(426, { 'content-type': 'text/plain; charset=utf-8', upgrade: 'websocket' })
        .end('Upgrade Required: this relay speaks WebSocket');
    });
    const relay: Relay = {
      id: spec.id,
      server,
      wss: new WebSocketServer({ noServer: true, maxPayload, perMessageDeflate: false }),
      sockets: new Set(),
      pairs: new Set(),
      random: root.fork(`ws-relay:${spec.id}`),
      faults: spec.faults,
      stats: { connections: 0, requests: 0, responses: 0, notifications: 0, dropped: 0, duplicated: 0, disconnects: 0 },
      info: undefined,
    };
    relays.push(relay);
    server.on('connection', (socket: Socket) => {
      if (closed) {
        socket.destroy();
        return;
      }
      relay.sockets.add(socket);
      socket.once('close', () => relay.sockets.delete(socket));
    });
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (closed) {
        socket.destroy();
        return;
      }
      relay.wss.handleUpgrade(request, socket, head, (client) => onClient(relay, client));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    relay.info = Object.freeze({ id: spec.id, url: `ws://${HOST}:${port}`, host: HOST, port });
  }

  async function closeAll(): Promise<void> {
    closed = true;
    await Promise.all(
      relays.map(
        (relay) =>
          new Promise<void>((resolve) => {
            for (const pair of [...relay.pairs]) end(relay, pair);
            for (const socket of relay.sockets) socket.destroy();
            relay.wss.close();
            if (!relay.server.listening) {
              resolve();
              return;
            }
            relay.server.close(() => resolve());
          }),
      ),
    );
    await handlesReleased();
  }

  try {
    for (const spec of specs) await listen(spec);
  } catch (error) {
    await closeAll();
    throw new XError({
      code: 'TESTKIT_RELAY_LISTEN_FAILED',
      category: 'network',
      message: 'A WebSocket relay could not listen on 127.0.0.1',
      cause: error,
    });
  }

  const byId = (id: string): Relay => {
    const relay = relays.find((r) => r.id === id);
    if (relay === undefined) throw invalidOptions('names no relay', 'id', id);
    return relay;
  };
  return {
    relays: relays.map((r) => r.info!),
    faults: (id) => byId(id).faults,
    setFaults: (id, patch) => {
      const relay = byId(id);
      relay.faults = resolveFaults(relay.faults, patch, 'faults');
      return relay.faults;
    },
    disconnect: (id) => {
      const relay = byId(id);
      const count = relay.pairs.size;
      for (const pair of [...relay.pairs]) {
        relay.stats.disconnects++;
        end(relay, pair);
      }
      return count;
    },
    stats: () => relays.map((r) => ({ id: r.id, ...r.stats, openConnections: r.pairs.size })),
    close: () => (closing ??= closeAll()),
  };
}
