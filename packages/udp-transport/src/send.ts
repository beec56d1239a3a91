import type { UdpCore } from './core.js';
import { armTimer, watchSignal } from './deadline.js';
import { resolveFailed, sendFailed, socketError } from './errors.js';
import { failed, settle } from './pending.js';
import type { Operation } from './pending.js';
import { parseIpLiteral } from './address.js';
import { takeSlot } from './sockets.js';
import type { Item } from './pending.js';
import type { UdpLookup } from './types.js';

/** Sends an item's datagram from a free (socket, peer) pair; a failure settles the item. */
function dispatch(core: UdpCore, item: Item, address: string, family: 4 | 6, port: number): void {
  try {
    item.slot = takeSlot(core.sockets, item, family, address, port);
  } catch (error) {
    core.counters.errors++;
    settle(core, item, failed(item, socketError(item.target, error), performance.now() - item.startedAt));
    return;
  }
  const lane = item.slot.lane;
  try {
    lane.socket.send(item.payload, port, address, lane.onSent);
    core.counters.sent++;
  } catch (error) {
    core.counters.errors++;
    settle(core, item, failed(item, sendFailed(item.target, error), performance.now() - item.startedAt));
  }
}

/** A host name is resolved first (its timeout already running), then sent to. */
function resolveThenDispatch(core: UdpCore, item: Item): void {
  // The executor turns a resolver that throws instead of rejecting into a rejection.
  const pending = new Promise<Awaited<ReturnType<UdpLookup>>>((resolve) => resolve(core.lookup(item.target.host)));
  pending.then(
    (result) => {
      if (item.settled) return;
      const ip = typeof result?.address === 'string' ? parseIpLiteral(result.address) : undefined;
      if (ip === undefined) {
        core.counters.errors++;
        const error = resolveFailed(item.target, new Error('the resolver returned no IP address'));
        settle(core, item, failed(item, error, performance.now() - item.startedAt));
        return;
      }
      dispatch(core, item, ip.address, ip.family, item.target.port);
    },
    (error: unknown) => {
      if (item.settled) return;
      core.counters.errors++;
      settle(core, item, failed(item, resolveFailed(item.target, error), performance.now() - item.startedAt));
    },
  );
}

/**
 * Sends every item of a registered operation, each starting its own clock, then arms the operation's timer at the
 * earliest deadline and listens to its signal.
 */
export function sendOperation(core: UdpCore, op: Operation): void {
  const items = op.items;
  let earliest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    // A progress callback may have closed the client or aborted the signal from inside this loop.
    if (item.settled) continue;
    const ip = core.literalOf(item.target.host);
    item.startedAt = performance.now();
    item.deadline = item.startedAt + item.timeoutMs;
    if (item.deadline < earliest) earliest = item.deadline;
    if (ip === null) resolveThenDispatch(core, item);
    else dispatch(core, item, ip.address, ip.family, item.target.port);
  }
  if (op.remaining === 0) return;
  armTimer(core, op, earliest);
  watchSignal(core, op, op.signal);
}
