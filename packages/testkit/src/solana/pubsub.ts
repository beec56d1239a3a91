import { isXError } from '@x/errors';
import { decodeBase58 } from './base58.js';
import type { ChainEvent, ChainState, SimulatedAccount } from './chain.js';
import {
  FINALIZED_DEPTH,
  MAX_BASE58_ACCOUNT_BYTES,
  RPC_ERROR_CODES,
  U64_MAX,
  address,
  checkCommitment,
  config,
  encodeAccountData,
  invalidParams,
  requireCount,
  signature,
  type RpcErrorObject,
} from './methods.js';
import { SYSTEM_PROGRAM_ID } from './wire.js';

/** The subscription methods the simulated endpoints serve over WebSocket, with their unsubscribe methods. */
export const SUBSCRIPTION_METHODS: Readonly<Record<string, string>> = Object.freeze({
  logsSubscribe: 'logsUnsubscribe',
  programSubscribe: 'programUnsubscribe',
  accountSubscribe: 'accountUnsubscribe',
  signatureSubscribe: 'signatureUnsubscribe',
  slotSubscribe: 'slotUnsubscribe',
});

export type Commitment = 'processed' | 'confirmed' | 'finalized';

/**
 * How many slots behind an endpoint's slot each commitment is delivered: `processed` as the chain
 * changes (the slot in progress included), `confirmed` once the chain has moved past the slot,
 * `finalized` once it is 32 slots deep (when `getSignaturesForAddress` calls it finalized too).
 */
export const COMMITMENT_DEPTH: Readonly<Record<Commitment, number>> = Object.freeze({
  processed: 0,
  confirmed: 1,
  finalized: FINALIZED_DEPTH,
});

/** One parsed subscription: what it listens to and how it turns chain events into notification results. */
export interface SubscriptionSpec {
  readonly method: string;
  readonly unsubscribeMethod: string;
  /** The notification's method name, e.g. `logsNotification`. */
  readonly notification: string;
  readonly commitment: Commitment;
  /** The result of the notification this event makes, or undefined when it makes none. */
  readonly match: (event: ChainEvent) => unknown;
  /** Ends after its first notification (`signatureSubscribe`). */
  readonly once: boolean;
  /** For `signatureSubscribe`: the notification due at once when the transaction already reached the commitment. */
  readonly initial?: (chain: ChainState, visibleSlot: number) => unknown;
  /** Account notifications at confirmed/finalized: one per slot, with the state at the end of it. */
  readonly lastPerSlot: boolean;
}

export type ParsedSubscribe =
  { readonly ok: true; readonly spec: SubscriptionSpec } | { readonly ok: false; readonly error: RpcErrorObject };

function commitmentOf(options: Record<string, unknown>): Commitment {
  // Solana's subscriptions default to finalized.
  return (checkCommitment(options) as Commitment | undefined) ?? 'finalized';
}

function accountJson(state: SimulatedAccount | null, encoding: string): Record<string, unknown> {
  const shown = state ?? { lamports: 0, data: new Uint8Array(0), owner: SYSTEM_PROGRAM_ID, executable: false };
  let data: unknown;
  // A node cannot put more than 128 bytes in base58 and says so in the data itself.
  if ((encoding === 'binary' || encoding === 'base58') && shown.data.length > MAX_BASE58_ACCOUNT_BYTES) {
    data = encoding === 'binary' ? 'error: data too large for bs58 encoding' : ['error: data too large for bs58 encoding', 'base58'];
  } else data = encodeAccountData(shown.data, encoding);
  return { data, executable: shown.executable, lamports: shown.lamports, owner: shown.owner, rentEpoch: U64_MAX, space: shown.data.length };
}

function accountEncoding(options: Record<string, unknown>): string {
  // Solana's account and program subscriptions default to the legacy binary (base58 string) encoding.
  const encoding = options.encoding ?? 'binary';
  if (typeof encoding !== 'string') throw invalidParams('encoding must be a string');
  encodeAccountData(new Uint8Array(0), encoding);
  return encoding;
}

type Filter = (state: SimulatedAccount) => boolean;

function programFilters(value: unknown): Filter[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidParams('filters must be an array');
  return value.map((filter: unknown): Filter => {
    if (typeof filter !== 'object' || filter === null) throw invalidParams('a filter must be an object');
    const { dataSize, memcmp } = filter as { dataSize?: unknown; memcmp?: unknown };
    if (dataSize !== undefined) {
      if (typeof dataSize !== 'number' || !Number.isSafeInteger(dataSize) || dataSize < 0)
        throw invalidParams('dataSize must be an integer >= 0');
      return (state) => state.data.length === dataSize;
    }
    if (typeof memcmp === 'object' && memcmp !== null) {
      const { offset, bytes, encoding } = memcmp as { offset?: unknown; bytes?: unknown; encoding?: unknown };
      if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)
        throw invalidParams('memcmp.offset must be an integer >= 0');
      if (typeof bytes !== 'string') throw invalidParams('memcmp.bytes must be a string');
      const wanted = encoding === 'base64' ? new Uint8Array(Buffer.from(bytes, 'base64')) : decodeBase58(bytes);
      if (wanted === undefined) throw invalidParams('memcmp.bytes is not valid base58');
      return (state) => offset + wanted.length <= state.data.length && wanted.every((byte, index) => state.data[offset + index] === byte);
    }
    throw invalidParams('a filter must be { dataSize } or { memcmp: { offset, bytes } }');
  });
}

