import { toXError } from '@x/errors';
import type { XError } from '@x/errors';
import { validateReply } from '@x/raida-protocol';
import type { ValidateReplyOptions, ValidatedReply } from '@x/raida-protocol';
import type { UdpOutcome } from '@x/udp-transport';
import { serverStatusError } from './errors.js';
import type { Unit } from './plan.js';
import type { RaidaServerStatus } from './status.js';

/** What one request (one server, one slice of the coins) came to. */
export interface UnitResult {
  readonly status: RaidaServerStatus;
  readonly latencyMs: number;
  readonly statusCode?: number;
  readonly error?: XError;
  readonly executionTimeUs?: number;
  readonly version?: string;
  /** One per coin of the unit's slice, for coin results. */
  readonly verdicts?: readonly boolean[];
}

/** Why a call stopped waiting for the requests still out, other than the caller: early finish, or the deadline. */
export interface StopReasons {
  readonly earlyFinish: XError | undefined;
  readonly deadline: XError | undefined;
}

export function invalidReply(error: unknown, raidaId: number): XError {
  return toXError(error, { code: 'RAIDA_REPLY_INVALID', category: 'protocol', context: { raidaId } });
}

function udpFailureStatus(error: XError): RaidaServerStatus | undefined {
  if (error.category === 'timeout') return 'timeout';
  if (error.category === 'aborted') return undefined;
  return 'network-error';
}

/**
 * A server's status from the transport's outcome of one request: a reply is validated (unless `accept` already
 * did) and read; a failure becomes timeout, network-error, or — when only bad datagrams came back — protocol-error.
 * `undefined` when the caller aborted or the client closed: then the call rejects.
 */
export function classify(
  outcome: UdpOutcome,
  unit: Unit,
  stopped: StopReasons,
  validateOptions: ValidateReplyOptions,
): UnitResult | undefined {
  const accepted = unit.accepted;
  const rejection = unit.rejection;
  unit.accepted = undefined;
  unit.rejection = undefined;
  if (!outcome.ok) {
    if (outcome.error === stopped.earlyFinish) return { status: 'skipped', latencyMs: outcome.latencyMs, error: outcome.error };
    if (outcome.error === stopped.deadline) return { status: 'timeout', latencyMs: outcome.latencyMs, error: outcome.error };
    const status = udpFailureStatus(outcome.error);
    // Only bad datagrams came back: the server is heard, and misbehaving, not silent.
    if (status === 'timeout' && rejection !== undefined)
      return { status: 'protocol-error', latencyMs: outcome.latencyMs, error: rejection };
    return status === undefined ? undefined : { status, latencyMs: outcome.latencyMs, error: outcome.error };
  }
  const { latencyMs } = outcome;
  const expectation = unit.request.expectation;
  let validated: ValidatedReply;
  if (accepted !== undefined && accepted.bytes === outcome.value) {
    if ('failure' in accepted) return { status: 'protocol-error', latencyMs, error: accepted.failure };
    validated = accepted.validated;
  } else {
    // A shared UDP client that does not call `accept` hands over the first datagram unchecked.
    try {
      validated = validateReply(outcome.value, expectation, validateOptions);
    } catch (error) {
      return { status: 'protocol-error', latencyMs, error: invalidReply(error, expectation.raidaId) };
    }
  }
  const statusCode = validated.status.code;
  const executionTimeUs = validated.reply.executionTimeUs;
  switch (validated.outcome) {
    case 'success':
      return {
        status: 'ready',
        latencyMs,
        statusCode,
        executionTimeUs,
        ...(validated.version === undefined ? {} : { version: validated.version }),
      };
    case 'coins': {
      if (unit.coinCount === validated.verdicts.length) {
        const status = statusCode === 241 ? 'pass' : statusCode === 242 ? 'fail' : 'mixed';
        return { status, latencyMs, statusCode, executionTimeUs, verdicts: validated.verdicts };
      }
      // Filler coins follow the caller's: no server holds them, and their verdicts are never reported.
      if (validated.verdicts.slice(unit.coinCount).some(Boolean)) {
        const error = invalidReply(
          new Error(`RAIDA ${expectation.raidaId} passed a filler coin that no server holds`),
          expectation.raidaId,
        );
        return { status: 'protocol-error', latencyMs, error };
      }
      const verdicts = validated.verdicts.slice(0, unit.coinCount);
      const passes = verdicts.filter(Boolean).length;
      const code = passes === verdicts.length ? 241 : passes === 0 ? 242 : 243;
      return { status: code === 241 ? 'pass' : code === 242 ? 'fail' : 'mixed', latencyMs, statusCode: code, executionTimeUs, verdicts };
    }
    case 'error':
      return { status: 'server-error', latencyMs, statusCode, executionTimeUs, error: serverStatusError(expectation.raidaId, statusCode) };
  }
}
