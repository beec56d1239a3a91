import { MAX_TIMER_MS, isPlainObject } from '@x/errors';
import { describe, invalidOptions } from './errors.js';

/**
 * How one method is sent:
 * - `race`: every chosen endpoint at once, the first success wins, the rest are aborted.
 * - `hedge`: the best endpoint first, the next one after a delay (learned per endpoint) or at once on a failure.
 * - `consensus`: several endpoints at once; Solana-aware vote (see the README), the freshest agreeing answer.
 * - `dual`: primary/secondary pairs, raced inside each pair.
 * - `single`: the best endpoint only, never a second request (for writes that must not be repeated).
 * - `broadcast`: every chosen endpoint exactly once, no early stop; every answer is reported (writes).
 */
export type SolanaStrategy = 'race' | 'hedge' | 'consensus' | 'dual' | 'single' | 'broadcast';

export const SOLANA_STRATEGIES: readonly SolanaStrategy[] = Object.freeze(['race', 'hedge', 'consensus', 'dual', 'single', 'broadcast']);

/** A fully resolved per-method policy. */
export interface MethodPolicy {
  readonly strategy: SolanaStrategy;
  /** Budget of the whole call (the strategy's deadline); every HTTP exchange is capped by it too. Was `timeoutMs`. */
  readonly deadlineMs: number;
  /** One attempt against one endpoint, shorter than `deadlineMs` to fail over inside the budget. Default: none. */
  readonly attemptTimeoutMs?: number;
  /** At most this many endpoints (for `dual`: pairs). Default: every available endpoint. */
  readonly maxCandidates?: number;
  /** `hedge`: fixed delay before the next endpoint. Default: each endpoint's own learned latency quantile (pool). */
  readonly hedgeDelayMs?: number;
  /** `hedge`: most attempts per call, failovers included. Default: every candidate. */
  readonly maxAttempts?: number;
  /** `consensus`: agreeing answers needed. Default: a strict majority of the endpoints that did not abstain. */
  readonly quorum?: number;
  /** `dual`: `'race'` every pair at once, `'balance'` one pair per call in turn. Default `'race'`. */
  readonly across?: 'race' | 'balance';
}

/** Any subset of a policy: merged over the method's preset (per client) or its resolved policy (per call). */
export type MethodPolicyOverride = Partial<MethodPolicy>;

const COMMON_KEYS = ['strategy', 'deadlineMs', 'attemptTimeoutMs', 'maxCandidates'] as const;
const STRATEGY_KEYS: Readonly<Record<string, SolanaStrategy>> = {
  hedgeDelayMs: 'hedge',
  maxAttempts: 'hedge',
  quorum: 'consensus',
  across: 'dual',
};
export const POLICY_KEYS: readonly string[] = Object.freeze([...COMMON_KEYS, ...Object.keys(STRATEGY_KEYS)]);

const policy = (value: MethodPolicy): MethodPolicy => Object.freeze(value);

/**
 * The users' plan, as data: speed-critical reads race, correctness-critical reads vote, polling runs
 * on primary/secondary pairs, writes are broadcast once per endpoint. Overridable per method
 * (`methods` option) and per call.
 */
export const METHOD_PRESETS: Readonly<Record<string, MethodPolicy>> = Object.freeze({
  getAccountInfo: policy({ strategy: 'race', deadlineMs: 50 }),
  getMultipleAccounts: policy({ strategy: 'race', deadlineMs: 100 }),
  getTransaction: policy({ strategy: 'consensus', deadlineMs: 200 }),
  getSignaturesForAddress: policy({ strategy: 'dual', deadlineMs: 100 }),
  getBalance: policy({ strategy: 'hedge', deadlineMs: 500 }),
  getSlot: policy({ strategy: 'hedge', deadlineMs: 500 }),
  getLatestBlockhash: policy({ strategy: 'hedge', deadlineMs: 500 }),
  getSignatureStatuses: policy({ strategy: 'hedge', deadlineMs: 500 }),
  simulateTransaction: policy({ strategy: 'hedge', deadlineMs: 2_000 }),
  sendTransaction: policy({ strategy: 'broadcast', deadlineMs: 2_000 }),
  requestAirdrop: policy({ strategy: 'single', deadlineMs: 10_000 }),
});

/**
 * For every method without a preset (merged under the `defaults` option): one attempt on the best
 * endpoint, never hedged nor retried, because an unknown method may be a write (a bundle submission…).
 */
export const DEFAULT_METHOD_POLICY: MethodPolicy = policy({ strategy: 'single', deadlineMs: 2_000 });

/** For the methods the `writes` option names: every chosen endpoint exactly once, like sendTransaction. */
export const DEFAULT_WRITE_POLICY: MethodPolicy = policy({ strategy: 'broadcast', deadlineMs: 2_000 });

