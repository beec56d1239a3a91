import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { isPlainObject as isRecord, XError } from '@x/errors';
import { handlesReleased } from '../handles.js';
import { optionChecks } from '../options.js';
import { listenOnLoopback, LOOPBACK_HOST as HOST } from '../serving.js';

/**
 * What `startRpcRelays` and `startWsRelays` share: their option checks, and a set of relays, each an
 * HTTP server listening on a 127.0.0.1 ephemeral port, found by id, with faults changed live and one
 * idempotent close for all.
 */

/** `TESTKIT_RELAY_INVALID_OPTIONS`: a relay set option or faults patch is wrong; `context.option` names which. */
export const relayOptionChecks = optionChecks('TESTKIT_RELAY_INVALID_OPTIONS');
export const { invalid: invalidOptions, checkKeys, numberIn: number } = relayOptionChecks;
export { isRecord };

/** Validates `faults` patches: `base` with `patch` applied; a bad field is named by its path below `field`. */
export type ResolveFaults<F> = (base: F, patch: unknown, field: string) => F;

export interface RelaySpec<F> {
  readonly id: string;
  readonly faults: F;
}

export interface RelaySetOptions {
  /** `options`, known to be an object with no unknown key. */
  readonly options: Record<string, unknown>;
  readonly upstream: URL;
  /** `options.relays`, known to be a non-empty array; its entries are checked by `resolveRelaySpecs`. */
  readonly relays: readonly unknown[];
}

/** Checks what every relay set's options hold: an object with only `keys`, an `upstream` URL of `protocol`, a non-empty `relays`. */
export function checkRelaySetOptions(options: unknown, keys: readonly string[], protocol: 'http:' | 'ws:'): RelaySetOptions {
  if (!isRecord(options)) throw invalidOptions('must be an object', 'options', options);
  checkKeys(options, keys, 'options');
  const expected = protocol === 'http:' ? 'must be an http:// URL' : 'must be a ws:// URL';
  let upstream: URL;
  try {
    upstream = new URL(String(options.upstream));
  } catch {
    throw invalidOptions(expected, 'upstream', options.upstream);
  }
  if (upstream.protocol !== protocol) throw invalidOptions(expected, 'upstream', options.upstream);
  if (!Array.isArray(options.relays) || options.relays.length === 0)
    throw invalidOptions('must be a non-empty array', 'relays', options.relays);
  return { options, upstream, relays: options.relays as unknown[] };
}

/** Each of `relays` checked as `{ id, faults? }` with distinct ids, its faults resolved over `defaults`. */
export function resolveRelaySpecs<F>(relays: readonly unknown[], defaults: F, resolveFaults: ResolveFaults<F>): RelaySpec<F>[] {
  const ids = new Set<string>();
  return relays.map((relay, index) => {
    const field = `relays[${index}]`;
    if (!isRecord(relay)) throw invalidOptions('must be an object', field, relay);
    checkKeys(relay, ['id', 'faults'], field);
    if (typeof relay.id !== 'string' || relay.id.length === 0) throw invalidOptions('must be a non-empty string', `${field}.id`, relay.id);
    if (ids.has(relay.id)) throw invalidOptions('is used twice', `${field}.id`, relay.id);
    ids.add(relay.id);
    return { id: relay.id, faults: resolveFaults(defaults, relay.faults, `${field}.faults`) };
  });
}

interface RelayInfo {
  readonly id: string;
  /** `<scheme>://127.0.0.1:<port>`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
}

/** What a relay set needs of each relay: its id, and its faults, which `setFaults` replaces. */
export interface RelayState<F> {
  readonly id: string;
  faults: F;
}

export interface RelaySetHooks<F, R extends RelayState<F>> {
  /** The scheme of the relays' URLs. */
  readonly scheme: 'http' | 'ws';
  /** What failed to listen, for the message of `TESTKIT_RELAY_LISTEN_FAILED`: `A relay`, `A WebSocket relay`. */
  readonly what: string;
  readonly resolveFaults: ResolveFaults<F>;
  /** Lets go of what a relay holds besides its server and its sockets (timers, connections); once, on close. */
  readonly release: (relay: R) => void;
  /** Called once on close before the relays are released (upstream requests, say). */
  readonly beforeClose?: () => void;
  /** Called once on close after every relay's server has stopped (an agent, say). */
  readonly afterClose?: () => void;
}

export interface RelaySet<F, R extends RelayState<F>> {
  /** True from the first `close()`: servers destroy new connections, relays stop acting. */
  readonly closed: boolean;
  /**
   * Builds each relay with `create` and listens on its server, one at a time, so that relays keep the
   * order they were asked for. If one cannot listen, closes all and throws `TESTKIT_RELAY_LISTEN_FAILED`.
   */
  readonly start: (specs: readonly RelaySpec<F>[], create: (spec: RelaySpec<F>) => { relay: R; server: Server }) => Promise<void>;
  /** Every relay in order. */
  readonly relays: readonly R[];
  readonly infos: readonly RelayInfo[];
  readonly byId: (id: string) => R;
  readonly faults: (id: string) => F;
  /** Changes a relay's faults live; returns the new faults. */
  readonly setFaults: (id: string, patch: unknown) => F;
  /** Releases every relay, destroys every connection and stops listening. Idempotent. */
  readonly close: () => Promise<void>;
}

export function createRelaySet<F, R extends RelayState<F>>(hooks: RelaySetHooks<F, R>): RelaySet<F, R> {
  const relays: R[] = [];
  const infos: RelayInfo[] = [];
  const listeners: { readonly relay: R; readonly server: Server; readonly sockets: Set<Socket> }[] = [];
  let closed = false;
  let closing: Promise<void> | undefined;

  async function listen(relay: R, server: Server): Promise<void> {
    const sockets = new Set<Socket>();
    relays.push(relay);
    listeners.push({ relay, server, sockets });
    server.on('connection', (socket: Socket) => {
      if (closed) {
        socket.destroy();
        return;
      }
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    const port = await listenOnLoopback(server);
    infos.push(Object.freeze({ id: relay.id, url: `${hooks.scheme}://${HOST}:${port}`, host: HOST, port }));
  }

  async function closeAll(): Promise<void> {
    closed = true;
    hooks.beforeClose?.();
    await Promise.all(
      listeners.map(
        ({ relay, server, sockets }) =>
          new Promise<void>((resolve) => {
            hooks.release(relay);
            for (const socket of sockets) socket.destroy();
            if (!server.listening) {
              resolve();
              return;
            }
            server.close(() => resolve());
          }),
      ),
    );
    hooks.afterClose?.();
    await handlesReleased();
  }

  const close = (): Promise<void> => (closing ??= closeAll());
  const byId = (id: string): R => {
    const relay = relays.find((r) => r.id === id);
    if (relay === undefined) throw invalidOptions('names no relay', 'id', id);
    return relay;
  };
  return {
    get closed() {
      return closed;
    },
    start: async (specs, create) => {
      try {
        for (const spec of specs) {
          const { relay, server } = create(spec);
          await listen(relay, server);
        }
      } catch (error) {
        await close();
        throw new XError({
          code: 'TESTKIT_RELAY_LISTEN_FAILED',
          category: 'network',
          message: `${hooks.what} could not listen on ${HOST}`,
          cause: error,
        });
      }
    },
    relays,
    infos,
    byId,
    faults: (id) => byId(id).faults,
    setFaults: (id, patch) => {
      const relay = byId(id);
      relay.faults = hooks.resolveFaults(relay.faults, patch, 'faults');
      return relay.faults;
    },
    close,
  };
}
