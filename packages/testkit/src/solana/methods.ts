import { XError, isXError } from '@x/errors';
import { JSON_RPC_ERROR_CODES } from '@x/json-rpc';
import type { JsonRpcErrorObject } from '@x/json-rpc';
import type { Random } from '../random.js';
import { decodeAddress, decodeBase58, encodeBase58, isSignature } from './base58.js';
import type { ChainState, SimulatedAccount, SimulatedTransaction } from './chain.js';
import { SYSTEM_PROGRAM_ID, accountRole, parseTransaction, readSystemTransfer } from './wire.js';

/** A JSON-RPC 2.0 error object: `JsonRpcErrorObject` of `@x/json-rpc`, under the name this package always exported. */
export type RpcErrorObject = JsonRpcErrorObject;

/** The JSON-RPC error codes the simulated endpoints answer with. */
export const RPC_ERROR_CODES = Object.freeze({
  parseError: JSON_RPC_ERROR_CODES.PARSE_ERROR,
  invalidRequest: JSON_RPC_ERROR_CODES.INVALID_REQUEST,
  methodNotFound: JSON_RPC_ERROR_CODES.METHOD_NOT_FOUND,
  invalidParams: JSON_RPC_ERROR_CODES.INVALID_PARAMS,
  internalError: JSON_RPC_ERROR_CODES.INTERNAL_ERROR,
  /** Solana: the transaction's preflight simulation failed. */
  sendTransactionPreflightFailure: -32002,
  /** Solana: the node is behind (`getHealth`). */
  nodeUnhealthy: -32005,
  /** Solana: a v0 transaction was asked for without `maxSupportedTransactionVersion`. */
  unsupportedTransactionVersion: -32015,
  /** Solana: `minContextSlot` is ahead of the slot the node serves. */
  minContextSlotNotReached: -32016,
  /** EVM: a block number beyond the head. */
  evmHeaderNotFound: -32000,
});

/** What one endpoint sees when it answers a call. */
export interface CallView {
  readonly chain: ChainState;
  /** The slot this endpoint serves: the tip minus its lag, never older than the chain's memory. */
  readonly slot: number;
  /** A stream to alter the answer with, when this call is one the endpoint lies about. */
  readonly lie: Random | undefined;
  /** Writes go to the chain through here, so that the cluster decides when they land. */
  submit(wire: Uint8Array): string;
}

export type CallResult =
  { readonly ok: true; readonly result: unknown; readonly lied: boolean } | { readonly ok: false; readonly error: RpcErrorObject };

const API_VERSION = '2.2.0';
/** Solana reports a node as unhealthy when it is this many slots behind. */
export const HEALTH_SLOT_DISTANCE = 128;
export const U64_MAX = 18446744073709551615n;
export const MAX_BASE58_ACCOUNT_BYTES = 128;
const BLOCKHASH_VALID_SLOTS = 150;
export const FINALIZED_DEPTH = 32;
const WEI_PER_LAMPORT = 1_000_000_000n;

function rpcError(code: number, message: string, data?: unknown): XError {
  return new XError({ code: 'TESTKIT_RPC_CALL_ERROR', category: 'config', message, context: { rpcCode: code, rpcData: data } });
}

export function invalidParams(detail: string): XError {
  return rpcError(RPC_ERROR_CODES.invalidParams, `Invalid params: ${detail}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function shown(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}

function paramAt(params: readonly unknown[], index: number): unknown {
  return params[index];
}

export function requireCount(params: readonly unknown[], min: number, max: number): void {
  if (params.length < min) throw invalidParams(`expected at least ${min} parameter${min === 1 ? '' : 's'}, got ${params.length}`);
  if (params.length > max) throw invalidParams(`expected at most ${max} parameter${max === 1 ? '' : 's'}, got ${params.length}`);
}

export function config(params: readonly unknown[], index: number): Record<string, unknown> {
  const value = paramAt(params, index);
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw invalidParams(`parameter ${index} must be a configuration object`);
  return value;
}

export function address(value: unknown): string {
  // Solana's own wording for an unparseable public key or signature.
  if (decodeAddress(value) === undefined) throw rpcError(RPC_ERROR_CODES.invalidParams, 'Invalid param: Invalid');
  return value as string;
}

export function signature(value: unknown): string {
  if (!isSignature(value)) throw rpcError(RPC_ERROR_CODES.invalidParams, 'Invalid param: Invalid');
  return value;
}

export function checkCommitment(options: Record<string, unknown>, key = 'commitment'): string | undefined {
  const value = options[key];
  if (value === undefined || value === null) return undefined;
  if (value !== 'processed' && value !== 'confirmed' && value !== 'finalized') {
    throw invalidParams(`unknown variant \`${shown(value)}\`, expected one of \`processed\`, \`confirmed\`, \`finalized\``);
  }
  return value;
}

