import type { RaidaServer, ReplyCounterConvention } from '@x/raida-protocol';
import { invalidOptions } from './errors.js';

/** Where a server's reply counter convention came from. */
export type ReplyCounterSource = 'configured' | 'learned';

/** What the client knows of one server's counter convention for encrypted reply bodies. */
export interface ReplyCounterState {
  readonly replyCounter: ReplyCounterConvention;
  readonly source: ReplyCounterSource;
}

/**
 * Each server's reply counter convention, pinned once: set by the user, or learned from the first encrypted reply
 * that only one convention reads (a type-1 version body is printable ASCII under one of them only). Never changed
 * once pinned, so no later verdict rests on a guess.
 */
export interface ReplyCounterTracker {
  /** By position in the configured server list. */
  get(serverIndex: number): ReplyCounterState | undefined;
  /** Pins a learned convention; a pinned one stays as it is. */
  learn(serverIndex: number, replyCounter: ReplyCounterConvention): void;
  /** Positions of servers whose convention is not known yet. */
  unknown(): number[];
}

export function createReplyCounterTracker(
  servers: readonly RaidaServer[],
  configured: Readonly<Record<number, ReplyCounterConvention>>,
): ReplyCounterTracker {
  const states: (ReplyCounterState | undefined)[] = servers.map((server) => {
    const replyCounter = configured[server.id];
    return replyCounter === undefined ? undefined : { replyCounter, source: 'configured' };
  });
  return {
    get: (serverIndex) => states[serverIndex],
    learn(serverIndex, replyCounter) {
      if (states[serverIndex] === undefined) states[serverIndex] = { replyCounter, source: 'learned' };
    },
    unknown: () => states.flatMap((state, index) => (state === undefined ? [index] : [])),
  };
}

/** Checks the `replyCounters` option: `{ [raidaId]: 'continue' | 'restart' }` for ids of configured servers. */
export function resolveReplyCounters(value: unknown, servers: readonly RaidaServer[]): Readonly<Record<number, ReplyCounterConvention>> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidOptions('replyCounters', 'replyCounters must be an object { [raidaId]: "continue" | "restart" }', value);
  }
  const ids = new Set(servers.map((server) => server.id));
  const out: Record<number, ReplyCounterConvention> = {};
  for (const [key, convention] of Object.entries(value as Record<string, unknown>)) {
    const id = /^\d+$/.test(key) ? Number(key) : Number.NaN;
    if (!ids.has(id)) throw invalidOptions('replyCounters', `replyCounters names RAIDA id ${key}, which is not a configured server`);
    if (convention !== 'continue' && convention !== 'restart') {
      throw invalidOptions(`replyCounters[${key}]`, `replyCounters[${key}] must be "continue" or "restart"`, convention);
    }
    out[id] = convention;
  }
  return Object.freeze(out);
}
