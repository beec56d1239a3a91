import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { createRandom, type Random, type RandomSeed } from '../random.js';
import { checkKeys, checkRelaySetOptions, createRelaySet, invalidOptions, isRecord, number, resolveRelaySpecs } from './relay-set.js';

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
  readonly wss: WebSocketServer;
  readonly pairs: Set<Pair>;
  readonly random: Random;
  faults: WsRelayFaults;
  readonly stats: MutableStats;
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
  const { upstream, relays: given } = checkRelaySetOptions(options, ['upstream', 'seed', 'relays', 'maxPayload'], 'ws:');
  const maxPayload = options.maxPayload === undefined ? 16 << 20 : number(options.maxPayload, 'maxPayload', 1, 1 << 30);
  const root = createRandom(options.seed ?? 1);
  const specs = resolveRelaySpecs(given, DEFAULT_WS_RELAY_FAULTS, resolveFaults);
  const set = createRelaySet<WsRelayFaults, Relay>({
    scheme: 'ws',
    what: 'A WebSocket relay',
    resolveFaults,
    release: (relay) => {
      for (const pair of [...relay.pairs]) end(relay, pair);
      relay.wss.close();
    },
  });

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

  await set.start(specs, (spec) => {
    const server = createServer((_request, response) => {
      response
        .writeHead(426, { 'content-type': 'text/plain; charset=utf-8', upgrade: 'websocket' })
        .end('Upgrade Required: this relay speaks WebSocket');
    });
    const relay: Relay = {
      id: spec.id,
      wss: new WebSocketServer({ noServer: true, maxPayload, perMessageDeflate: false }),
      pairs: new Set(),
      random: root.fork(`ws-relay:${spec.id}`),
      faults: spec.faults,
      stats: { connections: 0, requests: 0, responses: 0, notifications: 0, dropped: 0, duplicated: 0, disconnects: 0 },
    };
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (set.closed) {
        socket.destroy();
        return;
      }
      relay.wss.handleUpgrade(request, socket, head, (client) => onClient(relay, client));
    });
    return { relay, server };
  });

  return {
    relays: set.infos,
    faults: set.faults,
    setFaults: set.setFaults,
    disconnect: (id) => {
      const relay = set.byId(id);
      const count = relay.pairs.size;
      for (const pair of [...relay.pairs]) {
        relay.stats.disconnects++;
        end(relay, pair);
      }
      return count;
    },
    stats: () => set.relays.map((r) => ({ id: r.id, ...r.stats, openConnections: r.pairs.size })),
    close: set.close,
  };
}
