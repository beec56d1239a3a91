import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns/promises';
import { abortedError, isAbortSignal, toXError } from '@x/errors';
import type { XError } from '@x/errors';
import { createLiteralCache, parseIpLiteral } from './address.js';
import {
  closedError,
  invalidRequest,
  requestTooLarge,
  resolveFailed,
  sendFailed,
  socketError,
  timeoutError,
} from './errors.js';
import { MAX_TIMEOUT_MS, isValidTimeout, resolveOptions, show } from './options.js';
import type {
  UdpAccept,
  UdpClient,
  UdpClientOptions,
  UdpFanOutItem,
  UdpFanOutOptions,
  UdpFailure,
  UdpLookup,
  UdpOutcome,
  UdpReply,
  UdpRequestOptions,
  UdpStats,
  UdpTarget,
} from './types.js';

/**
 * Past this many remembered peers a socket forgets the idle ones. Remembering peers is what tells a
 * late reply (from a target we did send to) apart from a spoofed one; the bound keeps a client that
 * talks to ever-new targets from growing without limit.
 */
const MAX_PEERS_PER_SOCKET = 4096;

type OnOutcome = (outcome: UdpOutcome, index: number) => void;

/** One fan-out or request call. */
interface Operation {
  readonly items: Item[];
  readonly outcomes: UdpOutcome[];
  remaining: number;
  /** One timer per operation, aimed at the earliest deadline still pending. */
  timer: NodeJS.Timeout | undefined;
  readonly signal: AbortSignal | undefined;
  abortListener: (() => void) | undefined;
  readonly onOutcome: OnOutcome | undefined;
  readonly resolve: (outcomes: UdpOutcome[]) => void;
}

interface Item {
  readonly op: Operation;
  readonly index: number;
  readonly target: UdpTarget;
  readonly payload: Uint8Array;
  readonly timeoutMs: number;
  readonly accept: UdpAccept | undefined;
  startedAt: number;
  deadline: number;
  /** Set while the datagram is out and this item owns the (socket, peer) pair. */
  slot: PeerSlot | undefined;
  settled: boolean;
}

/**
 * One remote address+port as seen from one socket. At most one item owns it at a time, which is what
 * makes matching a reply by its source exact. Slots for the same port on one socket are chained.
 */
interface PeerSlot {
  readonly lane: Lane;
  readonly address: string;
  current: Item | undefined;
  next: PeerSlot | undefined;
}

/** A pooled socket. */
interface Lane {
  readonly socket: Socket;
  readonly family: 4 | 6;
  readonly peers: Map<number, PeerSlot>;
  peerCount: number;
  inFlight: number;
  open: boolean;
  readonly onSent: (error: Error | null) => void;
}

interface Settings {
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  readonly onOutcome: OnOutcome | undefined;
}

function failure(error: XError, latencyMs: number, target: UdpTarget): UdpFailure {
  return { ok: false, error, latencyMs, target };
}


/** A throwing `accept` rejects, like one that returns false: a bad datagram must not crash the socket's handler. */
function accepts(accept: UdpAccept, message: Uint8Array): boolean {
  try {
    return accept(message) === true;
  } catch {
    return false;
  }
}

const defaultLookup: UdpLookup = (hostname) => dnsLookup(hostname);

/**
 * A UDP client: one datagram and its reply (`request`), or many at once (`fanOut`), each with its own
 * timeout, over a small pool of reusable sockets on ephemeral ports. See the README for guarantees.
 */
