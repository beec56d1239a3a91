import { decodeBase58, encodeBase58 } from './base58.js';

// The Solana transaction wire format (legacy and v0 messages), enough to read what a client sends
// and to build the transactions the simulated chain produces.

interface MessageHeader {
  readonly numRequiredSignatures: number;
  readonly numReadonlySignedAccounts: number;
  readonly numReadonlyUnsignedAccounts: number;
}

interface CompiledInstruction {
  readonly programIdIndex: number;
  readonly accounts: readonly number[];
  readonly data: Uint8Array;
}

interface AddressTableLookup {
  readonly accountKey: string;
  readonly writableIndexes: readonly number[];
  readonly readonlyIndexes: readonly number[];
}

export interface SolanaWireTransaction {
  readonly signatures: readonly string[];
  readonly version: 'legacy' | 0;
  readonly header: MessageHeader;
  readonly accountKeys: readonly string[];
  readonly recentBlockhash: string;
  readonly instructions: readonly CompiledInstruction[];
  readonly addressTableLookups: readonly AddressTableLookup[];
}

const SIGNATURE_BYTES = 64;
const KEY_BYTES = 32;

class Reader {
  private offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.offset === this.bytes.length;
  }

  u8(): number {
    const value = this.bytes[this.offset];
    if (value === undefined) throw new RangeError('truncated');
    this.offset++;
    return value;
  }

  compactU16(): number {
    let value = 0;
    for (let shift = 0; shift <= 14; shift += 7) {
      const byte = this.u8();
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw new RangeError('compact-u16 too long');
  }

  take(length: number): Uint8Array {
    if (this.offset + length > this.bytes.length) throw new RangeError('truncated');
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }
}

class Writer {
  private readonly parts: number[] = [];

  u8(value: number): void {
    this.parts.push(value & 0xff);
  }

  compactU16(value: number): void {
    let rest = value;
    for (;;) {
      const byte = rest & 0x7f;
      rest >>>= 7;
      if (rest === 0) {
        this.parts.push(byte);
        return;
      }
      this.parts.push(byte | 0x80);
    }
  }

