import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { createRandom } from '@x/testkit';
import type { Random } from '@x/testkit';

/**
 * Faults a relay applies to the datagrams passing through it. Probabilities are per datagram, drawn
 * from the relay's seeded stream, so a run can be replayed.
 */
export interface ChaosFaults {
  /** A request never reaches its server. */
  readonly requestLoss?: number;
  /** A reply never reaches the client. */
  readonly replyLoss?: number;
  /** A reply is sent one or two extra times. */
  readonly duplicate?: number;
  /** Every reply (and copy) waits a uniform draw from this range, in ms. */
  readonly delayMs?: readonly [number, number];
  /** Replies are held and released in shuffled groups of this size (or after 5 ms). */
  readonly reorderWindow?: number;
  /** A reply is cut to a random shorter length (0 bytes included). */
  readonly truncate?: number;
  /** Random bytes are appended to a reply, up to the largest UDP payload (65,507 bytes). */
  readonly oversize?: number;
  /** 0–64 random bytes are sent from the server's address just before the reply. */
  readonly garbage?: number;
  /** A reply is sent from another port of 127.0.0.1 instead of the server's address. */
  readonly spoof?: number;
  /**
   * A forged reply is sent from the server's own address just before the real one: a well-formed
   * 32-byte header saying 250 (to an echo) or 241 "all pass", with a signature the forger had to guess —
   * an off-path attacker who can fake source addresses but never saw the request.
   */
  readonly forge?: number;
}

/** What reached the client from the relay of server `server`. `spoofed` ones came from another port. */
export type DeliveryKind = 'intact' | 'truncated' | 'oversized' | 'garbage' | 'forged' | 'spoofed';

interface Delivery {
  readonly server: number;
  readonly kind: DeliveryKind;
}

interface RelayCounters {
  requests: number;
  requestsDropped: number;
  replies: number;
  repliesDropped: number;
  delivered: Record<DeliveryKind, number>;
}

export interface ChaosRelay {
  /** Where clients must send: one relay address per server, with the server's id. */
  readonly servers: readonly { readonly id: number; readonly host: string; readonly port: number }[];
  /** Faults for every server, and optionally other faults for some servers (by index). */
  setFaults(faults: ChaosFaults, perServer?: Readonly<Record<number, ChaosFaults>>): void;
  /** What was delivered to clients since the last {@link ChaosRelay.newRound}. */
  deliveries(): readonly Delivery[];
  readonly counters: RelayCounters;
  /** Waits for every delayed or held datagram to go out, forgets client mappings and the delivery log. */
  newRound(): Promise<void>;
  close(): Promise<void>;
}

const MAX_UDP_PAYLOAD = 65_507;
const REORDER_FLUSH_MS = 5;

function bind(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      // A datagram to a client port that has closed since is refused by the OS: not the relay's failure.
      socket.on('error', () => {});
      resolve(socket);
    });
  });
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve();
    }
  });
}

/** A success reply built from a real one's header, with a guessed signature and no body. */
function forgeFrom(real: Uint8Array, random: Random): Uint8Array {
  const forged = new Uint8Array(32);
  forged.set(real.subarray(0, 32));
  forged[2] = real[2] === 250 ? 250 : 241;
  forged.set([0, 0, 0], 9);
  forged.set(random.bytes(16), 16);
  return forged;
}

/**
 * A UDP relay in front of each server of a cluster: the client talks to the relay as if it were the
 * server; each client address gets its own upstream socket (like a NAT), so every reply finds its
 * way back. Replies are then dropped, duplicated, delayed, reordered, truncated, padded, preceded by
 * garbage or sent from a wrong port, as the faults say. A reply that the server itself sent from a
 * port other than its own (testkit's `spoof`) leaves the relay from a wrong port too.
 */
