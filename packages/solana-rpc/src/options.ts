import { isPlainObject } from '@x/errors';
import { describe, invalidOptions } from './errors.js';
import {
  DEFAULT_METHOD_POLICY,
  DEFAULT_WRITE_POLICY,
  METHOD_PRESETS,
  WRITE_METHODS,
  checkPolicyLayer,
  checkResolvedPolicy,
  mergePolicy,
} from './policy.js';
import type { MethodPolicy, MethodPolicyOverride } from './policy.js';
import { checkStateOptions } from './state.js';
import type { SolanaStateOptions } from './state.js';
import type { SolanaEndpointConfig, SolanaRpcOptions } from './types.js';

/**
 * Default for `maxSlotLag`: 4 slots, about 1.6 s of 400 ms slots. Healthy providers stay within a slot
 * or two of each other at the same commitment; a node further behind serves state a bot must not act on.
 */
export const DEFAULT_MAX_SLOT_LAG = 4;

const CLIENT_KEYS: readonly string[] = [
  'endpoints',
  'methods',
  'defaults',
  'writes',
  'maxSlotLag',
  'slotQuorum',
  'state',
  'pool',
  'http',
  'createTransport',
];
const ENDPOINT_KEYS: readonly string[] = ['url', 'transport', 'id', 'label', 'role', 'weight', 'headers', 'budget'];

/** The client's options, checked, with each endpoint's id and the per-method policy resolved. */
export interface ResolvedOptions {
  readonly endpoints: readonly SolanaEndpointConfig[];
  /** One per endpoint, in order: its `id`, or one derived from its URL's host (or its transport's label). */
  readonly ids: readonly string[];
  readonly maxSlotLag: number;
  readonly slotQuorum: number | undefined;
  /** sendTransaction, requestAirdrop and the methods of `writes`. */
  readonly writeMethods: ReadonlySet<string>;
  /** The policy of `method` before per-call overrides: preset (or `defaults`), then `methods[method]`. */
  readonly policyFor: (method: string) => MethodPolicy;
  readonly state: SolanaStateOptions;
}

/** The URL (or, for a ready transport given without one, its label) an endpoint is known by in the pool. */
export function targetOf(config: SolanaEndpointConfig): string {
  if (config.url !== undefined) return typeof config.url === 'string' ? config.url : config.url.href;
  return config.transport?.label ?? 'endpoint';
}

function defaultIds(configs: readonly SolanaEndpointConfig[]): string[] {
  const taken = new Set(configs.flatMap((config) => (typeof config.id === 'string' ? [config.id] : [])));
  const seen = new Map<string, number>();
  return configs.map((config) => {
    if (config.id !== undefined) return config.id;
    let host: string;
    try {
      host = config.url === undefined ? targetOf(config) : new URL(targetOf(config)).host;
    } catch {
      host = 'endpoint';
    }
    let count = seen.get(host) ?? 0;
    let id: string;
    do {
      count += 1;
      id = count === 1 ? host : `${host}#${count}`;
    } while (taken.has(id));
    seen.set(host, count);
    taken.add(id);
    return id;
  });
}

function isTransport(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { call?: unknown; batch?: unknown; close?: unknown };
  return typeof candidate.call === 'function' && typeof candidate.batch === 'function' && typeof candidate.close === 'function';
}

function checkEndpointConfig(config: unknown, index: number): asserts config is SolanaEndpointConfig {
  const where = `endpoints[${index}]`;
  if (!isPlainObject(config))
    throw invalidOptions(where, `must be an object { url | transport, id?, label?, role?, weight?, headers? }, got ${describe(config)}`);
  for (const key of Object.keys(config)) {
    if (!ENDPOINT_KEYS.includes(key)) throw invalidOptions(`${where}.${key}`, 'is not a known option');
  }
  if (config.transport !== undefined) {
    if (!isTransport(config.transport))
      throw invalidOptions(
        `${where}.transport`,
        'must be an HTTP transport (an object with call, batch and close), e.g. from createHttpTransport',
      );
    if (config.headers !== undefined)
      throw invalidOptions(`${where}.headers`, 'cannot be applied to a ready transport: give them to the transport itself');
    if (config.url !== undefined && typeof config.url !== 'string' && !(config.url instanceof URL))
      throw invalidOptions(`${where}.url`, 'must be a string or a URL');
    return;
  }
  if (typeof config.url !== 'string' && !(config.url instanceof URL)) throw invalidOptions(`${where}.url`, 'must be a string or a URL');
}

