import { createHash } from 'node:crypto';
import { XError } from '@x/errors';
import type { Random } from '../random.js';
import { decodeAddress, encodeBase58 } from './base58.js';
import {
  SYSTEM_PROGRAM_ID,
  parseTransaction,
  readSystemTransfer,
  serializeTransaction,
  systemTransferData,
  type SolanaWireTransaction,
} from './wire.js';

/** The state of one account at some slot. `data` is a copy: changing it changes nothing. */
export interface SimulatedAccount {
  readonly lamports: number;
  readonly data: Uint8Array;
  readonly owner: string;
  readonly executable: boolean;
}

/** A transaction as it landed on the simulated chain. */
export interface SimulatedTransaction {
  readonly signature: string;
  readonly slot: number;
  /** Unix seconds of the slot. */
  readonly blockTime: number;
  /** The serialized transaction, as a client would have sent it. */
  readonly wire: Uint8Array;
  readonly transaction: SolanaWireTransaction;
  readonly fee: number;
  /** Lamports of each static account key before and after, in key order. */
  readonly preBalances: readonly number[];
  readonly postBalances: readonly number[];
  /** `null` on success; otherwise Solana's error form, e.g. `{ InstructionError: [0, { Custom: 1 }] }`. */
  readonly err: unknown;
  readonly logMessages: readonly string[];
  readonly computeUnitsConsumed: number;
}

export interface SimulatedChainOptions {
  /** Slot the chain is at when the cluster starts. Default 300_000_000. */
  readonly startSlot?: number;
  /** Wall-clock time (ms since the epoch) of `startSlot`, for `blockTime`. Default 2025-01-01T00:00:00Z. */
  readonly startTimeMs?: number;
  /** System-owned wallet accounts that send each other lamports. Default 16. */
  readonly wallets?: number;
  /** Program-owned data accounts whose bytes get rewritten. Default 4. */
  readonly dataAccounts?: number;
  /** Mean number of simulated transactions per slot (Poisson). Default 2. */
  readonly transactionsPerSlot?: number;
  /** Slots between `sendTransaction` and the transaction landing, drawn uniformly. Default [1, 3]. */
  readonly confirmationSlots?: readonly [number, number];
  /** Slots of history kept (older transactions and account versions are forgotten). Default 10_000. */
  readonly retainSlots?: number;
  /** What `eth_chainId` answers. Default 31337. */
  readonly evmChainId?: number;
}

/** Control of the shared simulated chain, for tests, demos and benchmarks. */
export interface SimulatedChain {
  /** The current (tip) slot. */
  readonly slot: () => number;
  /** The oldest slot whose state is still known (lagging endpoints never serve older state). */
  readonly oldestSlot: () => number;
  /** Produces `slots` slots (default 1) with their simulated activity; returns the new tip slot. */
  readonly advance: (slots?: number) => number;
  /** Addresses of the simulated wallets (system-owned, empty data). */
  readonly wallets: () => readonly string[];
  /** Addresses of the simulated data accounts (owned by `programId`). */
  readonly dataAccounts: () => readonly string[];
  /** The simulated program that owns the data accounts. */
  readonly programId: string;
  /** The account as of `atSlot` (default: the tip), or `null` when it does not exist then. */
  readonly account: (address: string, atSlot?: number) => SimulatedAccount | null;
  /** Creates or replaces an account at the tip slot; `lamports: 0` closes it. */
  readonly setAccount: (address: string, account: { lamports: number; data?: Uint8Array; owner?: string; executable?: boolean }) => void;
  /**
   * Lands a System transfer from `from` (fee payer and signer) to `to` in the tip slot. A transfer
   * larger than the balance lands as a failed transaction (fee charged), as on a real chain.
   */
  readonly transfer: (transfer: { from: string; to: string; lamports: number }) => SimulatedTransaction;
  /**
   * Queues a serialized transaction to land `delaySlots` slots after the tip (default: drawn from
   * `confirmationSlots`; 0 lands it now). Returns its first signature. Submitting the same
   * signature again changes nothing. A fee payer that cannot pay when it lands drops it.
   */
  readonly submitTransaction: (wire: Uint8Array, options?: { delaySlots?: number }) => string;
  /** A landed transaction, or `null` (unknown, still pending, dropped or forgotten). */
  readonly transaction: (signature: string) => SimulatedTransaction | null;
  /** Signatures of the landed transactions that touched `address`, newest first. */
  readonly signatures: (address: string) => readonly string[];
  /** The blockhash of a slot (default: the tip). */
  readonly blockhash: (slot?: number) => string;
  /** Unix seconds of a slot. */
  readonly blockTime: (slot: number) => number;
  /** The 20-byte hex address under which `eth_getBalance` reports a Solana account. */
  readonly evmAddressOf: (address: string) => string;
  readonly evmChainId: number;
}

