import { abortedError } from '@x/errors';
import type { UdpCore } from './core.js';
import { timeoutError } from './errors.js';
import { failed, settle, settleAll } from './pending.js';
import type { Operation } from './pending.js';

/** Aims the operation's one timer at `deadline` (a `performance.now()` time). */
export function armTimer(core: UdpCore, op: Operation, deadline: number): void {
  op.timer = setTimeout(onTimer, Math.max(1, Math.ceil(deadline - performance.now())), core, op);
}

/** Times out every item whose deadline has passed, then aims the timer at the next deadline. */
function onTimer(core: UdpCore, op: Operation): void {
  op.timer = undefined;
  const now = performance.now();
  let next = Number.POSITIVE_INFINITY;
  const items = op.items;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (item.settled) continue;
    if (item.deadline <= now) {
      core.counters.timeouts++;
      settle(core, item, failed(item, timeoutError(item.target, item.timeoutMs), item.timeoutMs));
    } else if (item.deadline < next) {
      next = item.deadline;
    }
  }
  // Node may fire a timer up to a millisecond early by this clock; such items simply wait on.
  if (op.remaining > 0 && op.timer === undefined && next !== Number.POSITIVE_INFINITY) armTimer(core, op, next);
}

/** Settles what is still pending as `ABORTED` when the call's signal aborts; the listener goes when the call settles. */
export function watchSignal(core: UdpCore, op: Operation, signal: AbortSignal | undefined): void {
  if (signal === undefined) return;
  const listener = (): void => {
    op.abortListener = undefined;
    settleAll(core, op, abortedError(signal.reason));
  };
  op.abortListener = listener;
  signal.addEventListener('abort', listener, { once: true });
  if (signal.aborted) {
    signal.removeEventListener('abort', listener);
    listener();
  }
}
