import { checkTimerMs } from '@x/errors';
import type { XError } from '@x/errors';
import type { JsonRpcId, JsonRpcParams } from '@x/json-rpc';
import { rpcError } from './rpc-error.js';
import type { Link } from './link.js';
import { isSubscriptionId } from './options.js';
import type { ResolvedOptions } from './options.js';

/** One notification as it arrived. */
export interface WsNotification<T = unknown> {
  /** The notification's method, e.g. `logsNotification`, `eth_subscription`. */
  readonly method: string;
  /** `params.result` of the notification: the event itself. */
  readonly result: T;
  /** The server's subscription id it carried (it changes when a reconnect re-issues the subscription). */
  readonly subscription: JsonRpcId;
  /** The number of the connection it arrived on (see `WsTransportEvent`). */
  readonly connection: number;
  /** When it was read, `performance.now()` (float ms): compare arrivals across transports. */
  readonly receivedAt: number;
}

/** What `onResubscribed` hears after a reconnect issued the subscription again. */
export interface WsResubscribed {
  readonly previousId: JsonRpcId;
  readonly id: JsonRpcId;
  readonly connection: number;
  /** How long no connection was open: notifications of that time are lost unless backfilled. */
  readonly downtimeMs: number;
}

export interface SubscribeOptions<T = unknown> {
  /** Receives every notification of the subscription, synchronously as it is read. A throw is ignored. */
  readonly onNotification: (notification: WsNotification<T>) => void;
  /** A reconnect issued the subscription again (a gap may lie behind). */
  readonly onResubscribed?: (info: WsResubscribed) => void;
  /** The subscription ended without `unsubscribe()`: the transport closed or gave up, or the server refused to re-issue it. */
  readonly onEnd?: (error: XError) => void;
  /** The method that cancels it. Default: `xSubscribe` → `xUnsubscribe`, `x_subscribe` → `x_unsubscribe`. */
  readonly unsubscribeMethod?: string;
  /** Overrides the transport's `timeoutMs` for the subscribe request (and each re-issue). */
  readonly timeoutMs?: number;
  /** Before the server's answer: rejects the subscribe with `ABORTED`. After: unsubscribes. */
  readonly signal?: AbortSignal;
}

export interface UnsubscribeOptions {
  /** Overrides the transport's `timeoutMs` for the unsubscribe request. */
  readonly timeoutMs?: number;
}

/** A live subscription on one endpoint. */
export interface WsSubscription {
  readonly method: string;
  readonly params: JsonRpcParams | undefined;
  /** The server's current id for it. */
  readonly id: JsonRpcId;
  /** The connection it currently lives on. */
  readonly connection: number;
  /** False once unsubscribed or ended. */
  readonly active: boolean;
  /**
   * Stops delivery at once and asks the server to cancel it. Resolves with true when the server
   * confirmed, false otherwise (disconnected, refused, no answer): it never rejects.
   */
  unsubscribe(options?: UnsubscribeOptions): Promise<boolean>;
}

export interface SubscriptionRecord {
  readonly method: string;
  readonly params: JsonRpcParams | undefined;
  readonly unsubscribeMethod: string;
  readonly timeoutMs: number;
  readonly options: SubscribeOptions<unknown>;
  id: JsonRpcId;
  connection: number;
  active: boolean;
  release: () => void;
}

const keyOf = (id: JsonRpcId): string => `${typeof id}:${id}`;

function quietly<A>(listener: ((arg: A) => void) | undefined, arg: A): void {
  try {
    listener?.(arg);
  } catch {
    // A consumer's failure is the consumer's; delivery goes on.
  }
}

