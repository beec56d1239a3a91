import { abortedError, isXError, throwIfAborted, toXError } from '@x/errors';
import type { XError } from '@x/errors';
import { AN_LENGTH, buildRequest, formatServerAddress, statusInfo, validateReply } from '@x/raida-protocol';
import type {
  BuiltRequest,
  CommandName,
  RaidaServer,
  ReplyExpectation,
  RequestEncryption,
  RequestInput,
  ValidateReplyOptions,
  ValidatedReply,
} from '@x/raida-protocol';
import { createUdpClient } from '@x/udp-transport';
import type { UdpClient, UdpFanOutItem, UdpOutcome } from '@x/udp-transport';
import { fillerCoinIds, planCoinBatches } from './batches.js';
import { clientClosed, earlyFinishReason, serverStatusError } from './errors.js';
import { checkCoins, checkNewAns, coinOn, pownCoinOn, resolveCallOptions, resolveClientOptions } from './options.js';
import type { ResolvedCallOptions, ResolvedClientOptions } from './options.js';
import { createReplyCounterTracker } from './reply-counters.js';
import type { ReplyCounterState } from './reply-counters.js';
import { isReplyStatus, isRetryableStatus } from './status.js';
import type { RaidaServerStatus } from './status.js';
import type {
  CoinVote,
  RaidaClient,
  RaidaClientOptions,
  RaidaCoin,
  RaidaCoinResult,
  RaidaCoinVerdict,
  RaidaEncryption,
  RaidaNewAns,
  RaidaResult,
  RaidaServerRef,
  RaidaServerResult,
  RaidaTotals,
} from './types.js';
import { coinVerdict, countVotes, isCoinSettled, retryTimeoutMs } from './verdicts.js';

/** What one request (one server, one slice of the coins) came to. */
interface UnitResult {
  readonly status: RaidaServerStatus;
  readonly latencyMs: number;
  readonly statusCode?: number;
  readonly error?: XError;
  readonly executionTimeUs?: number;
  readonly version?: string;
  /** One per coin of the unit's slice, for coin results. */
  readonly verdicts?: readonly boolean[];
}

/** One datagram of a call: a server and, for detect/pown, a slice of the coins. Retries resend the same bytes. */
interface Unit {
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
  accepted: { readonly bytes: Uint8Array; readonly validated: ValidatedReply } | { readonly bytes: Uint8Array; readonly failure: XError } | undefined;
}

interface ServerState {
  readonly index: number;
  readonly server: RaidaServer;
  readonly units: Unit[];
  /** Units of this server still out in the current attempt. */
  outstanding: number;
  final: boolean;
}

/** Per-server requests of one call, before anything is sent. */
interface Plan {
  readonly command: CommandName;
  readonly coins: readonly RaidaCoin[];
  readonly units: Unit[];
}

const PLAIN_REPLY: ValidateReplyOptions = Object.freeze({});
/** Type-1 version requests sent at most to a server whose convention is not known, before an encrypted detect or pown. */
const REPLY_COUNTER_PROBES = 3;
const PLAIN: RequestEncryption = Object.freeze({ type: 0 });

function hasCode(error: unknown, code: string): error is XError {
  return isXError(error) && error.code === code;
}

function udpFailureStatus(error: XError): RaidaServerStatus | undefined {
  if (error.category === 'timeout') return 'timeout';
  if (error.category === 'aborted') return undefined;
  return 'network-error';
}

function invalidReply(error: unknown, raidaId: number): XError {
  return toXError(error, { code: 'RAIDA_REPLY_INVALID', category: 'protocol', context: { raidaId } });
}

/**
 * Requests remembered per server so that a late reply to one of them, reaching a pooled socket while a
 * newer request to that server is out, is recognised as stale rather than held against the server.
 */
const RECENT_REQUESTS_PER_SERVER = 32;