/**
 * A change of the chain, in the order it happened (so in slot order): a slot began, a transaction
 * landed, an account was written (`state` null: closed). What the WebSocket subscriptions are made of.
 */
export type ChainEvent =
  | { readonly kind: 'slot'; readonly slot: number }
  | { readonly kind: 'transaction'; readonly slot: number; readonly transaction: SimulatedTransaction }
  | { readonly kind: 'account'; readonly slot: number; readonly address: string; readonly state: SimulatedAccount | null };

/** What the RPC layer reads: the public control plus history queries. */
export interface ChainState extends SimulatedChain {
  /** Calls `listener` with every change from now on; returns the function that stops it. */
  readonly observe: (listener: (event: ChainEvent) => void) => () => void;
  readonly confirmationSlots: readonly [number, number];
  readonly transactionAt: (signature: string, slot: number) => SimulatedTransaction | null;
  readonly signaturesAt: (address: string, slot: number) => readonly SimulatedTransaction[];
  /** The Solana address behind an EVM address, when it is a known account. */
  readonly addressOfEvm: (evmAddress: string) => string | undefined;
  /** Whether `signature` is known at all (pending or landed), for idempotent submission. */
  readonly knows: (signature: string) => boolean;
}

interface AccountVersion {
  readonly slot: number;
  readonly state: SimulatedAccount | null;
}

interface Pending {
  readonly signature: string;
  readonly landingSlot: number;
  readonly wire: Uint8Array;
  readonly transaction: SolanaWireTransaction;
}

const LAMPORTS_PER_SIGNATURE = 5000;
const PRUNE_EVERY_SLOTS = 64;
const PREFILL_SLOTS = 150;
const BPF_LOADER_UPGRADEABLE = 'BPFLoaderUpgradeab1e11111111111111111111111';
const RENT_LAMPORTS_PER_BYTE = 6960;
const ACCOUNT_OVERHEAD_BYTES = 128;

function invalidArgument(message: string, context: Record<string, unknown> = {}): XError {
  return new XError({ code: 'TESTKIT_INVALID_ARGUMENT', category: 'config', message, context });
}

function requireAddress(name: string, value: unknown): string {
  if (decodeAddress(value) === undefined) throw invalidArgument(`${name} must be a base58 address of 32 bytes`, { [name]: String(value) });
  return value as string;
}

function requireLamports(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(`${name} must be a safe integer >= 0`, { [name]: value });
  }
  return value;
}

function poisson(random: Random, mean: number): number {
  if (mean <= 0) return 0;
  // Knuth's method; means here are small (a handful of transactions per slot).
  const limit = Math.exp(-mean);
  let count = 0;
  let product = random.next();
  while (product > limit) {
    count++;
    product *= random.next();
  }
  return count;
}

function copyAccount(state: SimulatedAccount): SimulatedAccount {
  return { lamports: state.lamports, data: state.data.slice(), owner: state.owner, executable: state.executable };
}

