import type { XError } from '@x/errors';
import {
  AN_LENGTH,
  FIX_TICKET_COUNT,
  PG_LENGTH,
  assertCoinId,
  buildFindRequest,
  buildFixRequest,
  buildGetTicketRequest,
} from '@x/raida-protocol';
import type { CoinId, FindResult, HealingCommandName, RaidaServer } from '@x/raida-protocol';
import { createUdpClient } from '@x/udp-transport';
import { clientClosed, invalidCoin, invalidOptions } from './errors.js';
import { runHealingCall } from './healing-round.js';
import type { HealerCore } from './healing-round.js';
import { checkCoins, optionalTimerMs, resolveClientOptions } from './options.js';
import type { RaidaServerStatus } from './status.js';
import type { RaidaClientOptions, RaidaCoin } from './types.js';

/** Default wait for a fix: the server calls its 24 peers first, and each may take up to 32 s to connect and answer. */
export const DEFAULT_FIX_TIMEOUT_MS = 65_000;

/** A coin to find: its ANs and the PANs of a pown (or fix) whose outcome is unknown, both indexed by RAIDA id. */
export interface RaidaFindCoin extends RaidaCoin {
  readonly pans: readonly Uint8Array[];
}

export interface RaidaHealerOptions extends RaidaClientOptions {
  /** Default timeout of `fix`, in ms. Default 65 000; at least 65 000 is wise (a fix waits on its peers). */
  readonly fixTimeoutMs?: number;
}

/** What `onReply` of a healing call receives as each server's answer is known. */
export interface RaidaHealReplyEvent {
  readonly index: number;
  readonly server: RaidaHealServerResult;
  /** Servers answered or given up on so far, this one included. */
  readonly completed: number;
  /** Servers the call was sent to. */
  readonly total: number;
}

export interface RaidaHealCallOptions {
  /**
   * One attempt against one server (healing calls are one attempt each). Default: the client's `attemptTimeoutMs`
   * (get_ticket, find) or `fixTimeoutMs` (fix), shortened to the client's `deadlineMs` when that is less.
   */
  readonly attemptTimeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly onReply?: (event: RaidaHealReplyEvent) => void;
  /** RAIDA ids to ask; the others are `skipped`. Default: every configured server. */
  readonly only?: readonly number[];
}

/** One server's part of a healing call. Never retried: get_ticket takes a slot, a fix burns its tickets. */
export interface RaidaHealServerResult {
  readonly id: number;
  readonly address: string;
  /** get_ticket and fix: pass (241), fail (242), mixed (243); find: ready; or the failure statuses of detect. */
  readonly status: RaidaServerStatus;
  readonly statusCode?: number;
  readonly statusName?: string;
  readonly latencyMs: number;
  readonly executionTimeUs?: number;
  readonly error?: XError;
  /** get_ticket: per coin, whether this server passed it. */
  readonly passed?: readonly boolean[];
  /** get_ticket: the ticket, when any coin passed. */
  readonly ticket?: number;
  /** find: per coin, what the server holds. */
  readonly found?: readonly FindResult[];
  /** fix: per coin, whether the server set its new AN. */
  readonly fixed?: readonly boolean[];
}

export interface RaidaHealResult {
  readonly command: HealingCommandName;
  readonly statuses: RaidaServerStatus[];
  readonly latencies: number[];
  readonly servers: RaidaHealServerResult[];
  readonly elapsedMs: number;
}

export interface RaidaTicketResult extends RaidaHealResult {
  readonly command: 'get_ticket';
  /** `tickets[id]`: RAIDA id's ticket, or 0 — exactly what a fix request carries. */
  readonly tickets: number[];
}

export interface RaidaHealer {
  readonly servers: readonly RaidaServer[];
  /** get_ticket to every server (or `only`), each with its own AN of every coin. */
  getTickets(coins: readonly RaidaCoin[], options?: RaidaHealCallOptions): Promise<RaidaTicketResult>;
  /** find with `[AN, PAN]` of every coin on every server (or `only`). Changes nothing. */
  find(coins: readonly RaidaFindCoin[], options?: RaidaHealCallOptions): Promise<RaidaHealResult>;
  /**
   * fix on the servers in `only` (the failing ones), all with the same coins, PG and 25 tickets. Not idempotent and
   * never resent: save the PG and tickets first, and resolve a lost reply with `find` and `fixedAn`.
   */
  fix(
    coins: readonly CoinId[],
    pg: Uint8Array,
    tickets: readonly number[],
    options: RaidaHealCallOptions & { readonly only: readonly number[] },
  ): Promise<RaidaHealResult>;
  close(): Promise<void>;
}

