import { DDSketch } from '@datadog/sketches-js';
import { XError, abortedError, configError, describeValue, isAbortSignal, toXError } from '@x/errors';

/**
 * The race strategy for streams: N sources deliver the same logical stream (one subscription opened on
 * N providers); each event is delivered once, the first time any source delivers it, and later copies
 * are dropped. No `node:` imports: it runs in browsers too.
 */

/** What identifies one event across sources (a signature, a slot, a block hash...). */
export type MergeKey = string | number | bigint;

/** What happens when the consumer's queue is full and one more item arrives. */
export type MergeOverflowPolicy = 'drop-oldest' | 'drop-newest' | 'error';

/**
 * How a push source talks to the merger. `signal` aborts when the merged stream ends (abort, `close()`,
 * `return()`, overflow error): the source must then release its sockets and timers.
 */
export interface MergeSink<T> {
  readonly signal: AbortSignal;
  /** One notification. */
  event(value: T): void;
  /** The source lost its connection: reported once as a `gap` item (repeats while down are ignored). */
  disconnected(reason?: unknown): void;
  /** The source is back (resubscribed): reported once as a `resumed` item. */
  connected(): void;
  /** The source is over for good; the merged stream ends when every source has ended. */
  end(reason?: unknown): void;
}

/** A source: an async iterable (its end or error is the source's end), or a push source started once. */
export type MergeSource<T> =
  | { readonly name: string; readonly iterable: AsyncIterable<T> }
  | { readonly name: string; readonly start: (sink: MergeSink<T>) => void | (() => void) };

export interface MergeStreamsOptions<T> {
  /** What identifies an event; copies with the same key are one event. A key function that throws drops that copy (counted as `invalid`). */
  readonly key: (value: T) => MergeKey;
  /** Ends the stream: every source is stopped, a pending `next()` rejects with `ABORTED`. */
  readonly signal?: AbortSignal;
  /** How many distinct recent keys are remembered for deduplication. Default 10 000. */
  readonly dedupeWindow?: number;
  /** How long (ms) a key is remembered at most. Default 120 000. */
  readonly dedupeTtlMs?: number;
  /** How many items may wait for the consumer. Default 1 000. */
  readonly queueSize?: number;
  /** Default `drop-oldest`. */
  readonly overflow?: MergeOverflowPolicy;
  /** Clock in ms (default `performance.now()`); tests pass a fake one. */
  readonly now?: () => number;
  /**
   * Called for every first or late copy (not repeats) with how far behind the first copy it was (0 when first):
   * lets a caller keep statistics across several merged streams (e.g. per provider). A throw is ignored.
   */
  readonly onCopy?: (copy: MergeCopy) => void;
}

/** What {@link MergeStreamsOptions.onCopy} hears. */
export interface MergeCopy {
  readonly source: string;
  readonly index: number;
  readonly first: boolean;
  readonly lagMs: number;
}

export interface MergedEvent<T> {
  readonly type: 'event';
  readonly value: T;
  readonly key: MergeKey;
  /** The source that delivered it first, or `backfill` for an event offered by {@link MergedStream.backfill}. */
  readonly source: string;
  /** The source's index in `sources`, −1 for backfill. */
  readonly index: number;
  readonly receivedAt: number;
}

export interface MergedGap {
  readonly type: 'gap';
  readonly source: string;
  readonly index: number;
  readonly at: number;
  readonly reason: XError | undefined;
  /** True when the source ended for good (iterable finished, `end()`), false for a disconnect. */
  readonly ended: boolean;
}

export interface MergedResumed {
  readonly type: 'resumed';
  readonly source: string;
  readonly index: number;
  readonly at: number;
  /** How long the source was down. */
  readonly downMs: number;
}

export type MergedItem<T> = MergedEvent<T> | MergedGap | MergedResumed;

export interface MergeSourceStats {
  readonly name: string;
  readonly index: number;
  readonly connected: boolean;
  readonly ended: boolean;
  /** Every copy received, first or not. */
  readonly received: number;
  /** Events this source delivered first. */
  readonly first: number;
  /** Copies that arrived after another source's (dropped). */
  readonly late: number;
  /** Copies of a key this very source had already delivered (dropped). */
  readonly repeats: number;
  /** Keys other sources delivered and this one never did while it was connected, counted when the key leaves the dedupe window. */
  readonly missed: number;
  readonly invalid: number;
  readonly disconnects: number;
  readonly reconnects: number;
  /** How far behind the first copy this source's copies were (0 when it was first), in ms; undefined before any sample. */
  readonly lagP50Ms: number | undefined;
  readonly lagP99Ms: number | undefined;
  readonly lagSamples: number;
}

