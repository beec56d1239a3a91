import { abortedError } from '@x/errors';
import type { JsonRpcParams } from '@x/json-rpc';
import type { SolanaBatchCall, SolanaRpc } from '@x/solana-rpc';
import { configure } from 'safe-stable-stringify';
import { asksForFinal } from './answer-cache.js';
import type { AnswerCache } from './answer-cache.js';
import { READ_METHODS } from './methods.js';

export type CallOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** One call to run: a method and its params. */
export interface SharedCall {
  readonly method: string;
  readonly params: JsonRpcParams | undefined;
}

interface SharedCallsCounters {
  /** Calls answered by joining an identical call already in flight. */
  readonly coalesced: number;
}

/**
 * Runs the proxy's calls upstream, sharing what can be shared: identical reads in flight at the same
 * moment (same method, same params compared as stable JSON) run once and every caller gets the answer;
 * answers that can never change come from the cache when it is on. Each caller waits under its own
 * signal: one that goes away gets its abort at once, and the shared call is cut only when nobody is
 * left waiting for it. Writes never share anything.
 */
export interface SharedCalls {
  /** One outcome per call, in order. */
  run(calls: readonly SharedCall[], signal: AbortSignal): Promise<CallOutcome[]>;
  counters(): SharedCallsCounters;
}

export interface SharedCallsOptions {
  readonly rpc: SolanaRpc;
  /** Share identical reads in flight. */
  readonly coalesce: boolean;
  readonly cache: AnswerCache | undefined;
}

/** Stable JSON (keys sorted) with exact big integers, for call keys. */
const stableJson = configure({ bigint: true, deterministic: true, circularValue: Error });

/** Upstream work shared by the callers holding it; aborted when the last one leaves before it ends. */
interface Run {
  readonly controller: AbortController;
  holders: number;
  settled: boolean;
  /** The keys of its calls in the in-flight table, removed when it ends or is aborted. */
  readonly keys: string[];
}

/** A call about to be sent: its key (stable JSON) when it may be shared or cached; `final` when its answer may be cached. */
interface Keyed extends SharedCall {
  readonly key: string | undefined;
  readonly final: boolean;
}

interface Flight {
  readonly run: Run;
  readonly outcome: Promise<CallOutcome>;
}

export function createSharedCalls(options: SharedCallsOptions): SharedCalls {
  const { rpc, coalesce, cache } = options;
  const inFlight = new Map<string, Flight>();
  let coalesced = 0;

  const shareable = (method: string): boolean => READ_METHODS.has(method) && rpc.policyFor(method).strategy !== 'broadcast';

  const keyOf = (call: SharedCall): string | undefined => {
    try {
      return `${call.method}:${stableJson(call.params ?? null)}`;
    } catch {
      // Params that are not JSON (circular: impossible from a parsed body) are never shared.
      return undefined;
    }
  };

  const forget = (run: Run): void => {
    for (const key of run.keys) if (inFlight.get(key)?.run === run) inFlight.delete(key);
  };

  /** A caller waits for `flight` under its own signal; leaving it unanswered (abort) may cut the run. */
  const wait = (flight: Flight, signal: AbortSignal): Promise<CallOutcome> => {
    const { run } = flight;
    run.holders += 1;
    return new Promise<CallOutcome>((resolve) => {
      const leave = (): void => {
        resolve({ ok: false, error: abortedError(signal.reason) });
        run.holders -= 1;
        if (run.holders === 0 && !run.settled) {
          forget(run);
          run.controller.abort(abortedError(signal.reason));
        }
      };
      if (signal.aborted) {
        leave();
        return;
      }
      signal.addEventListener('abort', leave, { once: true });
      void flight.outcome.then((outcome) => {
        signal.removeEventListener('abort', leave);
        resolve(outcome);
      });
    });
  };

  /**
   * Sends `calls` upstream as one run: a single call, or `callBatch` (one upstream batch per endpoint where
   * the strategies allow). Calls with a key are entered in the in-flight table for others to join.
   */
  const start = (calls: ReadonlyArray<Keyed>): Flight[] => {
    const run: Run = { controller: new AbortController(), holders: 0, settled: false, keys: [] };
    const { signal } = run.controller;
    let outcomes: Promise<CallOutcome[]>;
    if (calls.length === 1) {
      const [only] = calls as [Keyed];
      outcomes = rpc.call(only.method, only.params, { signal }).then(
        (value): CallOutcome[] => [{ ok: true, value }],
        (error: unknown): CallOutcome[] => [{ ok: false, error }],
      );
    } else {
      const batch = calls.map((call): SolanaBatchCall =>
        call.params === undefined ? { method: call.method } : { method: call.method, params: call.params },
      );
      outcomes = rpc.callBatch(batch, { signal }).catch((error: unknown) => calls.map((): CallOutcome => ({ ok: false, error })));
    }
    const settled = outcomes.then((list) => {
      run.settled = true;
      forget(run);
      calls.forEach((call, index) => {
        const outcome = list[index];
        if (outcome?.ok === true && call.final && call.key !== undefined) cache?.set(call.key, outcome.value);
      });
      return list;
    });
    return calls.map((call, index) => {
      const flight: Flight = { run, outcome: settled.then((list) => list[index] ?? { ok: false, error: abortedError(undefined) }) };
      if (call.key !== undefined && coalesce) {
        run.keys.push(call.key);
        inFlight.set(call.key, flight);
      }
      return flight;
    });
  };

  const run = async (calls: readonly SharedCall[], signal: AbortSignal): Promise<CallOutcome[]> => {
    const answers = new Array<CallOutcome | undefined>(calls.length);
    const flights = new Array<Flight | undefined>(calls.length);
    /** For a call sent by this request: its position in `toSend`. */
    const sentAt = new Array<number | undefined>(calls.length);
    const toSend: Keyed[] = [];
    const mine = new Map<string, number>();
    calls.forEach((call, index) => {
      const key = shareable(call.method) && (coalesce || cache !== undefined) ? keyOf(call) : undefined;
      const final = key !== undefined && cache !== undefined && asksForFinal(call.method, call.params);
      if (final) {
        const hit = cache?.get(key);
        if (hit !== undefined) {
          answers[index] = { ok: true, value: hit.value };
          return;
        }
      }
      if (key !== undefined && coalesce) {
        const flight = inFlight.get(key);
        // The same call twice in one request is sent once too.
        const position = mine.get(key);
        if (flight !== undefined || position !== undefined) {
          coalesced += 1;
          flights[index] = flight;
          sentAt[index] = position;
          return;
        }
        mine.set(key, toSend.length);
      }
      sentAt[index] = toSend.length;
      toSend.push({ method: call.method, params: call.params, key, final });
    });
    const started = toSend.length === 0 ? [] : start(toSend);
    return Promise.all(
      calls.map(async (_call, index): Promise<CallOutcome> => {
        const answer = answers[index];
        if (answer !== undefined) return answer;
        const position = sentAt[index];
        const flight = flights[index] ?? (position === undefined ? undefined : started[position]);
        return flight === undefined ? { ok: false as const, error: abortedError(undefined) } : wait(flight, signal);
      }),
    );
  };

  return { run, counters: () => ({ coalesced }) };
}
