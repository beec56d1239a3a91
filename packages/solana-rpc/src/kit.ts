import { isXError } from '@x/errors';
import type { XError } from '@x/errors';
import type { JsonRpcErrorObject, JsonRpcParams } from '@x/json-rpc';
import { describe, invalidRequest } from './errors.js';
import type { SolanaCallOptions, SolanaRpc } from './types.js';

/**
 * The argument `@solana/kit` passes to an RPC transport (`RpcTransport` of `@solana/rpc-spec`),
 * declared structurally so that this package needs no `@solana/*` package at run time.
 */
export type KitTransportConfig = Readonly<{
  /** The JSON-RPC request kit built: `{ jsonrpc: '2.0', id, method, params }`. */
  payload: unknown;
  signal?: AbortSignal;
}>;

/**
 * Assignable to kit's `RpcTransport`: resolves with the JSON-RPC response object
 * (`{ jsonrpc, id, result }` or `{ jsonrpc, id, error }`), which kit's response transformers unwrap.
 */
export type KitTransport = <TResponse>(config: KitTransportConfig) => Promise<TResponse>;

export interface KitTransportOptions {
  /** Per-call options (a strategy, a budget…) chosen from the method and params. Default: the method's policy. */
  readonly callOptions?: (method: string, params: unknown) => Omit<SolanaCallOptions, 'signal'> | undefined;
}

/**
 * The errors a failed call is made of: every endpoint's failure of a strategy, a vote or a broadcast, read
 * through their typed contexts; any other error is its own leaf.
 */
function leafErrors(error: XError): XError[] {
  if (
    isXError(error, ['STRATEGY_ALL_ATTEMPTS_FAILED', 'STRATEGY_DEADLINE_EXCEEDED', 'STRATEGY_QUORUM_UNREACHABLE', 'SOLANA_NO_CONSENSUS'])
  ) {
    return error.context.failures.map((failure) => failure.error);
  }
  if (isXError(error, 'SOLANA_SEND_FAILED')) return error.context.outcomes.flatMap((outcome) => (outcome.ok ? [] : [outcome.error]));
  return [error];
}

/**
 * The JSON-RPC error to hand kit when every endpoint answered the same node error (an invalid
 * param, a preflight failure…), so that kit throws the `SolanaError` it would throw talking to one
 * node. Otherwise `undefined`: the call failed for reasons of its own (transport failures — network,
 * timeout, rate limit, stale slot… — are not the node's answer and reach kit as the XError they are).
 */
export function jsonRpcErrorOf(error: unknown): JsonRpcErrorObject | undefined {
  if (!isXError(error)) return undefined;
  const [first, ...rest] = leafErrors(error);
  if (!isXError(first, ['HTTP_RPC_SERVER_ERROR', 'HTTP_RPC_CALLER_ERROR'])) return undefined;
  const { rpcCode: code, rpcMessage: message, rpcData: data } = first.context;
  const same = rest.every((leaf) => isXError(leaf, ['HTTP_RPC_SERVER_ERROR', 'HTTP_RPC_CALLER_ERROR']) && leaf.context.rpcCode === code);
  if (!same) return undefined;
  return data === undefined ? { code, message } : { code, message, data };
}

function isJsonRpcPayload(payload: unknown): payload is { jsonrpc: '2.0'; id?: unknown; method: string; params?: unknown } {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return false;
  const record = payload as Record<string, unknown>;
  return record.jsonrpc === '2.0' && typeof record.method === 'string' && record.method !== '';
}

/**
 * Plugs a {@link SolanaRpc} into `@solana/kit`:
 * `createSolanaRpcFromTransport(createKitTransport(client))`. Every kit call then runs with the
 * method's policy (race, consensus, broadcast…) across the client's endpoints. Kit's bigints in
 * params are sent as JSON integers; integers beyond 2^53 in answers reach kit as exact bigints (the
 * client's transports read them so), which kit's response transformers keep, as they keep those of
 * kit's own HTTP transport. Kit's `abortSignal` cancels the call.
 */
export function createKitTransport(rpc: Pick<SolanaRpc, 'call'>, options: KitTransportOptions = {}): KitTransport {
  if (typeof rpc !== 'object' || rpc === null || typeof rpc.call !== 'function')
    throw invalidRequest('createKitTransport needs a client from createSolanaMultiRpc');
  const pick = options.callOptions;
  if (pick !== undefined && typeof pick !== 'function') throw invalidRequest('createKitTransport: callOptions must be a function');
  const transport = async (config: KitTransportConfig): Promise<unknown> => {
    const payload = (config as { payload?: unknown } | undefined)?.payload;
    if (!isJsonRpcPayload(payload))
      throw invalidRequest(`The kit transport needs a JSON-RPC 2.0 request payload, got ${describe(payload)}`);
    const { id, method, params } = payload;
    const chosen = pick?.(method, params);
    try {
      const result = await rpc.call(method, params as JsonRpcParams | undefined, { ...chosen, signal: config.signal });
      return { jsonrpc: '2.0', id, result };
    } catch (error) {
      const body = jsonRpcErrorOf(error);
      if (body === undefined) throw error;
      return { jsonrpc: '2.0', id, error: body };
    }
  };
  return transport as KitTransport;
}
