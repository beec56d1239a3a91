import { isXError, throwIfAborted } from '@x/errors';
import type { AttemptContext, XError } from '@x/errors';
import { DEFAULT_CALLER_ERROR_CODES, createHttpTransport } from '@x/http-transport';
import type { HttpTransport } from '@x/http-transport';
import type { JsonRpcParams } from '@x/json-rpc';
import { createPool } from '@x/pool';
import type { Pool, PoolEndpoint } from '@x/pool';
import { aggregateCategory, defaultShouldFailover } from '@x/rpc-strategies';
import type { AttemptEvent, ScatterOutcome } from '@x/rpc-strategies';
import { callBatch } from './batch.js';
import type { BatchHooks } from './batch.js';
import { describe, invalidOptions, invalidRequest, solanaError } from './errors.js';
import { checkMinContextSlotMethod, commitmentKey, commitmentOf, configOf, isCommitment, toWireParams, withConfig } from './params.js';
import type { SolanaCommitment } from './params.js';
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
import { tallySolanaVotes } from './tally.js';
import type { Ballot, Tally } from './tally.js';
import { decodeTransaction, encodeTransaction, firstSignatureOf } from './transaction.js';
import type { TransactionEncoding } from './transaction.js';
import type {
  SendTransactionOptions,
  SendTransactionResult,
  SolanaAttemptReport,
  SolanaBroadcastOutcome,
  SolanaCallDetails,
  SolanaCallOptions,
  SolanaConsensusReport,
  SolanaEndpointConfig,
  SolanaRpc,
  SolanaRpcOptions,
  SolanaVote,
} from './types.js';
import { checkStateOptions, restoreState } from './state.js';
import { contextSlotOf, createSlotWatermark } from './watermark.js';

/**
 * JSON-RPC codes that mean "rate limited" on Solana providers. Unlike EVM providers, a Solana node
 * answers -32005 for "node is unhealthy/behind": an endpoint failure to fail over from, not a
 * reason for a rate-limit cool-down.
 */
export const SOLANA_RATE_LIMIT_CODES: readonly number[] = Object.freeze([-32429, 429]);

/**
 * JSON-RPC codes that mean "the request is wrong" (category `config`: no failover, not counted
 * against the endpoint): the JSON-RPC ones, and Solana's -32015 (a v0 transaction asked for
 * without `maxSupportedTransactionVersion: 0`), which every node answers alike.
 */
export const SOLANA_CALLER_ERROR_CODES: readonly number[] = Object.freeze([...DEFAULT_CALLER_ERROR_CODES, -32015]);

/**
 * Default for `maxSlotLag`: 4 slots, about 1.6 s of 400 ms slots. Healthy providers stay within a slot
 * or two of each other at the same commitment; a node further behind serves state a bot must not act on.
 */
export const DEFAULT_MAX_SLOT_LAG = 4;

const EXCHANGE_SLACK_MS = 100;

/** Methods where a `null` result means "not there yet" rather than an answer. */
const NULL_MEANS_NOT_YET: ReadonlySet<string> = new Set(['getTransaction']);

const CALL_KEYS: readonly string[] = ['signal', 'commitment', 'minContextSlot'];

/** Rejections that are not the endpoint's failure (the pool records them as `rejected`). */
const NOT_COUNTED_CODES: ReadonlySet<string> = new Set(['SOLANA_NOT_YET', 'SOLANA_SLOT_AHEAD']);

/** How long a slot check (`getSlot` on the other endpoints) may take, and how often one may start per commitment. */
const SLOT_CHECK_TIMEOUT_MS = 2_000;
const SLOT_CHECK_INTERVAL_MS = 1_000;

/** What an attempt hands the strategies: the result and the slot it was served at. */
interface Answer {
  readonly value: unknown;
  readonly slot: number | undefined;
}

interface Prepared {
  readonly method: string;
  readonly params: JsonRpcParams | undefined;
  readonly policy: MethodPolicy;
  readonly commitment: SolanaCommitment | undefined;
  readonly signal: AbortSignal | undefined;
  /** sendTransaction: the signature every honest node answers. */
  readonly expectedSignature: string | undefined;
  readonly onAccepted: SendTransactionOptions['onAccepted'];
}

