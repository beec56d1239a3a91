import { isIP } from 'node:net';
import { checkTimerMs, describeValue, isPlainObject } from '@x/errors';
import { invalidOptions } from './errors.js';
import type { UdpClientOptions, UdpLookup } from './types.js';

/** The largest UDP payload over IPv4; also a safe limit for IPv6. */
const DEFAULT_MAX_DATAGRAM_BYTES = 65_507;
/** The UDP length field's own ceiling; the OS may refuse less (IPv4: 65507). */
const MAX_UDP_BYTES = 65_535;
const DEFAULT_TIMEOUT_MS = 3000;
const DEFAULT_MAX_IDLE_SOCKETS = 4;

/** `createUdpClient`'s options, checked, with their defaults filled in. */
export interface ResolvedOptions {
  /** Timeout of one exchange unless a call or an item sets its own. */
  readonly timeoutMs: number;
  readonly maxRequestBytes: number;
  readonly maxReplyBytes: number;
  readonly maxIdleSockets: number;
  readonly bindAddress4: string | undefined;
  readonly bindAddress6: string | undefined;
  readonly lookup: UdpLookup | undefined;
}

function integerIn(option: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidOptions(option, `${option} must be an integer from ${min} to ${max}, got ${describeValue(value)}`, value);
  }
  return value;
}

function bindAddressOf(value: unknown, key: 'ipv4' | 'ipv6', family: 4 | 6): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || isIP(value) !== family) {
    throw invalidOptions(`bindAddress.${key}`, `bindAddress.${key} must be an IPv${family} address`, value);
  }
  return value;
}

/** Checks `createUdpClient`'s options; throws `UDP_INVALID_OPTIONS` (context `option`) for the first bad one. */
export function resolveOptions(options: UdpClientOptions | undefined): ResolvedOptions {
  if (options === undefined) options = {};
  if (!isPlainObject(options)) throw invalidOptions('options', 'options must be an object', options);
  const { lookup, bindAddress } = options as UdpClientOptions;
  const timeoutMs =
    options.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : checkTimerMs('UDP_INVALID_OPTIONS', 'timeoutMs', options.timeoutMs);
  if (lookup !== undefined && typeof lookup !== 'function') throw invalidOptions('lookup', 'lookup must be a function', lookup);
  if (bindAddress !== undefined && !isPlainObject(bindAddress)) {
    throw invalidOptions('bindAddress', 'bindAddress must be an object { ipv4?, ipv6? }', bindAddress);
  }
  return {
    timeoutMs,
    maxRequestBytes: integerIn('maxRequestBytes', options.maxRequestBytes, DEFAULT_MAX_DATAGRAM_BYTES, 0, MAX_UDP_BYTES),
    maxReplyBytes: integerIn('maxReplyBytes', options.maxReplyBytes, DEFAULT_MAX_DATAGRAM_BYTES, 0, MAX_UDP_BYTES),
    maxIdleSockets: integerIn('maxIdleSockets', options.maxIdleSockets, DEFAULT_MAX_IDLE_SOCKETS, 0, 1024),
    bindAddress4: bindAddressOf(bindAddress?.ipv4, 'ipv4', 4),
    bindAddress6: bindAddressOf(bindAddress?.ipv6, 'ipv6', 6),
    lookup,
  };
}
