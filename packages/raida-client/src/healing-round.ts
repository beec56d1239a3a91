import { abortedError, isAbortSignal, isPlainObject, throwIfAborted, toXError } from '@x/errors';
import type { XError } from '@x/errors';
import { formatServerAddress, statusInfo, validateHealingReply } from '@x/raida-protocol';
import type { BuiltHealingRequest, HealingCommandName, RaidaServer, ValidatedHealingReply } from '@x/raida-protocol';
import type { UdpClient, UdpOutcome } from '@x/udp-transport';
import { clientClosed, invalidOptions, serverStatusError } from './errors.js';
import type { RaidaHealCallOptions, RaidaHealResult, RaidaHealServerResult } from './healing.js';
import { optionalTimerMs, refuseTimeoutMs } from './options.js';
import type { RaidaServerStatus } from './status.js';

/** The state of one healer, shared by its calls. */
export interface HealerCore {
  readonly servers: readonly RaidaServer[];
  /** The client's `deadlineMs`: a healing call is one attempt per server, so it caps that attempt. */
  readonly deadlineMs: number | undefined;
  readonly udp: UdpClient;
  /** One controller per call in flight, aborted by `close()`. */
  readonly calls: Set<AbortController>;
  closed: boolean;
}

interface Unit {
  readonly index: number;
  readonly server: RaidaServer;
  readonly request: BuiltHealingRequest | undefined;
  accepted: { readonly bytes: Uint8Array; readonly validated: ValidatedHealingReply } | undefined;
  rejection: XError | undefined;
}

function statusOf(validated: ValidatedHealingReply): RaidaServerStatus {
  switch (validated.outcome) {
    case 'ticket':
    case 'fix': {
      const code = validated.status.code;
      return code === 241 ? 'pass' : code === 242 ? 'fail' : 'mixed';
    }
    case 'find':
    case 'claimed':
      return 'ready';
    case 'error':
      return 'server-error';
  }
}

function describe(unit: Unit, outcome: UdpOutcome | undefined): RaidaHealServerResult {
  const base = { id: unit.server.id, address: formatServerAddress(unit.server) };
  if (outcome === undefined) return { ...base, status: 'skipped', latencyMs: 0 };
  if (!outcome.ok) {
    if (unit.rejection !== undefined && outcome.error.category === 'timeout')
      return { ...base, status: 'protocol-error', latencyMs: outcome.latencyMs, error: unit.rejection };
    const status: RaidaServerStatus = outcome.error.category === 'timeout' ? 'timeout' : 'network-error';
    return { ...base, status, latencyMs: outcome.latencyMs, error: outcome.error };
  }
  let validated: ValidatedHealingReply;
  if (unit.accepted !== undefined && unit.accepted.bytes === outcome.value) validated = unit.accepted.validated;
  else {
    try {
      validated = validateHealingReply(outcome.value, unit.request!.expectation);
    } catch (error) {
      return {
        ...base,
        status: 'protocol-error',
        latencyMs: outcome.latencyMs,
        error: toXError(error, { code: 'RAIDA_REPLY_INVALID', category: 'protocol' }),
      };
    }
  }
  const code = validated.status.code;
  const common = {
    ...base,
    status: statusOf(validated),
    statusCode: code,
    statusName: statusInfo(code).name,
    latencyMs: outcome.latencyMs,
    executionTimeUs: validated.reply.executionTimeUs,
  };
  switch (validated.outcome) {
    case 'ticket':
      return { ...common, passed: validated.passed, ...(validated.ticket === undefined ? {} : { ticket: validated.ticket }) };
    case 'find':
      return { ...common, found: validated.found };
    case 'fix':
      return { ...common, fixed: validated.fixed };
    case 'claimed':
      return common;
    case 'error':
      return { ...common, error: serverStatusError(unit.server.id, code) };
  }
}

function targetsOf(core: HealerCore, only: readonly number[] | undefined): Set<number> {
  const { servers } = core;
  if (only === undefined) return new Set(servers.map((server) => server.id));
  const given: unknown = only;
  if (!Array.isArray(given) || !given.every((id) => servers.some((server) => server.id === id))) {
    throw invalidOptions('only', 'only must be an array of configured RAIDA ids', given);
  }
  return new Set<number>(only);
}