/** Methods that change state: `race`, `hedge`, `consensus` and `dual` would send them twice or retry them. */
export const WRITE_METHODS: ReadonlySet<string> = new Set(['sendTransaction', 'requestAirdrop']);

function checkDuration(field: string, value: unknown, allowZero: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0) || value > MAX_TIMER_MS) {
    throw invalidOptions(field, `must be a number of milliseconds in ${allowZero ? '[0' : '(0'}, ${MAX_TIMER_MS}], got ${describe(value)}`);
  }
  return value;
}

function checkCount(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw invalidOptions(field, `must be an integer >= 1, got ${describe(value)}`);
  return value;
}

/**
 * Validates one layer of policy (a preset override, `defaults`, or call options restricted to policy
 * keys). `where` names the layer in errors, e.g. `methods.getBalance`. Unknown keys are refused so
 * that a typo never silently falls back to a default.
 */
export function checkPolicyLayer(layer: unknown, where: string, allowedExtraKeys: readonly string[] = []): MethodPolicyOverride {
  if (layer === undefined) return {};
  if (!isPlainObject(layer)) throw invalidOptions(where, `must be an object, got ${describe(layer)}`);
  const out: { -readonly [K in keyof MethodPolicy]?: MethodPolicy[K] } = {};
  const strategy = layer.strategy;
  if (strategy !== undefined && !SOLANA_STRATEGIES.includes(strategy as SolanaStrategy)) {
    throw invalidOptions(`${where}.strategy`, `must be one of ${SOLANA_STRATEGIES.join(', ')}, got ${describe(strategy)}`);
  }
  for (const [key, value] of Object.entries(layer)) {
    if (allowedExtraKeys.includes(key)) continue;
    const field = `${where}.${key}`;
    if (key === 'timeoutMs')
      throw invalidOptions(field, 'was renamed deadlineMs (the budget of the whole call; attemptTimeoutMs bounds one attempt)');
    if (!POLICY_KEYS.includes(key)) throw invalidOptions(field, 'is not a known option');
    if (value === undefined) continue;
    const owner = STRATEGY_KEYS[key];
    if (owner !== undefined && strategy !== undefined && strategy !== owner) {
      throw invalidOptions(field, `applies only to the ${owner} strategy, not to ${describe(strategy)}`);
    }
    switch (key) {
      case 'strategy':
        out.strategy = value as SolanaStrategy;
        break;
      case 'deadlineMs':
      case 'attemptTimeoutMs':
        out[key] = checkDuration(field, value, false);
        break;
      case 'hedgeDelayMs':
        out[key] = checkDuration(field, value, true);
        break;
      case 'maxCandidates':
      case 'maxAttempts':
      case 'quorum':
        out[key] = checkCount(field, value);
        break;
      case 'across':
        if (value !== 'race' && value !== 'balance') throw invalidOptions(field, `must be 'race' or 'balance', got ${describe(value)}`);
        out.across = value;
        break;
    }
  }
  return out;
}

/**
 * `upper` over `lower`. When `upper` switches to another strategy, the lower layer's
 * strategy-specific settings (a hedge delay, a quorum…) are dropped: they belonged to the old one.
 */
export function mergePolicy(lower: MethodPolicy, upper: MethodPolicyOverride): MethodPolicy {
  const strategy = upper.strategy ?? lower.strategy;
  const merged: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(lower)) {
    const owner = STRATEGY_KEYS[key];
    if (owner === undefined || owner === strategy) merged[key] = value;
  }
  for (const [key, value] of Object.entries(upper)) if (value !== undefined) merged[key] = value;
  merged.strategy = strategy;
  return Object.freeze(merged) as unknown as MethodPolicy;
}

/**
 * Checks a merged policy: a strategy-specific field (a quorum on a race…) that reached it from a
 * layer without a strategy of its own is refused, and so is anything that would send a write twice.
 * `where` names the layer that produced it in errors.
 */
export function checkResolvedPolicy(
  method: string,
  resolved: MethodPolicy,
  where: string,
  writes: ReadonlySet<string> = WRITE_METHODS,
): void {
  for (const [key, owner] of Object.entries(STRATEGY_KEYS)) {
    if (resolved[key as keyof MethodPolicy] !== undefined && owner !== resolved.strategy) {
      throw invalidOptions(
        `${where}.${key}`,
        `applies only to the ${owner} strategy, not to ${resolved.strategy}${method === '' ? '' : ` (the strategy of ${method})`}`,
      );
    }
  }
  if (writes.has(method) && resolved.strategy !== 'broadcast' && resolved.strategy !== 'single') {
    throw invalidOptions(
      `${where}.strategy`,
      `${method} is a write: only 'broadcast' or 'single' may send it (never hedged, raced twice or retried), got '${resolved.strategy}'`,
    );
  }
}