  bytes(value: Uint8Array): void {
    for (const byte of value) this.parts.push(byte);
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

function key(bytes: Uint8Array): string {
  return encodeBase58(bytes);
}

/**
 * Reads a serialized transaction; returns a reason string when the bytes are not a well-formed one
 * (what a real node reports as "failed to deserialize" or "failed to sanitize").
 */
export function parseTransaction(bytes: Uint8Array): SolanaWireTransaction | string {
  try {
    const reader = new Reader(bytes);
    const signatureCount = reader.compactU16();
    if (signatureCount === 0) return 'transaction has no signatures';
    const signatures: string[] = [];
    for (let i = 0; i < signatureCount; i++) signatures.push(key(reader.take(SIGNATURE_BYTES)));
    let first = reader.u8();
    let version: 'legacy' | 0 = 'legacy';
    if ((first & 0x80) !== 0) {
      if ((first & 0x7f) !== 0) return `unsupported message version ${first & 0x7f}`;
      version = 0;
      first = reader.u8();
    }
    const header: MessageHeader = {
      numRequiredSignatures: first,
      numReadonlySignedAccounts: reader.u8(),
      numReadonlyUnsignedAccounts: reader.u8(),
    };
    const keyCount = reader.compactU16();
    const accountKeys: string[] = [];
    for (let i = 0; i < keyCount; i++) accountKeys.push(key(reader.take(KEY_BYTES)));
    const recentBlockhash = key(reader.take(KEY_BYTES));
    const instructionCount = reader.compactU16();
    const instructions: CompiledInstruction[] = [];
    for (let i = 0; i < instructionCount; i++) {
      const programIdIndex = reader.u8();
      const accounts = [...reader.take(reader.compactU16())];
      const data = reader.take(reader.compactU16()).slice();
      instructions.push({ programIdIndex, accounts, data });
    }
    const addressTableLookups: AddressTableLookup[] = [];
    if (version === 0) {
      const lookupCount = reader.compactU16();
      for (let i = 0; i < lookupCount; i++) {
        const accountKey = key(reader.take(KEY_BYTES));
        const writableIndexes = [...reader.take(reader.compactU16())];
        const readonlyIndexes = [...reader.take(reader.compactU16())];
        addressTableLookups.push({ accountKey, writableIndexes, readonlyIndexes });
      }
    }
    if (!reader.done) return 'trailing bytes after the message';
    const problem = sanitize(signatures.length, header, accountKeys.length, instructions, addressTableLookups);
    if (problem !== undefined) return problem;
    return { signatures, version, header, accountKeys, recentBlockhash, instructions, addressTableLookups };
  } catch {
    return 'failed to deserialize';
  }
}

function sanitize(
  signatureCount: number,
  header: MessageHeader,
  keyCount: number,
  instructions: readonly CompiledInstruction[],
  lookups: readonly AddressTableLookup[],
): string | undefined {
  if (signatureCount !== header.numRequiredSignatures) return 'signature count does not match the message header';
  if (header.numRequiredSignatures + header.numReadonlyUnsignedAccounts > keyCount) return 'message header exceeds the account keys';
  if (header.numReadonlySignedAccounts >= header.numRequiredSignatures) return 'fee payer must be writable';
  const loaded = lookups.reduce((sum, lookup) => sum + lookup.writableIndexes.length + lookup.readonlyIndexes.length, 0);
  const total = keyCount + loaded;
  for (const instruction of instructions) {
    if (instruction.programIdIndex === 0 || instruction.programIdIndex >= keyCount) return 'invalid program id index';
    if (instruction.accounts.some((index) => index >= total)) return 'invalid account index';
  }
  return undefined;
}

export function serializeTransaction(transaction: SolanaWireTransaction): Uint8Array {
  const writer = new Writer();
  writer.compactU16(transaction.signatures.length);
  for (const signature of transaction.signatures) writer.bytes(decodeBase58(signature) ?? new Uint8Array(SIGNATURE_BYTES));
  if (transaction.version === 0) writer.u8(0x80);
  writer.u8(transaction.header.numRequiredSignatures);
  writer.u8(transaction.header.numReadonlySignedAccounts);
  writer.u8(transaction.header.numReadonlyUnsignedAccounts);
  writer.compactU16(transaction.accountKeys.length);
  for (const accountKey of transaction.accountKeys) writer.bytes(decodeBase58(accountKey) ?? new Uint8Array(KEY_BYTES));
  writer.bytes(decodeBase58(transaction.recentBlockhash) ?? new Uint8Array(KEY_BYTES));
  writer.compactU16(transaction.instructions.length);
  for (const instruction of transaction.instructions) {
    writer.u8(instruction.programIdIndex);
    writer.compactU16(instruction.accounts.length);
    for (const index of instruction.accounts) writer.u8(index);
    writer.compactU16(instruction.data.length);
    writer.bytes(instruction.data);
  }
  if (transaction.version === 0) {
    writer.compactU16(transaction.addressTableLookups.length);
    for (const lookup of transaction.addressTableLookups) {
      writer.bytes(decodeBase58(lookup.accountKey) ?? new Uint8Array(KEY_BYTES));
      writer.compactU16(lookup.writableIndexes.length);
      for (const index of lookup.writableIndexes) writer.u8(index);
      writer.compactU16(lookup.readonlyIndexes.length);
      for (const index of lookup.readonlyIndexes) writer.u8(index);
    }
  }
  return writer.finish();
}

/** Whether the account at `index` of the static keys is a signer / is writable, from the header rules. */
export function accountRole(transaction: SolanaWireTransaction, index: number): { signer: boolean; writable: boolean } {
  const { numRequiredSignatures, numReadonlySignedAccounts, numReadonlyUnsignedAccounts } = transaction.header;
  const signer = index < numRequiredSignatures;
  const writable = signer
    ? index < numRequiredSignatures - numReadonlySignedAccounts
    : index < transaction.accountKeys.length - numReadonlyUnsignedAccounts;
  return { signer, writable };
}

export const SYSTEM_PROGRAM_ID = '11111111111111111111111111111111';
const SYSTEM_TRANSFER = 2;

/** The System program's `Transfer` instruction data: u32 LE tag 2, then u64 LE lamports. */
export function systemTransferData(lamports: number): Uint8Array {
  const data = new Uint8Array(12);
  const view = new DataView(data.buffer);
  view.setUint32(0, SYSTEM_TRANSFER, true);
  view.setBigUint64(4, BigInt(lamports), true);
  return data;
}

/** The lamports of a System `Transfer` instruction's data, or `undefined` for any other instruction. */
export function readSystemTransfer(data: Uint8Array): number | undefined {
  if (data.length !== 12) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint32(0, true) !== SYSTEM_TRANSFER) return undefined;
  const lamports = view.getBigUint64(4, true);
  return lamports <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(lamports) : undefined;
}
