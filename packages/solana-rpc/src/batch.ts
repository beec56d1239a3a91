import { abortedError, isXError } from '@x/errors';
import type { XError } from '@x/errors';
import type { BatchOutcome } from '@x/http-transport';
import type { JsonRpcParams } from '@x/json-rpc';
import type { Pool, PoolEndpoint } from '@x/pool';
import { describe, invalidRequest } from './errors.js';
import type { MethodPolicy } from './policy.js';
import type { SolanaCallOptions } from './types.js';
import { createAttemptCollector } from './upstream-batch.js';
import type { AttemptCollector, UpstreamBatcher } from './upstream-batch.js';

/** One call of {@link SolanaRpc.callBatch}: a method, its params and any per-call options but `signal`. */
export interface SolanaBatchCall {
  readonly method: string;
  readonly params?: JsonRpcParams;
  readonly options?: Omit<SolanaCallOptions, 'signal'>;
}

export interface SolanaBatchOptions {
  /** Cancels every call of the batch. */
  readonly signal?: AbortSignal;
}

/** The outcome of one call of a batch; `endpoint` is who answered (undefined when nobody had it: a `null` "not yet"). */
export type SolanaBatchOutcome<T = unknown> =
  { readonly ok: true; readonly value: T; readonly endpoint: string | undefined } | { readonly ok: false; readonly error: XError };

/**
 * Strategies whose calls may share one upstream JSON-RPC batch sent to one endpoint: they need one answer
 * from one endpoint. `consensus` (several independent answers) and `dual` (pairs) run call by call, their
 * attempts gathered into one batch per endpoint ({@link COLLECTED_STRATEGIES}); `broadcast` (writes, once
 * per endpoint) keeps its own path, one request per call.
 */
export const BATCHABLE_STRATEGIES: ReadonlySet<MethodPolicy['strategy']> = new Set(['race', 'hedge', 'single']);

/** Strategies whose reads of one batch run call by call, their attempts against one endpoint sent upstream together. */
const COLLECTED_STRATEGIES: ReadonlySet<MethodPolicy['strategy']> = new Set(['consensus', 'dual']);

/** Most endpoints a batch is sent to in turn when the one before failed it (a failover, as `hedge` does). */
export const BATCH_ROUNDS = 2;

/** What the client hands the batch runner: its own steps, so that a batched call is checked exactly like a single one. */
export interface BatchHooks<P> {
  readonly pool: Pool<string>;
  /** Validates and resolves one call (throws the `XError` a single call would). */
  prepare(call: SolanaBatchCall, signal: AbortSignal | undefined): P;
  describe(prepared: P): {
    readonly method: string;
    readonly params: JsonRpcParams | undefined;
    readonly policy: MethodPolicy;
    readonly write: boolean;
  };
  /**
   * The single-call path, for calls that are not batched; with `collector`, the call's attempts fetch their
   * answers through it (one upstream batch per endpoint for the attempts started together).
   */
  run(prepared: P, collector?: AttemptCollector): Promise<{ readonly result: unknown; readonly endpoint: string | undefined }>;
  /**
   * The checks of one attempt (slot watermark, result shape, `null` "not yet") applied to an answer
   * that `fetched` delivers; called before the batch is sent, so that it judges against what was known then.
   */
  judge(prepared: P, candidate: PoolEndpoint<string>, signal: AbortSignal, fetched: () => Promise<unknown>): Promise<unknown>;
  readonly batcher: UpstreamBatcher;
  /** Whether a call that failed this way may still be answered by another endpoint. */
  failsOver(error: XError): boolean;
}

const EXCHANGE_SLACK_MS = 100;

interface Deferred {
  readonly promise: Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: XError): void;
}

