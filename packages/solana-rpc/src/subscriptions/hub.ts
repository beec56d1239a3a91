import type { XError } from '@x/errors';
import { isSubscriptionMethod, specOf, subscriptionKey } from './methods.js';
import type { SolanaSubscriptionMethod } from './methods.js';
import type { SolanaMergedSubscription, SolanaNotification, SolanaSubscriptions } from './merged.js';

/** Receives the events of a shared subscription (each event once), and its end. */
export interface HubListener {
  readonly onEvent: (notification: SolanaNotification) => void;
  /**
   * The merged subscription ended on its own: `error` when it failed (every provider gave up, overflow, abort),
   * `undefined` when it was complete (a signature's final status). No more events either way.
   */
  readonly onEnd?: (error: XError | undefined) => void;
}

export interface SubscriptionHub {
  /** Joins the shared merged subscription for `method(params)`, opening it for the first member. */
  join(method: SolanaSubscriptionMethod, params: readonly unknown[], listener: HubListener): { leave(): void };
  /** Distinct merged subscriptions open now (one per distinct method and params). */
  readonly shared: number;
  /** Members across them. */
  readonly members: number;
  /** Per shared subscription: its key, members and merge statistics. */
  snapshot(): ReadonlyArray<{
    readonly key: string;
    readonly members: number;
    readonly stats: ReturnType<SolanaMergedSubscription['stats']>;
  }>;
  /** Ends every shared subscription (members are told through `onEnd`). */
  close(): void;
}

interface Shared {
  readonly key: string;
  readonly subscription: SolanaMergedSubscription;
  readonly listeners: Set<HubListener>;
}

/**
 * Shares merged subscriptions: identical subscriptions (same method, same params in canonical JSON) from
 * several members use one merged upstream subscription; the last member to leave closes it.
 */
export function createSubscriptionHub(subscriptions: Pick<SolanaSubscriptions, 'subscribe'>): SubscriptionHub {
  const byKey = new Map<string, Shared>();

  function pump(shared: Shared): void {
    void (async () => {
      let error: XError | undefined;
      // When every provider's source ended for good, the stream ends without an error of its own: the last
      // source's reason tells the members why no more events will come.
      let lastEnd: XError | undefined;
      try {
        for (;;) {
          const result = await shared.subscription.next();
          if (result.done === true) {
            error = lastEnd;
            break;
          }
          const item = result.value;
          if (item.type === 'gap' && item.ended) lastEnd = item.reason ?? lastEnd;
          if (item.type !== 'event') continue;
          for (const listener of [...shared.listeners]) {
            try {
              listener.onEvent(item.value);
            } catch {
              // One member's failure must not starve the others.
            }
          }
        }
      } catch (e) {
        error = e as XError;
      }
      if (byKey.get(shared.key) === shared) byKey.delete(shared.key);
      const listeners = [...shared.listeners];
      shared.listeners.clear();
      for (const listener of listeners) {
        try {
          listener.onEnd?.(error);
        } catch {
          // ignored, as above
        }
      }
    })();
  }

  return {
    join(method, params, listener) {
      const key = subscriptionKey(method, params);
      let shared = byKey.get(key);
      if (shared === undefined) {
        shared = { key, subscription: subscriptions.subscribe(method, params), listeners: new Set() };
        byKey.set(key, shared);
        pump(shared);
      }
      const joined = shared;
      joined.listeners.add(listener);
      let left = false;
      return {
        leave() {
          if (left) return;
          left = true;
          joined.listeners.delete(listener);
          if (joined.listeners.size === 0 && byKey.get(key) === joined) {
            byKey.delete(key);
            joined.subscription.close();
          }
        },
      };
    },
    get shared() {
      return byKey.size;
    },
    get members() {
      let n = 0;
      for (const shared of byKey.values()) n += shared.listeners.size;
      return n;
    },
    snapshot() {
      return [...byKey.values()].map((s) => ({ key: s.key, members: s.listeners.size, stats: s.subscription.stats() }));
    },
    close() {
      for (const shared of [...byKey.values()]) shared.subscription.close();
    },
  };
}

/** Solana's JSON-RPC error for a refused subscribe. */
export interface SessionErrorBody {
  readonly code: number;
  readonly message: string;
}