/** The live subscriptions of one transport, by the server's id. */
export function createSubscriptionRegistry(options: ResolvedOptions, getLink: () => Link) {
  const live = new Map<string, SubscriptionRecord>();
  const records = new Set<SubscriptionRecord>();

  function remove(record: SubscriptionRecord): void {
    record.active = false;
    records.delete(record);
    if (live.get(keyOf(record.id)) === record) live.delete(keyOf(record.id));
    record.release();
  }

  function finish(record: SubscriptionRecord, error: XError): void {
    if (!record.active) return;
    remove(record);
    quietly(record.options.onEnd, error);
  }

  return {
    /**
     * Registers a subscription the server just acknowledged and returns its handle. `cancel` asks the
     * server to drop it (false when it cannot: the connection it lived on is gone).
     */
    open: (
      init: Omit<SubscriptionRecord, 'active' | 'release'>,
      cancel: (record: SubscriptionRecord, timeoutMs: number) => Promise<boolean>,
    ): WsSubscription => {
      const record: SubscriptionRecord = { ...init, active: true, release: () => undefined };
      const unsubscribe = (unsubscribeOptions?: UnsubscribeOptions): Promise<boolean> => {
        const ms =
          unsubscribeOptions?.timeoutMs === undefined
            ? record.timeoutMs
            : checkTimerMs('WS_INVALID_REQUEST', 'timeoutMs', unsubscribeOptions.timeoutMs);
        if (!record.active) return Promise.resolve(false);
        remove(record);
        return cancel(record, ms);
      };
      const signal = record.options.signal;
      const onAbort = (): void => void unsubscribe();
      signal?.addEventListener('abort', onAbort, { once: true });
      record.release = () => signal?.removeEventListener('abort', onAbort);
      records.add(record);
      live.set(keyOf(record.id), record);
      return {
        method: record.method,
        params: record.params,
        get id() {
          return record.id;
        },
        get connection() {
          return record.connection;
        },
        get active() {
          return record.active;
        },
        unsubscribe,
      };
    },
    notify: (subscription: JsonRpcId, result: unknown, method: string, connection: number): boolean => {
      const record = live.get(keyOf(subscription));
      if (record === undefined) return false;
      quietly(record.options.onNotification, { method, result, subscription, connection, receivedAt: performance.now() });
      return true;
    },
    /** Issues every live subscription again on the new connection. */
    reopened: (connection: number, downtimeMs: number): void => {
      const all = [...records];
      let settled = 0;
      let failed = 0;
      let interrupted = false;
      const report = (): void => {
        // A connection that dropped during the re-issue reports nothing: the next one issues everything again.
        if (!interrupted) options.onEvent({ type: 'resubscribed', connection, resubscribed: all.length - failed, failed, downtimeMs });
      };
      const done = (): void => {
        settled += 1;
        if (settled === all.length) report();
      };
      if (all.length === 0) report();
      for (const record of all) {
        live.delete(keyOf(record.id));
        getLink().request(record.method, record.params, record.timeoutMs, {
          onResult(value) {
            if (!record.active) {
              // Unsubscribed while the re-issue was on its way: cancel the new id too.
              if (isSubscriptionId(value))
                getLink().request(record.unsubscribeMethod, [value], record.timeoutMs, {
                  onResult: () => undefined,
                  onError: () => undefined,
                });
              return done();
            }
            if (!isSubscriptionId(value)) {
              failed += 1;
              finish(record, rpcError(options, record.method, { code: 0, message: 'the answer is not a subscription id' }, 'protocol'));
              return done();
            }
            const previousId = record.id;
            record.id = value;
            record.connection = connection;
            live.set(keyOf(value), record);
            quietly(record.options.onResubscribed, { previousId, id: value, connection, downtimeMs });
            done();
          },
          onError(error, connectionLost) {
            // A disconnect during the re-issue leaves the subscription for the next connection.
            if (connectionLost === true) {
              interrupted = true;
              return done();
            }
            failed += 1;
            finish(record, 'category' in error ? error : rpcError(options, record.method, error));
            done();
          },
        });
      }
    },
    ended: (error: XError): void => {
      for (const record of [...records]) finish(record, error);
    },
  };
}