export interface MergeStats {
  /** Distinct events put on the queue. */
  readonly delivered: number;
  /** Copies dropped as duplicates (late + repeats + backfill copies already seen). */
  readonly duplicates: number;
  /** Items the overflow policy dropped. */
  readonly dropped: number;
  /** Distinct events that came from backfill. */
  readonly backfilled: number;
  readonly queued: number;
  readonly queueHighWater: number;
  readonly sources: readonly MergeSourceStats[];
}

export interface MergedStream<T> extends AsyncIterableIterator<MergedItem<T>> {
  /** Offers an event found by a backfill query: delivered when its key is new, dropped otherwise. True when delivered. */
  backfill(value: T): boolean;
  /** True while `key` is in the dedupe window (an event with it was delivered and a copy would be dropped). */
  has(key: MergeKey): boolean;
  /**
   * Adds a source while the stream runs (e.g. a replacement for a provider that went away), started at once, with the
   * next index. False, and nothing started, once the stream ended or when it already has {@link MAX_MERGE_SOURCES}
   * sources. Keys already in the dedupe window stay duplicates for it.
   */
  add(source: MergeSource<T>): boolean;
  stats(): MergeStats;
  /** Ends the stream normally: sources stopped, `next()` returns done. Idempotent. */
  close(): void;
  /** True once the stream ended (by any path). */
  readonly closed: boolean;
}

export const MERGE_DEFAULTS = Object.freeze({
  dedupeWindow: 10_000,
  dedupeTtlMs: 120_000,
  queueSize: 1_000,
  overflow: 'drop-oldest' as const,
});

/** At most this many sources (arrivals per key are a bit set). */
export const MAX_MERGE_SOURCES = 30;

const OPTION_CODE = 'STRATEGY_INVALID_OPTIONS';

interface SourceState {
  readonly name: string;
  readonly index: number;
  connected: boolean;
  ended: boolean;
  downSince: number;
  received: number;
  first: number;
  late: number;
  repeats: number;
  missed: number;
  invalid: number;
  disconnects: number;
  reconnects: number;
  readonly lag: DDSketch;
  cleanup: (() => void) | undefined;
  iterator: AsyncIterator<unknown> | undefined;
}

interface Seen {
  readonly at: number;
  /** Bit per source index that delivered the key. */
  arrivals: number;
  /** Bit per source connected when the key first arrived: who could have delivered it. */
  readonly expected: number;
}

interface Waiter<T> {
  resolve(result: IteratorResult<MergedItem<T>>): void;
  reject(error: XError): void;
}

function checkCount(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 10_000_000) {
    throw configError(OPTION_CODE, option, `${option} must be an integer in [1, 10000000], got ${describeValue(value)}`, value);
  }
  return value;
}

function checkSources<T>(sources: readonly MergeSource<T>[]): void {
  if (!Array.isArray(sources) || sources.length === 0 || sources.length > MAX_MERGE_SOURCES) {
    throw configError(OPTION_CODE, 'sources', `sources must be an array of 1 to ${MAX_MERGE_SOURCES} sources`, sources);
  }
  sources.forEach((source: unknown, i) => {
    const s =
      typeof source === 'object' && source !== null
        ? (source as { name?: unknown; iterable?: { [Symbol.asyncIterator]?: unknown }; start?: unknown })
        : undefined;
    const ok =
      s !== undefined &&
      typeof s.name === 'string' &&
      (typeof s.iterable?.[Symbol.asyncIterator] === 'function' || typeof s.start === 'function');
    if (!ok) throw configError(OPTION_CODE, `sources[${i}]`, `sources[${i}] must be { name, iterable } or { name, start }`, source);
  });
}