function context(slot: number, value: unknown): unknown {
  return { context: { slot }, value };
}

function logs(params: readonly unknown[]): SubscriptionSpec {
  requireCount(params, 1, 2);
  const filter = params[0];
  let mentions: string | undefined;
  if (filter === 'all' || filter === 'allWithVotes') mentions = undefined;
  else if (typeof filter === 'object' && filter !== null && Array.isArray((filter as { mentions?: unknown }).mentions)) {
    const list = (filter as { mentions: unknown[] }).mentions;
    if (list.length !== 1) throw invalidParams('Invalid Request: Only 1 address supported');
    mentions = address(list[0]);
  } else throw invalidParams('filter must be "all", "allWithVotes" or { mentions: [address] }');
  const commitment = commitmentOf(config(params, 1));
  return {
    method: 'logsSubscribe',
    unsubscribeMethod: 'logsUnsubscribe',
    notification: 'logsNotification',
    commitment,
    once: false,
    lastPerSlot: false,
    match: (event) => {
      if (event.kind !== 'transaction') return undefined;
      const { transaction } = event;
      if (mentions !== undefined && !transaction.transaction.accountKeys.includes(mentions)) return undefined;
      return context(event.slot, { signature: transaction.signature, err: transaction.err, logs: transaction.logMessages });
    },
  };
}

function account(params: readonly unknown[]): SubscriptionSpec {
  requireCount(params, 1, 2);
  const key = address(params[0]);
  const options = config(params, 1);
  const commitment = commitmentOf(options);
  const encoding = accountEncoding(options);
  return {
    method: 'accountSubscribe',
    unsubscribeMethod: 'accountUnsubscribe',
    notification: 'accountNotification',
    commitment,
    once: false,
    lastPerSlot: commitment !== 'processed',
    match: (event) =>
      event.kind === 'account' && event.address === key ? context(event.slot, accountJson(event.state, encoding)) : undefined,
  };
}

function program(params: readonly unknown[]): SubscriptionSpec {
  requireCount(params, 1, 2);
  const owner = address(params[0]);
  const options = config(params, 1);
  const commitment = commitmentOf(options);
  const encoding = accountEncoding(options);
  const filters = programFilters(options.filters);
  return {
    method: 'programSubscribe',
    unsubscribeMethod: 'programUnsubscribe',
    notification: 'programNotification',
    commitment,
    once: false,
    lastPerSlot: commitment !== 'processed',
    match: (event) => {
      if (event.kind !== 'account' || event.state === null || event.state.owner !== owner) return undefined;
      const state = event.state;
      if (!filters.every((filter) => filter(state))) return undefined;
      return context(event.slot, { pubkey: event.address, account: accountJson(state, encoding) });
    },
  };
}

function signatureStatus(params: readonly unknown[]): SubscriptionSpec {
  requireCount(params, 1, 2);
  const wanted = signature(params[0]);
  const options = config(params, 1);
  const commitment = commitmentOf(options);
  if (options.enableReceivedNotification !== undefined && typeof options.enableReceivedNotification !== 'boolean') {
    throw invalidParams('enableReceivedNotification must be a boolean');
  }
  return {
    method: 'signatureSubscribe',
    unsubscribeMethod: 'signatureUnsubscribe',
    notification: 'signatureNotification',
    commitment,
    once: true,
    lastPerSlot: false,
    match: (event) =>
      event.kind === 'transaction' && event.transaction.signature === wanted
        ? context(event.slot, { err: event.transaction.err })
        : undefined,
    initial: (chain, visibleSlot) => {
      const landed = chain.transactionAt(wanted, visibleSlot);
      return landed === null ? undefined : context(landed.slot, { err: landed.err });
    },
  };
}

function slot(params: readonly unknown[]): SubscriptionSpec {
  requireCount(params, 0, 0);
  return {
    method: 'slotSubscribe',
    unsubscribeMethod: 'slotUnsubscribe',
    notification: 'slotNotification',
    commitment: 'processed',
    once: false,
    lastPerSlot: false,
    match: (event) =>
      event.kind === 'slot' ? { parent: event.slot - 1, root: Math.max(0, event.slot - FINALIZED_DEPTH), slot: event.slot } : undefined,
  };
}

const PARSERS: Readonly<Record<string, (params: readonly unknown[]) => SubscriptionSpec>> = {
  logsSubscribe: logs,
  accountSubscribe: account,
  programSubscribe: program,
  signatureSubscribe: signatureStatus,
  slotSubscribe: slot,
};

/** Checks a subscribe call as a Solana node does; never throws. */
export function parseSubscribe(method: string, params: unknown): ParsedSubscribe {
  const parser = PARSERS[method];
  if (parser === undefined) return { ok: false, error: { code: RPC_ERROR_CODES.methodNotFound, message: 'Method not found' } };
  if (params !== undefined && params !== null && !Array.isArray(params)) {
    return { ok: false, error: { code: RPC_ERROR_CODES.invalidParams, message: 'Invalid params: invalid type: map, expected a sequence' } };
  }
  try {
    return { ok: true, spec: parser((params ?? []) as readonly unknown[]) };
  } catch (error) {
    if (isXError(error, 'TESTKIT_RPC_CALL_ERROR')) {
      const { rpcCode } = error.context as { rpcCode: number };
      return { ok: false, error: { code: rpcCode, message: error.message } };
    }
    return {
      ok: false,
      error: { code: RPC_ERROR_CODES.internalError, message: `Internal error: ${error instanceof Error ? error.message : String(error)}` },
    };
  }
}
