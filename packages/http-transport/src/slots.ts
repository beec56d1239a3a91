/**
 * The transport's own queue for calls beyond what its connections can carry. Calls wait here rather
 * than in undici's queue: undici keeps an aborted queued request until a connection frees up and then
 * spends that connection on it (connect, then destroy); here an aborted waiter is simply dropped.
 */
export interface Slots {
  /** Resolves once the call may send; rejects with `signal`'s reason if it aborts first (then nothing is held). */
  acquire(signal: AbortSignal): Promise<void>;
  /** Gives one slot back, to the longest waiter if any. */
  release(): void;
}

export function createSlots(max: number): Slots {
  let inUse = 0;
  const waiting = new Set<() => void>();
  return {
    acquire(signal) {
      if (signal.aborted) return Promise.reject(signal.reason as Error);
      if (inUse < max) {
        inUse += 1;
        return Promise.resolve();
      }
      return new Promise<void>((resolve, reject) => {
        const grant = (): void => {
          signal.removeEventListener('abort', onAbort);
          inUse += 1;
          resolve();
        };
        const onAbort = (): void => {
          waiting.delete(grant);
          reject(signal.reason as Error);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiting.add(grant);
      });
    },
    release() {
      inUse -= 1;
      const next = waiting.values().next();
      if (next.done === true) return;
      waiting.delete(next.value);
      next.value();
    },
  };
}
