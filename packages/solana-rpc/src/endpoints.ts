import { DEFAULT_CALLER_ERROR_CODES, createHttpTransport } from '@x/http-transport';
import type { HttpTransport, HttpTransportOptions } from '@x/http-transport';
import { createPool } from '@x/pool';
import type { Pool } from '@x/pool';
import { targetOf } from './options.js';
import type { ResolvedOptions } from './options.js';
import type { SolanaRpcOptions } from './types.js';

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

/** Rejections that are not the endpoint's failure (the pool records them as `rejected`). */
const NOT_COUNTED_CODES: ReadonlySet<string> = new Set(['SOLANA_NOT_YET', 'SOLANA_SLOT_AHEAD']);

export interface Endpoint {
  readonly id: string;
  readonly label: string;
  readonly transport: HttpTransport;
}

export interface Endpoints {
  readonly list: readonly Endpoint[];
  byId(id: string): Endpoint;
  /** Closes the transports this client made (a ready transport given in `endpoints[i].transport` is its owner's to close). */
  close(): Promise<void>;
}

/** The transport options an endpoint gets when the client makes its transport (by `createTransport` or `createHttpTransport`). */
function transportOptionsFor(options: SolanaRpcOptions, index: number): HttpTransportOptions {
  const config = options.endpoints[index];
  const headers =
    config?.headers === undefined && options.http?.headers === undefined ? undefined : { ...options.http?.headers, ...config?.headers };
  return {
    rateLimitCodes: SOLANA_RATE_LIMIT_CODES,
    callerErrorCodes: SOLANA_CALLER_ERROR_CODES,
    // u64 values (rentEpoch is u64::MAX on most accounts, lamports beyond ~9M SOL) must not be rounded.
    bigIntegers: 'bigint',
    ...options.http,
    ...(headers === undefined ? {} : { headers }),
    url: config?.url ?? '',
    ...(config?.label === undefined ? {} : { label: config.label }),
  };
}

/**
 * One transport per endpoint: the ready one given (`endpoints[i].transport`), or one made by
 * `createTransport` (default `createHttpTransport`). If making one fails, those already made are closed.
 */
export function openEndpoints(options: SolanaRpcOptions, resolved: ResolvedOptions): Endpoints {
  const make = options.createTransport ?? createHttpTransport;
  const list: Endpoint[] = [];
  const owned: HttpTransport[] = [];
  const close = (): Promise<void> => Promise.all(owned.map((transport) => transport.close())).then(() => undefined);
  try {
    resolved.endpoints.forEach((config, index) => {
      let transport = config.transport;
      if (transport === undefined) {
        transport = make(transportOptionsFor(options, index));
        owned.push(transport);
      }
      list.push({ id: resolved.ids[index] as string, label: config.label ?? transport.label, transport });
    });
  } catch (error) {
    // Transports made before the failure hold connection pools: release them.
    void close();
    throw error;
  }
  const byId = new Map(list.map((endpoint) => [endpoint.id, endpoint]));
  return { list, byId: (id) => byId.get(id) as Endpoint, close };
}

/** The pool over the endpoints: health, statistics and selection for every strategy. */
export function createEndpointPool(options: SolanaRpcOptions, resolved: ResolvedOptions, endpoints: Endpoints): Pool<string> {
  const userIsFailure = options.pool?.isFailure;
  return createPool<string>({
    ...options.pool,
    endpoints: resolved.endpoints.map((config, index) => {
      const endpoint = endpoints.list[index] as Endpoint;
      return {
        id: endpoint.id,
        target: targetOf(config),
        label: endpoint.label,
        ...(config.role === undefined ? {} : { role: config.role }),
        ...(config.weight === undefined ? {} : { weight: config.weight }),
        ...(config.budget === undefined ? {} : { budget: config.budget }),
      };
    }),
    // A null transaction in a race is "not yet" from a node that did answer, and a slot far ahead of
    // the others is judged by the watermark (refuted, the endpoint becomes suspect): not failures.
    isFailure: (error) =>
      !NOT_COUNTED_CODES.has(error.code) && (userIsFailure === undefined ? error.category !== 'config' : userIsFailure(error)),
  });
}
