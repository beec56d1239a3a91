import { statusInfo } from '@x/raida-protocol';
import type { CommandName, RaidaServer } from '@x/raida-protocol';
import type { UnitResult } from './classify.js';
import type { Unit } from './plan.js';
import type { ReplyCounterState } from './reply-counters.js';
import { isReplyStatus } from './status.js';
import type { RaidaServerStatus } from './status.js';
import type { RaidaResult, RaidaServerRef, RaidaServerResult, RaidaTotals } from './types.js';

/** One server's part of a call while it runs. */
export interface ServerState {
  readonly index: number;
  readonly server: RaidaServer;
  readonly units: Unit[];
  /** Units of this server still out in the current attempt. */
  outstanding: number;
  final: boolean;
}

/** When a split server's requests did not all answer with coin results, the first of these statuses stands for it. */
const FAILURE_PRECEDENCE: readonly RaidaServerStatus[] = ['protocol-error', 'server-error', 'network-error', 'timeout', 'skipped'];

/** Writable view of a server result while it is assembled (fields added in one fixed order, so objects share a shape). */
type ServerResultDraft = { -readonly [K in keyof RaidaServerResult]: RaidaServerResult[K] };

function setStatusFields(out: ServerResultDraft, code: number): void {
  const info = statusInfo(code);
  out.statusCode = code;
  out.statusName = info.name;
  out.statusDescription = info.description;
}

/** One server's result from its units: coin verdicts joined across slices, or the most telling failure. */
export function describeServer(state: ServerState, address: string, counter?: ReplyCounterState): RaidaServerResult {
  const { server, units } = state;
  let attempts = 0;
  let latencyMs = 0;
  let executionTimeUs: number | undefined;
  let failed: UnitResult | undefined;
  let failedRank = FAILURE_PRECEDENCE.length;
  for (const unit of units) {
    if (unit.attempts > attempts) attempts = unit.attempts;
    const result = unit.result;
    if (result === undefined) continue;
    if (result.latencyMs > latencyMs) latencyMs = result.latencyMs;
    if (result.executionTimeUs !== undefined) executionTimeUs = (executionTimeUs ?? 0) + result.executionTimeUs;
    const rank = FAILURE_PRECEDENCE.indexOf(result.status);
    if (rank !== -1 && rank < failedRank) {
      failed = result;
      failedRank = rank;
    }
  }
  const representative = failed ?? units[0]?.result;
  const out: ServerResultDraft = { id: server.id, address, status: 'timeout', latencyMs, attempts };
  if (executionTimeUs !== undefined) out.executionTimeUs = executionTimeUs;
  if (counter !== undefined) {
    out.replyCounter = counter.replyCounter;
    out.replyCounterSource = counter.source;
  }
  if (representative === undefined) return out;
  if (failed === undefined && representative.verdicts !== undefined) {
    const verdicts: boolean[] = [];
    let passes = 0;
    for (const unit of units) {
      for (const verdict of unit.result?.verdicts ?? []) {
        verdicts.push(verdict);
        if (verdict) passes++;
      }
    }
    const statusCode = units.length === 1 ? representative.statusCode! : passes === verdicts.length ? 241 : passes === 0 ? 242 : 243;
    out.status = statusCode === 241 ? 'pass' : statusCode === 242 ? 'fail' : 'mixed';
    setStatusFields(out, statusCode);
    out.verdicts = verdicts;
    return out;
  }
  out.status = representative.status;
  if (representative.statusCode !== undefined) setStatusFields(out, representative.statusCode);
  if (representative.version !== undefined) out.version = representative.version;
  const error = representative.error;
  if (error !== undefined) {
    out.error = error;
    out.errorCode = error.code;
    out.errorCategory = error.category;
    out.message = error.message;
  }
  return out;
}

function ref(servers: readonly RaidaServerResult[], index: number): RaidaServerRef {
  const server = servers[index]!;
  return { index, id: server.id, address: server.address, latencyMs: server.latencyMs };
}

/** The seed-compatible result: statuses and latencies in server order, totals, fastest and slowest. */
export function summarise(
  command: CommandName,
  servers: RaidaServerResult[],
  quorum: number,
  consensus: (counts: Record<RaidaServerStatus, number>) => boolean,
  startedAt: number,
): RaidaResult {
  const counts = {
    ready: 0,
    pass: 0,
    fail: 0,
    mixed: 0,
    timeout: 0,
    'network-error': 0,
    'protocol-error': 0,
    'server-error': 0,
    skipped: 0,
  } satisfies Record<RaidaServerStatus, number>;
  let fastest: number | undefined;
  let slowest: number | undefined;
  let replied = 0;
  const statuses: RaidaServerStatus[] = new Array<RaidaServerStatus>(servers.length);
  const latencies: number[] = new Array<number>(servers.length);
  for (let index = 0; index < servers.length; index++) {
    const server = servers[index]!;
    statuses[index] = server.status;
    latencies[index] = server.latencyMs;
    counts[server.status]++;
    if (!isReplyStatus(server.status)) continue;
    replied++;
    if (fastest === undefined || server.latencyMs < servers[fastest]!.latencyMs) fastest = index;
    if (slowest === undefined || server.latencyMs > servers[slowest]!.latencyMs) slowest = index;
  }
  const totals: RaidaTotals = { ...counts, replied, consensus: consensus(counts), quorum };
  return {
    command,
    statuses,
    latencies,
    servers,
    totals,
    fastest: fastest === undefined ? undefined : ref(servers, fastest),
    slowest: slowest === undefined ? undefined : ref(servers, slowest),
    elapsedMs: performance.now() - startedAt,
  };
}