export async function startChaosRelay(
  targets: readonly { readonly id: number; readonly host: string; readonly port: number }[],
  seed: number | string,
): Promise<ChaosRelay> {
  const root = createRandom(seed);
  const randoms: Random[] = targets.map((_, index) => root.fork(`relay:${index}`));
  const fronts = await Promise.all(targets.map(() => bind()));
  const spoofSocket = await bind();
  const upstreams = new Map<string, Promise<Socket>>();
  const pendingTimers = new Set<NodeJS.Timeout>();
  let held: Array<() => void> = [];
  let holdTimer: NodeJS.Timeout | undefined;
  let idleWaiters: Array<() => void> = [];
  let log: Array<Delivery & { readonly round: number }> = [];
  let round = 0;
  let faults: ChaosFaults = {};
  let overrides: Readonly<Record<number, ChaosFaults>> = {};
  let closed = false;
  const counters: RelayCounters = {
    requests: 0,
    requestsDropped: 0,
    replies: 0,
    repliesDropped: 0,
    delivered: { intact: 0, truncated: 0, oversized: 0, garbage: 0, forged: 0, spoofed: 0 },
  };

  const faultsOf = (index: number): ChaosFaults => ({ ...faults, ...(overrides[index] ?? {}) });

  const checkIdle = (): void => {
    if (pendingTimers.size > 0 || held.length > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const waiter of waiters) waiter();
  };

  const later = (delayMs: number, action: () => void): void => {
    const timer = setTimeout(() => {
      pendingTimers.delete(timer);
      action();
      checkIdle();
    }, delayMs);
    pendingTimers.add(timer);
  };

  const flushHeld = (random: Random): void => {
    if (holdTimer !== undefined) {
      clearTimeout(holdTimer);
      pendingTimers.delete(holdTimer);
      holdTimer = undefined;
    }
    const batch = held;
    held = [];
    for (let i = batch.length - 1; i > 0; i--) {
      const j = random.int(0, i);
      [batch[i], batch[j]] = [batch[j]!, batch[i]!];
    }
    for (const send of batch) send();
    checkIdle();
  };

  const release = (index: number, send: () => void): void => {
    const window = faultsOf(index).reorderWindow ?? 0;
    if (window <= 1 || closed) {
      send();
      return;
    }
    held.push(send);
    const random = randoms[index]!;
    if (held.length >= window) {
      flushHeld(random);
      return;
    }
    if (holdTimer === undefined) {
      holdTimer = setTimeout(() => {
        pendingTimers.delete(holdTimer!);
        holdTimer = undefined;
        flushHeld(random);
      }, REORDER_FLUSH_MS);
      pendingTimers.add(holdTimer);
    }
  };

  const deliver = (index: number, client: RemoteInfo, bytes: Uint8Array, kind: DeliveryKind, ofRound: number): void => {
    if (closed) return;
    const socket = kind === 'spoofed' ? spoofSocket : fronts[index]!;
    socket.send(bytes, client.port, client.address);
    log.push({ server: index, kind, round: ofRound });
    counters.delivered[kind]++;
  };

  const onReply = (index: number, client: RemoteInfo, ofRound: number, message: Buffer, from: RemoteInfo): void => {
    const random = randoms[index]!;
    const f = faultsOf(index);
    counters.replies++;
    if (random.chance(f.replyLoss ?? 0)) {
      counters.repliesDropped++;
      return;
    }
    const fromServer = from.port === targets[index]!.port;
    const copies = 1 + (random.chance(f.duplicate ?? 0) ? random.int(1, 2) : 0);
    for (let copy = 0; copy < copies; copy++) {
      let bytes: Uint8Array = message;
      let kind: DeliveryKind = 'intact';
      if (random.chance(f.truncate ?? 0)) {
        bytes = message.subarray(0, random.int(0, message.length - 1));
        kind = 'truncated';
      } else if (random.chance(f.oversize ?? 0)) {
        let extra = random.chance(0.2) ? MAX_UDP_PAYLOAD - message.length : random.int(1, 1500);
        // 16 more bytes on a bodiless 32-byte reply make a well-formed 48-byte header: not oversized.
        if (message.length === 32 && extra === 16) extra = 17;
        const padded = new Uint8Array(message.length + extra);
        padded.set(message);
        padded.set(random.bytes(extra), message.length);
        bytes = padded;
        kind = 'oversized';
      }
      if (!fromServer || random.chance(f.spoof ?? 0)) kind = 'spoofed';
      const garbage = random.chance(f.garbage ?? 0) ? random.bytes(random.int(0, 64)) : undefined;
      const forged = random.chance(f.forge ?? 0) ? forgeFrom(message, random) : undefined;
      const delay = f.delayMs === undefined ? 0 : random.uniform(f.delayMs[0], f.delayMs[1]);
      const send = (): void => {
        if (garbage !== undefined) deliver(index, client, garbage, 'garbage', ofRound);
        if (forged !== undefined) deliver(index, client, forged, 'forged', ofRound);
        deliver(index, client, bytes, kind, ofRound);
      };
      if (delay > 0) later(delay, () => release(index, send));
      else release(index, send);
    }
  };

  const upstreamFor = (index: number, client: RemoteInfo): Promise<Socket> => {
    const key = `${index}|${client.address}|${client.port}`;
    let socket = upstreams.get(key);
    if (socket === undefined) {
      // The promise is stored at once, so a burst from one client opens one upstream socket.
      // Replies are logged under the round their request came in, so a straggler never counts for a later round.
      const ofRound = round;
      socket = bind().then((bound) => {
        bound.on('message', (message: Buffer, from: RemoteInfo) => onReply(index, client, ofRound, message, from));
        return bound;
      });
      upstreams.set(key, socket);
    }
    return socket;
  };

  fronts.forEach((front, index) => {
    front.on('message', (message: Buffer, client: RemoteInfo) => {
      counters.requests++;
      if (randoms[index]!.chance(faultsOf(index).requestLoss ?? 0)) {
        counters.requestsDropped++;
        return;
      }
      const target = targets[index]!;
      void upstreamFor(index, client).then((socket) => {
        if (!closed) socket.send(message, target.port, target.host);
      });
    });
  });

  const drain = (): Promise<void> =>
    new Promise((resolve) => {
      idleWaiters.push(resolve);
      checkIdle();
    });

  const closeUpstreams = async (): Promise<void> => {
    const sockets = await Promise.all(upstreams.values());
    upstreams.clear();
    await Promise.all(sockets.map(closeSocket));
  };

  return {
    servers: fronts.map((front, index) => ({ id: targets[index]!.id, host: '127.0.0.1', port: front.address().port })),
    setFaults(next, perServer = {}) {
      faults = next;
      overrides = perServer;
    },
    deliveries: () => log.filter((entry) => entry.round === round),
    counters,
    async newRound() {
      await drain();
      round++;
      await closeUpstreams();
      log = [];
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const timer of pendingTimers) clearTimeout(timer);
      pendingTimers.clear();
      held = [];
      holdTimer = undefined;
      checkIdle();
      await closeUpstreams();
      await Promise.all([...fronts, spoofSocket].map(closeSocket));
    },
  };
}
