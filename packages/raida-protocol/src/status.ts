/**
 * What a status means for a client:
 * - `success`: the command ran (echo, version).
 * - `coin-result`: detect/pown verdicts (all pass, all fail, mixed).
 * - `header-error`: the server rejected a header field; reply bytes 3, 6–7 and 16–31 are stale.
 * - `packet-error`: length or terminator wrong (16, 33); the same bytes are stale.
 * - `request-error`: the server understood the header and rejected the request's content.
 * - `server-error`: the server failed on its side.
 * - `unknown`: a code this table does not know.
 */
export type StatusKind = 'success' | 'coin-result' | 'header-error' | 'packet-error' | 'request-error' | 'server-error' | 'unknown';

export interface StatusInfo {
  readonly code: number;
  /** Short stable identifier, camelCase (`allPass`, `invalidRaidaId`). */
  readonly name: string;
  /** Human description. */
  readonly description: string;
  readonly kind: StatusKind;
  /**
   * Whether reply bytes 16–31 belong to this request. False for header errors, 16 and 33 (bytes 3, 6–7
   * and 16–31 are leftovers from an older request), for 34 (fresh echo bytes, stale signature: a server
   * without the key coin cannot compute `challenge XOR key`) and for 27 (its 48-byte reply has another layout).
   */
  readonly signatureTrusted: boolean;
}

/** Status codes by name. */
export const RAIDA_STATUS = Object.freeze({
  success: 250,
  allPass: 241,
  allFail: 242,
  mixed: 243,
  invalidRouting: 255,
  invalidSplitId: 2,
  invalidRaidaId: 3,
  invalidShardId: 4,
  invalidCommandGroup: 5,
  invalidCommand: 6,
  invalidCoinId: 7,
  invalidPacketLength: 16,
  keyCoinNotFound: 25,
  invalidEncryptionType: 27,
  invalidEndOfPacket: 33,
  encryptionCoinNotFound: 34,
  invalidCrc: 37,
  invalidCoinBodyLength: 39,
  coinNotFound: 40,
  legacyDatabaseError: 48,
  hmacFailed: 204,
} as const);

export type RaidaStatusName = keyof typeof RAIDA_STATUS;

const DESCRIPTIONS: Readonly<Record<RaidaStatusName, readonly [StatusKind, string]>> = {
  success: ['success', 'Success'],
  allPass: ['coin-result', 'All coins are authentic'],
  allFail: ['coin-result', 'All coins are counterfeit'],
  mixed: ['coin-result', 'Some coins are authentic and some are not'],
  invalidRouting: ['header-error', 'Invalid routing byte (request byte 0 must be 1)'],
  invalidSplitId: ['header-error', 'Invalid split id'],
  invalidRaidaId: ['header-error', 'Invalid RAIDA id: the request was sent to the wrong server'],
  invalidShardId: ['header-error', 'Invalid shard id'],
  invalidCommandGroup: ['header-error', 'Invalid command group'],
  invalidCommand: ['header-error', 'Invalid command'],
  invalidCoinId: ['header-error', 'Invalid coin id (wrong network)'],
  invalidPacketLength: [
    'packet-error',
    'Invalid packet length (shorter than header + body length, body too short, or over the size limit)',
  ],
  keyCoinNotFound: ['request-error', 'Key coin not found'],
  invalidEncryptionType: ['request-error', 'Invalid encryption type'],
  invalidEndOfPacket: ['packet-error', 'Invalid end of packet (the body must end in 3E 3E)'],
  encryptionCoinNotFound: ['request-error', 'Encryption key coin not found'],
  invalidCrc: ['request-error', 'Invalid CRC in the challenge'],
  invalidCoinBodyLength: ['request-error', 'Invalid detect/pown body length'],
  coinNotFound: ['request-error', 'Coin not found'],
  legacyDatabaseError: ['server-error', 'Legacy coin database error'],
  hmacFailed: ['request-error', 'HMAC check failed'],
};

/** Request errors whose replies, as observed on a real server, carry no signature of the request. */
const UNSIGNED_REQUEST_ERRORS: ReadonlySet<RaidaStatusName> = new Set(['invalidEncryptionType', 'encryptionCoinNotFound']);

function entry(name: RaidaStatusName): StatusInfo {
  const [kind, description] = DESCRIPTIONS[name];
  return Object.freeze({
    code: RAIDA_STATUS[name],
    name,
    description,
    kind,
    signatureTrusted: kind !== 'header-error' && kind !== 'packet-error' && !UNSIGNED_REQUEST_ERRORS.has(name),
  });
}

/** Every status the reference documents, in table order. */
export const STATUS_TABLE: readonly StatusInfo[] = Object.freeze((Object.keys(RAIDA_STATUS) as RaidaStatusName[]).map(entry));

const BY_CODE: ReadonlyMap<number, StatusInfo> = new Map(STATUS_TABLE.map((info) => [info.code, info]));

/**
 * The table entry for `code`. Unknown codes get a synthetic `unknown` entry whose signature is
 * still checked: the reference exempts only header errors, 16 and 33.
 */
export function statusInfo(code: number): StatusInfo {
  return (
    BY_CODE.get(code) ?? {
      code,
      name: `unknown${code}`,
      description: `Unknown status ${code}`,
      kind: 'unknown',
      signatureTrusted: true,
    }
  );
}

/**
 * True for statuses whose reply signature (bytes 16–31) is not the request's: 255, 2–7, 16 and 33 (bytes 3 and
 * 6–7 are stale too), 34 (stale signature, fresh echo bytes) and 27 (a 48-byte reply of another layout).
 */
export function hasStaleFields(code: number): boolean {
  return !statusInfo(code).signatureTrusted;
}

/** True for 250, 241, 242 and 243. */
export function isSuccessStatus(code: number): boolean {
  const kind = statusInfo(code).kind;
  return kind === 'success' || kind === 'coin-result';
}
