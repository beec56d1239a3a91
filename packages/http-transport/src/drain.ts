import type { Dispatcher } from 'undici';
import type { DrainLimits } from './options.js';

/** Aborted calls whose response is still being read and discarded, each holding its slot until done. */
export interface Drainer {
  /**
   * Reads and discards the response of a call that already settled, so its connection goes back to
   * the pool; past `limits` (or on close) `wire` aborts, which destroys the connection as an aborted
   * call always did. `release` (the call's slot) runs only when this is over: a connection being
   * drained is busy.
   */
  drain(pending: Promise<Dispatcher.ResponseData>, wire: AbortController, limits: DrainLimits, release: () => void): void;
  /** Cuts every drain with `reason` and waits for them to end. */
  cutAll(reason: unknown): Promise<void>;
}

export function createDrainer(): Drainer {
  const draining = new Map<AbortController, Promise<void>>();
  return {
    drain(pending, wire, limits, release) {
      const timer = setTimeout(() => wire.abort(), limits.maxMs);
      const drained = pending
        .then(async (response) => {
          response.body.on('error', () => {});
          await response.body.dump({ limit: limits.maxBytes, signal: wire.signal });
        })
        .catch(() => {
          // A failed or cut drain only costs the connection, which undici has already dropped.
        })
        .finally(() => {
          clearTimeout(timer);
          draining.delete(wire);
          release();
        });
      draining.set(wire, drained);
    },
    async cutAll(reason) {
      const drains = [...draining.values()];
      for (const wire of draining.keys()) wire.abort(reason);
      await Promise.allSettled(drains);
    },
  };
}
