import { isIP } from 'node:net';
import { invalidOptions } from './errors.js';
import type { UdpClientOptions, UdpLookup } from './types.js';

/** Node's timers cannot wait longer than this (2^31 - 1 ms); longer values silently become 1 ms. */
export const MAX_TIMEOUT_MS = 2_147_483_647;
/** The largest UDP payload over IPv4; also a safe limit for IPv6. */
export const DEFAULT_MAX_DATAGRAM_BYTES = 65_507;
/** The UDP length field's own ceiling; the OS may refuse less (IPv4: 65507). */
const MAX_UDP_BYTES = 65_535;

export interface ResolvedOptions {
  readonly timeoutMs: number;
  readonly maxRequestBytes: number;
  readonly maxReplyBytes: number;
  readonly maxIdleSockets: number;
  readonly bindAddress4: string | undefined;
  readonly bindAddress6: string | undefined;
  readonly lookup: UdpLookup | undefined;
}

/** A user's bad value, shown in an error message without dumping objects. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value == null) return String(value);
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

export function isValidTimeout(value: unknown): value is number {
  return typeof value === 'number' && value > 0 && value <= MAX_TIMEOUT_MS;
}

function integerIn(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidOptions(`${name} must be an integer from ${min} to ${max}, got ${show(value)}`);
  }
  return value;
}

function bindAddressOf(value: unknown, key: 'ipv4' | 'ipv6', family: 4 | 6): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || isIP(value) !== family) {
    throw invalidOptions(`bindAddress.${key} must be an IPv${family} address, got ${show(value)}`);
  }
  return value;
}

export function resolveOptions(options: UdpClientOptions | undefined): ResolvedOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null) throw invalidOptions('options must be an object');
  const { timeoutMs = 3000, lookup, bindAddress } = options;
  if (!isValidTimeout(timeoutMs)) {
    throw invalidOptions(`timeoutMs must be a number > 0 and <= ${MAX_TIMEOUT_MS}, got ${show(timeoutMs)}`);
  }
  if (lookup !== undefined && typeof lookup !== 'function') throw invalidOptions('lookup must be a function');
  if (bindAddress !== undefined && (typeof bindAddress !== 'object' || bindAddress === null)) {
    throw invalidOptions('bindAddress must be an object { ipv4?, ipv6? }');
  }
  return {
    timeoutMs,
    maxRequestBytes: integerIn('maxRequestBytes', options.maxRequestBytes, DEFAULT_MAX_DATAGRAM_BYTES, 0, MAX_UDP_BYTES),
    maxReplyBytes: integerIn('maxReplyBytes', options.maxReplyBytes, DEFAULT_MAX_DATAGRAM_BYTES, 0, MAX_UDP_BYTES),
    maxIdleSockets: integerIn('maxIdleSockets', options.maxIdleSockets, 4, 0, 1024),
    bindAddress4: bindAddressOf(bindAddress?.ipv4, 'ipv4', 4),
    bindAddress6: bindAddressOf(bindAddress?.ipv6, 'ipv6', 6),
    lookup,
  };
}
