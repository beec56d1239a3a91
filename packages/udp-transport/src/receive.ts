import type { RemoteInfo } from 'node:dgram';
import type { UdpCore } from './core.js';
import { sendFailed, socketError, timeoutError } from './errors.js';
import { failed, settle } from './pending.js';
import { discardLane, findSlot, itemsOn } from './sockets.js';
import type { Lane } from './sockets.js';
import type { UdpAccept, UdpReply } from './types.js';

/** A throwing `accept` rejects, like one that returns false: a bad datagram must not crash the socket's handler. */
function accepts(accept: UdpAccept, message: Uint8Array): boolean {
  try {
    return accept(message) === true;
  } catch {
    return false;
  }
}

/**
 * Reply acceptance (the hot path): a datagram settles the item that owns its exact source on this socket,
 * if it is not oversized, arrives before the item's deadline and passes the item's `accept`. Anything else is
 * dropped and counted.
 */
export function onMessage(core: UdpCore, lane: Lane, message: Buffer, remote: RemoteInfo): void {
  const counters = core.counters;
  if (message.length > core.settings.maxReplyBytes) {
    counters.droppedOversize++;
    return;
  }
  const slot = findSlot(lane, remote.address, remote.port);
  if (slot === undefined) {
    counters.droppedSpoofed++;
    return;
  }
  const item = slot.current;
  if (item === undefined) {
    counters.droppedLate++;
    return;
  }
  const now = performance.now();
  if (now > item.deadline) {
    // Handled after the deadline (the event loop was busy, or the timer has not run yet): a timeout, never a reply.
    counters.droppedLate++;
    counters.timeouts++;
    settle(core, item, failed(item, timeoutError(item.target, item.timeoutMs), item.timeoutMs));
    return;
  }
  if (item.accept !== undefined) {
    if (!accepts(item.accept, message)) {
      counters.droppedRejected++;
      return;
    }
    // accept() may have closed the client or aborted the call: then the item is already settled.
    if (item.settled) {
      counters.droppedLate++;
      return;
    }
  }
  counters.received++;
  const reply: UdpReply = { ok: true, value: message, latencyMs: now - item.startedAt, target: item.target };
  settle(core, item, reply);
}

/** A failed send settles the item it was for; one not attributable to a destination fails the whole socket. */
export function onSendError(core: UdpCore, lane: Lane, error: Error): void {
  const { address, port } = error as { address?: unknown; port?: unknown };
  if (typeof address !== 'string' || typeof port !== 'number') {
    onSocketError(core, lane, error);
    return;
  }
  const item = findSlot(lane, address, port)?.current;
  if (item === undefined) return;
  core.counters.errors++;
  settle(core, item, failed(item, sendFailed(item.target, error), performance.now() - item.startedAt));
}

/** A socket that failed is discarded, and every item waiting on it fails with `UDP_SOCKET_ERROR`. */
export function onSocketError(core: UdpCore, lane: Lane, error: Error): void {
  discardLane(core.sockets, lane);
  const affected = itemsOn(lane);
  const now = performance.now();
  for (const item of affected) {
    if (item.settled) continue;
    core.counters.errors++;
    settle(core, item, failed(item, socketError(item.target, error), now - item.startedAt));
  }
}