function optionalInteger(options: Record<string, unknown>, key: string): number | undefined {
  const value = options[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw invalidParams(`${key} must be an integer >= 0`);
  return value;
}

function checkMinContextSlot(options: Record<string, unknown>, view: CallView): void {
  const min = optionalInteger(options, 'minContextSlot');
  if (min !== undefined && view.slot < min) {
    throw rpcError(RPC_ERROR_CODES.minContextSlotNotReached, 'Minimum context slot has not been reached', { contextSlot: view.slot });
  }
}

function withContext(view: CallView, value: unknown): unknown {
  return { context: { apiVersion: API_VERSION, slot: view.slot }, value };
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

// ---- lies -------------------------------------------------------------------------------------

function alteredLamports(lamports: number, lie: Random): number {
  return lamports + lie.int(1, 1_000_000);
}

function alteredBytes(data: Uint8Array, lie: Random): Uint8Array {
  if (data.length === 0) return data;
  const out = data.slice();
  const index = lie.int(0, out.length - 1);
  out[index] = (out[index] as number) ^ lie.int(1, 255);
  return out;
}

// ---- methods ----------------------------------------------------------------------------------

type Handler = (params: readonly unknown[], view: CallView) => { result: unknown; lied: boolean };

function getSlot(params: readonly unknown[], view: CallView): { result: unknown; lied: boolean } {
  requireCount(params, 0, 1);
  const options = config(params, 0);
  checkCommitment(options);
  checkMinContextSlot(options, view);
  return { result: view.slot, lied: false };
}

function getBalance(params: readonly unknown[], view: CallView): { result: unknown; lied: boolean } {
  requireCount(params, 1, 2);
  const key = address(params[0]);
  const options = config(params, 1);
  checkCommitment(options);
  checkMinContextSlot(options, view);
  const lamports = view.chain.account(key, view.slot)?.lamports ?? 0;
  if (view.lie === undefined) return { result: withContext(view, lamports), lied: false };
  return { result: withContext(view, alteredLamports(lamports, view.lie)), lied: true };
}

export function encodeAccountData(data: Uint8Array, encoding: string): unknown {
  switch (encoding) {
    case 'base64':
    case 'jsonParsed':
      // No parser is known for simulated accounts: real nodes fall back to base64 for such data.
      return [base64(data), 'base64'];
    case 'base58':
    case 'binary':
      if (data.length > MAX_BASE58_ACCOUNT_BYTES) {
        throw rpcError(
          RPC_ERROR_CODES.invalidRequest,
          'Encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding.',
        );
      }
      return encoding === 'binary' ? encodeBase58(data) : [encodeBase58(data), 'base58'];
    case 'base64+zstd':
      throw invalidParams('the simulated endpoint does not support base64+zstd, use base64');
    default:
      throw invalidParams(
        `unknown variant \`${encoding}\`, expected one of \`binary\`, \`base58\`, \`base64\`, \`jsonParsed\`, \`base64+zstd\``,
      );
  }
}

function getAccountInfo(params: readonly unknown[], view: CallView): { result: unknown; lied: boolean } {
  requireCount(params, 1, 2);
  const key = address(params[0]);
  const options = config(params, 1);
  checkCommitment(options);
  const encoding = options.encoding ?? 'base64';
  if (typeof encoding !== 'string') throw invalidParams('encoding must be a string');
  let slice: { offset: number; length: number } | undefined;
  if (options.dataSlice !== undefined && options.dataSlice !== null) {
    if (!isRecord(options.dataSlice)) throw invalidParams('dataSlice must be { offset, length }');
    const offset = optionalInteger(options.dataSlice, 'offset');
    const length = optionalInteger(options.dataSlice, 'length');
    if (offset === undefined || length === undefined) throw invalidParams('dataSlice needs both offset and length');
    slice = { offset, length };
  }
  checkMinContextSlot(options, view);
  const account = view.chain.account(key, view.slot);
  if (account === null) return { result: withContext(view, null), lied: false };
  let shown: SimulatedAccount = account;
  if (view.lie !== undefined)
    shown = { ...account, lamports: alteredLamports(account.lamports, view.lie), data: alteredBytes(account.data, view.lie) };
  const data = slice === undefined ? shown.data : shown.data.subarray(slice.offset, slice.offset + slice.length);
  const value = {
    data: encodeAccountData(data, encoding),
    executable: shown.executable,
    lamports: shown.lamports,
    owner: shown.owner,
    rentEpoch: U64_MAX,
    space: account.data.length,
  };
  return { result: withContext(view, value), lied: view.lie !== undefined };
}

function transactionMessageJson(transaction: SimulatedTransaction): unknown {
  const { transaction: tx } = transaction;
  const message: Record<string, unknown> = {
    accountKeys: tx.accountKeys,
    header: tx.header,
    instructions: tx.instructions.map((instruction) => ({
      accounts: instruction.accounts,
      data: encodeBase58(instruction.data),
      programIdIndex: instruction.programIdIndex,
      stackHeight: null,
    })),
    recentBlockhash: tx.recentBlockhash,
  };
  if (tx.version === 0) message.addressTableLookups = tx.addressTableLookups;
  return message;
}

function transactionMessageParsed(transaction: SimulatedTransaction): unknown {
  const { transaction: tx } = transaction;
  const keyAt = (index: number): string => tx.accountKeys[index] ?? `lookup#${index - tx.accountKeys.length}`;
  const message: Record<string, unknown> = {
    accountKeys: tx.accountKeys.map((pubkey, index) => ({ pubkey, ...accountRole(tx, index), source: 'transaction' })),
    instructions: tx.instructions.map((instruction) => {
      const programId = keyAt(instruction.programIdIndex);
      const lamports = programId === SYSTEM_PROGRAM_ID ? readSystemTransfer(instruction.data) : undefined;
      if (lamports !== undefined && instruction.accounts.length >= 2) {
        const info = { destination: keyAt(instruction.accounts[1] as number), lamports, source: keyAt(instruction.accounts[0] as number) };
        return { parsed: { info, type: 'transfer' }, program: 'system', programId, stackHeight: null };
      }
      return { accounts: instruction.accounts.map(keyAt), data: encodeBase58(instruction.data), programId, stackHeight: null };
    }),
    recentBlockhash: tx.recentBlockhash,
  };
  if (tx.version === 0) message.addressTableLookups = tx.addressTableLookups;
  return message;
}

function getTransaction(params: readonly unknown[], view: CallView): { result: unknown; lied: boolean } {
  requireCount(params, 1, 2);
  const sig = signature(params[0]);
  // The legacy form passes the encoding itself as the second parameter.
  const options = typeof params[1] === 'string' ? { encoding: params[1] } : config(params, 1);
  if (checkCommitment(options) === 'processed') throw invalidParams('Method does not support commitment below `confirmed`');
  const encoding = options.encoding ?? 'json';
  if (encoding !== 'json' && encoding !== 'jsonParsed' && encoding !== 'base64' && encoding !== 'base58') {
    throw invalidParams(`unknown variant \`${shown(encoding)}\`, expected one of \`json\`, \`jsonParsed\`, \`base58\`, \`base64\``);
  }
  const maxVersion = options.maxSupportedTransactionVersion;
  if (maxVersion !== undefined && maxVersion !== null && maxVersion !== 0) throw invalidParams('maxSupportedTransactionVersion must be 0');

  const landed = view.chain.transactionAt(sig, view.slot);
  if (landed === null) return { result: null, lied: false };
  if (landed.transaction.version === 0 && maxVersion !== 0) {
    throw rpcError(
      RPC_ERROR_CODES.unsupportedTransactionVersion,
      'Transaction version (0) is not supported by the requesting client. Please try the request again with the following configuration parameter: "maxSupportedTransactionVersion": 0',
    );
  }
  let fee = landed.fee;
  let postBalances = [...landed.postBalances];
  if (view.lie !== undefined) {
    const delta = view.lie.int(1, 1_000_000);
    fee += view.lie.int(1, 5000);
    postBalances = postBalances.map((balance, index) =>
      index === 0 ? Math.max(0, balance - delta) : index === 1 ? balance + delta : balance,
    );
  }
  let transaction: unknown;
  if (encoding === 'json') transaction = { message: transactionMessageJson(landed), signatures: landed.transaction.signatures };
  else if (encoding === 'jsonParsed')
    transaction = { message: transactionMessageParsed(landed), signatures: landed.transaction.signatures };
  else if (encoding === 'base64') transaction = [base64(landed.wire), 'base64'];
  else transaction = [encodeBase58(landed.wire), 'base58'];
  const result: Record<string, unknown> = {
    blockTime: landed.blockTime,
    meta: {
      computeUnitsConsumed: landed.computeUnitsConsumed,
      err: landed.err,
      fee,
      innerInstructions: [],
      loadedAddresses: { readonly: [], writable: [] },
      logMessages: landed.logMessages,
      postBalances,
      postTokenBalances: [],
      preBalances: landed.preBalances,
      preTokenBalances: [],
      rewards: [],
      status: landed.err === null ? { Ok: null } : { Err: landed.err },
    },
    slot: landed.slot,
    transaction,
  };
  if (maxVersion === 0) result.version = landed.transaction.version;
  return { result, lied: view.lie !== undefined };
}

function getSignaturesForAddress(params: readonly unknown[], view: CallView): { result: unknown; lied: boolean } {
  requireCount(params, 1, 2);
  const key = address(params[0]);
  const options = config(params, 1);
  if (checkCommitment(options) === 'processed') throw invalidParams('Method does not support commitment below `confirmed`');
  const limit = optionalInteger(options, 'limit') ?? 1000;
  if (limit < 1 || limit > 1000) throw invalidParams('Invalid limit; max 1000');
  const before = options.before === undefined || options.before === null ? undefined : signature(options.before);
  const until = options.until === undefined || options.until === null ? undefined : signature(options.until);
  checkMinContextSlot(options, view);

  let list = view.chain.signaturesAt(key, view.slot);
  if (before !== undefined) {
    const index = list.findIndex((transaction) => transaction.signature === before);
    // An unknown `before` signature leaves nothing older to list.
    list = index < 0 ? [] : list.slice(index + 1);
  }
  if (until !== undefined) {
    const index = list.findIndex((transaction) => transaction.signature === until);
    if (index >= 0) list = list.slice(0, index);
  }
  const entries = list.slice(0, limit).map((transaction) => ({
    blockTime: transaction.blockTime,
    confirmationStatus: transaction.slot <= view.slot - FINALIZED_DEPTH ? 'finalized' : 'confirmed',
    err: transaction.err,
    memo: null,
    signature: transaction.signature,
    slot: transaction.slot,
  }));
  if (view.lie === undefined) return { result: entries, lied: false };
  const forged = {
    blockTime: view.chain.blockTime(view.slot),
    confirmationStatus: 'confirmed',
    err: null,
    memo: null,
    signature: encodeBase58(view.lie.bytes(64)),
    slot: view.slot,
  };
  // A liar hides the newest transaction behind one that never happened.
  if (entries.length > 0) entries[0] = forged;
  else entries.push(forged);
  return { result: entries, lied: true };
}

/** At most this many signatures per `getSignatureStatuses` call, as on Solana. */
const MAX_SIGNATURE_STATUSES = 256;

function getSignatureStatuses(params: readonly unknown[], view: CallView): { result: unknown; lied: boolean } {
  requireCount(params, 1, 2);
  const list = params[0];
  if (!Array.isArray(list)) throw invalidParams('parameter 0 must be an array of signatures');
  if (list.length > MAX_SIGNATURE_STATUSES) {
    throw invalidParams(`Too many inputs provided; max ${MAX_SIGNATURE_STATUSES}`);
  }
  const signatures = list.map((entry) => signature(entry));
  const options = config(params, 1);
  if (options.searchTransactionHistory !== undefined && typeof options.searchTransactionHistory !== 'boolean') {
    throw invalidParams('searchTransactionHistory must be a boolean');
  }
  // The simulated chain keeps its whole retained history at hand: the search flag changes nothing here.
  const statuses = signatures.map((sig) => {
    const landed = view.chain.transactionAt(sig, view.slot);
    if (landed === null) return null;
    const depth = view.slot - landed.slot;
    const finalized = depth >= FINALIZED_DEPTH;
    return {
      confirmationStatus: finalized ? 'finalized' : depth >= 1 ? 'confirmed' : 'processed',
      confirmations: finalized ? null : depth,
      err: landed.err,
      slot: landed.slot,
      status: landed.err === null ? { Ok: null } : { Err: landed.err },
    };
  });
  return { result: withContext(view, statuses), lied: false };
}

function getLatestBlockhash(params: readonly unknown[], view: CallView): { result: unknown; lied: boolean } {
  requireCount(params, 0, 1);
  const options = config(params, 0);
  checkCommitment(options);
  checkMinContextSlot(options, view);
  const blockhash = view.lie === undefined ? view.chain.blockhash(view.slot) : encodeBase58(view.lie.bytes(32));
  // The simulated chain skips no slot, so block height equals slot.
  return {
    result: withContext(view, { blockhash, lastValidBlockHeight: view.slot + BLOCKHASH_VALID_SLOTS }),
    lied: view.lie !== undefined,
  };
}

function decodeTransaction(text: unknown, encoding: unknown): Uint8Array {
  if (typeof text !== 'string' || text.length === 0) throw invalidParams('the transaction must be a non-empty string');
  if (encoding === undefined || encoding === null || encoding === 'base58') {
    const bytes = decodeBase58(text);
    if (bytes === undefined) throw invalidParams('invalid base58 encoding');
    return bytes;
  }
  if (encoding === 'base64') {
    if (!BASE64_PATTERN.test(text)) throw invalidParams('invalid base64 encoding');
    return new Uint8Array(Buffer.from(text, 'base64'));
  }
  throw invalidParams(`unsupported encoding: ${shown(encoding)}. Supported encodings: base58, base64`);
}

function sendTransaction(params: readonly unknown[], view: CallView): { result: unknown; lied: boolean } {
  requireCount(params, 1, 2);
  const options = config(params, 1);
  const bytes = decodeTransaction(params[0], options.encoding);
  checkCommitment(options, 'preflightCommitment');
  optionalInteger(options, 'maxRetries');
  if (options.skipPreflight !== undefined && typeof options.skipPreflight !== 'boolean')
    throw invalidParams('skipPreflight must be a boolean');
  checkMinContextSlot(options, view);
  const parsed = parseTransaction(bytes);
  if (typeof parsed === 'string') throw invalidParams(`invalid transaction: ${parsed}`);
  if (options.skipPreflight !== true && !view.chain.knows(parsed.signatures[0] as string)) {
    const payer = view.chain.account(parsed.accountKeys[0] as string, view.slot);
    if (payer === null || payer.lamports < 5000 * parsed.header.numRequiredSignatures) {
      throw rpcError(
        RPC_ERROR_CODES.sendTransactionPreflightFailure,
        'Transaction simulation failed: Attempt to debit an account but found no record of a prior credit.',
        {
          accounts: null,
          err: 'AccountNotFound',
          innerInstructions: null,
          logs: [],
          replacementBlockhash: null,
          returnData: null,
          unitsConsumed: 0,
        },
      );
    }
  }
  const sig = view.submit(bytes);
  if (view.lie === undefined) return { result: sig, lied: false };
  return { result: encodeBase58(view.lie.bytes(64)), lied: true };
}

function getHealth(params: readonly unknown[], view: CallView): { result: unknown; lied: boolean } {
  requireCount(params, 0, 0);
  const behind = view.chain.slot() - view.slot;
  if (behind > HEALTH_SLOT_DISTANCE) {
    throw rpcError(RPC_ERROR_CODES.nodeUnhealthy, `Node is behind by ${behind} slots`, { numSlotsBehind: behind });
  }
  return { result: 'ok', lied: false };
}

function hex(value: number | bigint): string {
  return `0x${value.toString(16)}`;
}

function ethChainId(params: readonly unknown[], view: CallView): { result: unknown; lied: boolean } {
  requireCount(params, 0, 0);
  return { result: hex(view.chain.evmChainId), lied: false };
}

function ethBlockNumber(params: readonly unknown[], view: CallView): { result: unknown; lied: boolean } {
  requireCount(params, 0, 0);
  return { result: hex(view.slot), lied: false };
}

function ethGetBalance(params: readonly unknown[], view: CallView): { result: unknown; lied: boolean } {
  requireCount(params, 1, 2);
  const evmAddress = params[0];
  if (typeof evmAddress !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(evmAddress)) {
    throw invalidParams('invalid argument 0: hex string of 20 bytes expected');
  }
  const tag = params[1] ?? 'latest';
  let slot: number;
  if (tag === 'latest' || tag === 'pending' || tag === 'safe' || tag === 'finalized') slot = view.slot;
  else if (tag === 'earliest') slot = view.chain.oldestSlot();
  else if (typeof tag === 'string' && /^0x(?:0|[1-9a-fA-F][0-9a-fA-F]*)$/.test(tag)) slot = Number.parseInt(tag.slice(2), 16);
  else throw invalidParams('invalid argument 1: hex number or block tag expected');
  if (slot > view.slot) throw rpcError(RPC_ERROR_CODES.evmHeaderNotFound, 'header not found');
  const solanaAddress = view.chain.addressOfEvm(evmAddress);
  const lamports =
    solanaAddress === undefined ? 0 : (view.chain.account(solanaAddress, Math.max(slot, view.chain.oldestSlot()))?.lamports ?? 0);
  const shown = view.lie === undefined ? lamports : alteredLamports(lamports, view.lie);
  return { result: hex(BigInt(shown) * WEI_PER_LAMPORT), lied: view.lie !== undefined };
}

const HANDLERS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ['getSlot', getSlot],
  ['getBalance', getBalance],
  ['getAccountInfo', getAccountInfo],
  ['getTransaction', getTransaction],
  ['getSignaturesForAddress', getSignaturesForAddress],
  ['getSignatureStatuses', getSignatureStatuses],
  ['getLatestBlockhash', getLatestBlockhash],
  ['sendTransaction', sendTransaction],
  ['getHealth', getHealth],
  ['eth_chainId', ethChainId],
  ['eth_blockNumber', ethBlockNumber],
  ['eth_getBalance', ethGetBalance],
]);

