import type { RandomSeed } from '../random.js';
import { DEFAULT_RPC_BEHAVIOR, resolveBehavior, type RpcBehaviorPatch, type RpcEndpointBehavior } from './behavior.js';
import type { SimulatedChainOptions } from './chain.js';
import { checkKeys, integerIn as integer, invalidOptions, isRecord, numberIn as finite } from './errors.js';

/** One endpoint of the cluster. */
export interface RpcEndpointOptions {
  /** Name used in `setBehavior`, `stats` and events. Default `rpc-<index>`. */
  readonly id?: string;
  /** Applied on top of the cluster-wide `behavior`. */
  readonly behavior?: RpcBehaviorPatch;
}

/** What every simulated endpoint reports when it decides what to do with an HTTP request. */
export interface RpcRequestEvent {
  readonly endpointId: string;
  /** What the endpoint will do: answer, fail (HTTP 5xx or JSON-RPC -32603), refuse with 429, or never answer. */
  readonly outcome: 'ok' | 'rpc-error' | 'server-error' | 'rate-limited' | 'hung';
  /** The planned latency before the answer, in ms (0 when hung). */
  readonly delayMs: number;
  /** The HTTP status the answer will carry (0 when hung). */
  readonly status: number;
  /** JSON-RPC methods of the request in order (empty for unparseable bodies and `GET /health`). */
  readonly methods: readonly string[];
  /** Calls of this request whose values will be altered. */
  readonly lies: number;
  /** The chain's tip slot when the request arrived. */
  readonly tipSlot: number;
}

export interface RpcClusterOptions {
  /** Seed of everything random: chain activity and every endpoint's behaviour. Default 1. */
  readonly seed?: RandomSeed;
  /** How many endpoints (default 4), or one entry per endpoint. At most 64. */
  readonly endpoints?: number | readonly RpcEndpointOptions[];
  /** Behaviour shared by every endpoint, under each endpoint's own. Default: an ideal endpoint. */
  readonly behavior?: RpcBehaviorPatch;
  /** Slot duration, for the timer and for `blockTime`. Default 400. */
  readonly slotMs?: number;
  /** Advance one slot every `slotMs` on an unref'd timer. Default true; false for tests that call `chain.advance()`. */
  readonly autoAdvance?: boolean;
  /** The simulated chain. */
  readonly chain?: SimulatedChainOptions;
  /** Largest accepted request body; larger ones get HTTP 413. Default 51_200 (Solana's own limit). */
  readonly maxBodyBytes?: number;
  /** Monotonic clock in ms for the rate limiters. Default `performance.now`. */
  readonly now?: () => number;
  /** Called for every HTTP request once its fate is drawn. Exceptions are caught and emitted as process warnings. */
  readonly onRequest?: (event: RpcRequestEvent) => void;
}

interface ResolvedEndpoint {
  readonly id: string;
  readonly behavior: RpcEndpointBehavior;
}

export interface ResolvedClusterOptions {
  readonly seed: RandomSeed;
  readonly endpoints: readonly ResolvedEndpoint[];
  readonly slotMs: number;
  readonly autoAdvance: boolean;
  readonly chain: SimulatedChainOptions;
  readonly maxBodyBytes: number;
  readonly maxSlotLag: number;
  readonly now: () => number;
  readonly onRequest: ((event: RpcRequestEvent) => void) | undefined;
}

const MAX_ENDPOINTS = 64;
const ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

