import { isPlainObject, throwIfAborted } from '@x/errors';
import type { Prepared } from './attempt.js';
import { describe, invalidRequest } from './errors.js';
import { checkMinContextSlotMethod, commitmentKey, commitmentOf, configOf, isCommitment, toWireParams, withConfig } from './params.js';
import { checkPolicyLayer, checkResolvedPolicy, mergePolicy } from './policy.js';
import type { MethodPolicy } from './policy.js';
import { decodeTransaction, firstSignatureOf } from './transaction.js';
import type { SolanaCallOptions } from './types.js';
import type { SlotWatermark } from './watermark.js';

const CALL_KEYS: readonly string[] = ['signal', 'commitment', 'minContextSlot'];

export interface PrepareOptions {
  readonly policyFor: (method: string) => MethodPolicy;
  readonly writeMethods: ReadonlySet<string>;
  readonly watermark: SlotWatermark;
  /** Throws `SOLANA_CLOSED` once the client is closing. */
  readonly checkOpen: () => void;
}

export type Prepare = (method: unknown, params: unknown, callOptions: unknown, extra: Partial<Prepared>) => Prepared;

/**
 * Checks one call and resolves what it runs with: the policy (preset, client and call layers merged),
 * the params as sent (commitment and `minContextSlot` written into the method's config object), and
 * for sendTransaction the signature every honest node must answer.
 */
export function createPrepare(options: PrepareOptions): Prepare {
  const { policyFor, writeMethods, watermark, checkOpen } = options;
  return (method, params, callOptions, extra) => {
    checkOpen();
    if (typeof method !== 'string' || method === '') throw invalidRequest(`The method must be a non-empty string, got ${describe(method)}`);
    if (callOptions !== undefined && !isPlainObject(callOptions))
      throw invalidRequest(`Call options must be an object, got ${describe(callOptions)}`, { method });
    const opts = (callOptions ?? {}) as SolanaCallOptions;
    const signal = opts.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidRequest('signal must be an AbortSignal', { method });
    throwIfAborted(signal);
    const layer = checkPolicyLayer(callOptions, 'call options', CALL_KEYS);
    const policy = mergePolicy(policyFor(method), layer);
    checkResolvedPolicy(method, policy, 'call options', writeMethods);
    let wire = toWireParams(params, method);
    if (opts.commitment !== undefined) {
      if (!isCommitment(opts.commitment))
        throw invalidRequest(`commitment must be processed, confirmed or finalized, got ${describe(opts.commitment)}`, { method });
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
    return {
      method,
      params: wire,
      policy,
      commitment: commitmentOf(method, wire),
      signal,
      expectedSignature,
      onAccepted: extra.onAccepted,
    };
  };
}
