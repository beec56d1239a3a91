import type { XError } from '@x/errors';
import type { JsonRpcErrorObject } from '@x/json-rpc';

/**
 * What to do with the answer to one request. Both callbacks run synchronously inside the message
 * handler, so that a subscription is registered before the next message (its first notification)
 * is read.
 */
export interface PendingRequest {
  readonly method: string;
  readonly onResult: (value: unknown) => void;
  /** `connectionLost`: the connection dropped before the answer came (the request may be sent again on the next one). */
  readonly onError: (error: XError | JsonRpcErrorObject, connectionLost?: boolean) => void;
}

interface Entry extends PendingRequest {
  readonly timer: ReturnType<typeof setTimeout>;
}

/** Requests sent on the current connection and not yet answered, by id. */
export function createRequestTable() {
  const entries = new Map<number, Entry>();
  return {
    get size(): number {
      return entries.size;
    },
    /** Registers request `id`; `onTimeout` runs (and the entry goes) when no answer came within `timeoutMs`. */
    add(id: number, request: PendingRequest, timeoutMs: number, onTimeout: () => void): void {
      const timer = setTimeout(() => {
        entries.delete(id);
        onTimeout();
      }, timeoutMs);
      entries.set(id, { ...request, timer });
    },
    /** Replaces what happens with request `id`'s answer (an aborted subscribe still unsubscribes a late id). */
    redirect: (id: number, request: Pick<PendingRequest, 'onResult' | 'onError'>): void => {
      const entry = entries.get(id);
      if (entry !== undefined) entries.set(id, { ...entry, onResult: request.onResult, onError: request.onError });
    },
    /** Removes request `id` and returns it, or `undefined` for an id no request is waiting on. */
    take(id: number): PendingRequest | undefined {
      const entry = entries.get(id);
      if (entry === undefined) return undefined;
      entries.delete(id);
      clearTimeout(entry.timer);
      return entry;
    },
    /** Fails every waiting request with `error`; `connectionLost` when the connection dropped (rather than the transport ending). */
    failAll(error: XError, connectionLost = false): void {
      const all = [...entries.values()];
      entries.clear();
      for (const entry of all) {
        clearTimeout(entry.timer);
        entry.onError(error, connectionLost);
      }
    },
  };
}
