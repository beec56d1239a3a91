import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import type { Item } from './pending.js';

/**
 * Past this many remembered peers a socket forgets the idle ones. Remembering peers is what tells a
 * late reply (from a target we did send to) apart from a spoofed one; the bound keeps a client that
 * talks to ever-new targets from growing without limit.
 */
const MAX_PEERS_PER_SOCKET = 4096;

/**
 * One remote address+port as seen from one socket. At most one item owns it at a time, which is what
 * makes matching a reply by its source exact. Slots for the same port on one socket are chained.
 */
export interface PeerSlot {
  readonly lane: Lane;
  readonly address: string;
  current: Item | undefined;
  next: PeerSlot | undefined;
}

/** A pooled socket. */
export interface Lane {
  readonly socket: Socket;
  readonly family: 4 | 6;
  readonly peers: Map<number, PeerSlot>;
  peerCount: number;
  inFlight: number;
  open: boolean;
  readonly onSent: (error: Error | null) => void;
}

/** What the pool hands over from its sockets' events (see `receive.ts`). */
export interface SocketEvents {
  message(lane: Lane, message: Buffer, remote: RemoteInfo): void;
  /** A `send` failed; Node puts the failed destination on the error when it knows it. */
  sendError(lane: Lane, error: Error): void;
  /** An open socket emitted `'error'`: every item on it has lost its socket. */
  socketError(lane: Lane, error: Error): void;
}

/** The sockets of one client: a small pool per address family, reused across calls. */
export interface SocketPool {
  readonly lanes4: Lane[];
  readonly lanes6: Lane[];
  /** Sockets whose `close()` has not called back yet. */
  readonly closing: Set<Promise<void>>;
  readonly maxIdleSockets: number;
  readonly bindAddress4: string | undefined;
  readonly bindAddress6: string | undefined;
  readonly events: SocketEvents;
}

export function createSocketPool(
  options: { readonly maxIdleSockets: number; readonly bindAddress4: string | undefined; readonly bindAddress6: string | undefined },
  events: SocketEvents,
): SocketPool {
  const { maxIdleSockets, bindAddress4, bindAddress6 } = options;
  return { lanes4: [], lanes6: [], closing: new Set(), maxIdleSockets, bindAddress4, bindAddress6, events };
}

function lanesOf(pool: SocketPool, family: 4 | 6): Lane[] {
  return family === 4 ? pool.lanes4 : pool.lanes6;
}

function openLane(pool: SocketPool, family: 4 | 6): Lane {
  const socket = createSocket({ type: family === 4 ? 'udp4' : 'udp6' });
  const { events } = pool;
  const lane: Lane = {
    socket,
    family,
    peers: new Map(),
    peerCount: 0,
    inFlight: 0,
    open: true,
    // One callback per socket rather than per datagram: Node puts the failed destination on the error.
    onSent: (error) => {
      if (error !== null) events.sendError(lane, error);
    },
  };
  socket.on('message', (message: Buffer, remote: RemoteInfo) => events.message(lane, message, remote));
  socket.on('error', (error: Error) => {
    if (lane.open) events.socketError(lane, error);
    else closeAgain(socket);
  });
  socket.bind({ port: 0, address: family === 4 ? pool.bindAddress4 : pool.bindAddress6, exclusive: true });
  // Idle pooled sockets must not keep a process alive; while a datagram is out its ref'd timer does.
  socket.unref();
  lanesOf(pool, family).push(lane);
  return lane;
}

/** Node drops a close() queued behind a bind that then fails; closing again completes it. */
function closeAgain(socket: Socket): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}

function closeSocket(pool: SocketPool, socket: Socket): void {
  const done = new Promise<void>((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
  pool.closing.add(done);
  void done.then(() => pool.closing.delete(done));
}

/** Takes a socket out of the pool for good and closes it. */
export function discardLane(pool: SocketPool, lane: Lane): void {
  if (!lane.open) return;
  lane.open = false;
  const lanes = lanesOf(pool, lane.family);
  const at = lanes.indexOf(lane);
  if (at !== -1) lanes.splice(at, 1);
  closeSocket(pool, lane.socket);
}

/** Closes every socket; resolves once all of them (and any closed earlier) have closed. */
export function closeAllSockets(pool: SocketPool): Promise<void> {
  for (const lane of [...pool.lanes4, ...pool.lanes6]) discardLane(pool, lane);
  return Promise.all([...pool.closing]).then(() => undefined);
}

export function openSocketCount(pool: SocketPool): number {
  return pool.lanes4.length + pool.lanes6.length;
}

export function findSlot(lane: Lane, address: string, port: number): PeerSlot | undefined {
  let slot = lane.peers.get(port);
  while (slot !== undefined && slot.address !== address) slot = slot.next;
  return slot;
}

/** The items waiting on a socket. */
export function itemsOn(lane: Lane): Item[] {
  const items: Item[] = [];
  for (const head of lane.peers.values()) {
    for (let slot: PeerSlot | undefined = head; slot !== undefined; slot = slot.next) {
      if (slot.current !== undefined) items.push(slot.current);
    }
  }
  return items;
}

function forgetIdlePeers(lane: Lane): void {
  for (const [port, head] of lane.peers) {
    let first: PeerSlot | undefined;
    let last: PeerSlot | undefined;
    for (let slot: PeerSlot | undefined = head; slot !== undefined;) {
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

/**
 * Gives `item` a free (socket, peer) pair: the first pooled socket with nothing out to this peer, else a new
 * socket. Throws when a socket cannot be created.
 */
export function takeSlot(pool: SocketPool, item: Item, family: 4 | 6, address: string, port: number): PeerSlot {
  let slot: PeerSlot | undefined;
  const lanes = lanesOf(pool, family);
  for (let i = 0; i < lanes.length && slot === undefined; i++) {
    const lane = lanes[i]!;
    const found = findSlot(lane, address, port);
    if (found === undefined) slot = addSlot(lane, address, port);
    else if (found.current === undefined) slot = found;
  }
  slot ??= addSlot(openLane(pool, family), address, port);
  slot.current = item;
  slot.lane.inFlight++;
  return slot;
}

/** Frees the pair an item held; a socket that falls idle beyond `maxIdleSockets` is closed. */
export function releaseSlot(pool: SocketPool, slot: PeerSlot): void {
  slot.current = undefined;
  const lane = slot.lane;
  if (--lane.inFlight !== 0 || !lane.open) return;
  const lanes = lanesOf(pool, lane.family);
  let idle = 0;
  for (let i = 0; i < lanes.length; i++) if (lanes[i]!.inFlight === 0) idle++;
  if (idle > pool.maxIdleSockets) discardLane(pool, lane);
}