/**
 * Merges `sources` into one stream of distinct events, first arrival wins.
 *
 * - **Dedupe window**: a key is remembered until `dedupeWindow` newer distinct keys arrived or
 *   `dedupeTtlMs` passed, whichever comes first; a copy arriving after that is delivered again.
 * - **Queue**: at most `queueSize` items wait for the consumer. `drop-oldest` (default) drops the oldest
 *   waiting event (a gap/resumed notice only when nothing but notices wait), `drop-newest` drops the
 *   arriving item, `error` ends the stream with `STRATEGY_STREAM_OVERFLOW`. Every drop is counted.
 * - **Statistics**: per source, times first, late copies, lag behind the first copy (p50/p99 from a
 *   DDSketch with 1 % relative accuracy over the stream's life), keys missed, disconnects.
 * - **End**: `signal`, `close()` or the consumer's `return()` stop every source (push sources' `signal`
 *   aborts and their cleanup runs; iterables get `return()`), and release the caller's signal listener.
 *   The stream also ends, after its queue drains, when every source has ended.
 */
export function mergeStreams<T>(sources: readonly MergeSource<T>[], options: MergeStreamsOptions<T>): MergedStream<T> {
  checkSources(sources);
  if (typeof options !== 'object' || options === null || typeof options.key !== 'function') {
    throw configError(OPTION_CODE, 'key', 'key must be a function (value) => string | number | bigint', options?.key);
  }
  const dedupeWindow = checkCount('dedupeWindow', options.dedupeWindow, MERGE_DEFAULTS.dedupeWindow);
  const queueSize = checkCount('queueSize', options.queueSize, MERGE_DEFAULTS.queueSize);
  const dedupeTtlMs = options.dedupeTtlMs ?? MERGE_DEFAULTS.dedupeTtlMs;
  if (typeof dedupeTtlMs !== 'number' || !(dedupeTtlMs > 0)) {
    throw configError(OPTION_CODE, 'dedupeTtlMs', `dedupeTtlMs must be a positive number, got ${describeValue(dedupeTtlMs)}`, dedupeTtlMs);
  }
  const overflow = options.overflow ?? MERGE_DEFAULTS.overflow;
  if (overflow !== 'drop-oldest' && overflow !== 'drop-newest' && overflow !== 'error') {
    throw configError(
      OPTION_CODE,
      'overflow',
      `overflow must be 'drop-oldest', 'drop-newest' or 'error', got ${describeValue(overflow)}`,
      overflow,
    );
  }
  const signal = options.signal;
  if (signal !== undefined && !isAbortSignal(signal)) throw configError(OPTION_CODE, 'signal', 'signal must be an AbortSignal', signal);
  const now = options.now ?? (() => performance.now());
  const keyOf = options.key;
  const onCopy = options.onCopy;
  if (onCopy !== undefined && typeof onCopy !== 'function') throw configError(OPTION_CODE, 'onCopy', 'onCopy must be a function', onCopy);
  function report(state: SourceState, first: boolean, lagMs: number): void {
    if (onCopy === undefined) return;
    try {
      onCopy({ source: state.name, index: state.index, first, lagMs });
    } catch {
      // A statistics hook must not break the stream.
    }
  }

  const states: SourceState[] = sources.map((source, index) => newState(source.name, index));
  function newState(name: string, index: number): SourceState {
    return {
      name,
      index,
      connected: true,
      ended: false,
      downSince: 0,
      received: 0,
      first: 0,
      late: 0,
      repeats: 0,
      missed: 0,
      invalid: 0,
      disconnects: 0,
      reconnects: 0,
      lag: new DDSketch({ relativeAccuracy: 0.01 }),
      cleanup: undefined,
      iterator: undefined,
    };
  }
  const seen = new Map<MergeKey, Seen>();
  const queue: MergedItem<T>[] = [];
  const waiters: Waiter<T>[] = [];
  const internal = new AbortController();
  let finished = false;
  let failure: XError | undefined;
  let failureReported = false;
  let delivered = 0;
  let duplicates = 0;
  let dropped = 0;
  let backfilled = 0;
  let highWater = 0;

  function connectedBits(): number {
    let bits = 0;
    for (const s of states) if (s.connected && !s.ended) bits |= 1 << s.index;
    return bits;
  }

  /** Forgets keys beyond the window; sources that were expected to deliver a forgotten key and did not count it as missed. */
  function sweep(at: number): void {
    for (const [key, entry] of seen) {
      if (seen.size <= dedupeWindow && at - entry.at < dedupeTtlMs) break;
      seen.delete(key);
      const missing = entry.expected & ~entry.arrivals;
      if (missing !== 0) for (const s of states) if (missing & (1 << s.index)) s.missed++;
    }
  }

  function enqueue(item: MergedItem<T>): void {
    if (finished) return;
    const waiter = waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve({ value: item, done: false });
      return;
    }
    if (queue.length >= queueSize) {
      if (overflow === 'error') {
        fail(
          new XError({
            code: 'STRATEGY_STREAM_OVERFLOW',
            category: 'rate-limit',
            message: `merged stream: the consumer fell ${queueSize} items behind (overflow policy 'error')`,
            context: { queueSize },
          }),
        );
        return;
      }
      dropped++;
      if (overflow === 'drop-newest') return;
      const oldestEvent = queue.findIndex((q) => q.type === 'event');
      queue.splice(oldestEvent === -1 ? 0 : oldestEvent, 1);
    }
    queue.push(item);
    if (queue.length > highWater) highWater = queue.length;
  }

  function accept(state: SourceState, value: T): void {
    // A source that ended (or was ended by its owner) delivers nothing more.
    if (finished || state.ended) return;
    const at = now();
    state.received++;
    if (!state.connected && !state.ended) resume(state, at);
    let key: MergeKey;
    try {
      key = keyOf(value);
    } catch {
      state.invalid++;
      return;
    }
    sweep(at);
    const bit = 1 << state.index;
    const entry = seen.get(key);
    if (entry !== undefined) {
      duplicates++;
      if (entry.arrivals & bit) {
        state.repeats++;
        return;
      }
      entry.arrivals |= bit;
      state.late++;
      const lagMs = Math.max(0, at - entry.at);
      state.lag.accept(lagMs);
      report(state, false, lagMs);
      return;
    }
    seen.set(key, { at, arrivals: bit, expected: connectedBits() | bit });
    state.first++;
    state.lag.accept(0);
    delivered++;
    report(state, true, 0);
    enqueue({ type: 'event', value, key, source: state.name, index: state.index, receivedAt: at });
  }

  function resume(state: SourceState, at: number): void {
    state.connected = true;
    state.reconnects++;
    enqueue({ type: 'resumed', source: state.name, index: state.index, at, downMs: at - state.downSince });
  }

  function disconnect(state: SourceState, reason: unknown, ended: boolean): void {
    if (finished || state.ended) return;
    const at = now();
    const error = reason === undefined ? undefined : toXError(reason, { code: 'STRATEGY_SOURCE_FAILED', category: 'network' });
    if (ended) state.ended = true;
    if (state.connected) {
      state.connected = false;
      state.downSince = at;
      state.disconnects++;
      enqueue({ type: 'gap', source: state.name, index: state.index, at, reason: error, ended });
    } else if (ended) {
      enqueue({ type: 'gap', source: state.name, index: state.index, at, reason: error, ended });
    }
    if (ended) {
      stopSource(state);
      if (states.every((s) => s.ended)) finishWhenDrained();
    }
  }

  function stopSource(state: SourceState): void {
    const cleanup = state.cleanup;
    state.cleanup = undefined;
    if (cleanup !== undefined) {
      try {
        cleanup();
      } catch {
        // A source's cleanup failing must not keep the others running.
      }
    }
    const iterator = state.iterator;
    state.iterator = undefined;
    if (iterator?.return !== undefined) {
      try {
        void Promise.resolve(iterator.return()).catch(() => undefined);
      } catch {
        // ignored, as above
      }
    }
  }

  let allEnded = false;
  function finishWhenDrained(): void {
    allEnded = true;
    if (queue.length === 0) shutdown(undefined);
  }

  function fail(error: XError): void {
    if (finished) return;
    failure = error;
    queue.length = 0;
    shutdown(error);
  }

  function shutdown(error: XError | undefined): void {
    if (finished) return;
    finished = true;
    signal?.removeEventListener('abort', onAbort);
    internal.abort(error ?? abortedError('merged stream closed'));
    for (const state of states) stopSource(state);
    seen.clear();
    const pending = waiters.splice(0);
    for (const waiter of pending) {
      if (error === undefined) waiter.resolve({ value: undefined, done: true });
      else waiter.reject(error);
    }
    if (error !== undefined && pending.length > 0) failureReported = true;
  }

  function onAbort(): void {
    fail(abortedError(signal?.reason));
  }

  const stream: MergedStream<T> = {
    next(): Promise<IteratorResult<MergedItem<T>>> {
      const item = queue.shift();
      if (item !== undefined) {
        if (allEnded && queue.length === 0) shutdown(undefined);
        return Promise.resolve({ value: item, done: false });
      }
      if (finished) {
        if (failure !== undefined && !failureReported) {
          failureReported = true;
          return Promise.reject(failure);
        }
        return Promise.resolve({ value: undefined, done: true });
      }
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    return(): Promise<IteratorResult<MergedItem<T>>> {
      stream.close();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
    backfill(value: T): boolean {
      if (finished) return false;
      let key: MergeKey;
      try {
        key = keyOf(value);
      } catch {
        return false;
      }
      const at = now();
      sweep(at);
      if (seen.has(key)) {
        duplicates++;
        return false;
      }
      seen.set(key, { at, arrivals: 0, expected: 0 });
      delivered++;
      backfilled++;
      enqueue({ type: 'event', value, key, source: 'backfill', index: -1, receivedAt: at });
      return true;
    },
    has(key: MergeKey): boolean {
      if (finished) return false;
      sweep(now());
      return seen.has(key);
    },
    add(source: MergeSource<T>): boolean {
      if (finished || states.length >= MAX_MERGE_SOURCES) return false;
      checkSources([source]);
      const state = newState(source.name, states.length);
      states.push(state);
      startSource(state, source);
      return true;
    },
    stats(): MergeStats {
      if (!finished) sweep(now());
      return {
        delivered,
        duplicates,
        dropped,
        backfilled,
        queued: queue.length,
        queueHighWater: highWater,
        sources: states.map((s) => ({
          name: s.name,
          index: s.index,
          connected: s.connected && !s.ended,
          ended: s.ended,
          received: s.received,
          first: s.first,
          late: s.late,
          repeats: s.repeats,
          missed: s.missed,
          invalid: s.invalid,
          disconnects: s.disconnects,
          reconnects: s.reconnects,
          lagP50Ms: s.lag.count === 0 ? undefined : s.lag.getValueAtQuantile(0.5),
          lagP99Ms: s.lag.count === 0 ? undefined : s.lag.getValueAtQuantile(0.99),
          lagSamples: s.lag.count,
        })),
      };
    },
    close(): void {
      queue.length = 0;
      shutdown(undefined);
    },
    get closed() {
      return finished;
    },
  };

  if (signal?.aborted) {
    failure = abortedError(signal.reason);
    finished = true;
    internal.abort(failure);
    return stream;
  }
  signal?.addEventListener('abort', onAbort, { once: true });

  sources.forEach((source, index) => {
    if (!finished) startSource(states[index] as SourceState, source);
  });

  function startSource(state: SourceState, source: MergeSource<T>): void {
    if ('start' in source) {
      const sink: MergeSink<T> = {
        signal: internal.signal,
        event: (value) => accept(state, value),
        disconnected: (reason) => disconnect(state, reason, false),
        connected: () => {
          if (!finished && !state.ended && !state.connected) resume(state, now());
        },
        end: (reason) => disconnect(state, reason, true),
      };
      try {
        const cleanup = source.start(sink);
        if (typeof cleanup === 'function') {
          if (state.ended || finished) cleanup();
          else state.cleanup = cleanup;
        }
      } catch (error) {
        disconnect(state, error, true);
      }
    } else {
      void pump(state, source.iterable);
    }
  }

  async function pump(state: SourceState, iterable: AsyncIterable<T>): Promise<void> {
    let iterator: AsyncIterator<T>;
    try {
      iterator = iterable[Symbol.asyncIterator]();
    } catch (error) {
      disconnect(state, error, true);
      return;
    }
    state.iterator = iterator;
    try {
      for (;;) {
        const result = await iterator.next();
        if (finished || state.ended) return;
        if (result.done === true) {
          state.iterator = undefined;
          disconnect(state, undefined, true);
          return;
        }
        accept(state, result.value);
      }
    } catch (error) {
      state.iterator = undefined;
      disconnect(state, error, true);
    }
  }

  return stream;
}