interface Endpoint {
  readonly id: string;
  readonly label: string;
  readonly transport: HttpTransport;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function defaultIds(configs: readonly SolanaEndpointConfig[]): string[] {
  const taken = new Set(configs.flatMap((config) => (typeof config.id === 'string' ? [config.id] : [])));
  const seen = new Map<string, number>();
  return configs.map((config) => {
    if (config.id !== undefined) return config.id;
    let host: string;
    try {
      host = new URL(typeof config.url === 'string' ? config.url : config.url.href).host;
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

function checkEndpointConfig(config: unknown, index: number): asserts config is SolanaEndpointConfig {
  const where = `endpoints[${index}]`;
  if (!isPlainObject(config)) throw invalidOptions(where, `must be an object { url, id?, label?, role?, weight?, headers? }, got ${describe(config)}`);
  for (const key of Object.keys(config)) {
    if (!['url', 'id', 'label', 'role', 'weight', 'headers'].includes(key)) throw invalidOptions(`${where}.${key}`, 'is not a known option');
  }
  if (typeof config.url !== 'string' && !(config.url instanceof URL)) throw invalidOptions(`${where}.url`, 'must be a string or a URL');
}

/**
 * A provider that breaks the protocol (a truncated or oversized body, an HTML page, an answer to another
 * id, a result of the wrong shape) is one bad provider: the others may well answer, so the call fails
 * over as it does for network, timeout, rate-limit and server failures. Only the caller's own errors
 * (`config`) and aborts end a call at once.
 */
function failsOver(error: XError): boolean {
  return defaultShouldFailover(error) || error.category === 'protocol';
}

/**
 * Creates a Solana JSON-RPC client over several providers: one keep-alive HTTP transport per
 * endpoint, one pool for health and statistics, a per-method policy (race, hedge, consensus, dual,
 * single, broadcast) and a slot watermark that rejects answers from lagging nodes.
 */
export function createSolanaMultiRpc(options: SolanaRpcOptions): SolanaRpc {
  if (!isPlainObject(options)) throw invalidOptions('options', 'createSolanaMultiRpc needs an options object { endpoints, … }');
  for (const key of Object.keys(options)) {
    if (!['endpoints', 'methods', 'defaults', 'writes', 'maxSlotLag', 'slotQuorum', 'state', 'pool', 'http'].includes(key)) throw invalidOptions(key, 'is not a known option');
  }
  const configs: unknown = options.endpoints;
  if (!Array.isArray(configs) || configs.length === 0) throw invalidOptions('endpoints', 'must be a non-empty array');
  configs.forEach(checkEndpointConfig);
  const endpointConfigs = configs as readonly SolanaEndpointConfig[];

  const maxSlotLag = options.maxSlotLag ?? DEFAULT_MAX_SLOT_LAG;
  if (!Number.isSafeInteger(maxSlotLag) || maxSlotLag < 0) throw invalidOptions('maxSlotLag', `must be an integer >= 0, got ${describe(maxSlotLag)}`);
  const slotQuorum = options.slotQuorum;
  if (slotQuorum !== undefined && !(Number.isSafeInteger(slotQuorum) && slotQuorum >= 1 && slotQuorum <= configs.length)) {
    throw invalidOptions('slotQuorum', `must be an integer from 1 to the number of endpoints (${configs.length}), got ${describe(slotQuorum)}`);
  }

  const writesOption: unknown = options.writes;
  if (writesOption !== undefined && !(Array.isArray(writesOption) && writesOption.every((method) => typeof method === 'string' && method !== ''))) {
    throw invalidOptions('writes', `must be an array of method names, got ${describe(writesOption)}`);
  }
  const writeMethods: ReadonlySet<string> = new Set([...WRITE_METHODS, ...((writesOption as readonly string[] | undefined) ?? [])]);
  const presetOf = (method: string, fallback: MethodPolicy): MethodPolicy =>
    METHOD_PRESETS[method] ?? (writeMethods.has(method) ? DEFAULT_WRITE_POLICY : fallback);
  const stateOptions = checkStateOptions(options.state);
  const defaultsLayer = checkPolicyLayer(options.defaults, 'defaults');
  const fallbackPolicy = mergePolicy(DEFAULT_METHOD_POLICY, defaultsLayer);
  checkResolvedPolicy('', fallbackPolicy, 'defaults');
  const methodLayers = new Map<string, MethodPolicyOverride>();
  if (options.methods !== undefined) {
    if (!isPlainObject(options.methods)) throw invalidOptions('methods', `must be an object keyed by method name, got ${describe(options.methods)}`);
    for (const [method, layer] of Object.entries(options.methods)) {
      const checked = checkPolicyLayer(layer, `methods.${method}`);
      methodLayers.set(method, checked);
      checkResolvedPolicy(method, mergePolicy(presetOf(method, fallbackPolicy), checked), `methods.${method}`, writeMethods);
    }
  }
  const policyFor = (method: string): MethodPolicy => {
    const base = presetOf(method, fallbackPolicy);
    const layer = methodLayers.get(method);
    return layer === undefined ? base : mergePolicy(base, layer);
  };

  if (options.pool !== undefined && !isPlainObject(options.pool)) throw invalidOptions('pool', `must be an object of @x/pool options, got ${describe(options.pool)}`);
  if (options.pool !== undefined && 'endpoints' in options.pool) throw invalidOptions('pool.endpoints', 'endpoints are given at the top level');
  if (options.pool?.isFailure !== undefined && typeof options.pool.isFailure !== 'function') throw invalidOptions('pool.isFailure', 'must be a function');
  if (options.http !== undefined && !isPlainObject(options.http)) throw invalidOptions('http', `must be an object of @x/http-transport options, got ${describe(options.http)}`);
  if (options.http !== undefined && ('url' in options.http || 'label' in options.http)) throw invalidOptions('http', 'url and label are given per endpoint');

  const ids = defaultIds(endpointConfigs);
  const endpoints: Endpoint[] = [];
  const byId = new Map<string, Endpoint>();
  const closeAll = (): Promise<void> => Promise.all(endpoints.map((endpoint) => endpoint.transport.close())).then(() => undefined);
  let pool: Pool<string>;
  try {
    endpointConfigs.forEach((config, index) => {
      const id = ids[index] as string;
      const headers = config.headers === undefined && options.http?.headers === undefined ? undefined : { ...options.http?.headers, ...config.headers };
      const transport = createHttpTransport({
        rateLimitCodes: SOLANA_RATE_LIMIT_CODES,
        callerErrorCodes: SOLANA_CALLER_ERROR_CODES,
        // u64 values (rentEpoch is u64::MAX on most accounts, lamports beyond ~9M SOL) must not be rounded.
        bigIntegers: 'bigint',
        ...options.http,
        ...(headers === undefined ? {} : { headers }),
        url: config.url,
        ...(config.label === undefined ? {} : { label: config.label }),
      });
      const endpoint: Endpoint = { id, label: transport.label, transport };
      endpoints.push(endpoint);
      if (byId.has(id)) throw invalidOptions(`endpoints[${index}].id`, `${JSON.stringify(id)} is used twice`);
      byId.set(id, endpoint);
    });
    const userIsFailure = options.pool?.isFailure;
    pool = createPool<string>({
      ...options.pool,
      endpoints: endpointConfigs.map((config, index) => {
        const endpoint = endpoints[index] as Endpoint;
        return {
          id: endpoint.id,
          target: typeof config.url === 'string' ? config.url : config.url.href,
          label: endpoint.label,
          ...(config.role === undefined ? {} : { role: config.role }),
          ...(config.weight === undefined ? {} : { weight: config.weight }),
        };
      }),
      // A null transaction in a race is "not yet" from a node that did answer, and a slot far ahead of
      // the others is judged by the watermark (refuted, the endpoint becomes suspect): not failures.
      isFailure: (error) =>
        !NOT_COUNTED_CODES.has(error.code) && (userIsFailure === undefined ? error.category !== 'config' : userIsFailure(error)),
    });
  } catch (error) {
    // Transports made before the failure hold connection pools: release them.
    void closeAll();
    throw error;
  }

  const restoredState = restoreState(pool, stateOptions, options.pool?.wallNow ?? (() => Date.now()));
  const watermark = createSlotWatermark({ maxSlotLag, endpoints: endpoints.map((endpoint) => endpoint.id), ...(slotQuorum === undefined ? {} : { quorum: slotQuorum }) });
  let closing: Promise<void> | undefined;
  const slotChecks = new AbortController();
  const lastSlotCheck = new Map<SolanaCommitment, number>();
  const slotChecksRunning = new Map<SolanaCommitment, Promise<void>>();
  /** Endpoints whose last slot check failed: not waited for as corroborators until they show a slot. */
  const silent = new Set<string>();
  /** Answers waiting for corroboration, woken by every slot recorded at their commitment. */
  const slotWaiters = new Map<SolanaCommitment, Array<() => void>>();
  const nextSlot = (commitment: SolanaCommitment): Promise<void> =>
    new Promise<void>((resolve) => {
      const waiting = slotWaiters.get(commitment);
      if (waiting === undefined) slotWaiters.set(commitment, [resolve]);
      else waiting.push(resolve);
    });

  /** Records one endpoint's slot; endpoints whose slots a quorum has refuted become suspect. */
  const observeSlot = (endpoint: Endpoint, method: string, commitment: SolanaCommitment, slot: number, floor: number | undefined) => {
    silent.delete(endpoint.id);
    const observation = watermark.observe(endpoint.id, commitment, slot, floor, silent);
    const waiting = slotWaiters.get(commitment);
    if (waiting !== undefined) {
      slotWaiters.delete(commitment);
      for (const wake of waiting) wake();
    }
    for (const id of observation.refuted) {
      const liar = byId.get(id) as Endpoint;
      watermark.forget(id);
      pool.suspect(
        id,
        solanaError('SOLANA_SLOT_AHEAD', 'server', `${liar.label} showed a ${commitment} slot that ${watermark.quorum} other endpoints, answering after it, are far behind of (${method})`, {
          endpoint: id,
          label: liar.label,
          commitment,
        }),
      );
    }
    return observation.verdict;
  };

  /**
   * Asks every other endpoint for its slot (getSlot, not counted in the pool's statistics), so that a
   * slot nobody has corroborated yet is corroborated or refuted even when the traffic reaches only one
   * endpoint. At most one check per commitment at a time, and one a second; resolves when it is over.
   */
  const checkSlots = (asker: Endpoint, commitment: SolanaCommitment): Promise<void> => {
    const running = slotChecksRunning.get(commitment);
    if (running !== undefined) return running;
    const at = performance.now();
    if (closing !== undefined || at - (lastSlotCheck.get(commitment) ?? Number.NEGATIVE_INFINITY) < SLOT_CHECK_INTERVAL_MS) return Promise.resolve();
    lastSlotCheck.set(commitment, at);
    const checks = endpoints
      .filter((endpoint) => endpoint !== asker)
      .map(async (endpoint) => {
        try {
          const floor = watermark.floor(commitment);
          const slot = await endpoint.transport.call('getSlot', [{ commitment }], { signal: slotChecks.signal, timeoutMs: SLOT_CHECK_TIMEOUT_MS });
          if (typeof slot === 'number' && Number.isSafeInteger(slot) && slot >= 0) {
            if (!slotChecks.signal.aborted) observeSlot(endpoint, 'getSlot', commitment, slot, floor);
            return;
          }
        } catch {
          // Below: an endpoint that cannot tell its slot corroborates nothing.
        }
        silent.add(endpoint.id);
      });
    const done = Promise.all(checks).then(() => {
      slotChecksRunning.delete(commitment);
    });
    slotChecksRunning.set(commitment, done);
    return done;
  };

  /** Waits for `promise` unless `signal` aborts first (then rejects with its reason); never leaves a listener behind. */
  const untilAborted = (promise: Promise<void>, signal: AbortSignal): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const onAbort = (): void => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      void promise.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });

  const endpointOf = (candidate: PoolEndpoint<string>): Endpoint => byId.get(candidate.id) as Endpoint;

  const staleSlot = (endpoint: Endpoint, method: string, commitment: SolanaCommitment, slot: number, floor: number): XError =>
    solanaError(
      'SOLANA_STALE_SLOT',
      'server',
      `${endpoint.label} answered ${method} at slot ${slot}, ${floor + maxSlotLag - slot} slots behind the highest ${commitment} slot seen (${floor + maxSlotLag}); at most ${maxSlotLag} are accepted`,
      { endpoint: endpoint.id, label: endpoint.label, method, commitment, slot, watermark: floor + maxSlotLag, maxSlotLag },
    );

  const checkResultShape = (endpoint: Endpoint, method: string, value: unknown): void => {
    if (method !== 'getSignaturesForAddress') return;
    const valid =
      Array.isArray(value) &&
      value.every((entry: unknown) => isPlainObject(entry) && typeof entry.signature === 'string' && Number.isSafeInteger(entry.slot));
    if (!valid) {
      throw solanaError('SOLANA_INVALID_RESULT', 'protocol', `${endpoint.label} answered getSignaturesForAddress with something that is not a list of { signature, slot }`, {
        endpoint: endpoint.id,
        label: endpoint.label,
        method,
      });
    }
  };

  /**
   * One request to one endpoint: the slot check happens here, so every strategy fails over from a stale
   * node or one far ahead of the others. An answer whose slot too few other endpoints have corroborated
   * yet waits while they are asked for theirs (a slot check), and is judged again. A batched call's
   * answer comes from its batch (`fetched`).
   */
  const attemptOn = async (prepared: Prepared, candidate: PoolEndpoint<string>, signal: AbortSignal, nullIsFailure: boolean, fetched?: () => Promise<unknown>): Promise<Answer> => {
    const endpoint = endpointOf(candidate);
    const { method, commitment, policy } = prepared;
    // The floor at the start: a slow answer was computed when asked, so it is judged against what was known then.
    const floor = commitment === undefined ? undefined : watermark.floor(commitment);
    // The strategy's timers decide; the transport's own deadline, a little later, only guarantees
    // that no exchange outlives its call should an abort be lost. A batched call's answer comes from its batch (`fetched`).
    const value = fetched !== undefined ? await fetched() : await endpoint.transport.call(method, prepared.params, { signal, timeoutMs: (policy.attemptTimeoutMs ?? policy.timeoutMs) + EXCHANGE_SLACK_MS });
    const slot = contextSlotOf(method, value);
    if (slot !== undefined && commitment !== undefined) {
      let verdict = observeSlot(endpoint, method, commitment, slot, floor);
      // Judged again as other slots arrive (this call's other answers, the slot check's), until the check is over.
      let checked = false;
      while (verdict.kind === 'unconfirmed' && !checked) {
        const check = checkSlots(endpoint, commitment).then(() => {
          checked = true;
        });
        await untilAborted(Promise.race([check, nextSlot(commitment)]), signal);
        verdict = watermark.judge(endpoint.id, commitment, slot, silent);
        // An answer nobody had corroborated is judged against the watermark established meanwhile.
        const floorNow = watermark.floor(commitment);
        if (floorNow !== undefined && slot < floorNow) verdict = { kind: 'stale', watermark: floorNow + maxSlotLag };
      }
      if (verdict.kind === 'stale') throw staleSlot(endpoint, method, commitment, slot, verdict.watermark - maxSlotLag);
      if (verdict.kind === 'ahead') {
        void checkSlots(endpoint, commitment);
        throw solanaError(
          'SOLANA_SLOT_AHEAD',
          'server',
          `${endpoint.label} answered ${method} at slot ${slot}, beyond what ${watermark.quorum} other endpoints can have reached (${verdict.ceiling} at ${commitment})`,
          { endpoint: endpoint.id, label: endpoint.label, method, commitment, slot, ceiling: verdict.ceiling },
        );
      }
    }
    checkResultShape(endpoint, method, value);
    if (prepared.expectedSignature !== undefined && value !== prepared.expectedSignature) {
      throw solanaError('SOLANA_SIGNATURE_MISMATCH', 'protocol', `${endpoint.label} answered sendTransaction with a signature that is not the transaction's`, {
        endpoint: endpoint.id,
        label: endpoint.label,
        expected: prepared.expectedSignature,
        received: typeof value === 'string' ? value.slice(0, 100) : describe(value),
      });
    }
    if (nullIsFailure && value === null) {
      throw solanaError('SOLANA_NOT_YET', 'server', `${endpoint.label} does not have it yet (${method} answered null)`, { endpoint: endpoint.id, label: endpoint.label, method });
    }
    return { value, slot };
  };

  const attemptReport = (event: AttemptEvent<PoolEndpoint<string>, Answer>): SolanaAttemptReport => {
    const endpoint = endpointOf(event.candidate);
    const outcome = event.outcome;
    return {
      endpoint: endpoint.id,
      label: endpoint.label,
      ok: outcome.ok,
      latencyMs: outcome.latencyMs,
      slot: outcome.ok ? outcome.value.slot : undefined,
      error: outcome.ok ? undefined : outcome.error,
      abortedAsLoser: event.abortedAsLoser,
    };
  };

  const common = (prepared: Prepared, attempts: SolanaAttemptReport[]) => ({
    shouldFailover: failsOver,
    signal: prepared.signal,
    deadlineMs: prepared.policy.timeoutMs,
    attemptTimeoutMs: prepared.policy.attemptTimeoutMs,
    maxCandidates: prepared.policy.maxCandidates,
    onAttempt: (event: AttemptEvent<PoolEndpoint<string>, Answer>) => {
      attempts.push(attemptReport(event));
    },
  });

  /** race, hedge, dual, single: one winner. A null "not yet" fails over; if nobody has it, the result is null. */
  const runSingleWinner = async <T>(prepared: Prepared, started: number): Promise<SolanaCallDetails<T>> => {
    const attempts: SolanaAttemptReport[] = [];
    const notYet = NULL_MEANS_NOT_YET.has(prepared.method);
    const attempt = (candidate: PoolEndpoint<string>, context: AttemptContext): Promise<Answer> => attemptOn(prepared, candidate, context.signal, notYet);
    const { policy } = prepared;
    const base = common(prepared, attempts);
    try {
      let winner: { value: Answer; candidate: PoolEndpoint<string> };
      switch (policy.strategy) {
        case 'hedge':
          winner = await pool.execute(attempt, {
            ...base,
            strategy: 'hedge',
            ...(policy.hedgeDelayMs === undefined ? {} : { delayMs: policy.hedgeDelayMs }),
            maxAttempts: policy.maxAttempts,
          });
          break;
        case 'dual':
          winner = await pool.execute(attempt, { ...base, strategy: 'dual', across: policy.across });
          break;
        case 'single':
          winner = await pool.execute(attempt, { ...base, strategy: 'race', maxCandidates: 1 });
          break;
        default:
          winner = await pool.execute(attempt, { ...base, strategy: 'race' });
      }
      notifyAccepted(prepared, winner.candidate.id, winner.value.value, attempts);
      return details<T>(prepared, started, attempts, { result: winner.value.value, endpoint: winner.candidate.id, slot: winner.value.slot });
    } catch (error) {
      const nobodyHasIt =
        notYet &&
        isXError(error, ['STRATEGY_ALL_ATTEMPTS_FAILED', 'STRATEGY_DEADLINE_EXCEEDED']) &&
        error.context.failures.some((failure) => isXError(failure.error, 'SOLANA_NOT_YET'));
      if (nobodyHasIt) return details<T>(prepared, started, attempts, { result: null, endpoint: undefined, slot: undefined });
      throw error;
    }
  };

  const notifyAccepted = (prepared: Prepared, endpoint: string, value: unknown, attempts: readonly SolanaAttemptReport[]): void => {
    if (prepared.onAccepted === undefined) return;
    const latencyMs = attempts.find((attempt) => attempt.ok && attempt.endpoint === endpoint)?.latencyMs ?? 0;
    try {
      prepared.onAccepted({ signature: String(value), endpoint, latencyMs });
    } catch {
      // An observer must not change what was sent or how it is reported.
    }
  };

  const details = <T>(
    prepared: Prepared,
    started: number,
    attempts: SolanaAttemptReport[],
    extra: { result: unknown; endpoint: string | undefined; slot: number | undefined; consensus?: SolanaConsensusReport; broadcast?: SolanaBroadcastOutcome[] },
  ): SolanaCallDetails<T> => ({
    result: extra.result as T,
    method: prepared.method,
    policy: prepared.policy,
    endpoint: extra.endpoint,
    slot: extra.slot,
    latencyMs: performance.now() - started,
    attempts,
    consensus: extra.consensus,
    broadcast: extra.broadcast as Array<SolanaBroadcastOutcome<T>> | undefined,
  });

  const ballotsOf = (outcomes: ReadonlyArray<ScatterOutcome<Answer> | undefined>, final: boolean): Ballot[] =>
    outcomes.map((outcome): Ballot => {
      if (outcome === undefined) return { status: final ? 'unanswered' : 'pending' };
      if (outcome.ok) return { status: 'answered', value: outcome.value.value, slot: outcome.value.slot, latencyMs: outcome.latencyMs };
      return { status: outcome.aborted ? 'unanswered' : 'failed' };
    });

  /** Consensus: everyone chosen at once (scatter), votes counted as answers arrive, the rest cut once decided. */
  const runConsensus = async <T>(prepared: Prepared, started: number): Promise<SolanaCallDetails<T>> => {
    const attempts: SolanaAttemptReport[] = [];
    const { method, policy } = prepared;
    const listLimit = method === 'getSignaturesForAddress' ? (Number(configOf(method, prepared.params)?.limit) || 1000) : 1000;
    const tallyOptions = {
      comparison: method === 'getSignaturesForAddress' ? ('signature-list' as const) : ('value' as const),
      abstainOnNull: NULL_MEANS_NOT_YET.has(method),
      quorum: policy.quorum,
      listLimit,
    };
    let chosen: ReadonlyArray<PoolEndpoint<string>> = [];
    // A vote needs voters: at least three endpoints (or the quorum), falling back on unavailable ones.
    const minCandidates = Math.min(Math.max(policy.quorum ?? 0, 3), endpoints.length, policy.maxCandidates ?? Number.POSITIVE_INFINITY);
    const outcomes = await pool.execute((candidate, context) => attemptOn(prepared, candidate, context.signal, false), {
      ...common(prepared, attempts),
      strategy: 'scatter',
      minCandidates,
      onSelection: (selection) => {
        chosen = selection.endpoints;
      },
      stopWhen: (sofar) => tallySolanaVotes(ballotsOf(sofar, false), { ...tallyOptions, final: false }).kind !== 'wait',
    });
    const verdict = tallySolanaVotes(ballotsOf(outcomes, true), { ...tallyOptions, final: true });
    const voteOf = (index: number): SolanaVote => {
      const endpoint = endpointOf(chosen[index] as PoolEndpoint<string>);
      const outcome = outcomes[index];
      return {
        endpoint: endpoint.id,
        label: endpoint.label,
        slot: outcome?.ok === true ? outcome.value.slot : undefined,
        latencyMs: outcome?.latencyMs ?? 0,
      };
    };
    const failed: Array<{ endpoint: string; label: string; error: XError; latencyMs: number }> = [];
    const unanswered: Array<{ endpoint: string; label: string }> = [];
    outcomes.forEach((outcome, index) => {
      const endpoint = endpointOf(chosen[index] as PoolEndpoint<string>);
      if (outcome === undefined || (!outcome.ok && outcome.aborted)) unanswered.push({ endpoint: endpoint.id, label: endpoint.label });
      else if (!outcome.ok) failed.push({ endpoint: endpoint.id, label: endpoint.label, error: outcome.error, latencyMs: outcome.latencyMs });
    });
    if (verdict.kind === 'decided') {
      const consensus: SolanaConsensusReport = {
        quorum: verdict.required,
        agreed: verdict.agreed.map(voteOf),
        dissented: verdict.dissented.map(voteOf),
        abstained: verdict.abstained.map(voteOf),
        failed,
        unanswered,
      };
      const source = verdict.source === undefined ? undefined : endpointOf(chosen[verdict.source] as PoolEndpoint<string>).id;
      return details<T>(prepared, started, attempts, { result: verdict.result, endpoint: source, slot: verdict.slot, consensus });
    }
    throw noConsensus(prepared, verdict, chosen, failed, unanswered);
  };

  const noConsensus = (
    prepared: Prepared,
    verdict: Extract<Tally, { kind: 'failed' }>,
    chosen: ReadonlyArray<PoolEndpoint<string>>,
    failed: ReadonlyArray<{ endpoint: string; label: string; error: XError }>,
    unanswered: ReadonlyArray<{ endpoint: string; label: string }>,
  ): XError => {
    const errors = failed.map((failure) => failure.error);
    let category: XError['category'];
    if (verdict.reason === 'disagreement') category = 'protocol';
    else if (unanswered.length > 0) category = 'timeout';
    else if (errors.length > 0) category = aggregateCategory(errors);
    else category = 'config';
    const idOf = (index: number): string => endpointOf(chosen[index] as PoolEndpoint<string>).id;
    const answered = verdict.groups.reduce((sum, group) => sum + group.indexes.length, 0) + verdict.abstained.length;
    const why =
      verdict.reason === 'disagreement'
        ? `the answers disagree (${verdict.groups.map((group) => group.indexes.length).join(' vs ')}) and none reached ${verdict.required}`
        : `${answered} of ${chosen.length} endpoints answered (${failed.length} failed, ${unanswered.length} unanswered), ${verdict.required} agreeing answers are needed`;
    return solanaError(
      'SOLANA_NO_CONSENSUS',
      category,
      `${prepared.method}: no consensus: ${why}`,
      {
        method: prepared.method,
        reason: verdict.reason,
        quorum: verdict.required,
        groups: verdict.groups.map((group) => ({ endpoints: group.indexes.map(idOf), slot: group.slot })),
        abstained: verdict.abstained.map(idOf),
        failures: failed.map((failure) => ({ endpoint: failure.endpoint, error: failure.error })),
        unanswered: unanswered.map((entry) => entry.endpoint),
        deadlineMs: prepared.policy.timeoutMs,
      },
      errors.length === 0 ? undefined : new AggregateError(errors, `${prepared.method}: failed attempts`),
    );
  };

  /** Every chosen endpoint exactly once; nothing is aborted early or sent again. The first success wins. */
  const runBroadcast = async <T>(prepared: Prepared, started: number): Promise<SolanaCallDetails<T>> => {
    const attempts: SolanaAttemptReport[] = [];
    let chosen: ReadonlyArray<PoolEndpoint<string>> = [];
    let first: { endpoint: string; value: unknown; slot: number | undefined; latencyMs: number } | undefined;
    const base = common(prepared, attempts);
    const outcomes = await pool.execute((candidate, context) => attemptOn(prepared, candidate, context.signal, false), {
      ...base,
      strategy: 'scatter',
      onSelection: (selection) => {
        chosen = selection.endpoints;
      },
      onAttempt: (event) => {
        base.onAttempt(event);
        if (first !== undefined || !event.outcome.ok) return;
        first = { endpoint: event.candidate.id, value: event.outcome.value.value, slot: event.outcome.value.slot, latencyMs: event.outcome.latencyMs };
        notifyAccepted(prepared, first.endpoint, first.value, attempts);
      },
    });
    const broadcast: SolanaBroadcastOutcome[] = outcomes.map((outcome, index) => {
      const endpoint = endpointOf(chosen[index] as PoolEndpoint<string>);
      return outcome.ok
        ? { endpoint: endpoint.id, label: endpoint.label, ok: true, value: outcome.value.value, latencyMs: outcome.latencyMs }
        : { endpoint: endpoint.id, label: endpoint.label, ok: false, error: outcome.error, latencyMs: outcome.latencyMs, aborted: outcome.aborted };
    });
    if (first !== undefined) return details<T>(prepared, started, attempts, { result: first.value, endpoint: first.endpoint, slot: first.slot, broadcast });
    const errors = broadcast.flatMap((outcome) => (outcome.ok ? [] : [outcome.error]));
    const answeredErrors = broadcast.flatMap((outcome) => (outcome.ok || outcome.aborted ? [] : [outcome.error]));
    throw solanaError(
      'SOLANA_SEND_FAILED',
      answeredErrors.length === 0 ? 'timeout' : aggregateCategory(answeredErrors),
      `${prepared.method}: no endpoint accepted it (${broadcast.map((outcome) => `${outcome.endpoint}: ${outcome.ok ? 'ok' : outcome.error.code}`).join(', ')})`,
      { method: prepared.method, outcomes: broadcast },
      new AggregateError(errors, `${prepared.method}: every endpoint failed`),
    );
  };

  const closedError = (): XError => solanaError('SOLANA_CLOSED', 'aborted', 'The Solana RPC client is closed');

  const prepare = (method: unknown, params: unknown, callOptions: unknown, extra: Partial<Prepared>): Prepared => {
    if (closing !== undefined) throw closedError();
    if (typeof method !== 'string' || method === '') throw invalidRequest(`The method must be a non-empty string, got ${describe(method)}`);
    if (callOptions !== undefined && !isPlainObject(callOptions)) throw invalidRequest(`Call options must be an object, got ${describe(callOptions)}`, { method });
    const opts = (callOptions ?? {}) as SolanaCallOptions;
    const signal = opts.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidRequest('signal must be an AbortSignal', { method });
    throwIfAborted(signal);
    const layer = checkPolicyLayer(callOptions, 'call options', CALL_KEYS);
    const policy = mergePolicy(policyFor(method), layer);
    checkResolvedPolicy(method, policy, 'call options', writeMethods);
    let wire = toWireParams(params, method);
    if (opts.commitment !== undefined) {
      if (!isCommitment(opts.commitment)) throw invalidRequest(`commitment must be processed, confirmed or finalized, got ${describe(opts.commitment)}`, { method });
      wire = withConfig(method, wire, { [commitmentKey(method)]: opts.commitment }, 'commitment');
    }
    const minContextSlot = opts.minContextSlot;
    if (minContextSlot !== undefined) {
      if (minContextSlot !== 'watermark' && !(Number.isSafeInteger(minContextSlot) && minContextSlot >= 0)) {
        throw invalidRequest(`minContextSlot must be a slot number or 'watermark', got ${describe(minContextSlot)}`, { method });
      }
      checkMinContextSlotMethod(method);
      const slot = minContextSlot === 'watermark' ? watermark.get(commitmentOf(method, wire) ?? 'finalized') : minContextSlot;
      if (slot !== undefined) wire = withConfig(method, wire, { minContextSlot: slot }, 'minContextSlot');
    }
    let expectedSignature = extra.expectedSignature;
    if (method === 'sendTransaction' && expectedSignature === undefined) {
      // Solana's own default encoding for sendTransaction is base58.
      const encoding = configOf(method, wire)?.encoding ?? 'base58';
      expectedSignature = firstSignatureOf(decodeTransaction(Array.isArray(wire) ? wire[0] : undefined, encoding));
    }
    return { method, params: wire, policy, commitment: commitmentOf(method, wire), signal, expectedSignature, onAccepted: extra.onAccepted };
  };

  const run = <T>(prepared: Prepared): Promise<SolanaCallDetails<T>> => {
    const started = performance.now();
    switch (prepared.policy.strategy) {
      case 'consensus':
        return runConsensus<T>(prepared, started);
      case 'broadcast':
        return runBroadcast<T>(prepared, started);
      default:
        return runSingleWinner<T>(prepared, started);
    }
  };

  const callWithDetails = async <T>(method: string, params?: JsonRpcParams, callOptions?: SolanaCallOptions): Promise<SolanaCallDetails<T>> =>
    run<T>(prepare(method, params, callOptions, {}));

  const sendTransaction = async (transaction: string | Uint8Array, sendOptions: SendTransactionOptions = {}): Promise<SendTransactionResult> => {
    const rawOptions: unknown = sendOptions;
    if (!isPlainObject(rawOptions)) throw invalidRequest(`sendTransaction options must be an object, got ${describe(sendOptions)}`);
    const allowed = ['encoding', 'skipPreflight', 'preflightCommitment', 'maxRetries', 'minContextSlot', 'signal', 'strategy', 'timeoutMs', 'attemptTimeoutMs', 'maxCandidates', 'onAccepted'];
    for (const key of Object.keys(sendOptions)) {
      if (!allowed.includes(key)) throw invalidRequest(`sendTransaction: ${key} is not a known option`);
    }
    const { encoding: given, skipPreflight, preflightCommitment, maxRetries, minContextSlot, signal, strategy, timeoutMs, attemptTimeoutMs, maxCandidates, onAccepted } = sendOptions;
    if (closing !== undefined) throw closedError();
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidRequest('sendTransaction: signal must be an AbortSignal');
    throwIfAborted(signal);
    if (onAccepted !== undefined && typeof onAccepted !== 'function') throw invalidRequest('sendTransaction: onAccepted must be a function');
    if (skipPreflight !== undefined && typeof skipPreflight !== 'boolean') throw invalidRequest(`sendTransaction: skipPreflight must be a boolean, got ${describe(skipPreflight)}`);
    if (maxRetries !== undefined && !(Number.isSafeInteger(maxRetries) && maxRetries >= 0)) throw invalidRequest(`sendTransaction: maxRetries must be an integer >= 0, got ${describe(maxRetries)}`);
    if (preflightCommitment !== undefined && !isCommitment(preflightCommitment)) {
      throw invalidRequest(`sendTransaction: preflightCommitment must be processed, confirmed or finalized, got ${describe(preflightCommitment)}`);
    }
    let bytes: Uint8Array;
    let encoding: TransactionEncoding;
    if (transaction instanceof Uint8Array) {
      if (given !== undefined && given !== 'base64') throw invalidRequest("sendTransaction: bytes are always sent as base64; drop the encoding option or use 'base64'");
      bytes = transaction;
      encoding = 'base64';
    } else {
      encoding = given ?? 'base64';
      bytes = decodeTransaction(transaction, encoding);
    }
    const expectedSignature = firstSignatureOf(bytes);
    const config: Record<string, unknown> = { encoding };
    if (skipPreflight !== undefined) config.skipPreflight = skipPreflight;
    if (preflightCommitment !== undefined) config.preflightCommitment = preflightCommitment;
    if (maxRetries !== undefined) config.maxRetries = maxRetries;
    const wire = typeof transaction === 'string' ? transaction : encodeTransaction(bytes, 'base64');
    const callOptions: Record<string, unknown> = { signal, strategy, timeoutMs, attemptTimeoutMs, maxCandidates, minContextSlot };
    for (const key of Object.keys(callOptions)) if (callOptions[key] === undefined) delete callOptions[key];
    const prepared = prepare('sendTransaction', [wire, config], callOptions, { expectedSignature, onAccepted });
    const result = await run<string>(prepared);
    const outcomes = result.broadcast ?? singleOutcome(result);
    return { signature: result.result, endpoint: result.endpoint as string, latencyMs: acceptedLatency(result), outcomes };
  };

  const singleOutcome = (result: SolanaCallDetails<string>): Array<SolanaBroadcastOutcome<string>> =>
    result.attempts.map((attempt): SolanaBroadcastOutcome<string> =>
      attempt.ok
        ? { endpoint: attempt.endpoint, label: attempt.label, ok: true, value: result.result, latencyMs: attempt.latencyMs }
        : { endpoint: attempt.endpoint, label: attempt.label, ok: false, error: attempt.error as XError, latencyMs: attempt.latencyMs, aborted: attempt.abortedAsLoser },
    );

  const acceptedLatency = (result: SolanaCallDetails<string>): number => {
    const winner = result.attempts.find((attempt) => attempt.ok && attempt.endpoint === result.endpoint);
    return winner?.latencyMs ?? result.latencyMs;
  };

  const batchHooks: BatchHooks<Prepared> = {
    pool,
    prepare: (call, signal) => prepare(call.method, call.params, signal === undefined ? call.options : { ...call.options, signal }, {}),
    describe: (prepared) => ({
      method: prepared.method,
      params: prepared.params,
      policy: prepared.policy,
      write: writeMethods.has(prepared.method) || prepared.expectedSignature !== undefined,
    }),
    run: (prepared) => run(prepared),
    judge: async (prepared, candidate, signal, fetched) => (await attemptOn(prepared, candidate, signal, NULL_MEANS_NOT_YET.has(prepared.method), fetched)).value,
    transportOf: (id) => (byId.get(id) as Endpoint).transport,
    failsOver,
  };

  return {
    call: async <T>(method: string, params?: JsonRpcParams, callOptions?: SolanaCallOptions): Promise<T> =>
      (await callWithDetails<T>(method, params, callOptions)).result,
    callBatch: (calls, batchOptions) => callBatch(batchHooks, calls, batchOptions),
    callWithDetails,
    sendTransaction,
    slotWatermark: (commitment?: SolanaCommitment) => {
      if (commitment !== undefined && !isCommitment(commitment)) throw invalidRequest(`commitment must be processed, confirmed or finalized, got ${describe(commitment)}`);
      return watermark.get(commitment);
    },
    policyFor: (method: string) => {
      if (typeof method !== 'string' || method === '') throw invalidRequest(`The method must be a non-empty string, got ${describe(method)}`);
      return policyFor(method);
    },
    endpoints: Object.freeze(endpoints.map((endpoint) => Object.freeze({ id: endpoint.id, label: endpoint.label }))),
    pool,
    restoredState,
    exportState: () => pool.export(),
    close: () => {
      slotChecks.abort();
      // Answers still waiting for corroboration are aborted with their calls; nothing more will wake them.
      slotWaiters.clear();
      closing ??= closeAll();
      return closing;
    },
  };
}
