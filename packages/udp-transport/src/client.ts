import { lookup as dnsLookup } from 'node:dns/promises';
import { abortedError, toXError } from '@x/errors';
import { createLiteralCache } from './address.js';
import { checkCallOptions, checkItem } from './checks.js';
import type { CallSettings } from './checks.js';
import type { UdpCore } from './core.js';
import { closedError, invalidRequest } from './errors.js';
import { resolveOptions } from './options.js';
import { addOperation, settleAll } from './pending.js';
import { onMessage, onSendError, onSocketError } from './receive.js';
import { sendOperation } from './send.js';
import { closeAllSockets, createSocketPool, openSocketCount } from './sockets.js';
import { createCounters, snapshot } from './stats.js';
import type { UdpClient, UdpClientOptions, UdpFanOutItem, UdpFanOutOptions, UdpLookup, UdpOutcome, UdpRequestOptions } from './types.js';

const defaultLookup: UdpLookup = (hostname) => dnsLookup(hostname);

/**
 * A UDP client: one datagram and its reply (`request`), or many at once (`fanOut`), each with its own
 * timeout, over a small pool of reusable sockets on ephemeral ports. See the README for guarantees.
 *
 * The wiring of named parts: `options.ts` and `checks.ts` (input), `sockets.ts` (socket lifecycle and the
 * (socket, peer) table), `pending.ts` (pending items and calls), `send.ts`, `receive.ts` (reply acceptance),
 * `deadline.ts` (the one timer per call, and abort), `stats.ts`.
 */
export function createUdpClient(options?: UdpClientOptions): UdpClient {
  const settings = resolveOptions(options);
  const core: UdpCore = {
    settings,
    counters: createCounters(),
    sockets: createSocketPool(settings, {
      message: (lane, message, remote) => onMessage(core, lane, message, remote),
      sendError: (lane, error) => onSendError(core, lane, error),
      socketError: (lane, error) => onSocketError(core, lane, error),
    }),
    operations: new Set(),
    lookup: settings.lookup ?? defaultLookup,
    literalOf: createLiteralCache(),
  };
  let closed = false;
  let closePromise: Promise<void> | undefined;

  /** Checks everything first, so that invalid input sends nothing at all. */
  function run(requests: readonly UdpFanOutItem[], options: UdpFanOutOptions | undefined, single: boolean): Promise<UdpOutcome[]> {
    if (closed) return Promise.reject(closedError());
    let call: CallSettings;
    const timeoutsMs: number[] = [];
    try {
      const list: unknown = requests;
      if (!Array.isArray(list)) throw invalidRequest('items', 'items must be an array', undefined, list);
      call = checkCallOptions(options, settings.timeoutMs);
      for (let i = 0; i < requests.length; i++) {
        timeoutsMs.push(checkItem(requests[i]!, single ? undefined : i, call.timeoutMs, settings.maxRequestBytes));
      }
    } catch (error) {
      // Everything thrown above already is an XError of this package; toXError returns it unchanged.
      return Promise.reject(toXError(error, { code: 'UDP_INVALID_REQUEST', category: 'config' }));
    }
    if (call.signal?.aborted) return Promise.reject(abortedError(call.signal.reason));
    if (requests.length === 0) return Promise.resolve([]);
    return new Promise((resolve) => sendOperation(core, addOperation(core, requests, call, timeoutsMs, resolve)));
  }

  return {
    fanOut: (items, options) => run(items, options, false),

    request(target, payload, options?: UdpRequestOptions) {
      if (options !== undefined && (typeof options !== 'object' || options === null)) {
        return Promise.reject(invalidRequest('options', 'options must be an object', undefined, options));
      }
      const call = options === undefined ? undefined : { timeoutMs: options.timeoutMs, signal: options.signal };
      const item: UdpFanOutItem = options?.accept === undefined ? { target, payload } : { target, payload, accept: options.accept };
      return run([item], call, true).then(([outcome]) => {
        if (outcome!.ok) return outcome!;
        throw outcome!.error;
      });
    },

    stats: () => snapshot(core.counters, openSocketCount(core.sockets)),

    close() {
      if (closePromise !== undefined) return closePromise;
      closed = true;
      const error = closedError();
      for (const op of [...core.operations]) settleAll(core, op, error);
      closePromise = closeAllSockets(core.sockets);
      return closePromise;
    },
  };
}
