import { checkTimerMs, describeValue, isAbortSignal, isPlainObject, isTimerMs } from '@x/errors';
import { invalidRequest, requestTooLarge } from './errors.js';
import type { UdpFanOutItem, UdpFanOutOptions, UdpOutcome } from './types.js';

/** A call's options, checked, with the client's defaults filled in. */
export interface CallSettings {
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  readonly onOutcome: ((outcome: UdpOutcome, index: number) => void) | undefined;
}

/** A duration of a call or an item, checked with the one timer rule of `@x/errors`; the error names the item. */
function timerMs(value: unknown, index: number | undefined): number {
  if (isTimerMs(value)) return value;
  try {
    return checkTimerMs('UDP_INVALID_REQUEST', 'timeoutMs', value);
  } catch (error) {
    throw invalidRequest('timeoutMs', (error as Error).message, index, value);
  }
}

/** Checks `fanOut`'s (or `request`'s) call options; throws `UDP_INVALID_REQUEST`. */
export function checkCallOptions(options: UdpFanOutOptions | undefined, defaultTimeoutMs: number): CallSettings {
  if (options === undefined) return { timeoutMs: defaultTimeoutMs, signal: undefined, onOutcome: undefined };
  if (!isPlainObject(options)) throw invalidRequest('options', 'options must be an object', undefined, options);
  const { signal, onOutcome } = options as UdpFanOutOptions;
  const timeoutMs = options.timeoutMs === undefined ? defaultTimeoutMs : timerMs(options.timeoutMs, undefined);
  if (signal !== undefined && !isAbortSignal(signal)) throw invalidRequest('signal', 'signal must be an AbortSignal', undefined, signal);
  if (onOutcome !== undefined && typeof onOutcome !== 'function')
    throw invalidRequest('onOutcome', 'onOutcome must be a function', undefined, onOutcome);
  return { timeoutMs, signal, onOutcome };
}

/**
 * Checks one fan-out item (`index` is `undefined` for `request`) and returns its timeout: its own, else `fallback`.
 * Throws `UDP_INVALID_REQUEST`, or `UDP_REQUEST_TOO_LARGE` for a payload over `maxRequestBytes`.
 */
export function checkItem(item: UdpFanOutItem, index: number | undefined, fallback: number, maxRequestBytes: number): number {
  if (!isPlainObject(item)) throw invalidRequest('item', 'each item must be an object { target, payload }', index, item);
  const { target, payload, timeoutMs, accept } = item;
  if (!isPlainObject(target)) throw invalidRequest('target', 'target must be an object { host, port }', index, target);
  if (typeof target.host !== 'string' || target.host.length === 0) {
    throw invalidRequest('target.host', 'target.host must be a non-empty string', index, target.host);
  }
  const port = target.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw invalidRequest('target.port', `target.port must be an integer from 1 to 65535, got ${describeValue(port)}`, index, port);
  }
  if (!(payload instanceof Uint8Array)) throw invalidRequest('payload', 'payload must be a Uint8Array', index, payload);
  if (payload.byteLength > maxRequestBytes) throw requestTooLarge(target, payload.byteLength, maxRequestBytes, index);
  if (accept !== undefined && typeof accept !== 'function') throw invalidRequest('accept', 'accept must be a function', index, accept);
  return timeoutMs === undefined ? fallback : timerMs(timeoutMs, index);
}
