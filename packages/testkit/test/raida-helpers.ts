import { createSocket, type Socket } from 'node:dgram';
import { validateReply } from '@x/raida-protocol';
import type { BuiltRequest, ValidateReplyOptions, ValidatedReply } from '@x/raida-protocol';
import type { RaidaCluster, RaidaRequestEvent } from '@x/testkit';

// Captured at import, so waiting for a datagram keeps working in tests that fake the global timers.
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

/** One datagram as it arrived, with the address and port it came from. */
export interface Datagram {
  readonly bytes: Uint8Array;
  readonly address: string;
  readonly port: number;
}

/** A bare UDP client on 127.0.0.1: send bytes anywhere, read what comes back in arrival order. */
export interface RawClient {
  readonly port: number;
  send(port: number, bytes: Uint8Array): Promise<void>;
  /** The next datagram, or `undefined` when none arrives within `timeoutMs`. */
  next(timeoutMs?: number): Promise<Datagram | undefined>;
  /** Exactly `count` datagrams; fails when they do not all arrive within `timeoutMs`. */
  collect(count: number, timeoutMs?: number): Promise<Datagram[]>;
  /** Datagrams received and not read yet. */
  readonly queued: () => number;
  close(): Promise<void>;
}

export async function openRawClient(): Promise<RawClient> {
  const socket: Socket = createSocket({ type: 'udp4' });
  const queue: Datagram[] = [];
  const waiters: ((datagram: Datagram) => void)[] = [];
  socket.on('message', (message, from) => {
    const datagram = { bytes: new Uint8Array(message), address: from.address, port: from.port };
    const waiter = waiters.shift();
    if (waiter === undefined) queue.push(datagram);
    else waiter(datagram);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));

  function next(timeoutMs = 2000): Promise<Datagram | undefined> {
    const queued = queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => {
      const waiter = (datagram: Datagram): void => {
        realClearTimeout(timer);
        resolve(datagram);
      };
      const timer = realSetTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        resolve(undefined);
      }, timeoutMs);
      waiters.push(waiter);
    });
  }

  return {
    port: socket.address().port,
    send: (port, bytes) =>
      new Promise((resolve, reject) => socket.send(bytes, port, '127.0.0.1', (error) => (error ? reject(error) : resolve()))),
    next,
    async collect(count, timeoutMs = 2000) {
      const out: Datagram[] = [];
      for (let i = 0; i < count; i++) {
        const datagram = await next(timeoutMs);
        if (datagram === undefined) throw new Error(`expected ${count} datagrams, got ${out.length}`);
        out.push(datagram);
      }
      return out;
    },
    queued: () => queue.length,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/**
 * Sends a built request to server `raidaId` and validates the one reply, which must come from that
 * server's own port (as a real client checks before it reads anything).
 */
export async function ask(
  client: RawClient,
  cluster: RaidaCluster,
  raidaId: number,
  request: BuiltRequest,
  options?: ValidateReplyOptions,
): Promise<ValidatedReply> {
  const server = cluster.servers[raidaId]!;
  await client.send(server.port, request.bytes);
  const reply = await client.next();
  if (reply === undefined) throw new Error(`RAIDA ${raidaId} did not answer`);
  if (reply.port !== server.port) throw new Error(`reply for RAIDA ${raidaId} came from port ${reply.port}, not ${server.port}`);
  return validateReply(reply.bytes, request.expectation, options);
}

/** Sends raw bytes to server `raidaId` and returns the reply datagram (any source), or `undefined`. */
export async function exchange(
  client: RawClient,
  cluster: RaidaCluster,
  raidaId: number,
  bytes: Uint8Array,
  timeoutMs?: number,
): Promise<Datagram | undefined> {
  await client.send(cluster.servers[raidaId]!.port, bytes);
  return client.next(timeoutMs);
}

/** Records `onRequest` events and lets a test wait, without guessing, until a server has decided on N datagrams. */
export function eventRecorder(): {
  readonly events: RaidaRequestEvent[];
  onRequest: (event: RaidaRequestEvent) => void;
  waitFor: (count: number) => Promise<void>;
} {
  const events: RaidaRequestEvent[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  return {
    events,
    onRequest(event) {
      events.push(event);
      for (const waiter of [...waiters]) {
        if (events.length >= waiter.count) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    },
    waitFor(count) {
      if (events.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
  };
}

export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  return Uint8Array.from({ length: clean.length / 2 }, (_, i) => parseInt(clean.slice(i * 2, i * 2 + 2), 16));
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join(' ');
}

/** Counts active resources by type (`UDPWrap`, `Timeout`, …). */
export function resourceCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/** What `fn` throws; fails the test when it returns instead. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}