export function createUdpClient(options?: UdpClientOptions): UdpClient {
  const settings = resolveOptions(options);
  const { maxRequestBytes, maxReplyBytes, maxIdleSockets, bindAddress4, bindAddress6 } = settings;
  const lookup = settings.lookup ?? defaultLookup;
  const literalOf = createLiteralCache();

  const lanes4: Lane[] = [];
  const lanes6: Lane[] = [];
  const activeOps = new Set<Operation>();
  const closingSockets = new Set<Promise<void>>();
  let closed = false;
  let closePromise: Promise<void> | undefined;

  let sent = 0;
  let received = 0;
  let droppedSpoofed = 0;
  let droppedLate = 0;
  let droppedOversize = 0;
  let droppedRejected = 0;
  let timeouts = 0;
  let errors = 0;
  let aborted = 0;
  let inFlight = 0;

  // ---- sockets -------------------------------------------------------------------------------

  function openLane(family: 4 | 6): Lane {
    const socket = createSocket({ type: family === 4 ? 'udp4' : 'udp6' });
    const lane: Lane = {
      socket,
      family,
      peers: new Map(),
      peerCount: 0,
      inFlight: 0,
      open: true,
      // One callback per socket rather than per datagram: Node puts the failed destination on the error.
      onSent: (error) => {
        if (error !== null) onSendError(lane, error);
      },
    };
    socket.on('message', (message: Buffer, remote: RemoteInfo) => onMessage(lane, message, remote));
    socket.on('error', (error: Error) => onLaneError(lane, error));
    socket.bind({ port: 0, address: family === 4 ? bindAddress4 : bindAddress6, exclusive: true });
    // Idle pooled sockets must not keep a process alive; while a datagram is out its ref'd timer does.
    socket.unref();
    (family === 4 ? lanes4 : lanes6).push(lane);
    return lane;
  }

  function closeSocket(socket: Socket): void {
    const done = new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
    closingSockets.add(done);
    void done.then(() => closingSockets.delete(done));
  }

  /** Takes a socket out of the pool for good and closes it. */
  function discardLane(lane: Lane): void {
    if (!lane.open) return;
    lane.open = false;
    const lanes = lane.family === 4 ? lanes4 : lanes6;
    const at = lanes.indexOf(lane);
    if (at !== -1) lanes.splice(at, 1);
    closeSocket(lane.socket);
  }

  function onLaneIdle(lane: Lane): void {
    if (!lane.open) return;
    const lanes = lane.family === 4 ? lanes4 : lanes6;
    let idle = 0;
    for (let i = 0; i < lanes.length; i++) if (lanes[i]!.inFlight === 0) idle++;
    if (idle > maxIdleSockets) discardLane(lane);
  }

  function findSlot(lane: Lane, address: string, port: number): PeerSlot | undefined {
    let slot = lane.peers.get(port);
    while (slot !== undefined && slot.address !== address) slot = slot.next;
    return slot;
  }

  function forgetIdlePeers(lane: Lane): void {
    for (const [port, head] of lane.peers) {
      let first: PeerSlot | undefined;
      let last: PeerSlot | undefined;
      for (let slot: PeerSlot | undefined = head; slot !== undefined; ) {
        const next: PeerSlot | undefined = slot.next;
        if (slot.current === undefined) {
          lane.peerCount--;
        } else {
          slot.next = undefined;
          if (last === undefined) first = slot;
          else last.next = slot;
          last = slot;
        }
        slot = next;
      }
      if (first === undefined) lane.peers.delete(port);
      else lane.peers.set(port, first);
    }
  }

  function addSlot(lane: Lane, address: string, port: number): PeerSlot {
    if (lane.peerCount >= MAX_PEERS_PER_SOCKET) forgetIdlePeers(lane);
    const slot: PeerSlot = { lane, address, current: undefined, next: lane.peers.get(port) };
    lane.peers.set(port, slot);
    lane.peerCount++;
    return slot;
  }

  /** A free (socket, peer) pair: the first pooled socket with nothing out to this peer, else a new socket. */
  function slotFor(family: 4 | 6, address: string, port: number): PeerSlot {
    const lanes = family === 4 ? lanes4 : lanes6;
    for (let i = 0; i < lanes.length; i++) {
      const lane = lanes[i]!;
      const slot = findSlot(lane, address, port);
      if (slot === undefined) return addSlot(lane, address, port);
      if (slot.current === undefined) return slot;
    }
    return addSlot(openLane(family), address, port);
  }

  // ---- socket events (the hot path) ----------------------------------------------------------

  function onMessage(lane: Lane, message: Buffer, remote: RemoteInfo): void {
    if (message.length > maxReplyBytes) {
      droppedOversize++;
      return;
    }
    const slot = findSlot(lane, remote.address, remote.port);
    if (slot === undefined) {
      droppedSpoofed++;
      return;
    }
    const item = slot.current;
    if (item === undefined) {
      droppedLate++;
      return;
    }
    const now = performance.now();
    if (now > item.deadline) {
      // Handled after the deadline (the event loop was busy, or the timer has not run yet): a timeout, never a reply.
      droppedLate++;
      timeouts++;
      settle(item, failure(timeoutError(item.target, item.timeoutMs), item.timeoutMs, item.target));
      return;
    }
    if (item.accept !== undefined) {
      if (!accepts(item.accept, message)) {
        droppedRejected++;
        return;
      }
      // accept() may have closed the client or aborted the call: then the item is already settled.
      if (item.settled) {
        droppedLate++;
        return;
      }
    }
    received++;
    const reply: UdpReply = { ok: true, value: message, latencyMs: now - item.startedAt, target: item.target };
    settle(item, reply);
  }

  function onSendError(lane: Lane, error: Error): void {
    const { address, port } = error as { address?: unknown; port?: unknown };
    if (typeof address !== 'string' || typeof port !== 'number') {
      // Not attributable to one destination: treat it as a failure of the socket.
      onLaneError(lane, error);
      return;
    }
    const item = findSlot(lane, address, port)?.current;
    if (item === undefined) return;
    errors++;
    settle(item, failure(sendFailed(item.target, error), performance.now() - item.startedAt, item.target));
  }

  function onLaneError(lane: Lane, error: Error): void {
    if (!lane.open) {
      // Node drops a close() queued behind a bind that then fails; closing again completes it.
      try {
        lane.socket.close();
      } catch {
        // already closed
      }
      return;
    }
    discardLane(lane);
    const affected: Item[] = [];
    for (const head of lane.peers.values()) {
      for (let slot: PeerSlot | undefined = head; slot !== undefined; slot = slot.next) {
        if (slot.current !== undefined) affected.push(slot.current);
      }
    }
    const now = performance.now();
    for (const item of affected) {
      if (item.settled) continue;
      errors++;
      settle(item, failure(socketError(item.target, error), now - item.startedAt, item.target));
    }
  }

  // ---- items and operations ------------------------------------------------------------------

  function settle(item: Item, outcome: UdpOutcome): void {
    item.settled = true;
    inFlight--;
    const slot = item.slot;
    if (slot !== undefined) {
      item.slot = undefined;
      slot.current = undefined;
      const lane = slot.lane;
      if (--lane.inFlight === 0) onLaneIdle(lane);
    }
    const op = item.op;
    op.outcomes[item.index] = outcome;
    const done = --op.remaining === 0;
    if (op.onOutcome !== undefined) {
      try {
        op.onOutcome(outcome, item.index);
      } catch {
        // Documented: a progress callback cannot break the operation.
      }
    }
    if (done) finish(op);
  }

  function finish(op: Operation): void {
    if (op.timer !== undefined) {
      clearTimeout(op.timer);
      op.timer = undefined;
    }
    if (op.abortListener !== undefined) {
      op.signal?.removeEventListener('abort', op.abortListener);
      op.abortListener = undefined;
    }
    activeOps.delete(op);
    op.resolve(op.outcomes);
  }

  function dispatch(item: Item, address: string, family: 4 | 6, port: number): void {
    let slot: PeerSlot;
    try {
      slot = slotFor(family, address, port);
    } catch (error) {
      errors++;
      settle(item, failure(socketError(item.target, error), performance.now() - item.startedAt, item.target));
      return;
    }
    slot.current = item;
    item.slot = slot;
    const lane = slot.lane;
    lane.inFlight++;
    try {
      lane.socket.send(item.payload, port, address, lane.onSent);
      sent++;
    } catch (error) {
      errors++;
      settle(item, failure(sendFailed(item.target, error), performance.now() - item.startedAt, item.target));
    }
  }

  function resolveThenDispatch(item: Item): void {
    // The executor turns a resolver that throws instead of rejecting into a rejection.
    const pending = new Promise<Awaited<ReturnType<UdpLookup>>>((resolve) => resolve(lookup(item.target.host)));
    pending.then(
      (result) => {
        if (item.settled) return;
        const ip = typeof result?.address === 'string' ? parseIpLiteral(result.address) : undefined;
        if (ip === undefined) {
          errors++;
          const error = resolveFailed(item.target, new Error('the resolver returned no IP address'));
          settle(item, failure(error, performance.now() - item.startedAt, item.target));
          return;
        }
        dispatch(item, ip.address, ip.family, item.target.port);
      },
      (error: unknown) => {
        if (item.settled) return;
        errors++;
        settle(item, failure(resolveFailed(item.target, error), performance.now() - item.startedAt, item.target));
      },
    );
  }

  function onTimer(op: Operation): void {
    op.timer = undefined;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    const items = op.items;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (item.settled) continue;
      if (item.deadline <= now) {
        timeouts++;
        settle(item, failure(timeoutError(item.target, item.timeoutMs), item.timeoutMs, item.target));
      } else if (item.deadline < next) {
        next = item.deadline;
      }
    }
    // Node may fire a timer up to a millisecond early by this clock; such items simply wait on.
    if (op.remaining > 0 && op.timer === undefined && next !== Number.POSITIVE_INFINITY) {
      op.timer = setTimeout(onTimer, Math.max(1, Math.ceil(next - now)), op);
    }
  }

  function settleAll(op: Operation, error: XError): void {
    const now = performance.now();
    const items = op.items;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (item.settled) continue;
      aborted++;
      settle(item, failure(error, now - item.startedAt, item.target));
    }
  }

  function start(
    requests: readonly UdpFanOutItem[],
    call: Settings,
    timeoutsMs: readonly number[],
    resolve: (outcomes: UdpOutcome[]) => void,
  ): void {
    const count = requests.length;
    const items: Item[] = new Array<Item>(count);
    const op: Operation = {
      items,
      outcomes: new Array<UdpOutcome>(count),
      remaining: count,
      timer: undefined,
      signal: call.signal,
      abortListener: undefined,
      onOutcome: call.onOutcome,
      resolve,
    };
    const startedAt = performance.now();
    for (let i = 0; i < count; i++) {
      const request = requests[i]!;
      items[i] = {
        op,
        index: i,
        target: request.target,
        payload: request.payload,
        timeoutMs: timeoutsMs[i]!,
        accept: request.accept,
        startedAt,
        deadline: startedAt + timeoutsMs[i]!,
        slot: undefined,
        settled: false,
      };
    }
    activeOps.add(op);
    inFlight += count;

    let earliest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < count; i++) {
      const item = items[i]!;
      // A progress callback may have closed the client or aborted the signal from inside this loop.
      if (item.settled) continue;
      const ip = literalOf(item.target.host);
      item.startedAt = performance.now();
      item.deadline = item.startedAt + item.timeoutMs;
      if (item.deadline < earliest) earliest = item.deadline;
      if (ip === null) resolveThenDispatch(item);
      else dispatch(item, ip.address, ip.family, item.target.port);
    }
    if (op.remaining === 0) return;

    op.timer = setTimeout(onTimer, Math.max(1, Math.ceil(earliest - performance.now())), op);
    const signal = call.signal;
    if (signal !== undefined) {
      const listener = (): void => {
        op.abortListener = undefined;
        settleAll(op, abortedError(signal.reason));
      };
      op.abortListener = listener;
      signal.addEventListener('abort', listener, { once: true });
      if (signal.aborted) {
        signal.removeEventListener('abort', listener);
        listener();
      }
    }
  }

  // ---- validation ----------------------------------------------------------------------------

  function callSettings(options: UdpFanOutOptions | undefined): Settings {
    if (options === undefined) return { timeoutMs: settings.timeoutMs, signal: undefined, onOutcome: undefined };
    if (typeof options !== 'object' || options === null) throw invalidRequest('options must be an object');
    const { timeoutMs = settings.timeoutMs, signal, onOutcome } = options;
    if (!isValidTimeout(timeoutMs)) {
      throw invalidRequest(`timeoutMs must be a number > 0 and <= ${MAX_TIMEOUT_MS}, got ${show(timeoutMs)}`);
    }
    if (signal !== undefined && !isAbortSignal(signal)) throw invalidRequest('signal must be an AbortSignal');
    if (onOutcome !== undefined && typeof onOutcome !== 'function') throw invalidRequest('onOutcome must be a function');
    return { timeoutMs, signal, onOutcome };
  }

  function itemTimeout(item: UdpFanOutItem, index: number | undefined, fallback: number): number {
    if (typeof item !== 'object' || item === null) throw invalidRequest('each item must be an object { target, payload }', index);
    const { target, payload, timeoutMs, accept } = item;
    if (typeof target !== 'object' || target === null) throw invalidRequest('target must be an object { host, port }', index);
    if (typeof target.host !== 'string' || target.host.length === 0) {
      throw invalidRequest('target.host must be a non-empty string', index);
    }
    const port = target.port;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
      throw invalidRequest(`target.port must be an integer from 1 to 65535, got ${show(port)}`, index);
    }
    if (!(payload instanceof Uint8Array)) throw invalidRequest('payload must be a Uint8Array', index);
    if (payload.byteLength > maxRequestBytes) throw requestTooLarge(target, payload.byteLength, maxRequestBytes, index);
    if (accept !== undefined && typeof accept !== 'function') throw invalidRequest('accept must be a function', index);
    if (timeoutMs === undefined) return fallback;
    if (!isValidTimeout(timeoutMs)) {
      throw invalidRequest(`timeoutMs must be a number > 0 and <= ${MAX_TIMEOUT_MS}, got ${show(timeoutMs)}`, index);
    }
    return timeoutMs;
  }

  /** Validates everything first, so that invalid input sends nothing at all. */
  function run(requests: readonly UdpFanOutItem[], options: UdpFanOutOptions | undefined, single: boolean): Promise<UdpOutcome[]> {
    if (closed) return Promise.reject(closedError());
    let call: Settings;
    const timeoutsMs: number[] = [];
    try {
      const list: unknown = requests;
      if (!Array.isArray(list)) throw invalidRequest('items must be an array');
      call = callSettings(options);
      for (let i = 0; i < requests.length; i++) {
        timeoutsMs.push(itemTimeout(requests[i]!, single ? undefined : i, call.timeoutMs));
      }
    } catch (error) {
      // Everything thrown above already is an XError of this package; toXError returns it unchanged.
      return Promise.reject(toXError(error, { code: 'UDP_INVALID_REQUEST', category: 'config' }));
    }
    if (call.signal?.aborted) return Promise.reject(abortedError(call.signal.reason));
    if (requests.length === 0) return Promise.resolve([]);
    return new Promise((resolve) => start(requests, call, timeoutsMs, resolve));
  }

  // ---- the client ----------------------------------------------------------------------------

  return {
    fanOut(items, options) {
      return run(items, options, false);
    },

    request(target, payload, options?: UdpRequestOptions) {
      if (options !== undefined && (typeof options !== 'object' || options === null)) {
        return Promise.reject(invalidRequest('options must be an object'));
      }
      const call = options === undefined ? undefined : { timeoutMs: options.timeoutMs, signal: options.signal };
      const item: UdpFanOutItem = options?.accept === undefined ? { target, payload } : { target, payload, accept: options.accept };
      return run([item], call, true).then(([outcome]) => {
        if (outcome!.ok) return outcome!;
        throw outcome!.error;
      });
    },

    stats(): UdpStats {
      return {
        sent,
        received,
        droppedSpoofed,
        droppedLate,
        droppedOversize,
        droppedRejected,
        timeouts,
        errors,
        aborted,
        inFlight,
        openSockets: lanes4.length + lanes6.length,
      };
    },

    close() {
      if (closePromise !== undefined) return closePromise;
      closed = true;
      const error = closedError();
      for (const op of [...activeOps]) settleAll(op, error);
      for (const lane of [...lanes4, ...lanes6]) discardLane(lane);
      closePromise = Promise.all([...closingSockets]).then(() => undefined);
      return closePromise;
    },
  };
}