function checkCall(
  core: HealerCore,
  call: RaidaHealCallOptions | undefined,
  defaultTimeoutMs: number,
): { timeoutMs: number; signal: AbortSignal | undefined; onReply: RaidaHealCallOptions['onReply'] } {
  const given = call ?? {};
  const value: unknown = given;
  if (!isPlainObject(value)) throw invalidOptions('options', 'call options must be an object', value);
  refuseTimeoutMs(given, 'the call option ');
  const attemptTimeoutMs = optionalTimerMs('attemptTimeoutMs', given.attemptTimeoutMs) ?? defaultTimeoutMs;
  // One attempt per server: the call's deadline is that attempt's, when it is shorter.
  const { deadlineMs } = core;
  const timeoutMs = deadlineMs === undefined ? attemptTimeoutMs : Math.min(attemptTimeoutMs, deadlineMs);
  if (given.signal !== undefined && !isAbortSignal(given.signal))
    throw invalidOptions('signal', 'signal must be an AbortSignal', given.signal);
  if (given.onReply !== undefined && typeof given.onReply !== 'function')
    throw invalidOptions('onReply', 'onReply must be a function', given.onReply);
  return { timeoutMs, signal: given.signal, onReply: given.onReply };
}

/**
 * One healing call: a request to each targeted server in one fan-out (never resent), every reply validated as it
 * arrives, and a status per server. Servers not targeted are `skipped`.
 */
export async function runHealingCall(
  core: HealerCore,
  command: HealingCommandName,
  call: RaidaHealCallOptions | undefined,
  defaultTimeoutMs: number,
  build: (server: RaidaServer) => BuiltHealingRequest,
): Promise<RaidaHealResult> {
  if (core.closed) throw clientClosed();
  const { servers, udp, calls } = core;
  const { timeoutMs, signal, onReply } = checkCall(core, call, defaultTimeoutMs);
  const targets = targetsOf(core, call?.only);
  throwIfAborted(signal);
  const startedAt = performance.now();
  const units: Unit[] = servers.map((server, index) => ({
    index,
    server,
    request: targets.has(server.id) ? build(server) : undefined,
    accepted: undefined,
    rejection: undefined,
  }));
  const sent = units.filter((unit) => unit.request !== undefined);
  const outcomes: (UdpOutcome | undefined)[] = units.map(() => undefined);
  const stop = new AbortController();
  const forward = (): void => stop.abort(signal?.reason);
  signal?.addEventListener('abort', forward, { once: true });
  calls.add(stop);
  let completed = 0;
  try {
    await udp.fanOut(
      sent.map((unit) => ({
        target: { host: unit.server.host, port: unit.server.port },
        payload: unit.request!.bytes,
        timeoutMs,
        accept: (bytes: Uint8Array) => {
          try {
            unit.accepted = { bytes, validated: validateHealingReply(bytes, unit.request!.expectation) };
            return true;
          } catch (error) {
            unit.rejection = toXError(error, { code: 'RAIDA_REPLY_INVALID', category: 'protocol', context: { raidaId: unit.server.id } });
            return false;
          }
        },
      })),
      {
        signal: stop.signal,
        onOutcome: (outcome, i) => {
          const unit = sent[i]!;
          outcomes[unit.index] = outcome;
          completed++;
          if (onReply === undefined || (!outcome.ok && outcome.error.category === 'aborted')) return;
          try {
            onReply({ index: unit.index, server: describe(unit, outcome), completed, total: sent.length });
          } catch {
            // A progress callback cannot break the call.
          }
        },
      },
    );
    if (core.closed) throw clientClosed();
    throwIfAborted(signal);
  } catch (error) {
    if (core.closed) throw clientClosed();
    if (signal?.aborted) throw abortedError(signal.reason);
    throw error;
  } finally {
    signal?.removeEventListener('abort', forward);
    calls.delete(stop);
  }
  const results = units.map((unit) => describe(unit, unit.request === undefined ? undefined : outcomes[unit.index]));
  return {
    command,
    statuses: results.map((result) => result.status),
    latencies: results.map((result) => result.latencyMs),
    servers: results,
    elapsedMs: performance.now() - startedAt,
  };
}