/** The methods the simulated endpoints implement. */
export const RPC_METHODS: readonly string[] = Object.freeze([...HANDLERS.keys()]);

/** Answers one JSON-RPC call against the endpoint's view of the chain. Never throws. */
export function executeCall(method: string, params: unknown, view: CallView): CallResult {
  const handler = HANDLERS.get(method);
  if (handler === undefined) return { ok: false, error: { code: RPC_ERROR_CODES.methodNotFound, message: 'Method not found' } };
  if (params !== undefined && params !== null && !Array.isArray(params)) {
    return { ok: false, error: { code: RPC_ERROR_CODES.invalidParams, message: 'Invalid params: invalid type: map, expected a sequence' } };
  }
  try {
    const { result, lied } = handler((params ?? []) as readonly unknown[], view);
    return { ok: true, result, lied };
  } catch (error) {
    if (isXError(error, 'TESTKIT_RPC_CALL_ERROR')) {
      const { rpcCode, rpcData } = error.context as { rpcCode: number; rpcData?: unknown };
      return {
        ok: false,
        error: rpcData === undefined ? { code: rpcCode, message: error.message } : { code: rpcCode, message: error.message, data: rpcData },
      };
    }
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, error: { code: RPC_ERROR_CODES.internalError, message: `Internal error: ${detail}` } };
  }
}