function deferred(): Deferred {
  let resolve: (value: unknown) => void = () => undefined;
  let reject: (error: XError) => void = () => undefined;
  const promise = new Promise<unknown>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  // A judge that already failed (aborted) never reads it.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

function asXError(error: unknown): XError {
  return isXError(error) ? error : abortedError(error);
}

interface Pending<P> {
  readonly index: number;
  readonly prepared: P;
  readonly policy: MethodPolicy;
  readonly method: string;
  readonly params: JsonRpcParams | undefined;
  lastError: XError | undefined;
}

/**
 * Runs a list of calls as few upstream requests as their strategies allow. Calls whose strategy needs
 * one answer from one endpoint (race, hedge, single; reads only) travel together as one JSON-RPC batch
 * to the best available endpoint; an entry that endpoint fails (missing, duplicated or malformed in its
 * answer, an error worth failing over from, a stale slot) goes with the others it failed to the next
 * endpoint, once (`single` calls never get a second request). Consensus, dual and write calls take the
 * single-call path, all at once. Resolves with one outcome per call, in call order; rejects only when
 * `calls` is not an array.
 *
 * Statistics: each upstream batch request is one attempt of its endpoint in the pool, with the batch's
 * round trip as its latency. It counts as a failure when the exchange failed, when an entry broke the
 * protocol, or when every entry failed over.
 */
export async function callBatch<P>(
  hooks: BatchHooks<P>,
  calls: readonly SolanaBatchCall[],
  options: SolanaBatchOptions = {},
): Promise<SolanaBatchOutcome[]> {
  const list: unknown = calls;
  if (!Array.isArray(list)) throw invalidRequest(`callBatch needs an array of { method, params?, options? }, got ${describe(list)}`);
  const signal = options.signal;
  const outcomes = new Array<SolanaBatchOutcome | undefined>(calls.length);
  const batched: Array<Pending<P>> = [];
  const collected: Array<{ readonly index: number; readonly prepared: P }> = [];
  const single: Array<Promise<void>> = [];
  const runOne = (index: number, prepared: P, collector?: AttemptCollector): Promise<void> =>
    hooks.run(prepared, collector).then(
      (details) => {
        outcomes[index] = { ok: true, value: details.result, endpoint: details.endpoint };
      },
      (error: unknown) => {
        outcomes[index] = { ok: false, error: asXError(error) };
      },
    );
  calls.forEach((call, index) => {
    let prepared: P;
    try {
      const raw: unknown = call;
      if (typeof raw !== 'object' || raw === null)
        throw invalidRequest(`callBatch: call ${index} must be an object { method, params?, options? }, got ${describe(raw)}`);
      prepared = hooks.prepare(call, signal);
    } catch (error) {
      outcomes[index] = { ok: false, error: asXError(error) };
      return;
    }
    const { method, params, policy, write } = hooks.describe(prepared);
    if (!write && BATCHABLE_STRATEGIES.has(policy.strategy)) {
      batched.push({ index, prepared, policy, method, params, lastError: undefined });
      return;
    }
    if (!write && COLLECTED_STRATEGIES.has(policy.strategy)) {
      collected.push({ index, prepared });
      return;
    }
    single.push(runOne(index, prepared));
  });
  // One such call alone has nothing to share a request with.
  const collector = collected.length > 1 ? createAttemptCollector(hooks.batcher) : undefined;
  for (const entry of collected) single.push(runOne(entry.index, entry.prepared, collector));

  if (batched.length === 1) {
    // One call is no batch: it keeps its strategy whole (a race, a hedge).
    const [only] = batched as [Pending<P>];
    single.push(runOne(only.index, only.prepared));
  } else if (batched.length > 1) {
    single.push(
      runBatched(hooks, batched, signal, outcomes).then((unsent) =>
        Promise.all(unsent.map((entry) => runOne(entry.index, entry.prepared))).then(() => undefined),
      ),
    );
  }
  await Promise.all(single);
  return outcomes.map((outcome) => outcome ?? { ok: false, error: abortedError(undefined) });
}

/**
 * Sends the batch to the best endpoint whose budget admits it (one request per call: providers count the calls of a
 * batch), then what that endpoint failed to the next, once. Resolves with the calls no endpoint's budget admitted as a
 * batch: they take the single-call path, where each waits for its own budget as the pool's `onBudgetExhausted` says.
 */
async function runBatched<P>(
  hooks: BatchHooks<P>,
  batched: Array<Pending<P>>,
  signal: AbortSignal | undefined,
  outcomes: Array<SolanaBatchOutcome | undefined>,
): Promise<Array<Pending<P>>> {
  let pending = batched;
  const tried = new Set<string>();
  for (let round = 0; round < BATCH_ROUNDS && pending.length > 0 && signal?.aborted !== true; round += 1) {
    const candidate = await budgetedCandidate(hooks.pool, tried, pending);
    if (candidate === 'none') break;
    if (candidate === 'over-budget') return round === 0 ? pending : failAll(pending, outcomes, signal);
    const next = await sendRound(hooks, candidate, pending, signal, outcomes);
    // A `single` call is never sent twice.
    pending = next.filter((entry) => entry.policy.strategy !== 'single');
    for (const entry of next) if (entry.policy.strategy === 'single') finishFailed(entry, outcomes, signal);
  }
  return failAll(pending, outcomes, signal);
}

function failAll<P>(
  pending: ReadonlyArray<Pending<P>>,
  outcomes: Array<SolanaBatchOutcome | undefined>,
  signal: AbortSignal | undefined,
): [] {
  for (const entry of pending) finishFailed(entry, outcomes, signal);
  return [];
}

/**
 * The best endpoint not yet tried whose budget grants the batch (its tokens taken), `'over-budget'` when endpoints were
 * left but none had the room, `'none'` when every endpoint was tried.
 */
async function budgetedCandidate<P>(
  pool: Pool<string>,
  tried: Set<string>,
  pending: ReadonlyArray<Pending<P>>,
): Promise<PoolEndpoint<string> | 'none' | 'over-budget'> {
  const left = pool.select().endpoints.filter((endpoint) => !tried.has(endpoint.id));
  for (const endpoint of left) {
    const grant = await pool.takeBudget(endpoint.id, { requests: pending.length, methods: pending.map((entry) => entry.method) });
    if (!grant.granted) continue;
    tried.add(endpoint.id);
    return endpoint;
  }
  return left.length === 0 ? 'none' : 'over-budget';
}

function finishFailed<P>(entry: Pending<P>, outcomes: Array<SolanaBatchOutcome | undefined>, signal: AbortSignal | undefined): void {
  const error = entry.lastError ?? abortedError(signal?.reason);
  // Nobody had it yet (getTransaction sent as a race): the answer is null, as for a single call.
  if (isXError(error, 'SOLANA_NOT_YET')) outcomes[entry.index] = { ok: true, value: null, endpoint: undefined };
  else outcomes[entry.index] = { ok: false, error };
}

/** Sends `pending` to `candidate` as one batch; returns the entries another endpoint may still answer. */
async function sendRound<P>(
  hooks: BatchHooks<P>,
  candidate: PoolEndpoint<string>,
  pending: ReadonlyArray<Pending<P>>,
  signal: AbortSignal | undefined,
  outcomes: Array<SolanaBatchOutcome | undefined>,
): Promise<Array<Pending<P>>> {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(abortedError(signal?.reason));
  if (signal?.aborted === true) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  const answers = pending.map(() => deferred());
  // Judged from before the request leaves, as a single attempt is.
  const judged = pending.map((entry, position) =>
    hooks
      .judge(entry.prepared, candidate, controller.signal, () => (answers[position] as Deferred).promise)
      .then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error: asXError(error) }),
      ),
  );
  // The batch gets the most generous budget of its calls: they are answered together.
  const timeoutMs = Math.max(...pending.map((entry) => entry.policy.deadlineMs)) + EXCHANGE_SLACK_MS;
  const tracker = hooks.pool.startAttempt(candidate.id);
  const started = performance.now();
  let exchanged: BatchOutcome[] | XError;
  try {
    exchanged = await hooks.batcher.sendUpstreamBatch(
      candidate.id,
      pending.map((entry) => (entry.params === undefined ? { method: entry.method } : { method: entry.method, params: entry.params })),
      { signal: controller.signal, timeoutMs },
    );
  } catch (error) {
    exchanged = asXError(error);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  const latencyMs = performance.now() - started;
  pending.forEach((_entry, position) => {
    const answer = answers[position] as Deferred;
    if (!Array.isArray(exchanged)) answer.reject(exchanged);
    else {
      const outcome = exchanged[position] as BatchOutcome;
      if (outcome.ok) answer.resolve(outcome.value);
      else answer.reject(outcome.error);
    }
  });
  const results = await Promise.all(judged);
  const retry: Array<Pending<P>> = [];
  let protocolBreak: XError | undefined;
  let failedOver = 0;
  results.forEach((result, position) => {
    const entry = pending[position] as Pending<P>;
    if (result.ok) {
      outcomes[entry.index] = { ok: true, value: result.value, endpoint: candidate.id };
      return;
    }
    if (result.error.category === 'protocol') protocolBreak ??= result.error;
    if (hooks.failsOver(result.error)) {
      failedOver += 1;
      entry.lastError = result.error;
      retry.push(entry);
    } else outcomes[entry.index] = { ok: false, error: result.error };
  });
  const failure = !Array.isArray(exchanged)
    ? exchanged
    : (protocolBreak ?? (failedOver === pending.length ? retry[0]?.lastError : undefined));
  if (failure === undefined) tracker.finish({ ok: true, value: undefined, latencyMs });
  // The caller gave up: nothing is known about the endpoint.
  else if (controller.signal.aborted && failure.category === 'aborted')
    tracker.finish({ ok: false, error: failure, latencyMs }, { abortedAsLoser: true });
  else tracker.finish({ ok: false, error: failure, latencyMs });
  return retry;
}
