import type { JsonRpcParams } from '@x/json-rpc';
import type { Pool } from '@x/pool';
import { NULL_MEANS_NOT_YET, attemptExchangeMs, createAttempt, failsOver } from './attempt.js';
import type { Prepared } from './attempt.js';
import { callBatch } from './batch.js';
import type { BatchHooks } from './batch.js';
import { runBroadcast } from './broadcast.js';
import { createEndpointPool, openEndpoints } from './endpoints.js';
import { describe, invalidRequest, solanaError } from './errors.js';
import { resolveOptions } from './options.js';
import { isCommitment } from './params.js';
import type { SolanaCommitment } from './params.js';
import { createPrepare } from './prepare.js';
import type { RunContext } from './report.js';
import { prepareSend, sendResult } from './send.js';
import { runSingleWinner } from './single.js';
import { createSlotGuard } from './slots.js';
import { restoreState } from './state.js';
import type { SolanaCallDetails, SolanaCallOptions, SolanaRpc, SolanaRpcOptions } from './types.js';
import { createUpstreamBatcher } from './upstream-batch.js';
import type { AttemptCollector } from './upstream-batch.js';
import { runConsensus } from './vote.js';

/**
 * Creates a Solana JSON-RPC client over several providers: one keep-alive HTTP transport per endpoint
 * (ready ones given, or made by `createTransport`), one pool for health and statistics, a per-method
 * policy (race, hedge, consensus, dual, single, broadcast) and a slot watermark that rejects answers
 * from lagging nodes. This is the wiring; each part lives in its own module.
 */
export function createSolanaMultiRpc(options: SolanaRpcOptions): SolanaRpc {
  const resolved = resolveOptions(options);
  const endpoints = openEndpoints(options, resolved);
  let pool: Pool<string>;
  try {
    pool = createEndpointPool(options, resolved, endpoints);
  } catch (error) {
    void endpoints.close();
    throw error;
  }
  const restoredState = restoreState(pool, resolved.state, options.pool?.wallNow ?? (() => Date.now()));
  const slots = createSlotGuard({ endpoints, pool, maxSlotLag: resolved.maxSlotLag, slotQuorum: resolved.slotQuorum });
  let closing: Promise<void> | undefined;
  const checkOpen = (): void => {
    if (closing !== undefined) throw solanaError('SOLANA_CLOSED', 'aborted', 'The Solana RPC client is closed', {});
  };
  const prepare = createPrepare({
    policyFor: resolved.policyFor,
    writeMethods: resolved.writeMethods,
    watermark: slots.watermark,
    checkOpen,
  });
  const context: RunContext = { pool, endpoints, attemptOn: createAttempt(endpoints, slots) };
  const batcher = createUpstreamBatcher(endpoints);

  /** With `collector`, every attempt fetches its answer through it (one upstream batch per endpoint for a batch's attempts). */
  const contextFor = (collector: AttemptCollector | undefined): RunContext =>
    collector === undefined
      ? context
      : {
          ...context,
          attemptOn: (prepared, candidate, signal, nullIsFailure) =>
            context.attemptOn(prepared, candidate, signal, nullIsFailure, () =>
              collector.fetch(candidate.id, prepared.method, prepared.params, attemptExchangeMs(prepared.policy), signal),
            ),
        };

  const run = <T>(prepared: Prepared, collector?: AttemptCollector): Promise<SolanaCallDetails<T>> => {
    const context = contextFor(collector);
    const started = performance.now();
    switch (prepared.policy.strategy) {
      case 'consensus':
        return runConsensus<T>(context, prepared, started);
      case 'broadcast':
        return runBroadcast<T>(context, prepared, started);
      default:
        return runSingleWinner<T>(context, prepared, started);
    }
  };

  const callWithDetails = async <T>(
    method: string,
    params?: JsonRpcParams,
    callOptions?: SolanaCallOptions,
  ): Promise<SolanaCallDetails<T>> => run<T>(prepare(method, params, callOptions, {}));

  const batchHooks: BatchHooks<Prepared> = {
    pool,
    prepare: (call, signal) => prepare(call.method, call.params, signal === undefined ? call.options : { ...call.options, signal }, {}),
    describe: (prepared) => ({
      method: prepared.method,
      params: prepared.params,
      policy: prepared.policy,
      write: resolved.writeMethods.has(prepared.method) || prepared.expectedSignature !== undefined,
    }),
    run: (prepared, collector) => run(prepared, collector),
    judge: async (prepared, candidate, signal, fetched) =>
      (await context.attemptOn(prepared, candidate, signal, NULL_MEANS_NOT_YET.has(prepared.method), fetched)).value,
    batcher,
    failsOver,
  };

  return {
    call: async <T>(method: string, params?: JsonRpcParams, callOptions?: SolanaCallOptions): Promise<T> =>
      (await callWithDetails<T>(method, params, callOptions)).result,
    callBatch: (calls, batchOptions) => callBatch(batchHooks, calls, batchOptions),
    refusingBatches: () => batcher.refusingBatches(),
    callWithDetails,
    sendTransaction: async (transaction, sendOptions = {}) =>
      sendResult(await run<string>(prepareSend(prepare, checkOpen, transaction, sendOptions))),
    slotWatermark: (commitment?: SolanaCommitment) => {
      if (commitment !== undefined && !isCommitment(commitment))
        throw invalidRequest(`commitment must be processed, confirmed or finalized, got ${describe(commitment)}`);
      return slots.watermark.get(commitment);
    },
    policyFor: (method: string) => {
      if (typeof method !== 'string' || method === '')
        throw invalidRequest(`The method must be a non-empty string, got ${describe(method)}`);
      return resolved.policyFor(method);
    },
    endpoints: Object.freeze(endpoints.list.map((endpoint) => Object.freeze({ id: endpoint.id, label: endpoint.label }))),
    pool,
    restoredState,
    exportState: () => pool.export(),
    close: () => {
      slots.close();
      closing ??= endpoints.close();
      return closing;
    },
  };
}
