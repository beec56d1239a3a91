import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type WebSocket from 'ws';
import type { Random } from '../random.js';
import type { RpcEndpointBehavior } from './behavior.js';
import type { ChainEvent, ChainState } from './chain.js';
import { errorResponse, parseRequestBody, resultResponse, stringifyJson } from '@x/json-rpc';
import { INVALID_REQUEST, PARSE_ERROR } from './jsonrpc.js';
import { RPC_ERROR_CODES } from './methods.js';
import { COMMITMENT_DEPTH, SUBSCRIPTION_METHODS, parseSubscribe, type SubscriptionSpec } from './pubsub.js';

/** What one endpoint's WebSocket did. */
export interface RpcStreamStats {
  /** WebSocket connections accepted so far. */
  readonly connections: number;
  /** Connections open now. */
  readonly openConnections: number;
  /** Subscriptions live now. */
  readonly subscriptions: number;
  /** Notifications written to a socket (a duplicate counts twice). */
  readonly notifications: number;
  /** Notifications dropped by `stream.dropRate`. */
  readonly dropped: number;
  /** Notifications sent a second time by `stream.duplicateRate`. */
  readonly duplicated: number;
  /** Notifications held back behind the next one by `stream.reorderRate`. */
  readonly reordered: number;
  /** Connections dropped by `stream.disconnectRate` or `disconnectStreams()`. */
  readonly disconnects: number;
  /** Stalls started by `stream.stallRate`. */
  readonly stalls: number;
  /** Notifications that fell due during a stall and were held until its end. */
  readonly stalled: number;
}

interface MutableStreamStats {
  connections: number;
  notifications: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  disconnects: number;
  stalls: number;
  stalled: number;
}

interface Subscription {
  readonly id: number;
  readonly spec: SubscriptionSpec;
  /** Absolute index of the next chain event to look at. */
  cursor: number;
}

interface Outgoing {
  readonly sendAt: number;
  readonly text: string;
  readonly duplicate: boolean;
  readonly reorder: boolean;
}

interface Connection {
  readonly socket: WebSocket;
  readonly subscriptions: Map<number, Subscription>;
  readonly timers: Set<NodeJS.Timeout>;
  /** Delayed notifications in send order (send times never decrease), and the one timer of the first. */
  readonly queue: Outgoing[];
  queueTimer: NodeJS.Timeout | undefined;
  /** A notification held back by reordering, sent after the next one. */
  held: { readonly text: string; readonly duplicate: boolean; readonly timer: NodeJS.Timeout } | undefined;
}

interface StreamEndpoint {
  readonly id: string;
  readonly behavior: () => RpcEndpointBehavior;
  readonly random: Random;
  readonly connections: Set<Connection>;
  stats: MutableStreamStats;
  nextId: number;
  /** When the current stall ends (0 or past: none). */
  stalledUntil: number;
}

// How long a held-back notification waits for a next one before it goes out anyway.
const HOLD_MS = 50;

function emptyStats(): MutableStreamStats {
  return { connections: 0, notifications: 0, dropped: 0, duplicated: 0, reordered: 0, disconnects: 0, stalls: 0, stalled: 0 };
}

/**
 * The WebSocket side of the simulated cluster: the subscription methods on every endpoint's port,
 * fed by the shared chain's events, each endpoint seeing them at its own `slotLag` and delivering
 * them through its own seeded `stream` faults.
 */
