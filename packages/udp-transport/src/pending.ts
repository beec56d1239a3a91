import type { XError } from '@x/errors';
import type { UdpCore } from './core.js';
import { releaseSlot } from './sockets.js';
import type { PeerSlot } from './sockets.js';
import type { CallSettings } from './checks.js';
import type { UdpAccept, UdpFailure, UdpFanOutItem, UdpOutcome, UdpTarget } from './types.js';

/** One fan-out or request call: its items, their outcomes so far, and what settles it. */
export interface Operation {
  readonly items: Item[];
  readonly outcomes: UdpOutcome[];
  remaining: number;
  /** One timer per operation, aimed at the earliest deadline still pending (see `deadline.ts`). */
  timer: NodeJS.Timeout | undefined;
  readonly signal: AbortSignal | undefined;
  abortListener: (() => void) | undefined;
  readonly onOutcome: ((outcome: UdpOutcome, index: number) => void) | undefined;
  readonly resolve: (outcomes: UdpOutcome[]) => void;
}

/** One datagram of an operation, from its start until it settles. */
export interface Item {
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

/** The outcome of an item that got no usable reply. */
export function failed(item: Item, error: XError, latencyMs: number): UdpFailure {
  return { ok: false, error, latencyMs, target: item.target };
}

/** Registers a checked call as pending: one item per request, each with its own timeout. */
export function addOperation(
  core: UdpCore,
  requests: readonly UdpFanOutItem[],
  call: CallSettings,
  timeoutsMs: readonly number[],
  resolve: (outcomes: UdpOutcome[]) => void,
): Operation {
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
    const timeoutMs = timeoutsMs[i]!;
    items[i] = {
      op,
      index: i,
      target: request.target,
      payload: request.payload,
      timeoutMs,
      accept: request.accept,
      startedAt,
      deadline: startedAt + timeoutMs,
      slot: undefined,
      settled: false,
    };
  }
  core.operations.add(op);
  core.counters.inFlight += count;
  return op;
}

/** Records an item's outcome, frees its socket pair, reports progress, and settles the call after its last item. */
export function settle(core: UdpCore, item: Item, outcome: UdpOutcome): void {
  item.settled = true;
  core.counters.inFlight--;
  const slot = item.slot;
  if (slot !== undefined) {
    item.slot = undefined;
    releaseSlot(core.sockets, slot);
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
  if (done) finish(core, op);
}

/** Settles every item still pending with `error` (an abort, or `close()`). */
export function settleAll(core: UdpCore, op: Operation, error: XError): void {
  const now = performance.now();
  const items = op.items;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (item.settled) continue;
    core.counters.aborted++;
    settle(core, item, failed(item, error, now - item.startedAt));
  }
}

function finish(core: UdpCore, op: Operation): void {
  if (op.timer !== undefined) {
    clearTimeout(op.timer);
    op.timer = undefined;
  }
  if (op.abortListener !== undefined) {
    op.signal?.removeEventListener('abort', op.abortListener);
    op.abortListener = undefined;
  }
  core.operations.delete(op);
  op.resolve(op.outcomes);
}
