import {
  RAIDA_STATUS,
  buildReplyForRequest,
  checkRequest,
  encodeVerdictBitfield,
  hasStaleFields,
  isCrashSafeType1BodyLength,
} from '@x/raida-protocol';
import type { CommandName, ParsedRequest, RequestCheck, StaleReplyFields } from '@x/raida-protocol';
import type { RaidaServerBehavior } from './behavior.js';
import { coinKey } from './coins.js';

/** What one simulated server keeps between datagrams. */
export interface ServerState {
  readonly raidaId: number;
  /** Coin key (`den:sn`) → the AN this server holds. */
  readonly coins: Map<string, Uint8Array>;
  /** Leftovers of the last request with fresh fields, echoed back on statuses whose fields are stale. */
  stale: StaleReplyFields;
}

export interface ServerConfig {
  readonly coinId: number;
  readonly maxLength: number;
}

export type DatagramAnswer =
  | { readonly kind: 'ignored'; readonly reason: string }
  /** An AES-NI host decrypted a type-1 body of a crash length: no reply, and the request counts as a crash. */
  | { readonly kind: 'crashed'; readonly command: CommandName | undefined; readonly reason: string }
  | {
      readonly kind: 'reply';
      readonly status: number;
      /** The command asked for, when the header named a known one. */
      readonly command: CommandName | undefined;
      /** Why the request was rejected, when it was. */
      readonly reason: string | undefined;
      readonly reply: Uint8Array;
    };

const EMPTY_STALE: StaleReplyFields = Object.freeze({ commandGroup: 0, echo: new Uint8Array(2), signature: new Uint8Array(16) });

export function createServerState(raidaId: number): ServerState {
  return { raidaId, coins: new Map(), stale: EMPTY_STALE };
}

const COMMAND_BY_CODE: Readonly<Record<string, CommandName>> = { '0/0': 'echo', '0/1': 'version', '1/10': 'detect', '1/20': 'pown' };

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Runs an accepted command against the coin table: the status and plain reply body a RAIDAX server gives. */
function runCommand(
  request: ParsedRequest,
  state: ServerState,
  behavior: RaidaServerBehavior,
): { status: number; body: Uint8Array | undefined } {
  switch (request.command) {
    case 'echo':
      return { status: RAIDA_STATUS.success, body: undefined };
    case 'version':
      return { status: RAIDA_STATUS.success, body: new TextEncoder().encode(behavior.version) };
    case 'detect':
    case 'pown': {
      // Coins are judged one after another, so a pown that names a coin twice sees its own update.
      const verdicts = request.coins.map((coin) => {
        const key = coinKey(coin);
        const held = state.coins.get(key);
        const authentic = held !== undefined && bytesEqual(held, coin.an);
        if (authentic && request.command === 'pown') state.coins.set(key, (coin as { pan: Uint8Array }).pan.slice());
        return authentic;
      });
      if (verdicts.every(Boolean)) return { status: RAIDA_STATUS.allPass, body: undefined };
      if (!verdicts.some(Boolean)) return { status: RAIDA_STATUS.allFail, body: undefined };
      return { status: RAIDA_STATUS.mixed, body: encodeVerdictBitfield(verdicts) };
    }
  }
}

/** Whether the server got as far as decrypting a type-1 body in place: past the header, length, type and key checks. */
function decryptsBody(check: RequestCheck): boolean {
  if (check.outcome === 'ignored') return false;
  const source = check.outcome === 'accepted' ? check.request : check.rejection;
  if (source.header.encryptionType !== 1) return false;
  return check.outcome === 'accepted' || DECRYPTED_REJECTIONS.has(check.rejection.status);
}

/** Rejections a server makes with the body already decrypted (or, for 33, read past the key lookup). */
const DECRYPTED_REJECTIONS: ReadonlySet<number> = new Set([
  RAIDA_STATUS.invalidEndOfPacket,
  RAIDA_STATUS.invalidCrc,
  RAIDA_STATUS.invalidCoinBodyLength,
]);

/**
 * What one RAIDA server does with one datagram: nothing (too short), or a reply built by
 * `@x/raida-protocol` — the command's result, the header or packet error `checkRequest` found, or
 * `behavior.statusOverride`. Updates the coin table for pown. `elapsedUs` reports the execution time.
 */
export function answerDatagram(
  bytes: Uint8Array,
  state: ServerState,
  behavior: RaidaServerBehavior,
  config: ServerConfig,
  elapsedUs: () => number,
): DatagramAnswer {
  const check = checkRequest(bytes, {
    raidaId: state.raidaId,
    coinId: config.coinId,
    maxLength: config.maxLength,
    keyFor: (keyCoin) => state.coins.get(coinKey(keyCoin)),
  });
  if (check.outcome === 'ignored') return { kind: 'ignored', reason: check.reason };

  const source = check.outcome === 'accepted' ? check.request : check.rejection;
  const { header } = source;
  const command = COMMAND_BY_CODE[`${header.commandGroup}/${header.command}`];
  if (behavior.aesNiHost && decryptsBody(check) && !isCrashSafeType1BodyLength(header.bodyLength)) {
    return { kind: 'crashed', command, reason: `a type-1 body of ${header.bodyLength} bytes overruns the decryption buffer` };
  }
  let status: number;
  let body: Uint8Array | undefined;
  if (behavior.statusOverride !== null) {
    // A failing server does no work: a pown is not applied.
    status = behavior.statusOverride;
  } else if (check.outcome === 'accepted') {
    ({ status, body } = runCommand(check.request, state, behavior));
  } else {
    status = check.rejection.status;
  }
  const executionTimeUs = Math.min(0xffffffff, Math.max(0, Math.round(elapsedUs() + behavior.slowMs * 1000)));
  const reply = buildReplyForRequest(source, { status, body, executionTimeUs, replyCounter: behavior.replyCounter, stale: state.stale });
  if (!hasStaleFields(status)) {
    state.stale = { commandGroup: header.commandGroup, echo: header.echo.slice(), signature: source.signature.slice() };
  }
  if (behavior.wrongSignature) {
    for (let i = 16; i < 32; i++) reply[i] = (reply[i] ?? 0) ^ 0xff;
  }
  return { kind: 'reply', status, command, reason: check.outcome === 'rejected' ? check.rejection.reason : undefined, reply };
}
