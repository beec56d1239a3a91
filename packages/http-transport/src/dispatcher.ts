import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import type { TransportSettings } from './options.js';

/** The endpoint's keep-alive connections, and the one way a request goes out on them. */
export interface RequestSender {
  /**
   * Sends `payload`; `wire` aborting is what cuts the request (and its connection). `sent` is called
   * right before the request is written to a socket: a request aborted before that was never sent.
   */
  send(payload: string, wire: AbortSignal, sent: () => void): Promise<Dispatcher.ResponseData>;
  /** Closes every connection. */
  destroy(): Promise<void>;
}

/**
 * undici calls a request's `onRequestStart` right before it writes the request to a socket. This
 * interceptor reports that moment to the call owning the request's signal, so that an aborted call
 * drains only a response to a request that was actually sent (draining one that was not would send
 * it after the caller gave up).
 */
function reportingSent(onSent: WeakMap<object, () => void>): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (dispatchOptions, handler) => {
    // `request()` passes its options, signal included, down to dispatch; the type does not say so.
    const { signal } = dispatchOptions as { signal?: object | null };
    const report = signal == null ? undefined : onSent.get(signal);
    if (report === undefined) return dispatch(dispatchOptions, handler);
    const watched = new Proxy(handler, {
      get(target, key) {
        const value: unknown = Reflect.get(target, key);
        if (typeof value !== 'function') return value;
        const method = value as (...args: unknown[]) => unknown;
        if (key !== 'onRequestStart') return method.bind(target);
        return (...args: unknown[]): unknown => {
          report();
          return method.apply(target, args);
        };
      },
    });
    return dispatch(dispatchOptions, watched);
  };
}

export function createRequestSender(settings: TransportSettings): RequestSender {
  const { origin, path, headers, connections, pipelining, keepAliveTimeoutMs } = settings;
  const pool = new Pool(origin, { connections, pipelining, keepAliveTimeout: keepAliveTimeoutMs });
  const onSent = new WeakMap<object, () => void>();
  const dispatcher = pool.compose(reportingSent(onSent));
  return {
    send(payload, wire, sent) {
      onSent.set(wire, sent);
      const pending = dispatcher.request({ path, method: 'POST', headers, body: payload, signal: wire });
      // Whoever stops waiting for it (an abort) still leaves the promise handled.
      pending.catch(() => {});
      return pending;
    },
    destroy: () => pool.destroy(),
  };
}