export interface SubscriptionSessionOptions {
  /** Sends one JSON-RPC message (an object) to the client. */
  readonly send: (message: Record<string, unknown>) => void;
  /** Most live subscriptions of this session. Default 100. */
  readonly maxSubscriptions?: number;
  /** A subscription of this session ended on its own with an error (every provider gave up...): no more notifications for it. */
  readonly onSubscriptionError?: (subscription: number, error: XError) => void;
  /** Answers a request that is not a subscription method (e.g. through HTTP); default: method not found. */
  readonly onOtherRequest?: (message: { readonly id: unknown; readonly method: string; readonly params: unknown }) => void;
}

export interface SubscriptionSession {
  /** Handles one parsed client message: `*Subscribe`, `*Unsubscribe`, anything else goes to `onOtherRequest`. */
  handle(message: unknown): void;
  /** Live subscriptions of this session. */
  readonly size: number;
  /** Leaves every subscription. Idempotent. */
  close(): void;
}

const UNSUBSCRIBE = new Map<string, SolanaSubscriptionMethod>(
  (['logsSubscribe', 'programSubscribe', 'accountSubscribe', 'signatureSubscribe', 'slotSubscribe'] as const).map((m) => [
    specOf(m).unsubscribe,
    m,
  ]),
);

/** Plain JSON params: bigints (as kit sends them) become numbers when safe, strings otherwise. */
function plainParams(params: unknown): unknown[] {
  const list = Array.isArray(params) ? params : [];
  return JSON.parse(
    JSON.stringify(list, (_k, v: unknown) => (typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v)),
  ) as unknown[];
}

/**
 * One client's view of a provider's WebSocket API, served from a {@link SubscriptionHub}: subscribe
 * answers a subscription id, notifications carry it, unsubscribe answers true. Used by the kit
 * channel and the proxy.
 */
export function createSubscriptionSession(hub: SubscriptionHub, options: SubscriptionSessionOptions): SubscriptionSession {
  const maxSubscriptions = options.maxSubscriptions ?? 100;
  const live = new Map<number, { leave(): void }>();
  let nextId = 1;
  let closed = false;

  function reply(id: unknown, body: { result: unknown } | { error: SessionErrorBody }): void {
    if (!closed) options.send({ jsonrpc: '2.0', id, ...body });
  }

  return {
    handle(message) {
      if (closed) return;
      const m =
        typeof message === 'object' && message !== null && !Array.isArray(message) ? (message as Record<string, unknown>) : undefined;
      if (m === undefined || typeof m.method !== 'string') {
        reply(m?.id ?? null, { error: { code: -32600, message: 'Invalid request' } });
        return;
      }
      const id = m.id ?? null;
      const method = m.method;
      if (isSubscriptionMethod(method)) {
        if (live.size >= maxSubscriptions) {
          reply(id, { error: { code: -32005, message: `Too many subscriptions on this connection (at most ${maxSubscriptions})` } });
          return;
        }
        let membership: { leave(): void };
        const subscriptionId = nextId++;
        const notification = specOf(method).notification;
        try {
          membership = hub.join(method, plainParams(m.params), {
            onEvent: (n) => {
              if (!closed && live.has(subscriptionId))
                options.send({ jsonrpc: '2.0', method: notification, params: { result: n.result, subscription: subscriptionId } });
            },
            onEnd: (error) => {
              const wasLive = live.delete(subscriptionId);
              if (wasLive && error !== undefined && !closed) options.onSubscriptionError?.(subscriptionId, error);
            },
          });
        } catch (error) {
          const text = error instanceof Error ? error.message : String(error);
          reply(id, { error: { code: -32602, message: `Invalid params: ${text}` } });
          return;
        }
        live.set(subscriptionId, membership);
        reply(id, { result: subscriptionId });
        return;
      }
      if (UNSUBSCRIBE.has(method)) {
        const target = Array.isArray(m.params) ? Number(m.params[0]) : NaN;
        const membership = live.get(target);
        live.delete(target);
        membership?.leave();
        reply(id, { result: membership !== undefined });
        return;
      }
      if (options.onOtherRequest !== undefined) options.onOtherRequest({ id, method, params: m.params });
      else reply(id, { error: { code: -32601, message: `Method not found: ${method}` } });
    },
    get size() {
      return live.size;
    },
    close() {
      if (closed) return;
      closed = true;
      for (const membership of live.values()) membership.leave();
      live.clear();
    },
  };
}
