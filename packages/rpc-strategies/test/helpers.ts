import { XError } from '@x/errors';
import type { ErrorCategory } from '@x/errors';
import type { AttemptContext } from '@x/errors';
import type { AttemptEvent } from '@x/rpc-strategies';

/** A simulated endpoint: answers `value` (or fails) after `ms` of (fake) time. */
export interface Endpoint {
  readonly name: string;
  readonly ms: number;
  readonly value?: unknown;
  /** Fail with an XError of this category (code `<NAME>_FAILED`). */
  readonly fails?: ErrorCategory;
  /** Fail with a plain Error instead of an XError. */
  readonly throwsPlain?: boolean;
  /** Keep going after the signal aborts and settle anyway (a careless attempt). */
  readonly ignoresAbort?: boolean;
}

export function ep(name: string, ms: number, extra: Omit<Endpoint, 'name' | 'ms'> = {}): Endpoint {
  return { name, ms, ...extra };
}

function failure(name: string, category: ErrorCategory): XError {
  return new XError({ code: `${name.toUpperCase()}_FAILED`, category, message: `${name} failed` });
}

/** What each attempt saw: when it started, its signal, and whether the abort event reached it. */
export interface Seen {
  readonly name: string;
  readonly attempt: number;
  readonly startedAt: number;
  readonly signal: AbortSignal;
  abortEvents: number;
  abortReason: unknown;
}

/**
 * An attempt function over simulated endpoints, driven by setTimeout (so fake timers control it),
 * honouring its signal like a real transport unless the endpoint `ignoresAbort`.
 */
export function simulate() {
  const seen: Seen[] = [];
  const attempt = (endpoint: Endpoint, { signal, attempt }: AttemptContext): Promise<unknown> => {
    const record: Seen = { name: endpoint.name, attempt, startedAt: performance.now(), signal, abortEvents: 0, abortReason: undefined };
    seen.push(record);
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        if (endpoint.throwsPlain) reject(new Error(`${endpoint.name} exploded`));
        else if (endpoint.fails !== undefined) reject(failure(endpoint.name, endpoint.fails));
        else resolve(endpoint.value ?? endpoint.name);
      };
      const timer = setTimeout(settle, endpoint.ms);
      signal.addEventListener(
        'abort',
        () => {
          record.abortEvents++;
          record.abortReason = signal.reason;
          if (endpoint.ignoresAbort) return;
          clearTimeout(timer);
          reject(signal.reason as Error);
        },
        { once: true },
      );
    });
  };
  const byName = (name: string): Seen => {
    const found = seen.find((s) => s.name === name);
    if (found === undefined) throw new Error(`${name} was never started`);
    return found;
  };
  return { attempt, seen, byName };
}

/** Collects onAttempt events as compact strings plus the raw events. */
export function recorder<C extends { readonly name: string }>() {
  const events: AttemptEvent<C, unknown>[] = [];
  const onAttempt = (event: AttemptEvent<C, unknown>): void => {
    events.push(event);
  };
  const lines = (): string[] =>
    events.map((e) => `${e.candidate.name}:${e.outcome.ok ? 'ok' : e.outcome.error.code}${e.abortedAsLoser ? ':loser' : ''}`);
  return { events, onAttempt, lines };
}

/** Lets promise reactions (and the strategies' one-microtask loser cleanup) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** Attaches handlers at once (so a rejection is never unhandled while fake time advances). */
export function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: XError }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: XError) => ({ ok: false as const, error }),
  );
}

export async function rejection(promise: Promise<unknown>): Promise<XError> {
  const result = await settle(promise);
  if (result.ok) throw new Error(`expected a rejection, got ${JSON.stringify(result.value)}`);
  return result.error;
}