function classify(outcome: UdpOutcome, unit: Unit, earlyFinish: XError | undefined, validateOptions: ValidateReplyOptions): UnitResult | undefined {
  const accepted = unit.accepted;
  const rejection = unit.rejection;
  unit.accepted = undefined;
  unit.rejection = undefined;
  if (!outcome.ok) {
    if (outcome.error === earlyFinish) return { status: 'skipped', latencyMs: outcome.latencyMs, error: outcome.error };
    const status = udpFailureStatus(outcome.error);
    // Only bad datagrams came back: the server is heard, and misbehaving, not silent.
    if (status === 'timeout' && rejection !== undefined) return { status: 'protocol-error', latencyMs: outcome.latencyMs, error: rejection };
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
      return { status: 'ready', latencyMs, statusCode, executionTimeUs, ...(validated.version === undefined ? {} : { version: validated.version }) };
    case 'coins': {
      if (unit.coinCount === validated.verdicts.length) {
        const status = statusCode === 241 ? 'pass' : statusCode === 242 ? 'fail' : 'mixed';
        return { status, latencyMs, statusCode, executionTimeUs, verdicts: validated.verdicts };
      }
      // Filler coins follow the caller's: no server holds them, and their verdicts are never reported.
      if (validated.verdicts.slice(unit.coinCount).some(Boolean)) {
        const error = invalidReply(new Error(`RAIDA ${expectation.raidaId} passed a filler coin that no server holds`), expectation.raidaId);
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

/** When a split server's requests did not all answer with coin results, the first of these statuses stands for it. */
const FAILURE_PRECEDENCE: readonly RaidaServerStatus[] = ['protocol-error', 'server-error', 'network-error', 'timeout', 'skipped'];

/** Writable view of a server result while it is assembled (fields added in one fixed order, so objects share a shape). */
type ServerResultDraft = { -readonly [K in keyof RaidaServerResult]: RaidaServerResult[K] };

function describeServer(state: ServerState, address: string, counter?: ReplyCounterState): RaidaServerResult {
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

function setStatusFields(out: ServerResultDraft, code: number): void {
  const info = statusInfo(code);
  out.statusCode = code;
  out.statusName = info.name;
  out.statusDescription = info.description;
}

function ref(servers: readonly RaidaServerResult[], index: number): RaidaServerRef {
  const server = servers[index]!;
  return { index, id: server.id, address: server.address, latencyMs: server.latencyMs };
}

function summarise(command: CommandName, servers: RaidaServerResult[], quorum: number, consensus: (counts: Record<RaidaServerStatus, number>) => boolean, startedAt: number): RaidaResult {
  const counts = { ready: 0, pass: 0, fail: 0, mixed: 0, timeout: 0, 'network-error': 0, 'protocol-error': 0, 'server-error': 0, skipped: 0 } satisfies Record<RaidaServerStatus, number>;
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

function requestEncryption(encryption: RaidaEncryption, id: number): RequestEncryption {
  return encryption.type === 1 ? { type: 1, keyCoin: coinOn(encryption.keyCoin, id) } : { type: 0 };
}

/**
 * A RAIDA client: each call sends one request to every server at once (each with its own RAIDA id,
 * challenge and timeout), validates every reply against its request, and reports a status and a
 * latency per server, totals, and for detect/pown a 13-of-25 verdict per coin.
 */
export function createRaidaClient(options?: RaidaClientOptions): RaidaClient {
  const config: ResolvedClientOptions = resolveClientOptions(options);
  const { servers, quorum } = config;
  // Pooled sockets are safe to reuse: a late reply to an earlier call fails the next request's `accept`.
  const udp: UdpClient = 'shared' in config.udp ? config.udp.shared : createUdpClient(config.udp.options);
  const ownsUdp = !('shared' in config.udp);
  const calls = new Set<AbortController>();
  const recentRequests: ReplyExpectation[][] = servers.map(() => []);
  const replyCounters = createReplyCounterTracker(servers, config.replyCounters);
  const addresses = servers.map(formatServerAddress);

  /** How a reply to `unit` is read: for type 1 with the server's pinned counter convention, or `'auto'`, which never guesses. */
  function validateOptionsFor(unit: Unit): ValidateReplyOptions {
    if (unit.request.expectation.encryption.type === 0) return PLAIN_REPLY;
    return { replyCounter: replyCounters.get(unit.serverIndex)?.replyCounter ?? 'auto' };
  }

  function rememberRequest(unit: Unit): void {
    const recent = recentRequests[unit.serverIndex]!;
    recent.push(unit.request.expectation);
    if (recent.length > RECENT_REQUESTS_PER_SERVER) recent.shift();
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

  /**
   * The UDP layer's `accept` for one request: a datagram from the server's address that is not a valid
   * reply to this very request (forged, malformed, late for an earlier one) is turned away, so that the
   * genuine reply can still be taken when it arrives. Only a bad datagram counts against the server: a
   * stale reply is the network's doing.
   */
  function acceptReply(unit: Unit, bytes: Uint8Array): boolean {
    const expectation = unit.request.expectation;
    try {
      const validated = validateReply(bytes, expectation, validateOptionsFor(unit));
      // A body that only one convention reads: the server's convention is known from now on.
      if (validated.outcome !== 'error' && validated.replyCounter !== undefined) replyCounters.learn(unit.serverIndex, validated.replyCounter);
      unit.accepted = { bytes, validated };
      return true;
    } catch (error) {
      if (hasCode(error, 'RAIDA_REPLY_COUNTER_AMBIGUOUS')) {
        // Genuine (its signature matched), but its verdicts would rest on a guess: a protocol error, at once.
        unit.accepted = { bytes, failure: error };
        return true;
      }
      if (!answersEarlierRequest(unit, bytes)) unit.rejection = invalidReply(error, expectation.raidaId);
      return false;
    }
  }
  let closed = false;
  let closing: Promise<void> | undefined;

  function plan(command: CommandName, call: ResolvedCallOptions, coins: readonly RaidaCoin[], newAns: readonly RaidaNewAns[] | undefined): Plan {
    const units: Unit[] = [];
    const { coinId, random, maxRequestBytes: maxLength } = config;
    if (command !== 'detect' && command !== 'pown') {
      // Echo and version: one request per server, built with as little around it as possible (this is the hot path).
      for (let serverIndex = 0; serverIndex < servers.length; serverIndex++) {
        const raidaId = servers[serverIndex]!.id;
        const encryption = call.encryption.type === 1 ? requestEncryption(call.encryption, raidaId) : PLAIN;
        const request = buildRequest({ command, raidaId, coinId, random, maxLength, encryption });
        units.push({ serverIndex, coinOffset: 0, coinCount: 0, request, result: undefined, attempts: 0, final: false, rejection: undefined, accepted: undefined });
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
        units.push({ serverIndex, coinOffset: slice.offset, coinCount: slice.count, request: buildRequest(input), result: undefined, attempts: 0, final: false, rejection: undefined, accepted: undefined });
      });
    }
    return { command, coins, units };
  }

  async function execute(
    work: Plan,
    call: ResolvedCallOptions,
  ): Promise<{ states: ServerState[]; votes: CoinVote[][] | undefined; startedAt: number; results: RaidaServerResult[] }> {
    if (closed) throw clientClosed();
    throwIfAborted(call.signal);
    const startedAt = performance.now();
    const states: ServerState[] = servers.map((server, index) => ({ index, server, units: [], outstanding: 0, final: false }));
    const describe = (state: ServerState): RaidaServerResult =>
      describeServer(state, addresses[state.index]!, call.encryption.type === 1 ? replyCounters.get(state.index) : undefined);
    for (const unit of work.units) states[unit.serverIndex]!.units.push(unit);
    const isCoinCommand = work.command === 'detect' || work.command === 'pown';
    // votes[coin][server]
    const votes: CoinVote[][] | undefined = isCoinCommand ? work.coins.map(() => servers.map((): CoinVote => 'unknown')) : undefined;
    // Made only when early finish happens: an error per call would cost a stack trace every round.
    let earlyFinish: XError | undefined;
    // Something to stop the fan-out with: the caller's abort, early finish, or close() of a shared UDP client. A UDP
    // client of our own is closed by close() itself, which settles its requests, so a plain call needs none.
    const stop = ownsUdp && call.signal === undefined && !call.earlyFinish ? undefined : new AbortController();
    const forwardAbort = (): void => stop?.abort(call.signal?.reason);
    call.signal?.addEventListener('abort', forwardAbort, { once: true });
    if (stop !== undefined) calls.add(stop);
    let completed = 0;
    let finishedEarly = false;

    // Per-coin tallies for early finish, updated as units become final: votes only grow and pending
    // only shrinks, so once a coin is settled it stays settled.
    const tally = work.coins.map(() => ({ pass: 0, fail: 0, pending: servers.length, settled: false }));
    let unsettled = work.coins.length;
    const onUnitFinal = (unit: Unit): void => {
      for (let i = 0; i < unit.coinCount; i++) {
        const coin = tally[unit.coinOffset + i]!;
        coin.pending--;
        const verdict = unit.result?.verdicts?.[i];
        if (verdict === true) coin.pass++;
        else if (verdict === false) coin.fail++;
        if (!coin.settled && isCoinSettled(coin, quorum)) {
          coin.settled = true;
          unsettled--;
        }
      }
    };

    const onUnitOutcome = (unit: Unit, outcome: UdpOutcome, attempt: number, willRetry: boolean): void => {
      const result = classify(outcome, unit, earlyFinish, validateOptionsFor(unit));
      if (result === undefined) return; // the caller aborted, or the client closed: the call rejects
      unit.result = result;
      unit.final = !(willRetry && isRetryableStatus(result.status));
      if (unit.final) onUnitFinal(unit);
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
      if (call.earlyFinish && isCoinCommand && unsettled === 0 && !finishedEarly && stop !== undefined && !stop.signal.aborted) {
        finishedEarly = true;
        earlyFinish = earlyFinishReason();
        stop.abort(earlyFinish);
      }
    };

    try {
      let pending = work.units;
      for (let attempt = 0; ; attempt++) {
        const timeoutMs = attempt === 0 ? call.timeoutMs : retryTimeoutMs(call.timeoutMs, attempt);
        const willRetry = attempt < call.retries;
        for (const unit of pending) {
          // Retries resend the same bytes: one entry per request.
          if (unit.attempts === 0) rememberRequest(unit);
          unit.attempts++;
          states[unit.serverIndex]!.outstanding++;
        }
        const batch = pending;
        const items: UdpFanOutItem[] = new Array<UdpFanOutItem>(batch.length);
        for (let i = 0; i < batch.length; i++) {
          const unit = batch[i]!;
          // The server itself is the target ({ host, port }); `bind` makes the accept check without a closure per round.
          items[i] = { target: servers[unit.serverIndex]!, payload: unit.request.bytes, timeoutMs, accept: acceptReply.bind(undefined, unit) };
        }
        await udp.fanOut(items, {
          ...(stop === undefined ? {} : { signal: stop.signal }),
          onOutcome: (outcome, index) => onUnitOutcome(batch[index]!, outcome, attempt, willRetry),
        });
        if (closed) throw clientClosed();
        throwIfAborted(call.signal);
        if (finishedEarly || !willRetry) break;
        pending = batch.filter((unit) => !unit.final);
        if (pending.length === 0) break;
      }
    } catch (error) {
      if (closed) throw clientClosed();
      if (call.signal?.aborted) throw abortedError(call.signal.reason);
      throw error;
    } finally {
      call.signal?.removeEventListener('abort', forwardAbort);
      if (stop !== undefined) calls.delete(stop);
    }
    return { states, votes, startedAt, results: states.map(describe) };
  }

  /**
   * Before an encrypted detect or pown: a type-1 version to each server whose reply counter convention is not known
   * yet, whose printable ASCII body tells the conventions apart (accepting it pins the convention). A server it
   * does not settle stays unknown, and a reply of its that both conventions read is a protocol error, not a verdict.
   */
  async function learnReplyCounters(call: ResolvedCallOptions): Promise<void> {
    const probeCall: ResolvedCallOptions = { ...call, onReply: undefined, retries: 0, earlyFinish: false };
    let asking = new Set(replyCounters.unknown());
    // An 8-character version reads as printable under the wrong convention too about once in 2,800 replies: a server
    // whose reply was ambiguous is asked again, with a fresh nonce, up to PROBES times. Silent servers are not.
    for (let probe = 0; probe < REPLY_COUNTER_PROBES && asking.size > 0; probe++) {
      const { units } = plan('version', probeCall, [], undefined);
      const sent = units.filter((unit) => asking.has(unit.serverIndex));
      await execute({ command: 'version', coins: [], units: sent }, probeCall);
      asking = new Set(sent.filter((unit) => unit.result?.error?.code === 'RAIDA_REPLY_COUNTER_AMBIGUOUS').map((unit) => unit.serverIndex));
    }
  }

  async function plainCall(command: 'echo' | 'version', options: Parameters<RaidaClient['echo']>[0]): Promise<RaidaResult> {
    const call = resolveCallOptions(options, config, command);
    const work = plan(command, call, [], undefined);
    const { results, startedAt } = await execute(work, call);
    return summarise(command, results, quorum, (counts) => counts.ready >= quorum, startedAt);
  }

  async function coinCall(
    command: 'detect' | 'pown',
    coins: readonly RaidaCoin[],
    newAns: readonly RaidaNewAns[] | undefined,
    options: Parameters<RaidaClient['detect']>[1],
  ): Promise<RaidaCoinResult> {
    const call = resolveCallOptions(options, config, command);
    checkCoins(coins, servers);
    if (command === 'pown') checkNewAns(newAns, coins.length, servers);
    const work = plan(command, call, coins, newAns);
    if (call.encryption.type === 1) await learnReplyCounters(call);
    const { votes, startedAt, results } = await execute(work, call);
    const verdicts: RaidaCoinVerdict[] = coins.map((coin, index) => {
      const coinVotes = votes![index]!;
      const { pass, fail, unknown } = countVotes(coinVotes);
      return {
        index,
        denomination: coin.denomination,
        serialNumber: coin.serialNumber,
        verdict: coinVerdict(pass, fail, quorum),
        pass,
        fail,
        unknown,
        failedOn: coinVotes.flatMap((vote, serverIndex) => (vote === 'fail' ? [servers[serverIndex]!.id] : [])),
        votes: coinVotes,
      };
    });
    const summary = summarise(command, results, quorum, () => verdicts.every((coin) => coin.verdict !== 'limbo'), startedAt);
    return { ...summary, command, coins: verdicts };
  }

  return {
    servers,
    quorum,
    echo: (options) => plainCall('echo', options),
    version: (options) => plainCall('version', options),
    detect: (coins, options) => coinCall('detect', coins, undefined, options),
    pown: (coins, newAns, options) => coinCall('pown', coins, newAns, options),
    close() {
      if (closing !== undefined) return closing;
      closed = true;
      const reason = clientClosed();
      for (const stop of calls) stop.abort(reason);
      closing = ownsUdp ? udp.close() : Promise.resolve();
      return closing;
    },
  };
}
