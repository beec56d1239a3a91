import { abortedError, throwIfAborted } from '@x/errors';
import type { UdpFanOutItem, UdpOutcome } from '@x/udp-transport';
import { classify } from './classify.js';
import type { StopReasons } from './classify.js';
import type { RaidaCore } from './core.js';
import { describeServer } from './describe.js';
import type { ServerState } from './describe.js';
import { clientClosed, deadlineReason, earlyFinishReason } from './errors.js';
import type { ResolvedCallOptions } from './options.js';
import type { Plan, Unit } from './plan.js';
import { isRetryableStatus } from './status.js';
import type { CoinVote, RaidaServerResult } from './types.js';
import { createCoinTally, retryTimeoutMs } from './verdicts.js';

/** What the rounds of one call came to. */
export interface Rounds {
  readonly startedAt: number;
  readonly results: RaidaServerResult[];
  /** Detect/pown: `votes[coin][server]`. */
  readonly votes: CoinVote[][] | undefined;
  readonly units: readonly Unit[];
}

/**
 * Sends a planned call in rounds over the transport: every request at once (one `fanOut`, each with the attempt
 * timeout), then — with `retries` — again for servers that timed out or had a network error, each retry waiting
 * × 1.5 longer. Early finish and the deadline stop what is still out; the caller's signal and `close()` reject.
 */
export async function runRounds(core: RaidaCore, work: Plan, call: ResolvedCallOptions): Promise<Rounds> {
  if (core.closed) throw clientClosed();
  throwIfAborted(call.signal);
  const { servers, quorum } = core.config;
  const startedAt = performance.now();
  const states: ServerState[] = servers.map((server, index) => ({ index, server, units: [], outstanding: 0, final: false }));
  const describe = (state: ServerState): RaidaServerResult =>
    describeServer(state, core.addresses[state.index]!, call.encryption.type === 1 ? core.replyCounters.get(state.index) : undefined);
  for (const unit of work.units) states[unit.serverIndex]!.units.push(unit);
  const isCoinCommand = work.command === 'detect' || work.command === 'pown';
  const votes: CoinVote[][] | undefined = isCoinCommand ? work.coins.map(() => servers.map((): CoinVote => 'unknown')) : undefined;
  // Made only when they happen: an error per call would cost a stack trace every round.
  const stopped: { -readonly [K in keyof StopReasons]: StopReasons[K] } = { earlyFinish: undefined, deadline: undefined };
  // Something to stop the fan-out with: the caller's abort, early finish, the deadline, or close() of a shared UDP
  // client. A UDP client of our own is closed by close() itself, which settles its requests, so a plain call needs none.
  const needsStop = !core.ownsUdp || call.signal !== undefined || call.earlyFinish || call.deadlineAt !== undefined;
  const stop = needsStop ? new AbortController() : undefined;
  const forwardAbort = (): void => stop?.abort(call.signal?.reason);
  call.signal?.addEventListener('abort', forwardAbort, { once: true });
  if (stop !== undefined) core.calls.add(stop);
  const deadlineTimer =
    call.deadlineAt === undefined
      ? undefined
      : setTimeout(
          () => {
            stopped.deadline = deadlineReason(call.deadlineMs!);
            stop!.abort(stopped.deadline);
          },
          Math.max(0, call.deadlineAt - startedAt),
        );
  let completed = 0;
  const tally = createCoinTally(work.coins.length, servers.length, quorum);

  const onUnitOutcome = (unit: Unit, outcome: UdpOutcome, attempt: number, willRetry: boolean): void => {
    const result = classify(outcome, unit, stopped, core.gate.validateOptionsFor(unit));
    if (result === undefined) return; // the caller aborted, or the client closed: the call rejects
    unit.result = result;
    unit.final = !(willRetry && isRetryableStatus(result.status));
    if (unit.final) tally.record(unit.coinOffset, unit.coinCount, result.verdicts);
    if (votes !== undefined && result.verdicts !== undefined) {
      result.verdicts.forEach((passed, i) => {
        votes[unit.coinOffset + i]![unit.serverIndex] = passed ? 'pass' : 'fail';
      });
    }
    const state = states[unit.serverIndex]!;
    if (--state.outstanding === 0) {
      state.final = state.units.every((u) => u.final);
      if (state.final) completed++;
      if (call.onReply !== undefined) {
        try {
          call.onReply({ index: unit.serverIndex, server: describe(state), attempt, final: state.final, completed, total: servers.length });
        } catch {
          // Documented: a progress callback cannot break the call.
        }
      }
    }
    if (call.earlyFinish && isCoinCommand && tally.allSettled() && stopped.earlyFinish === undefined && !stop!.signal.aborted) {
      stopped.earlyFinish = earlyFinishReason();
      stop!.abort(stopped.earlyFinish);
    }
  };

  try {
    let pending = work.units;
    for (let attempt = 0; ; attempt++) {
      const timeoutMs = attempt === 0 ? call.attemptTimeoutMs : retryTimeoutMs(call.attemptTimeoutMs, attempt);
      const willRetry = attempt < call.retries;
      const batch = pending;
      const items: UdpFanOutItem[] = new Array<UdpFanOutItem>(batch.length);
      for (let i = 0; i < batch.length; i++) {
        const unit = batch[i]!;
        // Retries resend the same bytes: one entry per request.
        if (unit.attempts === 0) core.gate.remember(unit);
        unit.attempts++;
        states[unit.serverIndex]!.outstanding++;
        // The server itself is the target ({ host, port }); `bind` makes the accept check without a closure per round.
        items[i] = {
          target: servers[unit.serverIndex]!,
          payload: unit.request.bytes,
          timeoutMs,
          accept: core.gate.accept.bind(undefined, unit),
        };
      }
      await core.udp.fanOut(items, {
        ...(stop === undefined ? {} : { signal: stop.signal }),
        onOutcome: (outcome, index) => onUnitOutcome(batch[index]!, outcome, attempt, willRetry),
      });
      if (core.closed) throw clientClosed();
      throwIfAborted(call.signal);
      if (stopped.earlyFinish !== undefined || stopped.deadline !== undefined || !willRetry) break;
      pending = batch.filter((unit) => !unit.final);
      if (pending.length === 0) break;
    }
  } catch (error) {
    if (core.closed) throw clientClosed();
    if (call.signal?.aborted) throw abortedError(call.signal.reason);
    throw error;
  } finally {
    clearTimeout(deadlineTimer);
    call.signal?.removeEventListener('abort', forwardAbort);
    if (stop !== undefined) core.calls.delete(stop);
  }
  return { startedAt, results: states.map(describe), votes, units: work.units };
}
