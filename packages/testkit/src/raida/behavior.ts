import type { Random } from '../random.js';
import { checkKeys, integerIn, invalidRaidaOptions, isRecord, numberIn } from './errors.js';

/** Network delay before a reply leaves: a fixed number of ms, or a log-normal draw per request. */
export type RaidaLatency = number | { readonly medianMs: number; readonly sigma: number };

/**
 * Where replies come from: `false` the server's own port; `'only'` a second socket on another
 * 127.0.0.1 port and nothing from the real one; `'before-real'` first from the other port, then the
 * real reply from the server's own port.
 */
export type RaidaSpoofMode = false | 'only' | 'before-real';

/** Counter convention for encrypted (type 1) reply bodies, as in `@x/raida-protocol`. */
export type RaidaReplyCounter = 'continue' | 'restart';

/** Everything that makes one simulated RAIDA server behave the way it does. */
export interface RaidaServerBehavior {
  /** Network delay added before every reply. Not part of the reported execution time. Default 0. */
  readonly latency: RaidaLatency;
  /** Share of datagrams silently dropped (0..1), drawn from the server's seeded stream. Default 0. */
  readonly dropRate: number;
  /** A down server reads every datagram and answers none. Default false. */
  readonly down: boolean;
  /** Replies carry a corrupted signature (bytes 16–31 inverted), which a client must reject. Default false. */
  readonly wrongSignature: boolean;
  readonly spoof: RaidaSpoofMode;
  /** Server-side processing delay in ms: added to the delay and to the reported execution time. Default 0. */
  readonly slowMs: number;
  /** Answer every request that would be answered with this status instead (no command runs). Default null. */
  readonly statusOverride: number | null;
  /** The version command's body: printable ASCII, 1–64 characters. Default `'20250323'`. */
  readonly version: string;
  /** How an encrypted reply body's counter starts. Default `'continue'` (current servers). */
  readonly replyCounter: RaidaReplyCounter;
  /**
   * A RAIDAX server on a host with AES-NI: a type-1 request whose `(bodyLength − 2) mod 16` is 1–6 corrupts its heap
   * when it decrypts the body, so it gets no reply and is counted as a crash (`stats().crashes`). Default false.
   */
  readonly aesNiHost: boolean;
}

/** A partial behaviour: what `setBehavior` and the cluster options are written in. */
export type RaidaBehaviorPatch = { readonly [K in keyof RaidaServerBehavior]?: RaidaServerBehavior[K] };

/** An ideal server: instant, reliable, honest. */
export const DEFAULT_RAIDA_BEHAVIOR: RaidaServerBehavior = Object.freeze({
  latency: 0,
  dropRate: 0,
  down: false,
  wrongSignature: false,
  spoof: false,
  slowMs: 0,
  statusOverride: null,
  version: '20250323',
  replyCounter: 'continue',
  aesNiHost: false,
});

const BEHAVIOR_KEYS = Object.keys(DEFAULT_RAIDA_BEHAVIOR) as readonly (keyof RaidaServerBehavior)[];
const HOUR_MS = 3_600_000;

function boolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw invalidRaidaOptions('must be true or false', field, value);
  return value;
}

function latencyOf(value: unknown, field: string): RaidaLatency {
  if (typeof value === 'number') return numberIn(value, field, 0, HOUR_MS);
  if (!isRecord(value)) throw invalidRaidaOptions('must be a number of ms or { medianMs, sigma }', field, value);
  checkKeys(value, ['medianMs', 'sigma'], field);
  return Object.freeze({
    medianMs: numberIn(value.medianMs, `${field}.medianMs`, 0, HOUR_MS),
    sigma: numberIn(value.sigma, `${field}.sigma`, 0, 5),
  });
}

function versionOf(value: unknown, field: string): string {
  if (typeof value !== 'string' || !/^[\x20-\x7e]{1,64}$/.test(value)) {
    throw invalidRaidaOptions('must be 1 to 64 printable ASCII characters', field, typeof value === 'string' ? value.slice(0, 80) : value);
  }
  return value;
}

/** `base` with `patch` applied, validated: every bad field is reported by its path, e.g. `behaviors[3].latency.sigma`. */
export function resolveRaidaBehavior(base: RaidaServerBehavior, patch: unknown, field: string): RaidaServerBehavior {
  if (patch === undefined) return base;
  if (!isRecord(patch)) throw invalidRaidaOptions('must be an object', field, patch);
  checkKeys(patch, BEHAVIOR_KEYS, field);
  const at = (key: string): string => `${field}.${key}`;
  const spoof = patch.spoof ?? base.spoof;
  if (spoof !== false && spoof !== 'only' && spoof !== 'before-real') {
    throw invalidRaidaOptions('must be false, "only" or "before-real"', at('spoof'), spoof);
  }
  const replyCounter = patch.replyCounter ?? base.replyCounter;
  if (replyCounter !== 'continue' && replyCounter !== 'restart') {
    throw invalidRaidaOptions('must be "continue" or "restart"', at('replyCounter'), replyCounter);
  }
  let statusOverride = base.statusOverride;
  if (patch.statusOverride !== undefined) {
    statusOverride = patch.statusOverride === null ? null : integerIn(patch.statusOverride, at('statusOverride'), 0, 255);
  }
  return Object.freeze({
    latency: patch.latency === undefined ? base.latency : latencyOf(patch.latency, at('latency')),
    dropRate: patch.dropRate === undefined ? base.dropRate : numberIn(patch.dropRate, at('dropRate'), 0, 1),
    down: patch.down === undefined ? base.down : boolean(patch.down, at('down')),
    wrongSignature: patch.wrongSignature === undefined ? base.wrongSignature : boolean(patch.wrongSignature, at('wrongSignature')),
    spoof,
    slowMs: patch.slowMs === undefined ? base.slowMs : numberIn(patch.slowMs, at('slowMs'), 0, HOUR_MS),
    statusOverride,
    version: patch.version === undefined ? base.version : versionOf(patch.version, at('version')),
    replyCounter,
    aesNiHost: patch.aesNiHost === undefined ? base.aesNiHost : boolean(patch.aesNiHost, at('aesNiHost')),
  });
}

/** One network-delay draw in ms. A fixed latency draws nothing from `random`. */
export function sampleRaidaLatencyMs(latency: RaidaLatency, random: Random): number {
  if (typeof latency === 'number') return latency;
  if (latency.medianMs === 0) return 0;
  return random.lognormal(latency.medianMs, latency.sigma);
}
