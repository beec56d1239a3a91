import { isXError } from '@x/errors';
import { validateReply } from '@x/raida-protocol';
import type { RaidaServer, ReplyExpectation, ValidateReplyOptions } from '@x/raida-protocol';
import { invalidReply } from './classify.js';
import type { Unit } from './plan.js';
import type { ReplyCounterTracker } from './reply-counters.js';

/**
 * Requests remembered per server so that a late reply to one of them, reaching a pooled socket while a
 * newer request to that server is out, is recognised as stale rather than held against the server.
 */
const RECENT_REQUESTS_PER_SERVER = 32;
const PLAIN_REPLY: ValidateReplyOptions = Object.freeze({});

/** Reply acceptance of one RAIDA client: which datagram is the reply to which request. */
export interface ReplyGate {
  /** How a reply to `unit` is read: for type 1 with the server's pinned counter convention, or `'auto'`, which never guesses. */
  validateOptionsFor(unit: Unit): ValidateReplyOptions;
  /** Called once per request, before its first datagram leaves. */
  remember(unit: Unit): void;
  /**
   * The UDP layer's `accept` for one request: a datagram from the server's address that is not a valid
   * reply to this very request (forged, malformed, late for an earlier one) is turned away, so that the
   * genuine reply can still be taken when it arrives. Only a bad datagram counts against the server: a
   * stale reply is the network's doing.
   */
  accept(unit: Unit, bytes: Uint8Array): boolean;
}

export function createReplyGate(servers: readonly RaidaServer[], replyCounters: ReplyCounterTracker): ReplyGate {
  const recentRequests: ReplyExpectation[][] = servers.map(() => []);

  function validateOptionsFor(unit: Unit): ValidateReplyOptions {
    if (unit.request.expectation.encryption.type === 0) return PLAIN_REPLY;
    return { replyCounter: replyCounters.get(unit.serverIndex)?.replyCounter ?? 'auto' };
  }

  function answersEarlierRequest(unit: Unit, bytes: Uint8Array): boolean {
    const current = unit.request.expectation;
    for (const expectation of recentRequests[unit.serverIndex]!) {
      if (expectation === current) continue;
      try {
        validateReply(bytes, expectation, validateOptionsFor(unit));
        return true;
      } catch {
        // Not a reply to that one either.
      }
    }
    return false;
  }

  return {
    validateOptionsFor,
    remember(unit) {
      const recent = recentRequests[unit.serverIndex]!;
      recent.push(unit.request.expectation);
      if (recent.length > RECENT_REQUESTS_PER_SERVER) recent.shift();
    },
    accept(unit, bytes) {
      const expectation = unit.request.expectation;
      try {
        const validated = validateReply(bytes, expectation, validateOptionsFor(unit));
        // A body that only one convention reads: the server's convention is known from now on.
        if (validated.outcome !== 'error' && validated.replyCounter !== undefined)
          replyCounters.learn(unit.serverIndex, validated.replyCounter);
        unit.accepted = { bytes, validated };
        return true;
      } catch (error) {
        if (isXError(error, 'RAIDA_REPLY_COUNTER_AMBIGUOUS')) {
          // Genuine (its signature matched), but its verdicts would rest on a guess: a protocol error, at once.
          unit.accepted = { bytes, failure: error };
          return true;
        }
        if (!answersEarlierRequest(unit, bytes)) unit.rejection = invalidReply(error, expectation.raidaId);
        return false;
      }
    },
  };
}
