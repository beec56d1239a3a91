import { setImmediate } from 'node:timers';
import { abortedError, failure, isXError, success } from '@x/errors';
import type { XError } from '@x/errors';
import type { BatchOutcome, BatchRequest } from '@x/http-transport';
import type { JsonRpcParams } from '@x/json-rpc';
import type { Endpoints } from './endpoints.js';

/** How one upstream batch is bounded: the caller's signal and the exchange's own deadline. */
interface UpstreamBatchOptions {
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
}

/**
 * Sends calls upstream, as few requests as each endpoint accepts. `sendUpstreamBatch` is the one place
 * where a batch of n calls leaves for an endpoint (one request carrying n calls, or n requests once the
 * endpoint refused batches): the place where a per-request cost is to be counted.
 */
export interface UpstreamBatcher {
  /**
   * Sends `requests` to `endpointId`: one JSON-RPC call for one request, a JSON-RPC batch for more. An
   * endpoint that refuses a batch (HTTP 4xx other than 408 and 429, or one JSON-RPC error answering the
   * batch as a whole below HTTP 500) is remembered for `BATCH_REFUSAL_MEMORY_MS`, and its calls go one request each
   * meanwhile, this batch included; then a batch is tried again. Resolves with one outcome per request, in request order; rejects only when the batch
   * exchange as a whole failed otherwise (network, timeout, 5xx, 429, an answer that is not a batch answer, abort).
   */
  sendUpstreamBatch(endpointId: string, requests: readonly BatchRequest[], options: UpstreamBatchOptions): Promise<BatchOutcome[]>;
  /** The endpoints that refused a batch in the last `BATCH_REFUSAL_MEMORY_MS`, by id, in the order they did. */
  refusingBatches(): readonly string[];
}

/** Whether a batch exchange failed because the endpoint does not take batches (so single calls may well work). */
function refusesBatches(error: unknown): boolean {
  if (isXError(error, 'HTTP_CLIENT_ERROR')) return true;
  if (isXError(error, ['HTTP_RPC_CALLER_ERROR', 'HTTP_RPC_SERVER_ERROR'])) return error.context.status < 500;
  return false;
}

/**
 * How long a refusal is remembered: a provider may refuse a batch for a passing reason (a quota blip, one oversized
 * batch), and single calls cost n requests where a batch costs one; after this, the next batch is tried again.
 */
const BATCH_REFUSAL_MEMORY_MS = 300_000;

export function createUpstreamBatcher(endpoints: Endpoints): UpstreamBatcher {
  /** Endpoint id → when (performance.now()) its refusal is forgotten. */
  const refusing = new Map<string, number>();
  const refuses = (endpointId: string): boolean => {
    const until = refusing.get(endpointId);
    if (until === undefined) return false;
    if (performance.now() < until) return true;
    refusing.delete(endpointId);
    return false;
  };

  const one = async (endpointId: string, request: BatchRequest, options: UpstreamBatchOptions): Promise<BatchOutcome> => {
    const started = performance.now();
    try {
      const { value } = await endpoints.byId(endpointId).transport.callWithLatency(request.method, request.params, options);
      return success(value, performance.now() - started);
    } catch (error) {
      return failure(isXError(error) ? error : abortedError(error), performance.now() - started);
    }
  };

  const sendUpstreamBatch = async (
    endpointId: string,
    requests: readonly BatchRequest[],
    options: UpstreamBatchOptions,
  ): Promise<BatchOutcome[]> => {
    if (requests.length === 1 || refuses(endpointId)) return Promise.all(requests.map((request) => one(endpointId, request, options)));
    try {
      return await endpoints.byId(endpointId).transport.batch(requests, options);
    } catch (error) {
      if (!refusesBatches(error) || options.signal.aborted) throw error;
      refusing.delete(endpointId);
      refusing.set(endpointId, performance.now() + BATCH_REFUSAL_MEMORY_MS);
      return Promise.all(requests.map((request) => one(endpointId, request, options)));
    }
  };

  return { sendUpstreamBatch, refusingBatches: () => [...refusing.keys()].filter(refuses) };
}

interface Waiting {
  readonly request: BatchRequest;
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  resolve(value: unknown): void;
  reject(error: XError): void;
  settled: boolean;
}

/**
 * Gathers the attempts that the calls of one `callBatch` start against the same endpoint at the same
 * moment (before the event loop turns) and sends them as one upstream batch per endpoint, through
 * `sendUpstreamBatch`. Each attempt keeps its own fate: aborting it (a loser of its call's vote)
 * rejects it at once, and the shared exchange is cut only when every attempt in it was aborted.
 */
export interface AttemptCollector {
  fetch(endpointId: string, method: string, params: JsonRpcParams | undefined, timeoutMs: number, signal: AbortSignal): Promise<unknown>;
}

export function createAttemptCollector(batcher: UpstreamBatcher): AttemptCollector {
  const queues = new Map<string, Waiting[]>();
  let scheduled = false;

  const flushOne = async (endpointId: string, waiting: readonly Waiting[]): Promise<void> => {
    const controller = new AbortController();
    let live = waiting.length;
    const cleanups = waiting.map((entry) => {
      const onAbort = (): void => {
        if (!entry.settled) {
          entry.settled = true;
          entry.reject(abortedError(entry.signal.reason));
        }
        live -= 1;
        if (live === 0) controller.abort(abortedError(entry.signal.reason));
      };
      if (entry.signal.aborted) onAbort();
      else entry.signal.addEventListener('abort', onAbort, { once: true });
      return () => entry.signal.removeEventListener('abort', onAbort);
    });
    let outcomes: BatchOutcome[] | XError;
    try {
      outcomes = controller.signal.aborted
        ? abortedError(controller.signal.reason)
        : await batcher.sendUpstreamBatch(
            endpointId,
            waiting.map((entry) => entry.request),
            { signal: controller.signal, timeoutMs: Math.max(...waiting.map((entry) => entry.timeoutMs)) },
          );
    } catch (error) {
      outcomes = isXError(error) ? error : abortedError(error);
    }
    for (const cleanup of cleanups) cleanup();
    waiting.forEach((entry, position) => {
      if (entry.settled) return;
      entry.settled = true;
      if (!Array.isArray(outcomes)) entry.reject(outcomes);
      else {
        const outcome = outcomes[position] as BatchOutcome;
        if (outcome.ok) entry.resolve(outcome.value);
        else entry.reject(outcome.error);
      }
    });
  };

  const flush = (): void => {
    scheduled = false;
    const ready = [...queues];
    queues.clear();
    for (const [endpointId, waiting] of ready) void flushOne(endpointId, waiting);
  };

  return {
    fetch: (endpointId, method, params, timeoutMs, signal) =>
      new Promise<unknown>((resolve, reject) => {
        if (signal.aborted) {
          reject(abortedError(signal.reason));
          return;
        }
        const request: BatchRequest = params === undefined ? { method } : { method, params };
        const queue = queues.get(endpointId) ?? [];
        queue.push({ request, signal, timeoutMs, resolve, reject, settled: false });
        queues.set(endpointId, queue);
        if (!scheduled) {
          scheduled = true;
          // After every attempt started in this turn (they start in promise continuations of the same turn).
          setImmediate(flush);
        }
      }),
  };
}
