import { XError } from '@x/errors';
import { createSubscriptionHub, createSubscriptionSession } from './hub.js';
import type { SubscriptionHub } from './hub.js';
import type { SolanaSubscriptions } from './merged.js';

/**
 * The channel `@solana/kit`'s subscription plans talk to (`RpcSubscriptionsChannel` of
 * `@solana/rpc-subscriptions-spec`), declared structurally so that this package needs no `@solana/*`
 * package at run time. Outbound messages are kit's JSON-RPC request objects; inbound ones are the
 * answers and notifications a provider's WebSocket would send, already parsed.
 */
export interface KitSubscriptionsChannel {
  on(channelName: 'message' | 'error', subscriber: (data: never) => void, options?: { signal: AbortSignal }): () => void;
  send(message: unknown): Promise<void>;
}

/** Assignable to kit's `RpcSubscriptionsTransport`: give it to `createSolanaRpcSubscriptionsFromTransport`. */
export type KitSubscriptionsTransport = <TResult>(
  config: Readonly<{
    execute: (config: Readonly<{ channel: KitSubscriptionsChannel; signal: AbortSignal }>) => Promise<TResult>;
    signal: AbortSignal;
  }>,
) => Promise<TResult>;

export interface KitSubscriptionsOptions {
  /** Most live subscriptions per channel (kit opens one channel per subscription here). Default 100. */
  readonly maxSubscriptionsPerChannel?: number;
}

function channelClosed(): XError {
  return new XError({ code: 'SOLANA_CLOSED', category: 'aborted', message: 'The merged subscriptions channel is closed' });
}

/**
 * A channel over merged subscriptions: messages are handled by a subscription session; what it sends
 * back is delivered in order on a later turn (kit listens for a subscribe's answer only after its
 * `send()` resolved). `abortSignal` leaves every subscription and drops what is not yet delivered.
 */
export function createKitSubscriptionsChannel(
  hub: SubscriptionHub,
  abortSignal: AbortSignal,
  options: KitSubscriptionsOptions = {},
): KitSubscriptionsChannel {
  const listeners = { message: new Set<(data: unknown) => void>(), error: new Set<(data: unknown) => void>() };
  const outbox: Array<Record<string, unknown>> = [];
  let flushing: NodeJS.Immediate | undefined;
  let closed = abortSignal.aborted;

  function flush(): void {
    flushing = undefined;
    for (const message of outbox.splice(0)) {
      for (const listener of [...listeners.message]) {
        try {
          listener(message);
        } catch {
          // A throwing subscriber must not stop the others.
        }
      }
    }
  }

  const session = createSubscriptionSession(hub, {
    maxSubscriptions: options.maxSubscriptionsPerChannel,
    // Kit opens one channel per subscription here, so a channel error ends exactly that subscription: kit's
    // iterator then throws it instead of waiting forever.
    onSubscriptionError(_subscription, error) {
      if (closed) return;
      setImmediate(() => {
        for (const listener of [...listeners.error]) {
          try {
            listener(error);
          } catch {
            // as for messages
          }
        }
      });
    },
    send(message) {
      if (closed) return;
      outbox.push(message);
      flushing ??= setImmediate(flush);
    },
  });

  function close(): void {
    closed = true;
    session.close();
    outbox.length = 0;
    if (flushing !== undefined) clearImmediate(flushing);
    flushing = undefined;
    listeners.message.clear();
    listeners.error.clear();
  }
  if (closed) close();
  else abortSignal.addEventListener('abort', close, { once: true });

  return {
    on(channelName, subscriber, onOptions) {
      const set = channelName === 'error' ? listeners.error : listeners.message;
      const listener = subscriber as (data: unknown) => void;
      if (closed || onOptions?.signal.aborted === true) return () => undefined;
      set.add(listener);
      const off = (): void => {
        set.delete(listener);
        onOptions?.signal.removeEventListener('abort', off);
      };
      onOptions?.signal.addEventListener('abort', off, { once: true });
      return off;
    },
    send(message) {
      if (closed) return Promise.reject(channelClosed());
      session.handle(message);
      return Promise.resolve();
    },
  };
}

/**
 * Plugs merged subscriptions into `@solana/kit`:
 * `createSolanaRpcSubscriptionsFromTransport(createKitSubscriptionsTransport(subscriptions))` in place of
 * `createSolanaRpcSubscriptions(url)`. Every kit subscription then opens (or joins, when identical) one
 * merged subscription across the providers; kit's `abortSignal` unsubscribes.
 */
export function createKitSubscriptionsTransport(
  source: Pick<SolanaSubscriptions, 'subscribe'> | SubscriptionHub,
  options: KitSubscriptionsOptions = {},
): KitSubscriptionsTransport {
  const hub = 'join' in source ? source : createSubscriptionHub(source);
  const transport = async <TResult>(config: Parameters<KitSubscriptionsTransport>[0]): Promise<TResult> => {
    const channel = createKitSubscriptionsChannel(hub, config.signal, options);
    return (await config.execute({ channel, signal: config.signal })) as TResult;
  };
  return transport;
}
