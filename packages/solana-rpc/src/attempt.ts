import { isPlainObject } from '@x/errors';
import type { XError } from '@x/errors';
import type { JsonRpcParams } from '@x/json-rpc';
import type { PoolEndpoint } from '@x/pool';
import { defaultShouldFailover } from '@x/rpc-strategies';
import type { Endpoint, Endpoints } from './endpoints.js';
import { describe, solanaError } from './errors.js';
import type { SolanaCommitment } from './params.js';
import type { MethodPolicy } from './policy.js';
import type { SlotGuard } from './slots.js';
import type { SendTransactionOptions } from './types.js';
import { contextSlotOf } from './watermark.js';

/** A call, checked and resolved, ready to run. */
export interface Prepared {
  readonly method: string;
  readonly params: JsonRpcParams | undefined;
  readonly policy: MethodPolicy;
  readonly commitment: SolanaCommitment | undefined;
  readonly signal: AbortSignal | undefined;
  /** sendTransaction: the signature every honest node answers. */
  readonly expectedSignature: string | undefined;
  readonly onAccepted: SendTransactionOptions['onAccepted'];
}

/** What an attempt hands the strategies: the result and the slot it was served at. */
export interface Answer {
  readonly value: unknown;
  readonly slot: number | undefined;
}

/** One request of a call to one endpoint, with every check an answer must pass. */
export type AttemptOn = (
  prepared: Prepared,
  candidate: PoolEndpoint<string>,
  signal: AbortSignal,
  nullIsFailure: boolean,
  fetched?: () => Promise<unknown>,
) => Promise<Answer>;

/** Methods where a `null` result means "not there yet" rather than an answer. */
export const NULL_MEANS_NOT_YET: ReadonlySet<string> = new Set(['getTransaction']);

/**
 * The transport's own deadline is this much later than the strategy's timers, which decide: it only
 * guarantees that no exchange outlives its call should an abort be lost.
 */
const EXCHANGE_SLACK_MS = 100;

/** The transport deadline of one attempt's exchange under `policy`. */
export function attemptExchangeMs(policy: MethodPolicy): number {
  return (policy.attemptTimeoutMs ?? policy.deadlineMs) + EXCHANGE_SLACK_MS;
}

/**
 * A provider that breaks the protocol (a truncated or oversized body, an HTML page, an answer to another
 * id, a result of the wrong shape) is one bad provider: the others may well answer, so the call fails
 * over as it does for network, timeout, rate-limit and server failures. Only the caller's own errors
 * (`config`) and aborts end a call at once.
 */
export function failsOver(error: XError): boolean {
  return defaultShouldFailover(error) || error.category === 'protocol';
}

function checkResultShape(endpoint: Endpoint, method: string, value: unknown): void {
  if (method !== 'getSignaturesForAddress') return;
  const valid =
    Array.isArray(value) &&
    value.every((entry: unknown) => isPlainObject(entry) && typeof entry.signature === 'string' && Number.isSafeInteger(entry.slot));
  if (!valid) {
    throw solanaError(
      'SOLANA_INVALID_RESULT',
      'protocol',
      `${endpoint.label} answered getSignaturesForAddress with something that is not a list of { signature, slot }`,
      {
        endpoint: endpoint.id,
        label: endpoint.label,
        method,
      },
    );
  }
}

/**
 * The attempt every strategy runs: the slot check happens here, so every strategy fails over from a
 * stale node or one far ahead of the others. A batched call's answer comes from its batch (`fetched`).
 */
export function createAttempt(endpoints: Endpoints, slots: SlotGuard): AttemptOn {
  return async (prepared, candidate, signal, nullIsFailure, fetched) => {
    const endpoint = endpoints.byId(candidate.id);
    const { method, commitment, policy } = prepared;
    // The floor at the start: a slow answer was computed when asked, so it is judged against what was known then.
    const floor = commitment === undefined ? undefined : slots.watermark.floor(commitment);
    const value =
      fetched !== undefined
        ? await fetched()
        : await endpoint.transport.call(method, prepared.params, {
            signal,
            timeoutMs: attemptExchangeMs(policy),
          });
    const slot = contextSlotOf(method, value);
    if (slot !== undefined && commitment !== undefined) await slots.judge(endpoint, method, commitment, slot, floor, signal);
    checkResultShape(endpoint, method, value);
    if (prepared.expectedSignature !== undefined && value !== prepared.expectedSignature) {
      throw solanaError(
        'SOLANA_SIGNATURE_MISMATCH',
        'protocol',
        `${endpoint.label} answered sendTransaction with a signature that is not the transaction's`,
        {
          endpoint: endpoint.id,
          label: endpoint.label,
          expected: prepared.expectedSignature,
          received: typeof value === 'string' ? value.slice(0, 100) : describe(value),
        },
      );
    }
    if (nullIsFailure && value === null) {
      throw solanaError('SOLANA_NOT_YET', 'server', `${endpoint.label} does not have it yet (${method} answered null)`, {
        endpoint: endpoint.id,
        label: endpoint.label,
        method,
      });
    }
    return { value, slot };
  };
}