export function createStreamHub(chain: ChainState, options: { readonly maxPayload: number; readonly now: () => number }) {
  const log: ChainEvent[] = [];
  let base = 0;
  let closed = false;
  const endpoints = new Map<string, StreamEndpoint>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload, perMessageDeflate: false });

  function viewSlot(endpoint: StreamEndpoint): number {
    return Math.max(chain.oldestSlot(), chain.slot() - endpoint.behavior().slotLag);
  }

  function visibleSlot(endpoint: StreamEndpoint, spec: SubscriptionSpec): number {
    return viewSlot(endpoint) - COMMITMENT_DEPTH[spec.commitment];
  }

  function confirms(endpoint: StreamEndpoint, spec: SubscriptionSpec): boolean {
    return spec.commitment === 'processed' || !endpoint.behavior().stream.neverConfirms;
  }

  function write(endpoint: StreamEndpoint, connection: Connection, text: string, duplicate: boolean): void {
    if (connection.socket.readyState !== connection.socket.OPEN) return;
    connection.socket.send(text);
    endpoint.stats.notifications++;
    if (duplicate) {
      connection.socket.send(text);
      endpoint.stats.notifications++;
      endpoint.stats.duplicated++;
    }
  }

  function release(endpoint: StreamEndpoint, connection: Connection): void {
    const held = connection.held;
    if (held === undefined) return;
    connection.held = undefined;
    clearTimeout(held.timer);
    connection.timers.delete(held.timer);
    write(endpoint, connection, held.text, held.duplicate);
  }

  function emit(endpoint: StreamEndpoint, connection: Connection, text: string, duplicate: boolean, reorder: boolean): void {
    if (reorder && connection.held === undefined) {
      endpoint.stats.reordered++;
      const timer = setTimeout(() => release(endpoint, connection), HOLD_MS);
      connection.timers.add(timer);
      connection.held = { text, duplicate, timer };
      return;
    }
    write(endpoint, connection, text, duplicate);
    release(endpoint, connection);
  }

  /** Sends one notification through the endpoint's faults. */
  function notify(endpoint: StreamEndpoint, connection: Connection, subscription: Subscription, result: unknown): void {
    const faults = endpoint.behavior().stream;
    const random = endpoint.random;
    if (faults.disconnectRate > 0 && random.chance(faults.disconnectRate)) {
      endpoint.stats.disconnects++;
      connection.socket.terminate();
      return;
    }
    if (faults.dropRate > 0 && random.chance(faults.dropRate)) {
      endpoint.stats.dropped++;
      return;
    }
    const text =
      stringifyJson({ jsonrpc: '2.0', method: subscription.spec.notification, params: { result, subscription: subscription.id } }) ??
      'null';
    const delayMs = faults.delayMs + (faults.jitterMs > 0 ? random.uniform(0, faults.jitterMs) : 0);
    const reorder = faults.reorderRate > 0 && random.chance(faults.reorderRate);
    const duplicate = faults.duplicateRate > 0 && random.chance(faults.duplicateRate);
    const now = options.now();
    // A stall holds everything of the endpoint (every connection) until it ends; the socket itself stays open.
    if (endpoint.stalledUntil <= now && faults.stallRate > 0 && faults.stallMs > 0 && random.chance(faults.stallRate)) {
      endpoint.stalledUntil = now + faults.stallMs;
      endpoint.stats.stalls++;
    }
    const stalled = endpoint.stalledUntil > now;
    if (stalled) endpoint.stats.stalled++;
    const last = connection.queue[connection.queue.length - 1];
    const sendAt = Math.max(now + delayMs, stalled ? endpoint.stalledUntil : now, last?.sendAt ?? now);
    if (sendAt <= now && last === undefined) {
      emit(endpoint, connection, text, duplicate, reorder);
      return;
    }
    connection.queue.push({ sendAt, text, duplicate, reorder });
    if (connection.queueTimer === undefined) schedule(endpoint, connection, now);
  }

  /** Arms the one timer of the queue's first notification; `from` is when the previous one was due. */
  function schedule(endpoint: StreamEndpoint, connection: Connection, from: number): void {
    const first = connection.queue[0];
    if (first === undefined) return;
    const timer = setTimeout(
      () => {
        connection.timers.delete(timer);
        connection.queueTimer = undefined;
        const due = connection.queue.shift() as Outgoing;
        emit(endpoint, connection, due.text, due.duplicate, due.reorder);
        // Everything due at the same moment goes out now, in order.
        while (connection.queue[0] !== undefined && connection.queue[0].sendAt <= due.sendAt) {
          const next = connection.queue.shift() as Outgoing;
          emit(endpoint, connection, next.text, next.duplicate, next.reorder);
        }
        schedule(endpoint, connection, Math.max(options.now(), due.sendAt));
      },
      Math.max(0, first.sendAt - from),
    );
    connection.queueTimer = timer;
    connection.timers.add(timer);
  }

  /** Whether a later event of the same slot rewrites the same account (confirmed/finalized send the last state only). */
  function rewrittenLater(index: number): boolean {
    const event = log[index - base];
    if (event?.kind !== 'account') return false;
    for (let next = index - base + 1; next < log.length; next++) {
      const later = log[next] as ChainEvent;
      if (later.slot !== event.slot) return false;
      if (later.kind === 'account' && later.address === event.address) return true;
    }
    return false;
  }

  function pumpSubscription(endpoint: StreamEndpoint, connection: Connection, subscription: Subscription): void {
    // A connection dropped a moment ago stays listed until its close event; nothing more goes to it.
    if (connection.socket.readyState !== connection.socket.OPEN || !confirms(endpoint, subscription.spec)) return;
    const visible = visibleSlot(endpoint, subscription.spec);
    subscription.cursor = Math.max(subscription.cursor, base);
    while (subscription.cursor - base < log.length) {
      const event = log[subscription.cursor - base] as ChainEvent;
      if (event.slot > visible) return;
      const index = subscription.cursor++;
      if (subscription.spec.lastPerSlot && rewrittenLater(index)) continue;
      const result = subscription.spec.match(event);
      if (result === undefined) continue;
      notify(endpoint, connection, subscription, result);
      if (subscription.spec.once) {
        connection.subscriptions.delete(subscription.id);
        return;
      }
      if (!connection.subscriptions.has(subscription.id)) return;
    }
  }

  function pump(): void {
    if (closed) return;
    for (const endpoint of endpoints.values()) {
      if (endpoint.behavior().mode !== 'up') continue;
      for (const connection of endpoint.connections) {
        for (const subscription of [...connection.subscriptions.values()]) pumpSubscription(endpoint, connection, subscription);
      }
    }
    prune();
  }

  /** Forgets events every subscription has passed, keeping what a new `finalized` subscription on the most lagging endpoint may still need. */
  function prune(): void {
    let keepFrom = base + log.length;
    for (const endpoint of endpoints.values()) {
      for (const connection of endpoint.connections) {
        for (const subscription of connection.subscriptions.values()) keepFrom = Math.min(keepFrom, subscription.cursor);
      }
    }
    let maxLag = 0;
    for (const endpoint of endpoints.values()) maxLag = Math.max(maxLag, endpoint.behavior().slotLag);
    const oldestNeeded = Math.max(chain.oldestSlot(), chain.slot() - maxLag - COMMITMENT_DEPTH.finalized - 1);
    let drop = 0;
    while (
      drop < log.length &&
      ((log[drop] as ChainEvent).slot < chain.oldestSlot() || (base + drop < keepFrom && (log[drop] as ChainEvent).slot < oldestNeeded))
    )
      drop++;
    if (drop === 0) return;
    log.splice(0, drop);
    base += drop;
  }

  function firstIndexAfter(slot: number): number {
    let index = log.length;
    while (index > 0 && (log[index - 1] as ChainEvent).slot > slot) index--;
    return base + index;
  }

  function answer(connection: Connection, payload: unknown): void {
    if (connection.socket.readyState === connection.socket.OPEN) connection.socket.send(stringifyJson(payload) ?? 'null');
  }

  function onMessage(endpoint: StreamEndpoint, connection: Connection, data: WebSocket.RawData): void {
    if (endpoint.behavior().mode === 'hung') return;
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8');
    const body = parseRequestBody(text);
    if (body.kind === 'error') {
      answer(connection, errorResponse(null, body.reason === 'parse' ? PARSE_ERROR : INVALID_REQUEST));
      return;
    }
    // Subscriptions are one request per message, as on a Solana node: a batch is not served here.
    if (body.kind === 'batch' || !body.request.valid) {
      answer(connection, errorResponse(body.kind === 'single' ? (body.request.id ?? null) : null, INVALID_REQUEST));
      return;
    }
    const call = body.request;
    const id = call.id ?? null;
    const method = call.method;
    const subscribed = Object.entries(SUBSCRIPTION_METHODS).find(([, unsubscribe]) => unsubscribe === method);
    if (subscribed !== undefined) {
      const target = Array.isArray(call.params) ? (call.params[0] as unknown) : undefined;
      const subscription = typeof target === 'number' ? connection.subscriptions.get(target) : undefined;
      if (subscription === undefined || subscription.spec.method !== subscribed[0]) {
        answer(connection, errorResponse(id, { code: RPC_ERROR_CODES.invalidParams, message: 'Invalid subscription id.' }));
        return;
      }
      connection.subscriptions.delete(subscription.id);
      answer(connection, resultResponse(id, true));
      return;
    }
    const parsed = parseSubscribe(method, call.params);
    if (!parsed.ok) {
      answer(connection, errorResponse(id, parsed.error));
      return;
    }
    const subscription: Subscription = {
      id: endpoint.nextId++,
      spec: parsed.spec,
      cursor: firstIndexAfter(visibleSlot(endpoint, parsed.spec)),
    };
    connection.subscriptions.set(subscription.id, subscription);
    answer(connection, resultResponse(id, subscription.id));
    const initial = confirms(endpoint, parsed.spec) ? parsed.spec.initial?.(chain, visibleSlot(endpoint, parsed.spec)) : undefined;
    if (initial !== undefined) {
      notify(endpoint, connection, subscription, initial);
      connection.subscriptions.delete(subscription.id);
    }
  }

  function drop(connection: Connection): void {
    for (const timer of connection.timers) clearTimeout(timer);
    connection.timers.clear();
    connection.queue.length = 0;
    connection.queueTimer = undefined;
    connection.held = undefined;
    connection.subscriptions.clear();
  }

  function onConnection(endpoint: StreamEndpoint, socket: WebSocket): void {
    const connection: Connection = {
      socket,
      subscriptions: new Map(),
      timers: new Set(),
      queue: [],
      queueTimer: undefined,
      held: undefined,
    };
    endpoint.connections.add(connection);
    endpoint.stats.connections++;
    socket.on('message', (data) => onMessage(endpoint, connection, data));
    socket.on('error', () => undefined);
    socket.once('close', () => {
      endpoint.connections.delete(connection);
      drop(connection);
    });
  }

  const unobserve = chain.observe((event) => {
    if (closed) return;
    log.push(event);
    pump();
  });

  return {
    /** Serves the endpoint's WebSocket on `server`'s port (the HTTP upgrade). */
    add(id: string, server: Server, behavior: () => RpcEndpointBehavior, random: Random): void {
      const endpoint: StreamEndpoint = { id, behavior, random, connections: new Set(), stats: emptyStats(), nextId: 1, stalledUntil: 0 };
      endpoints.set(id, endpoint);
      server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
        if (closed || behavior().mode === 'down') {
          socket.destroy();
          return;
        }
        wss.handleUpgrade(request, socket, head, (ws) => onConnection(endpoint, ws));
      });
    },
    /** Delivers what a behaviour change (a smaller `slotLag`, confirmations back on) made due. */
    pump,
    stats(id: string): RpcStreamStats {
      const endpoint = endpoints.get(id) as StreamEndpoint;
      let subscriptions = 0;
      for (const connection of endpoint.connections) subscriptions += connection.subscriptions.size;
      return { ...endpoint.stats, openConnections: endpoint.connections.size, subscriptions };
    },
    resetStats(): void {
      for (const endpoint of endpoints.values()) endpoint.stats = emptyStats();
    },
    /** Drops every WebSocket connection of the endpoint abruptly (no close frame); returns how many. */
    disconnect(id: string): number {
      const endpoint = endpoints.get(id) as StreamEndpoint;
      const count = endpoint.connections.size;
      for (const connection of endpoint.connections) {
        endpoint.stats.disconnects++;
        connection.socket.terminate();
      }
      return count;
    },
    close(): void {
      closed = true;
      unobserve();
      for (const endpoint of endpoints.values()) {
        for (const connection of endpoint.connections) {
          drop(connection);
          connection.socket.terminate();
        }
      }
      log.length = 0;
      wss.close();
    },
  };
}
