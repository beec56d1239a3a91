import { isPlainObject, throwIfAborted } from '@x/errors';
import type { XError } from '@x/errors';
import type { Prepared } from './attempt.js';
import { describe, invalidRequest } from './errors.js';
import { isCommitment } from './params.js';
import type { Prepare } from './prepare.js';
import { decodeTransaction, encodeTransaction, firstSignatureOf } from './transaction.js';
import type { TransactionEncoding } from './transaction.js';
import type { SendTransactionOptions, SendTransactionResult, SolanaBroadcastOutcome, SolanaCallDetails } from './types.js';

const SEND_KEYS: readonly string[] = [
  'encoding',
  'skipPreflight',
  'preflightCommitment',
  'maxRetries',
  'minContextSlot',
  'signal',
  'strategy',
  'deadlineMs',
  'attemptTimeoutMs',
  'maxCandidates',
  'onAccepted',
];

function checkSendOptions(sendOptions: SendTransactionOptions, checkOpen: () => void): void {
  const rawOptions: unknown = sendOptions;
  if (!isPlainObject(rawOptions)) throw invalidRequest(`sendTransaction options must be an object, got ${describe(sendOptions)}`);
  for (const key of Object.keys(sendOptions)) {
    if (key === 'timeoutMs') throw invalidRequest('sendTransaction: timeoutMs was renamed deadlineMs (the budget of the whole call)');
    if (!SEND_KEYS.includes(key)) throw invalidRequest(`sendTransaction: ${key} is not a known option`);
  }
  checkOpen();
  const { skipPreflight, preflightCommitment, maxRetries, signal, onAccepted } = sendOptions;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidRequest('sendTransaction: signal must be an AbortSignal');
  throwIfAborted(signal);
  if (onAccepted !== undefined && typeof onAccepted !== 'function') throw invalidRequest('sendTransaction: onAccepted must be a function');
  if (skipPreflight !== undefined && typeof skipPreflight !== 'boolean')
    throw invalidRequest(`sendTransaction: skipPreflight must be a boolean, got ${describe(skipPreflight)}`);
  if (maxRetries !== undefined && !(Number.isSafeInteger(maxRetries) && maxRetries >= 0))
    throw invalidRequest(`sendTransaction: maxRetries must be an integer >= 0, got ${describe(maxRetries)}`);
  if (preflightCommitment !== undefined && !isCommitment(preflightCommitment)) {
    throw invalidRequest(
      `sendTransaction: preflightCommitment must be processed, confirmed or finalized, got ${describe(preflightCommitment)}`,
    );
  }
}

/** sendTransaction's arguments, checked, as the call it makes: params, policy options and the expected signature. */
export function prepareSend(
  prepare: Prepare,
  checkOpen: () => void,
  transaction: string | Uint8Array,
  sendOptions: SendTransactionOptions,
): Prepared {
  checkSendOptions(sendOptions, checkOpen);
  const {
    encoding: given,
    skipPreflight,
    preflightCommitment,
    maxRetries,
    minContextSlot,
    signal,
    strategy,
    deadlineMs,
    attemptTimeoutMs,
    maxCandidates,
    onAccepted,
  } = sendOptions;
  let bytes: Uint8Array;
  let encoding: TransactionEncoding;
  if (transaction instanceof Uint8Array) {
    if (given !== undefined && given !== 'base64')
      throw invalidRequest("sendTransaction: bytes are always sent as base64; drop the encoding option or use 'base64'");
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
  const callOptions: Record<string, unknown> = { signal, strategy, deadlineMs, attemptTimeoutMs, maxCandidates, minContextSlot };
  for (const key of Object.keys(callOptions)) if (callOptions[key] === undefined) delete callOptions[key];
  return prepare('sendTransaction', [wire, config], callOptions, { expectedSignature, onAccepted });
}

/** What sendTransaction reports: the first acceptance and every endpoint's answer. */
export function sendResult(result: SolanaCallDetails<string>): SendTransactionResult {
  const outcomes =
    result.broadcast ??
    result.attempts.map((attempt): SolanaBroadcastOutcome<string> =>
      attempt.ok
        ? { endpoint: attempt.endpoint, label: attempt.label, ok: true, value: result.result, latencyMs: attempt.latencyMs }
        : {
            endpoint: attempt.endpoint,
            label: attempt.label,
            ok: false,
            error: attempt.error as XError,
            latencyMs: attempt.latencyMs,
            aborted: attempt.abortedAsLoser,
          },
    );
  const winner = result.attempts.find((attempt) => attempt.ok && attempt.endpoint === result.endpoint);
  return { signature: result.result, endpoint: result.endpoint as string, latencyMs: winner?.latencyMs ?? result.latencyMs, outcomes };
}
