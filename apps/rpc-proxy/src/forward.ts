import { isXError } from '@x/errors';
import { errorResponse, resultResponse } from '@x/json-rpc';
import type { JsonRpcErrorObject, JsonRpcId, JsonRpcResponse, ParsedRequest } from '@x/json-rpc';
import type { MutableCounters } from './counters.js';
import { toRpcError } from './errors.js';
import { PROXY_RPC_ERROR_CODES } from './jsonrpc.js';
import type { CallOutcome, SharedCall, SharedCalls } from './shared-calls.js';

export interface ForwarderOptions {
  /** Runs the calls upstream (identical reads in flight shared, final answers cached). */
  readonly shared: SharedCalls;
  /** Methods forwarded; `undefined`: every method. */
  readonly allowed: ReadonlySet<string> | undefined;
  /** Removed from every message and data sent back. */
  readonly secrets: readonly string[];
  readonly counters: MutableCounters;
}

/** Sends parsed calls upstream and turns outcomes into answers (none for a notification), counting each. */
export interface Forwarder {
  forward(call: ParsedRequest, signal: AbortSignal): Promise<JsonRpcResponse | undefined>;
  forwardBatch(calls: readonly ParsedRequest[], signal: AbortSignal): Promise<JsonRpcResponse[]>;
}

export function createForwarder(options: ForwarderOptions): Forwarder {
  const { shared, allowed, secrets, counters } = options;

  /** Checks one call before it is forwarded: the answer it gets at once (a rejection), or `forward`. */
  const admit = (call: ParsedRequest): { readonly answer: JsonRpcResponse | undefined } | 'forward' => {
    counters.calls += 1;
    if (!call.valid) {
      counters.rejected += 1;
      return { answer: errorResponse(call.id, call.error) };
    }
    if (allowed !== undefined && !allowed.has(call.method)) {
      counters.rejected += 1;
      const shown = call.method.length > 64 ? `${call.method.slice(0, 64)}…` : call.method;
      const error: JsonRpcErrorObject = {
        code: PROXY_RPC_ERROR_CODES.METHOD_NOT_FOUND,
        message: `Method not found: ${shown} is not forwarded by this proxy`,
      };
      return { answer: call.id === undefined ? undefined : errorResponse(call.id, error) };
    }
    return 'forward';
  };

  /** The answer to a forwarded call (none for a notification), counted. */
  const answerOf = (id: JsonRpcId | null | undefined, outcome: CallOutcome, signal: AbortSignal): JsonRpcResponse | undefined => {
    let response: JsonRpcResponse;
    if (outcome.ok) {
      counters.succeeded += 1;
      response = resultResponse(id ?? null, outcome.value);
    } else {
      counters.failed += 1;
      const { error } = outcome;
      const timedOut = isXError(error, 'PROXY_REQUEST_TIMEOUT') || (signal.aborted && isXError(signal.reason, 'PROXY_REQUEST_TIMEOUT'));
      response = errorResponse(id ?? null, toRpcError(error, secrets, { timedOut }));
    }
    return id === undefined ? undefined : response;
  };

  const forward = async (call: ParsedRequest, signal: AbortSignal): Promise<JsonRpcResponse | undefined> => {
    const admitted = admit(call);
    if (admitted !== 'forward') return admitted.answer;
    if (!call.valid) return undefined;
    const [outcome] = await shared.run([{ method: call.method, params: call.params }], signal);
    return answerOf(call.id, outcome as CallOutcome, signal);
  };

  /**
   * A batch goes upstream through `callBatch` of `@x/solana-rpc` (via the shared calls): calls of race, hedge and single
   * methods travel as one JSON-RPC batch, consensus and dual calls as one batch per endpoint, writes on their own;
   * answers come back in request order.
   */
  const forwardBatch = async (calls: readonly ParsedRequest[], signal: AbortSignal): Promise<JsonRpcResponse[]> => {
    const answers = new Array<JsonRpcResponse | undefined>(calls.length);
    const sent: Array<{ readonly position: number; readonly id: JsonRpcId | null | undefined; readonly call: SharedCall }> = [];
    calls.forEach((call, position) => {
      const admitted = admit(call);
      if (admitted !== 'forward') answers[position] = admitted.answer;
      else if (call.valid) sent.push({ position, id: call.id, call: { method: call.method, params: call.params } });
    });
    if (sent.length > 0) {
      const outcomes = await shared.run(
        sent.map((entry) => entry.call),
        signal,
      );
      sent.forEach((entry, index) => {
        answers[entry.position] = answerOf(entry.id, outcomes[index] as CallOutcome, signal);
      });
    }
    return answers.filter((answer): answer is JsonRpcResponse => answer !== undefined);
  };

  return { forward, forwardBatch };
}