function checkAnList(list: unknown, servers: readonly RaidaServer[], what: string): void {
  if (!Array.isArray(list)) throw invalidCoin(`${what} must be an array indexed by RAIDA id`, {});
  for (const server of servers) {
    const an: unknown = list[server.id];
    if (!(an instanceof Uint8Array) || an.length !== AN_LENGTH)
      throw invalidCoin(`${what}[${server.id}] must be a Uint8Array of ${AN_LENGTH} bytes`, { raidaId: server.id });
  }
}

/**
 * A RAIDA client for healing: get_ticket, find and fix across the servers at once, with the same per-server statuses
 * and latencies as `createRaidaClient`. Accepts the same options, plus `fixTimeoutMs` (default 65 000 ms).
 */
export function createRaidaHealer(options?: RaidaHealerOptions): RaidaHealer {
  const config = resolveClientOptions(options);
  const fixTimeoutMs = optionalTimerMs('fixTimeoutMs', options?.fixTimeoutMs) ?? DEFAULT_FIX_TIMEOUT_MS;
  const { servers, deadlineMs } = config;
  const ownsUdp = config.udp === undefined;
  const core: HealerCore = { servers, deadlineMs, udp: config.udp ?? createUdpClient(), calls: new Set(), closed: false };
  let closing: Promise<void> | undefined;

  const common = (server: RaidaServer) => ({
    raidaId: server.id,
    coinId: config.coinId,
    random: config.random,
    maxLength: config.maxRequestBytes,
  });

  return {
    servers,
    async getTickets(coins, call) {
      checkCoins(coins, servers);
      const result = await runHealingCall(core, 'get_ticket', call, config.attemptTimeoutMs, (server) =>
        buildGetTicketRequest({
          ...common(server),
          coins: coins.map((coin) => ({ denomination: coin.denomination, serialNumber: coin.serialNumber, an: coin.ans[server.id]! })),
        }),
      );
      const tickets = new Array<number>(FIX_TICKET_COUNT).fill(0);
      for (const server of result.servers)
        if (server.ticket !== undefined && server.id < FIX_TICKET_COUNT) tickets[server.id] = server.ticket;
      return { ...result, command: 'get_ticket', tickets };
    },
    async find(coins, call) {
      checkCoins(coins, servers);
      coins.forEach((coin, index) => checkAnList(coin.pans, servers, `Coin ${index}: pans`));
      return runHealingCall(core, 'find', call, config.attemptTimeoutMs, (server) =>
        buildFindRequest({
          ...common(server),
          coins: coins.map((coin) => ({
            denomination: coin.denomination,
            serialNumber: coin.serialNumber,
            an: coin.ans[server.id]!,
            pan: coin.pans[server.id]!,
          })),
        }),
      );
    },
    async fix(coins, pg, tickets, call) {
      const list: unknown = coins;
      if (!Array.isArray(list) || list.length === 0) throw invalidCoin('coins must be a non-empty array', {});
      coins.forEach((coin, index) => assertCoinId(coin, index));
      if (!(pg instanceof Uint8Array) || pg.length !== PG_LENGTH)
        throw invalidOptions('pg', `pg must be a Uint8Array of ${PG_LENGTH} bytes`, pg);
      if (!Array.isArray(tickets) || tickets.length !== FIX_TICKET_COUNT)
        throw invalidOptions('tickets', `tickets must be an array of ${FIX_TICKET_COUNT} u32 (0 for none)`, tickets);
      if (call?.only === undefined) throw invalidOptions('only', 'fix needs only: the RAIDA ids to fix on (the failing ones)');
      return runHealingCall(core, 'fix', call, fixTimeoutMs, (server) => buildFixRequest({ ...common(server), coins, pg, tickets }));
    },
    close() {
      if (closing !== undefined) return closing;
      core.closed = true;
      for (const stop of core.calls) stop.abort(clientClosed());
      closing = ownsUdp ? core.udp.close() : Promise.resolve();
      return closing;
    },
  };
}