function resolveChain(value: unknown): SimulatedChainOptions {
  if (value === undefined) return {};
  if (!isRecord(value)) throw invalidOptions('must be an object', 'chain', value);
  checkKeys(
    value,
    ['startSlot', 'startTimeMs', 'wallets', 'dataAccounts', 'transactionsPerSlot', 'confirmationSlots', 'retainSlots', 'evmChainId'],
    'chain',
  );
  const out: { -readonly [K in keyof SimulatedChainOptions]: SimulatedChainOptions[K] } = {};
  if (value.startSlot !== undefined) out.startSlot = integer(value.startSlot, 'chain.startSlot', 1000, Number.MAX_SAFE_INTEGER - 1e9);
  if (value.startTimeMs !== undefined) out.startTimeMs = finite(value.startTimeMs, 'chain.startTimeMs', 0, 8.64e15);
  if (value.wallets !== undefined) out.wallets = integer(value.wallets, 'chain.wallets', 0, 10_000);
  if (value.dataAccounts !== undefined) out.dataAccounts = integer(value.dataAccounts, 'chain.dataAccounts', 0, 10_000);
  if (value.transactionsPerSlot !== undefined)
    out.transactionsPerSlot = finite(value.transactionsPerSlot, 'chain.transactionsPerSlot', 0, 100);
  if (value.confirmationSlots !== undefined) {
    const range = value.confirmationSlots;
    if (!Array.isArray(range) || range.length !== 2) throw invalidOptions('must be a [min, max] pair', 'chain.confirmationSlots', range);
    const min = integer(range[0], 'chain.confirmationSlots[0]', 0, 10_000);
    out.confirmationSlots = [min, integer(range[1], 'chain.confirmationSlots[1]', min, 10_000)];
  }
  if (value.retainSlots !== undefined) out.retainSlots = integer(value.retainSlots, 'chain.retainSlots', 150, 10_000_000);
  if (value.evmChainId !== undefined) out.evmChainId = integer(value.evmChainId, 'chain.evmChainId', 1, Number.MAX_SAFE_INTEGER);
  return out;
}

/** Validates and fills in defaults; every problem names the field, e.g. `endpoints[2].behavior.errorRate`. */
export function resolveClusterOptions(options: unknown): ResolvedClusterOptions {
  if (options === undefined) options = {};
  if (!isRecord(options)) throw invalidOptions('must be an object', 'options', options);
  checkKeys(options, ['seed', 'endpoints', 'behavior', 'slotMs', 'autoAdvance', 'chain', 'maxBodyBytes', 'now', 'onRequest'], 'options');

  const seed = options.seed ?? 1;
  if (!(typeof seed === 'string' || (typeof seed === 'number' && Number.isFinite(seed)))) {
    throw invalidOptions('must be a finite number or a string', 'seed', seed);
  }
  const chain = resolveChain(options.chain);
  const maxSlotLag = chain.retainSlots ?? 10_000;
  const base = resolveBehavior(DEFAULT_RPC_BEHAVIOR, options.behavior, 'behavior', maxSlotLag);

  const given = options.endpoints ?? 4;
  let entries: readonly unknown[];
  if (typeof given === 'number') entries = Array.from({ length: integer(given, 'endpoints', 1, MAX_ENDPOINTS) }, () => ({}));
  else if (Array.isArray(given) && given.length >= 1 && given.length <= MAX_ENDPOINTS) entries = given;
  else throw invalidOptions(`must be a count or an array of 1 to ${MAX_ENDPOINTS} endpoint options`, 'endpoints', given);

  const ids = new Set<string>();
  const endpoints = entries.map((entry, index): ResolvedEndpoint => {
    const field = `endpoints[${index}]`;
    if (!isRecord(entry)) throw invalidOptions('must be an object', field, entry);
    checkKeys(entry, ['id', 'behavior'], field);
    const id = entry.id ?? `rpc-${index}`;
    if (typeof id !== 'string' || !ID_PATTERN.test(id))
      throw invalidOptions('must be 1-64 characters of A-Z a-z 0-9 . _ -', `${field}.id`, id);
    if (ids.has(id)) throw invalidOptions(`repeats the id "${id}"`, `${field}.id`, id);
    ids.add(id);
    return { id, behavior: resolveBehavior(base, entry.behavior, `${field}.behavior`, maxSlotLag) };
  });

  const slotMs = options.slotMs === undefined ? 400 : finite(options.slotMs, 'slotMs', 1, 3_600_000);
  const autoAdvance = options.autoAdvance ?? true;
  if (typeof autoAdvance !== 'boolean') throw invalidOptions('must be a boolean', 'autoAdvance', autoAdvance);
  const maxBodyBytes = options.maxBodyBytes === undefined ? 51_200 : integer(options.maxBodyBytes, 'maxBodyBytes', 1, 100 * 1024 * 1024);
  const now = options.now ?? (() => performance.now());
  if (typeof now !== 'function') throw invalidOptions('must be a function', 'now', now);
  const onRequest = options.onRequest;
  if (onRequest !== undefined && typeof onRequest !== 'function') throw invalidOptions('must be a function', 'onRequest', onRequest);

  return {
    seed,
    endpoints,
    slotMs,
    autoAdvance,
    chain,
    maxBodyBytes,
    maxSlotLag,
    now: now as () => number,
    onRequest: onRequest as ((event: RpcRequestEvent) => void) | undefined,
  };
}