function checkWrites(value: unknown): ReadonlySet<string> {
  if (value !== undefined && !(Array.isArray(value) && value.every((method) => typeof method === 'string' && method !== ''))) {
    throw invalidOptions('writes', `must be an array of method names, got ${describe(value)}`);
  }
  return new Set([...WRITE_METHODS, ...((value as readonly string[] | undefined) ?? [])]);
}

/** Resolves `defaults` and `methods` into one lookup, checking every layer as it goes. */
function resolvePolicies(options: SolanaRpcOptions, writeMethods: ReadonlySet<string>): (method: string) => MethodPolicy {
  const fallback = mergePolicy(DEFAULT_METHOD_POLICY, checkPolicyLayer(options.defaults, 'defaults'));
  checkResolvedPolicy('', fallback, 'defaults');
  const presetOf = (method: string): MethodPolicy => METHOD_PRESETS[method] ?? (writeMethods.has(method) ? DEFAULT_WRITE_POLICY : fallback);
  const layers = new Map<string, MethodPolicyOverride>();
  if (options.methods !== undefined) {
    if (!isPlainObject(options.methods))
      throw invalidOptions('methods', `must be an object keyed by method name, got ${describe(options.methods)}`);
    for (const [method, layer] of Object.entries(options.methods)) {
      const checked = checkPolicyLayer(layer, `methods.${method}`);
      layers.set(method, checked);
      checkResolvedPolicy(method, mergePolicy(presetOf(method), checked), `methods.${method}`, writeMethods);
    }
  }
  return (method) => {
    const layer = layers.get(method);
    return layer === undefined ? presetOf(method) : mergePolicy(presetOf(method), layer);
  };
}

function checkPassThrough(options: SolanaRpcOptions): void {
  const { pool, http, createTransport } = options;
  if (pool !== undefined && !isPlainObject(pool))
    throw invalidOptions('pool', `must be an object of @x/pool options, got ${describe(pool)}`);
  if (pool !== undefined && 'endpoints' in pool) throw invalidOptions('pool.endpoints', 'endpoints are given at the top level');
  if (pool?.isFailure !== undefined && typeof pool.isFailure !== 'function') throw invalidOptions('pool.isFailure', 'must be a function');
  if (http !== undefined && !isPlainObject(http))
    throw invalidOptions('http', `must be an object of @x/http-transport options, got ${describe(http)}`);
  if (http !== undefined && ('url' in http || 'label' in http)) throw invalidOptions('http', 'url and label are given per endpoint');
  if (createTransport !== undefined && typeof createTransport !== 'function')
    throw invalidOptions('createTransport', 'must be a function (options) => HttpTransport');
}

/** Checks every option of `createSolanaMultiRpc`; throws `SOLANA_INVALID_OPTIONS` naming the first bad one. */
export function resolveOptions(options: SolanaRpcOptions): ResolvedOptions {
  if (!isPlainObject(options)) throw invalidOptions('options', 'createSolanaMultiRpc needs an options object { endpoints, … }');
  for (const key of Object.keys(options)) {
    if (!CLIENT_KEYS.includes(key)) throw invalidOptions(key, 'is not a known option');
  }
  const configs: unknown = options.endpoints;
  if (!Array.isArray(configs) || configs.length === 0) throw invalidOptions('endpoints', 'must be a non-empty array');
  configs.forEach(checkEndpointConfig);
  const endpoints = configs as readonly SolanaEndpointConfig[];

  const maxSlotLag = options.maxSlotLag ?? DEFAULT_MAX_SLOT_LAG;
  if (!Number.isSafeInteger(maxSlotLag) || maxSlotLag < 0)
    throw invalidOptions('maxSlotLag', `must be an integer >= 0, got ${describe(maxSlotLag)}`);
  const slotQuorum = options.slotQuorum;
  if (slotQuorum !== undefined && !(Number.isSafeInteger(slotQuorum) && slotQuorum >= 1 && slotQuorum <= endpoints.length)) {
    throw invalidOptions(
      'slotQuorum',
      `must be an integer from 1 to the number of endpoints (${endpoints.length}), got ${describe(slotQuorum)}`,
    );
  }
  const writeMethods = checkWrites(options.writes);
  const state = checkStateOptions(options.state);
  const policyFor = resolvePolicies(options, writeMethods);
  checkPassThrough(options);
  const ids = defaultIds(endpoints);
  ids.forEach((id, index) => {
    if (ids.indexOf(id) !== index) throw invalidOptions(`endpoints[${index}].id`, `${JSON.stringify(id)} is used twice`);
  });
  return { endpoints, ids, maxSlotLag, slotQuorum, writeMethods, policyFor, state };
}
