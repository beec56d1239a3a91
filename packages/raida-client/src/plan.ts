import { AN_LENGTH, buildRequest } from '@x/raida-protocol';
import type { BuiltRequest, CommandName, RequestEncryption, RequestInput, ValidatedReply } from '@x/raida-protocol';
import type { XError } from '@x/errors';
import { fillerCoinIds, planCoinBatches } from './batches.js';
import type { UnitResult } from './classify.js';
import { coinOn, pownCoinOn } from './options.js';
import type { ResolvedCallOptions, ResolvedClientOptions } from './options.js';
import type { RaidaCoin, RaidaEncryption, RaidaNewAns } from './types.js';

/** One datagram of a call: a server and, for detect/pown, a slice of the coins. Retries resend the same bytes. */
export interface Unit {
  readonly serverIndex: number;
  readonly coinOffset: number;
  readonly coinCount: number;
  readonly request: BuiltRequest;
  result: UnitResult | undefined;
  attempts: number;
  /** No further attempt will change `result`. */
  final: boolean;
  /**
   * Why the last datagram of the current attempt that failed validation was rejected: if no valid
   * reply follows before the timeout, the server did answer, badly, and is reported as such.
   */
  rejection: XError | undefined;
  /**
   * The datagram the current attempt accepted and its validation, kept so that it is not validated twice; or, for a
   * genuine reply that cannot be read without guessing (`RAIDA_REPLY_COUNTER_AMBIGUOUS`), why it is a protocol error.
   */
  accepted:
    | { readonly bytes: Uint8Array; readonly validated: ValidatedReply }
    | { readonly bytes: Uint8Array; readonly failure: XError }
    | undefined;
}

/** Per-server requests of one call, before anything is sent. */
export interface Plan {
  readonly command: CommandName;
  readonly coins: readonly RaidaCoin[];
  readonly units: Unit[];
}

const PLAIN: RequestEncryption = Object.freeze({ type: 0 });

function requestEncryption(encryption: RaidaEncryption, id: number): RequestEncryption {
  return encryption.type === 1 ? { type: 1, keyCoin: coinOn(encryption.keyCoin, id) } : PLAIN;
}

function unit(serverIndex: number, coinOffset: number, coinCount: number, request: BuiltRequest): Unit {
  return {
    serverIndex,
    coinOffset,
    coinCount,
    request,
    result: undefined,
    attempts: 0,
    final: false,
    rejection: undefined,
    accepted: undefined,
  };
}

/**
 * Builds every request of a call: echo and version one per server; detect and pown one per server per slice of the
 * coins that fits `maxRequestBytes` (padded with filler coins so that every slice has the same shape).
 */
export function planCall(
  config: ResolvedClientOptions,
  command: CommandName,
  call: ResolvedCallOptions,
  coins: readonly RaidaCoin[],
  newAns: readonly RaidaNewAns[] | undefined,
): Plan {
  const units: Unit[] = [];
  const { servers, coinId, random, maxRequestBytes: maxLength } = config;
  if (command !== 'detect' && command !== 'pown') {
    // Echo and version: one request per server, built with as little around it as possible (this is the hot path).
    for (let serverIndex = 0; serverIndex < servers.length; serverIndex++) {
      const raidaId = servers[serverIndex]!.id;
      const encryption = requestEncryption(call.encryption, raidaId);
      units.push(unit(serverIndex, 0, 0, buildRequest({ command, raidaId, coinId, random, maxLength, encryption })));
    }
    return { command, coins, units };
  }
  const slices = planCoinBatches({ command, coinCount: coins.length, maxRequestBytes: maxLength, encrypted: call.encryption.type === 1 });
  const fillerIds = fillerCoinIds(Math.max(0, ...slices.map((slice) => slice.fillers)), coins);
  // One random AN (and PAN) per filler, the same on every server: no server holds the coin, so it fails everywhere.
  const fillers = fillerIds.map((id) => ({ ...id, an: random(AN_LENGTH).slice(), pan: random(AN_LENGTH).slice() }));
  // Slice-major, so that every server's first request leaves before any second one.
  for (const slice of slices) {
    const padding = fillers.slice(0, slice.fillers);
    servers.forEach((server, serverIndex) => {
      const common = { raidaId: server.id, coinId, random, maxLength, encryption: requestEncryption(call.encryption, server.id) };
      const chunk = coins.slice(slice.offset, slice.offset + slice.count);
      const input: RequestInput =
        command === 'detect'
          ? { ...common, command, coins: [...chunk.map((coin) => coinOn(coin, server.id)), ...padding] }
          : { ...common, command, coins: [...chunk.map((coin, i) => pownCoinOn(coin, newAns![slice.offset + i]!, server.id)), ...padding] };
      units.push(unit(serverIndex, slice.offset, slice.count, buildRequest(input)));
    });
  }
  return { command, coins, units };
}