export function createChain(random: Random, options: SimulatedChainOptions & { readonly slotMs: number }): ChainState {
  const startSlot = options.startSlot ?? 300_000_000;
  const startTimeMs = options.startTimeMs ?? Date.UTC(2025, 0, 1);
  const transactionsPerSlot = options.transactionsPerSlot ?? 2;
  const retainSlots = options.retainSlots ?? 10_000;
  const confirmationSlots = options.confirmationSlots ?? [1, 3];
  const evmChainId = options.evmChainId ?? 31337;
  const { slotMs } = options;

  const activity = random.fork('activity');
  const landing = random.fork('landing');
  const manual = random.fork('manual');
  const blockhashSalt = encodeBase58(random.fork('blockhash').bytes(16));
  const addressRandom = random.fork('addresses');
  const newAddress = (): string => encodeBase58(addressRandom.bytes(32));

  const genesisSlot = startSlot - PREFILL_SLOTS;
  let tip = genesisSlot;
  const histories = new Map<string, AccountVersion[]>();
  const landed = new Map<string, SimulatedTransaction>();
  const landedInOrder: SimulatedTransaction[] = [];
  const byAddress = new Map<string, SimulatedTransaction[]>();
  const pending: Pending[] = [];
  const pendingSignatures = new Set<string>();
  const evmIndex = new Map<string, string>();
  const observers = new Set<(event: ChainEvent) => void>();
  const publish = (event: ChainEvent): void => {
    for (const observer of observers) observer(event);
  };

  const programId = newAddress();
  const walletAddresses: string[] = [];
  const dataAddresses: string[] = [];

  function evmAddressOf(address: string): string {
    const bytes = decodeAddress(address);
    if (bytes === undefined) throw invalidArgument('address must be a base58 address of 32 bytes', { address });
    return `0x${Buffer.from(bytes.subarray(0, 20)).toString('hex')}`;
  }

  function latest(address: string): SimulatedAccount | null {
    const history = histories.get(address);
    return history?.[history.length - 1]?.state ?? null;
  }

  function stateAt(address: string, slot: number): SimulatedAccount | null {
    const history = histories.get(address);
    if (history === undefined) return null;
    // The last version written at or before `slot`.
    let low = 0;
    let high = history.length - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if ((history[mid] as AccountVersion).slot <= slot) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found < 0 ? null : (history[found] as AccountVersion).state;
  }

  function write(address: string, state: SimulatedAccount | null): void {
    let history = histories.get(address);
    if (history === undefined) {
      history = [];
      histories.set(address, history);
      evmIndex.set(evmAddressOf(address), address);
    }
    const stored = state === null || state.lamports === 0 ? null : copyAccount(state);
    const last = history[history.length - 1];
    // Several writes in one slot leave the state at the end of that slot.
    if (last?.slot === tip) history[history.length - 1] = { slot: tip, state: stored };
    else history.push({ slot: tip, state: stored });
    if (observers.size > 0) publish({ kind: 'account', slot: tip, address, state: stored === null ? null : copyAccount(stored) });
  }

  function blockhash(slot: number = tip): string {
    return encodeBase58(createHash('sha256').update(`blockhash:${blockhashSalt}:${slot}`).digest());
  }

  function blockTime(slot: number): number {
    return Math.floor((startTimeMs + (slot - startSlot) * slotMs) / 1000);
  }

  function record(transaction: SimulatedTransaction): void {
    landed.set(transaction.signature, transaction);
    landedInOrder.push(transaction);
    for (const address of new Set(transaction.transaction.accountKeys)) {
      let list = byAddress.get(address);
      if (list === undefined) {
        list = [];
        byAddress.set(address, list);
      }
      list.push(transaction);
    }
    if (observers.size > 0) publish({ kind: 'transaction', slot: transaction.slot, transaction });
  }

  /** Executes a transaction in the tip slot; `null` when its fee payer cannot pay (dropped). */
  function execute(wire: Uint8Array, transaction: SolanaWireTransaction): SimulatedTransaction | null {
    const keys = transaction.accountKeys;
    const payer = keys[0] as string;
    const fee = LAMPORTS_PER_SIGNATURE * transaction.header.numRequiredSignatures;
    const payerState = latest(payer);
    if (payerState === null || payerState.lamports < fee) return null;

    const preBalances = keys.map((key) => latest(key)?.lamports ?? 0);
    const scratch = new Map<string, SimulatedAccount | null>();
    const read = (key: string): SimulatedAccount | null => (scratch.has(key) ? (scratch.get(key) ?? null) : latest(key));
    scratch.set(payer, { ...payerState, lamports: payerState.lamports - fee });
    const afterFee = new Map(scratch);

    const logs: string[] = [];
    let err: unknown = null;
    let units = 0;
    for (const [index, instruction] of transaction.instructions.entries()) {
      const program = keys[instruction.programIdIndex] as string;
      logs.push(`Program ${program} invoke [1]`);
      const failure = runInstruction(program, instruction.accounts, instruction.data, keys, read, scratch);
      units += failure === undefined ? unitsOf(program) : 0;
      if (failure !== undefined) {
        logs.push(`Program ${program} failed: ${failure.log}`);
        err = { InstructionError: [index, failure.error] };
        break;
      }
      logs.push(`Program ${program} success`);
    }
    // A failed transaction still pays its fee, and nothing else it did sticks.
    const effects = err === null ? scratch : afterFee;
    for (const [key, state] of effects) write(key, state);

    const signature = transaction.signatures[0] as string;
    const landedTransaction: SimulatedTransaction = {
      signature,
      slot: tip,
      blockTime: blockTime(tip),
      wire,
      transaction,
      fee,
      preBalances,
      postBalances: keys.map((key) => latest(key)?.lamports ?? 0),
      err,
      logMessages: logs,
      computeUnitsConsumed: units,
    };
    record(landedTransaction);
    return landedTransaction;
  }

  function unitsOf(program: string): number {
    if (program === SYSTEM_PROGRAM_ID) return 150;
    return program === programId ? 1200 : 300;
  }

  function runInstruction(
    program: string,
    accounts: readonly number[],
    data: Uint8Array,
    keys: readonly string[],
    read: (key: string) => SimulatedAccount | null,
    scratch: Map<string, SimulatedAccount | null>,
  ): { error: unknown; log: string } | undefined {
    if (program === SYSTEM_PROGRAM_ID) {
      const lamports = readSystemTransfer(data);
      const from = keys[accounts[0] ?? keys.length];
      const to = keys[accounts[1] ?? keys.length];
      // Only static-key transfers are executed; other System instructions are accepted as no-ops.
      if (lamports === undefined || from === undefined || to === undefined) return undefined;
      const source = read(from);
      if (source === null || source.lamports < lamports) return { error: { Custom: 1 }, log: 'custom program error: 0x1' };
      scratch.set(from, { ...source, lamports: source.lamports - lamports });
      const target = read(to);
      scratch.set(
        to,
        target === null
          ? { lamports, data: new Uint8Array(0), owner: SYSTEM_PROGRAM_ID, executable: false }
          : { ...target, lamports: target.lamports + lamports },
      );
      return undefined;
    }
    if (program === programId) {
      // The simulated program's one instruction: [offset, ...bytes] rewrites part of account 0's data.
      const target = keys[accounts[0] ?? keys.length];
      const state = target === undefined ? null : read(target);
      const offset = data[0];
      if (
        target === undefined ||
        state === null ||
        state.owner !== programId ||
        offset === undefined ||
        offset + data.length - 1 > state.data.length
      ) {
        return { error: 'InvalidInstructionData', log: 'invalid instruction data' };
      }
      const next = state.data.slice();
      next.set(data.subarray(1), offset);
      scratch.set(target, { ...state, data: next });
      return undefined;
    }
    return undefined;
  }

  function simulatedSignature(source: Random): string {
    return encodeBase58(source.bytes(64));
  }

  function buildTransfer(source: Random, from: string, to: string, lamports: number): SolanaWireTransaction {
    return {
      signatures: [simulatedSignature(source)],
      version: 'legacy',
      header: { numRequiredSignatures: 1, numReadonlySignedAccounts: 0, numReadonlyUnsignedAccounts: 1 },
      accountKeys: [from, to, SYSTEM_PROGRAM_ID],
      recentBlockhash: blockhash(tip - 1),
      instructions: [{ programIdIndex: 2, accounts: [0, 1], data: systemTransferData(lamports) }],
      addressTableLookups: [],
    };
  }

  function simulateActivity(): void {
    const count = poisson(activity, transactionsPerSlot);
    for (let i = 0; i < count; i++) {
      const funded = walletAddresses.filter((address) => (latest(address)?.lamports ?? 0) > 2 * LAMPORTS_PER_SIGNATURE);
      if (funded.length === 0) return;
      const payer = activity.pick(funded);
      let transaction: SolanaWireTransaction;
      if (dataAddresses.length > 0 && activity.chance(0.3)) {
        const account = activity.pick(dataAddresses);
        const size = latest(account)?.data.length ?? 0;
        if (size < 8) continue;
        const offset = activity.int(0, Math.min(255, size - 8));
        const data = new Uint8Array(9);
        data[0] = offset;
        data.set(activity.bytes(8), 1);
        transaction = {
          signatures: [simulatedSignature(activity)],
          version: 'legacy',
          header: { numRequiredSignatures: 1, numReadonlySignedAccounts: 0, numReadonlyUnsignedAccounts: 1 },
          accountKeys: [payer, account, programId],
          recentBlockhash: blockhash(tip - 1),
          instructions: [{ programIdIndex: 2, accounts: [1], data }],
          addressTableLookups: [],
        };
      } else {
        const others = walletAddresses.filter((address) => address !== payer);
        if (others.length === 0) return;
        const to = activity.pick(others);
        const balance = latest(payer)?.lamports ?? 0;
        const amount = activity.int(1, Math.max(1, Math.floor(balance / 100)));
        transaction = buildTransfer(activity, payer, to, amount);
      }
      execute(serializeTransaction(transaction), transaction);
    }
  }

  function landPending(): void {
    for (let i = 0; i < pending.length;) {
      const item = pending[i] as Pending;
      if (item.landingSlot > tip) {
        i++;
        continue;
      }
      pending.splice(i, 1);
      pendingSignatures.delete(item.signature);
      execute(item.wire, item.transaction);
    }
  }

  function oldestSlot(): number {
    return Math.max(genesisSlot, tip - retainSlots);
  }

  // Pruning runs every few slots; between runs, what is already past the window is hidden here.
  function retained(transaction: SimulatedTransaction | undefined): SimulatedTransaction | null {
    return transaction !== undefined && transaction.slot >= oldestSlot() ? transaction : null;
  }

  function prune(): void {
    const cutoff = oldestSlot();
    let drop = 0;
    while (drop < landedInOrder.length && (landedInOrder[drop] as SimulatedTransaction).slot < cutoff) {
      landed.delete((landedInOrder[drop] as SimulatedTransaction).signature);
      drop++;
    }
    if (drop === 0) return;
    landedInOrder.splice(0, drop);
    for (const [address, list] of byAddress) {
      const keep = list.findIndex((transaction) => transaction.slot >= cutoff);
      if (keep < 0) byAddress.delete(address);
      else if (keep > 0) list.splice(0, keep);
    }
    for (const history of histories.values()) {
      // Keep the newest version at or before the cutoff: it is the state during the retained window.
      let firstKept = 0;
      while (firstKept + 1 < history.length && (history[firstKept + 1] as AccountVersion).slot <= cutoff) firstKept++;
      if (firstKept > 0) history.splice(0, firstKept);
    }
  }

  function advanceOne(): void {
    tip++;
    if (observers.size > 0) publish({ kind: 'slot', slot: tip });
    landPending();
    simulateActivity();
    if (tip % PRUNE_EVERY_SLOTS === 0) prune();
  }

  // Genesis: the program, funded wallets and rent-exempt data accounts.
  const genesis = random.fork('genesis');
  write(programId, { lamports: 1_141_440, data: genesis.bytes(36), owner: BPF_LOADER_UPGRADEABLE, executable: true });
  for (let i = 0; i < (options.wallets ?? 16); i++) {
    const address = newAddress();
    walletAddresses.push(address);
    write(address, {
      lamports: genesis.int(1, 500) * 1_000_000_000 + genesis.int(0, 999_999_999),
      data: new Uint8Array(0),
      owner: SYSTEM_PROGRAM_ID,
      executable: false,
    });
  }
  for (let i = 0; i < (options.dataAccounts ?? 4); i++) {
    const address = newAddress();
    dataAddresses.push(address);
    const size = genesis.int(64, 200);
    write(address, {
      lamports: (ACCOUNT_OVERHEAD_BYTES + size) * RENT_LAMPORTS_PER_BYTE,
      data: genesis.bytes(size),
      owner: programId,
      executable: false,
    });
  }
  // History before startSlot, so that a lagging endpoint has older state to serve from the start.
  while (tip < startSlot) advanceOne();

  const chain: ChainState = {
    programId,
    evmChainId,
    confirmationSlots,
    slot: () => tip,
    oldestSlot,
    advance(slots = 1) {
      if (!Number.isSafeInteger(slots) || slots < 0) throw invalidArgument('advance(slots) needs an integer >= 0', { slots });
      for (let i = 0; i < slots; i++) advanceOne();
      return tip;
    },
    wallets: () => [...walletAddresses],
    dataAccounts: () => [...dataAddresses],
    account(address, atSlot) {
      requireAddress('address', address);
      if (atSlot !== undefined && !Number.isSafeInteger(atSlot)) throw invalidArgument('atSlot must be an integer', { atSlot });
      const state = stateAt(address, Math.min(atSlot ?? tip, tip));
      return state === null ? null : copyAccount(state);
    },
    setAccount(address, account) {
      requireAddress('address', address);
      if (typeof account !== 'object' || account === null) throw invalidArgument('setAccount needs an account object');
      const lamports = requireLamports('lamports', account.lamports);
      const data = account.data ?? new Uint8Array(0);
      if (!(data instanceof Uint8Array)) throw invalidArgument('data must be a Uint8Array');
      const owner = account.owner === undefined ? SYSTEM_PROGRAM_ID : requireAddress('owner', account.owner);
      if (account.executable !== undefined && typeof account.executable !== 'boolean')
        throw invalidArgument('executable must be a boolean');
      write(address, { lamports, data, owner, executable: account.executable ?? false });
    },
    transfer(transfer) {
      if (typeof transfer !== 'object' || transfer === null) throw invalidArgument('transfer needs { from, to, lamports }');
      const from = requireAddress('from', transfer.from);
      const to = requireAddress('to', transfer.to);
      const lamports = requireLamports('lamports', transfer.lamports);
      if (from === to) throw invalidArgument('transfer needs two different accounts', { from });
      const transaction = buildTransfer(manual, from, to, lamports);
      const result = execute(serializeTransaction(transaction), transaction);
      if (result === null) {
        throw invalidArgument('The fee payer cannot pay the transaction fee', {
          from,
          fee: LAMPORTS_PER_SIGNATURE,
          lamports: latest(from)?.lamports ?? 0,
        });
      }
      return result;
    },
    submitTransaction(wire, submitOptions) {
      if (!(wire instanceof Uint8Array)) throw invalidArgument('submitTransaction needs the serialized transaction as a Uint8Array');
      const parsed = parseTransaction(wire);
      if (typeof parsed === 'string') throw invalidArgument(`Not a valid transaction: ${parsed}`, { reason: parsed });
      const delay = submitOptions?.delaySlots ?? landing.int(confirmationSlots[0], confirmationSlots[1]);
      if (!Number.isSafeInteger(delay) || delay < 0) throw invalidArgument('delaySlots must be an integer >= 0', { delaySlots: delay });
      const signature = parsed.signatures[0] as string;
      if (landed.has(signature) || pendingSignatures.has(signature)) return signature;
      const copy = wire.slice();
      if (delay === 0) {
        execute(copy, parsed);
      } else {
        pending.push({ signature, landingSlot: tip + delay, wire: copy, transaction: parsed });
        pendingSignatures.add(signature);
      }
      return signature;
    },
    transaction: (signature) => retained(landed.get(signature)),
    signatures(address) {
      requireAddress('address', address);
      const cutoff = oldestSlot();
      return (byAddress.get(address) ?? [])
        .filter((transaction) => transaction.slot >= cutoff)
        .map((transaction) => transaction.signature)
        .reverse();
    },
    blockhash(slot) {
      if (slot !== undefined && !Number.isSafeInteger(slot)) throw invalidArgument('slot must be an integer', { slot });
      return blockhash(slot);
    },
    blockTime,
    evmAddressOf,
    transactionAt(signature, slot) {
      const transaction = retained(landed.get(signature));
      return transaction !== null && transaction.slot <= slot ? transaction : null;
    },
    signaturesAt(address, slot) {
      const list = byAddress.get(address) ?? [];
      const cutoff = oldestSlot();
      const out: SimulatedTransaction[] = [];
      for (let i = list.length - 1; i >= 0; i--) {
        const transaction = list[i] as SimulatedTransaction;
        if (transaction.slot < cutoff) break;
        if (transaction.slot <= slot) out.push(transaction);
      }
      return out;
    },
    observe(listener) {
      observers.add(listener);
      return () => observers.delete(listener);
    },
    addressOfEvm: (evmAddress) => evmIndex.get(evmAddress.toLowerCase()),
    knows: (signature) => landed.has(signature) || pendingSignatures.has(signature),
  };
  return chain;
}
