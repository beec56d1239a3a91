import { DDSketch } from '@datadog/sketches-js';
import { XError, abortedError, configError, describeValue, isAbortSignal, redactUrl } from '@x/errors';
import type { JsonRpcParams } from '@x/json-rpc';
import { mergeStreams } from '@x/rpc-strategies';
import { createWsTransport } from '@x/ws-transport';
import type { WsTransportOptions } from '@x/ws-transport';
import type { MergeOverflowPolicy, MergeSink, MergeSource, MergeStats, MergedItem, MergedStream } from '@x/rpc-strategies';
import type { SolanaCommitment } from '../params.js';
import {
  isSubscriptionMethod,
  mentionedAddress,
  notificationSlot,
  specOf,
  subscriptionCommitment,
  SUBSCRIPTION_METHODS,
} from './methods.js';
import type { SolanaSubscriptionMethod } from './methods.js';

const OPTION_CODE = 'SOLANA_INVALID_OPTIONS';

/** One provider's WebSocket endpoint. */
export interface SolanaWsEndpointConfig {
  /** `ws:` or `wss:` URL; API keys in it never appear in errors, labels or statistics. */
  readonly url: string | URL;
  /** Stable id for statistics; default the URL's host (the same default as the HTTP client's, so pool health matches). */
  readonly id?: string;
  readonly label?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A notification as a provider sent it (`params.result`), with where it came from. */
export interface SolanaNotification<T = unknown> {
  readonly method: SolanaSubscriptionMethod;
  readonly result: T;
  /** `context.slot` (or the slot of a slot notification). */
  readonly slot: number | undefined;
  /** The endpoint id that delivered this copy; `backfill` for an event found by the gap backfill. */
  readonly endpoint: string;
}

/** The transport-level events this layer listens to (a subset of `@x/ws-transport`'s `WsTransportEvent`). */
export interface SubscriptionTransportEvent {
  readonly type: string;
  readonly error?: XError;
}

/** The subset of `@x/ws-transport`'s `WsTransport` used here (declared structurally so tests can pass fakes). */
export interface SubscriptionTransport {
  subscribe(
    method: string,
    params: JsonRpcParams | undefined,
    options: {
      readonly onNotification: (notification: { readonly result: unknown }) => void;
      readonly onResubscribed?: (info: unknown) => void;
      readonly onEnd?: (error: XError) => void;
      readonly unsubscribeMethod?: string;
      readonly signal?: AbortSignal;
    },
  ): Promise<{ unsubscribe(): Promise<boolean> }>;
  close(): Promise<void>;
}

export type SubscriptionTransportFactory = (config: {
  readonly url: string | URL;
  readonly label: string;
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly onEvent: (event: SubscriptionTransportEvent) => void;
}) => SubscriptionTransport;

/**
 * The subset of `@x/pool`'s `Pool` used here: endpoint health, the lead statistics every merged subscription
 * records (`recordDelivery`), and the ranking of providers for streams (`selectForStreams`).
 */
export interface SubscriptionsPool {
  snapshot(): { readonly endpoints: ReadonlyArray<{ readonly id: string; readonly health: string }> };
  recordDelivery?(endpointId: string, delivery: { readonly first: boolean; readonly behindMs: number }): void;
  selectForStreams?(options?: { readonly maxCandidates?: number }): { readonly endpoints: ReadonlyArray<{ readonly id: string }> };
}

/** What the HTTP side offers: backfill queries, the commitment check and endpoint health. A `SolanaRpc` fits. */
export interface SubscriptionsRpc {
  call<T = unknown>(method: string, params?: JsonRpcParams, options?: { signal?: AbortSignal }): Promise<T>;
  readonly pool?: SubscriptionsPool;
}

export interface SolanaSubscriptionsOptions {
  readonly endpoints: readonly SolanaWsEndpointConfig[];
  /**
   * `@x/ws-transport` options for every endpoint's WebSocket (reconnect backoff, keep-alive, limits...). `bigIntegers`
   * defaults to `'bigint'` here, so that `u64` values (`rentEpoch`) arrive exact, as over HTTP.
   */
  readonly ws?: Omit<WsTransportOptions, 'url' | 'label' | 'headers' | 'onEvent' | 'signal'>;
  /** How each endpoint's WebSocket is opened. Default: `createWsTransport({ ...ws, ...config })` from `@x/ws-transport`. */
  readonly createTransport?: SubscriptionTransportFactory;
  /** The HTTP client (`createSolanaMultiRpc`): gap backfill, commitment check, and only healthy endpoints are subscribed. */
  readonly rpc?: SubscriptionsRpc;
  /**
   * The pool that keeps each provider's lead (how often first, how far behind: `recordDelivery`) and ranks providers
   * for streams (`selectForStreams`). Default `rpc.pool`. Endpoints are matched by id; ids the pool does not know are
   * subscribed after the ranked ones and not recorded.
   */
  readonly pool?: SubscriptionsPool;
  /**
   * Most providers one merged subscription is opened on: the ones the pool ranks best for streams (leading most often,
   * least behind; not yet measured ones first). Default: every healthy provider.
   */
  readonly maxProviders?: number;
  /**
   * With `maxProviders` below the number of endpoints: a provider of a subscription that stays disconnected this long,
   * or whose subscription ends (its transport gave up), is replaced by the best-ranked provider the subscription is not
   * on, one it left earlier included (a gap backfill follows). Default 5 000.
   */
  readonly replaceAfterMs?: number;
  /** `mergeStreams` bounds for every subscription. Defaults: 10 000 keys, 120 000 ms, a queue of 1 000, `drop-oldest`. */
  readonly dedupeWindow?: number;
  readonly dedupeTtlMs?: number;
  readonly queueSize?: number;
  readonly overflow?: MergeOverflowPolicy;
  /** With `rpc`: hold an event of a `confirmed`/`finalized` stream until `getSlot` at that commitment reaches its slot. Default true. */
  readonly verifyCommitment?: boolean;
  /** Longest hold of one event for the commitment check; past it the event is dropped as `unconfirmed`. Default 30 000. */
  readonly confirmTimeoutMs?: number;
  /** Interval of `getSlot` checks while an event is held. Default 100. */
  readonly confirmPollMs?: number;
  /** Most signatures one backfill query asks for. Default 1 000. */
  readonly backfillLimit?: number;
}

export interface SolanaSubscribeOptions {
  /** Unsubscribes everywhere: sockets' subscriptions cancelled, timers cleared, a waiting `next()` rejects with `ABORTED`. */
  readonly signal?: AbortSignal;
  /** Overrides the instance's `maxProviders` for this subscription. */
  readonly maxProviders?: number;
  readonly queueSize?: number;
  readonly overflow?: MergeOverflowPolicy;
}

export interface SolanaSubscriptionCounters {
  /** Events dropped by the commitment check (their slot never reached the commitment in time). */
  readonly unconfirmed: number;
  /**
   * `accountSubscribe`: updates dropped because they repeat the state last delivered at a slot no newer (a provider's
   * copy of what the backfill already delivered).
   */
  readonly stale: number;
  /** `slotSubscribe`: forward jumps of the slot (a slot after the highest delivered one, not the next). */
  readonly slotGaps: number;
  /** `slotSubscribe`: slots skipped by those jumps and never delivered since (lost notifications or skipped slots). */
  readonly slotsMissed: number;
  readonly backfillQueries: number;
  readonly backfillFailures: number;
  /** The last backfill error, if any. */
  readonly lastBackfillError: XError | undefined;
}

/** One merged subscription: an async iterator of `event`, `gap` and `resumed` items. */
export interface SolanaMergedSubscription<T = unknown> extends AsyncIterableIterator<MergedItem<SolanaNotification<T>>> {
  readonly method: SolanaSubscriptionMethod;
  readonly params: readonly unknown[];
  readonly commitment: SolanaCommitment | undefined;
  /** The endpoint ids it is open on now (a replaced provider leaves, its replacement joins: see `replaceAfterMs`). */
  readonly endpoints: readonly string[];
  stats(): MergeStats & SolanaSubscriptionCounters;
  close(): void;
  readonly closed: boolean;
}

/** Per provider, across every subscription of the instance. */
export interface SolanaStreamEndpointStats {
  readonly id: string;
  readonly label: string;
  /** Events it delivered first. */
  readonly first: number;
  /** Copies it delivered after another provider. */
  readonly late: number;
  /** Its share of first deliveries among the events it delivered (first / (first + late)). */
  readonly leadShare: number | undefined;
  /** How far behind the first copy it was (0 when first), ms, DDSketch 1 %. */
  readonly lagP50Ms: number | undefined;
  readonly lagP99Ms: number | undefined;
  readonly disconnects: number;
  readonly reconnects: number;
}

export interface SolanaSubscriptions {
  /** Opens `method(params)` on every healthy endpoint, merged: each event once, first arrival wins. */
  subscribe<T = unknown>(
    method: SolanaSubscriptionMethod,
    params?: readonly unknown[],
    options?: SolanaSubscribeOptions,
  ): SolanaMergedSubscription<T>;
  /** Lead statistics per provider across all subscriptions, in configuration order. */
  stats(): readonly SolanaStreamEndpointStats[];
  readonly endpoints: ReadonlyArray<{ readonly id: string; readonly label: string }>;
  /** Live merged subscriptions. */
  readonly active: number;
  /** Ends every subscription and closes every WebSocket. Idempotent. */
  close(): Promise<void>;
}

interface Endpoint {
  readonly id: string;
  readonly label: string;
  readonly url: string | URL;
  readonly headers: Readonly<Record<string, string>> | undefined;
  transport: SubscriptionTransport | undefined;
  /** The live subscriptions' sources on this endpoint, told when its socket drops. */
  readonly sinks: Set<{ disconnected(reason: unknown): void }>;
  first: number;
  late: number;
  lag: DDSketch;
  disconnects: number;
  reconnects: number;
}

function checkPositive(option: string, value: unknown, fallback: number, integer: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw configError(
      OPTION_CODE,
      option,
      `${option} must be a positive ${integer ? 'integer' : 'number'}, got ${describeValue(value)}`,
      value,
    );
  }
  return value;
}

function endpointsOf(configs: readonly SolanaWsEndpointConfig[]): Endpoint[] {
  if (!Array.isArray(configs) || configs.length === 0)
    throw configError(OPTION_CODE, 'endpoints', 'endpoints must be a non-empty array of { url }', configs);
  const ids = new Set<string>();
  const list: readonly SolanaWsEndpointConfig[] = configs;
  return list.map((config: SolanaWsEndpointConfig, i) => {
    let url: URL;
    try {
      url = new URL(String(config?.url));
    } catch {
      throw configError(OPTION_CODE, `endpoints[${i}].url`, `endpoints[${i}].url must be a ws: or wss: URL`);
    }
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:')
      throw configError(OPTION_CODE, `endpoints[${i}].url`, `endpoints[${i}].url must be a ws: or wss: URL`);
    let id = config.id ?? url.host;
    if (config.id === undefined) for (let n = 2; ids.has(id); n++) id = `${url.host}#${n}`;
    if (ids.has(id)) throw configError(OPTION_CODE, `endpoints[${i}].id`, `endpoints[${i}].id repeats ${JSON.stringify(id)}`);
    ids.add(id);
    return {
      id,
      label: config.label ?? redactUrl(url),
      url: config.url,
      headers: config.headers,
      transport: undefined,
      sinks: new Set(),
      first: 0,
      late: 0,
      lag: new DDSketch({ relativeAccuracy: 0.01 }),
      disconnects: 0,
      reconnects: 0,
    };
  });
}

/**
 * Merged Solana subscriptions: one logical subscription opened on every healthy provider's WebSocket,
 * each notification delivered once, the first time any provider delivers it (see `mergeStreams`).
 */
export function createSolanaSubscriptions(options: SolanaSubscriptionsOptions): SolanaSubscriptions {
  if (typeof options !== 'object' || options === null)
    throw configError(OPTION_CODE, 'options', 'createSolanaSubscriptions needs an options object');
  const endpoints = endpointsOf(options.endpoints);
  if (options.createTransport !== undefined && typeof options.createTransport !== 'function') {
    throw configError(OPTION_CODE, 'createTransport', 'createTransport must be a function', options.createTransport);
  }
  const wsOptions = options.ws ?? {};
  const createTransport: SubscriptionTransportFactory =
    options.createTransport ??
    ((config) =>
      createWsTransport({
        bigIntegers: 'bigint',
        ...wsOptions,
        url: config.url,
        label: config.label,
        headers: config.headers,
        onEvent: config.onEvent,
      }));
  const rpc = options.rpc;
  if (rpc !== undefined && typeof rpc?.call !== 'function')
    throw configError(OPTION_CODE, 'rpc', 'rpc must be a client from createSolanaMultiRpc');
  const confirmTimeoutMs = checkPositive('confirmTimeoutMs', options.confirmTimeoutMs, 30_000, false);
  const confirmPollMs = checkPositive('confirmPollMs', options.confirmPollMs, 100, false);
  const backfillLimit = checkPositive('backfillLimit', options.backfillLimit, 1_000, true);
  const maxProviders = checkPositive('maxProviders', options.maxProviders, Number.MAX_SAFE_INTEGER, true);
  const replaceAfterMs = checkPositive('replaceAfterMs', options.replaceAfterMs, 5_000, false);
  const pool = options.pool ?? rpc?.pool;
  if (pool !== undefined && typeof pool?.snapshot !== 'function')
    throw configError(OPTION_CODE, 'pool', 'pool must be an @x/pool pool (snapshot, recordDelivery, selectForStreams)');
  const poolIds = poolEndpointIds(pool);
  const verifyCommitment = rpc !== undefined && options.verifyCommitment !== false;
  const live = new Set<SolanaMergedSubscription>();
  const watermarks: Partial<Record<SolanaCommitment, number>> = {};
  let closed = false;

  function transportOf(endpoint: Endpoint): SubscriptionTransport {
    if (endpoint.transport !== undefined) return endpoint.transport;
    endpoint.transport = createTransport({
      url: endpoint.url,
      label: endpoint.label,
      headers: endpoint.headers,
      onEvent: (event) => {
        // A reconnect needs no handling here: each subscription says `connected` when it is re-issued (onResubscribed).
        if (event.type === 'close' && !closed) {
          endpoint.disconnects++;
          for (const sink of endpoint.sinks) sink.disconnected(event.error);
        }
      },
    });
    return endpoint.transport;
  }

  /**
   * The providers of a new merged subscription, best first: with a pool that ranks for streams, the endpoints it
   * ranks (available ones, best lead first), then those it does not know; otherwise every endpoint the pool has not
   * ejected. Every endpoint when none would be left. At most `max`.
   */
  function chooseEndpoints(max: number): Endpoint[] {
    let chosen: Endpoint[] = endpoints;
    try {
      if (pool?.selectForStreams !== undefined) {
        const ranked = pool.selectForStreams().endpoints.map((e) => e.id);
        const byId = new Map(endpoints.map((e) => [e.id, e]));
        const known = ranked.flatMap((id) => byId.get(id) ?? []);
        chosen = [...known, ...endpoints.filter((e) => !poolIds.has(e.id))];
      } else if (pool !== undefined) {
        const ejected = new Set(
          pool
            .snapshot()
            .endpoints.filter((e) => e.health === 'ejected')
            .map((e) => e.id),
        );
        chosen = endpoints.filter((e) => !ejected.has(e.id));
      }
    } catch {
      chosen = endpoints;
    }
    if (chosen.length === 0) chosen = endpoints;
    return chosen.slice(0, max);
  }

  /** Tells the pool who delivered a copy first and how far behind the others were (ids it does not know are skipped). */
  function recordDelivery(endpoint: Endpoint, first: boolean, behindMs: number): void {
    if (pool?.recordDelivery === undefined || !poolIds.has(endpoint.id)) return;
    try {
      pool.recordDelivery(endpoint.id, { first, behindMs });
    } catch {
      // Statistics must never break a stream.
    }
  }

  function subscribe<T>(
    method: SolanaSubscriptionMethod,
    params: readonly unknown[] = [],
    subscribeOptions: SolanaSubscribeOptions = {},
  ): SolanaMergedSubscription<T> {
    if (closed) throw new XError({ code: 'SOLANA_CLOSED', category: 'aborted', message: 'The subscriptions client is closed' });
    if (!isSubscriptionMethod(method)) {
      throw configError('SOLANA_INVALID_REQUEST', 'method', `method must be one of ${SUBSCRIPTION_METHODS.join(', ')}`, method);
    }
    if (!Array.isArray(params)) throw configError('SOLANA_INVALID_REQUEST', 'params', 'params must be an array', params);
    const signal = subscribeOptions.signal;
    if (signal !== undefined && !isAbortSignal(signal))
      throw configError('SOLANA_INVALID_REQUEST', 'signal', 'signal must be an AbortSignal', signal);
    const spec = specOf(method);
    const commitment = subscriptionCommitment(method, params);
    const address = mentionedAddress(method, params);
    const limit =
      subscribeOptions.maxProviders === undefined
        ? maxProviders
        : checkPositive('maxProviders', subscribeOptions.maxProviders, maxProviders, true);
    const chosen = chooseEndpoints(limit);
    /** The provider of each merge source, by source index (replacements are appended). */
    const used: Endpoint[] = [...chosen];
    /** Providers are replaced only when some are left out. */
    const replacing = limit < endpoints.length;
    const internal = new AbortController();
    const onCallerAbort = (): void => internal.abort(signal?.reason);
    if (signal?.aborted) internal.abort(signal.reason);
    else signal?.addEventListener('abort', onCallerAbort, { once: true });

    let unconfirmed = 0;
    let stale = 0;
    let slotGaps = 0;
    let slotsMissed = 0;
    /** Slot subscriptions: the first and the highest slot delivered. */
    let firstSlot: number | undefined;
    let highestSlot: number | undefined;
    /** Account subscriptions: the newest state delivered (slot and content digest). */
    let lastAccount: { slot: number; digest: string } | undefined;
    /** Account subscriptions: the state when the subscription opened (never delivered), what a first backfill compares with. */
    let accountBaseline: { slot: number; digest: string } | undefined;
    const backfillKind =
      address !== undefined
        ? 'logs'
        : method === 'signatureSubscribe'
          ? 'signature'
          : method === 'accountSubscribe'
            ? 'account'
            : undefined;
    let backfillQueries = 0;
    let backfillFailures = 0;
    let lastBackfillError: XError | undefined;
    let lastSeen: string | undefined;
    let backfilling = false;
    let backfillAgain = false;

    /**
     * The best-ranked provider other than `current` that this subscription is not on now: one it used before and left
     * (down, replaced) may serve again once it is back.
     */
    function nextProvider(current: Endpoint): Endpoint | undefined {
      const states = merged.stats().sources;
      const active = used.filter((_endpoint, index) => states[index]?.ended !== true);
      return chooseEndpoints(Number.MAX_SAFE_INTEGER).find((e) => e !== current && !active.includes(e));
    }

    function sourceFor(endpoint: Endpoint, replacement: boolean): MergeSource<SolanaNotification<T>> {
      return {
        name: endpoint.id,
        start(sink: MergeSink<SolanaNotification<T>>) {
          let retry: ReturnType<typeof setTimeout> | undefined;
          let downTimer: ReturnType<typeof setTimeout> | undefined;
          let failures = 0;
          let subscribed = false;
          let replaced = false;
          // This source's own signal: its upstream subscription is unsubscribed when it stops (replaced, ended, closed).
          const own = new AbortController();
          const onStop = (): void => own.abort(sink.signal.reason);
          sink.signal.addEventListener('abort', onStop, { once: true });
          /** Opens the next best provider in this one's place (before this one ends, so the stream never runs dry). */
          const replace = (reason: unknown): boolean => {
            if (replaced || own.signal.aborted || closed) return false;
            const next = nextProvider(endpoint);
            if (next === undefined) return false;
            replaced = true;
            used.push(next);
            if (!merged.add(sourceFor(next, true))) {
              used.pop();
              replaced = false;
              return false;
            }
            sink.end(
              reason ??
                new XError({
                  code: 'SOLANA_PROVIDER_REPLACED',
                  category: 'network',
                  message: `${endpoint.label} stayed disconnected for ${replaceAfterMs} ms: replaced by ${next.label}`,
                  context: { endpoint: endpoint.id, replacement: next.id },
                }),
            );
            return true;
          };
          const end = (error: unknown): void => {
            if (!(replacing && replace(error))) sink.end(error);
          };
          const down = (reason: unknown): void => {
            sink.disconnected(reason);
            if (replacing && downTimer === undefined && !replaced) {
              downTimer = setTimeout(() => {
                downTimer = undefined;
                replace(undefined);
              }, replaceAfterMs);
            }
          };
          const back = (): void => {
            if (downTimer !== undefined) clearTimeout(downTimer);
            downTimer = undefined;
          };
          const watcher = { disconnected: down };
          endpoint.sinks.add(watcher);
          // A subscribe that fails for a transient reason (the socket dropped under it, a timeout) is a gap, not the end:
          // it is sent again after a backoff (50 ms doubling to 5 s) until it succeeds or the subscription ends.
          const open = (): void => {
            retry = undefined;
            if (own.signal.aborted) return;
            transportOf(endpoint)
              .subscribe(method, params as JsonRpcParams, {
                onNotification: ({ result }) => {
                  if (!replaced) sink.event({ method, result: result as T, slot: notificationSlot(result), endpoint: endpoint.id });
                },
                onResubscribed: () => {
                  back();
                  endpoint.reconnects++;
                  sink.connected();
                  void backfill();
                },
                onEnd: (error) => end(error),
                unsubscribeMethod: spec.unsubscribe,
                signal: own.signal,
              })
              .then(
                () => {
                  back();
                  if (failures > 0) {
                    failures = 0;
                    endpoint.reconnects++;
                    sink.connected();
                    void backfill();
                  } else if (replacement && !subscribed) {
                    // A replacement starts after its predecessor's gap: what happened meanwhile is looked for.
                    void backfill();
                  }
                  subscribed = true;
                },
                (error: unknown) => {
                  if (own.signal.aborted || closed) return;
                  const category = error instanceof XError ? error.category : 'server';
                  if (category !== 'network' && category !== 'timeout' && category !== 'rate-limit') {
                    end(error);
                    return;
                  }
                  down(error);
                  retry = setTimeout(open, Math.min(5_000, 50 * 2 ** failures));
                  failures++;
                },
              );
          };
          open();
          return () => {
            if (retry !== undefined) clearTimeout(retry);
            back();
            endpoint.sinks.delete(watcher);
            sink.signal.removeEventListener('abort', onStop);
            own.abort(abortedError('source stopped'));
          };
        },
      };
    }
    const sources = chosen.map((endpoint) => sourceFor(endpoint, false));

    const merged: MergedStream<SolanaNotification<T>> = mergeStreams(sources, {
      key: (n) => spec.key(n.result),
      signal: internal.signal,
      dedupeWindow: options.dedupeWindow,
      dedupeTtlMs: options.dedupeTtlMs,
      queueSize: subscribeOptions.queueSize ?? options.queueSize,
      overflow: subscribeOptions.overflow ?? options.overflow,
      onCopy: ({ index, first, lagMs }) => {
        const endpoint = used[index];
        if (endpoint === undefined) return;
        if (first) endpoint.first++;
        else endpoint.late++;
        endpoint.lag.accept(lagMs);
        recordDelivery(endpoint, first, lagMs);
      },
    });

    /**
     * Finds what every provider missed while disconnected: signatures newer than the last seen (logs mentioning one
     * address), a signature's status (`signatureSubscribe`), the account's current state (`accountSubscribe`).
     */
    async function backfill(): Promise<void> {
      if (rpc === undefined || backfillKind === undefined || merged.closed) return;
      if (backfilling) {
        backfillAgain = true;
        return;
      }
      backfilling = true;
      try {
        do {
          backfillAgain = false;
          if (backfillKind === 'logs') await backfillOnce(rpc, address as string);
          else if (backfillKind === 'signature') await backfillSignature(rpc);
          else await backfillAccount(rpc);
        } while (backfillAgain && !merged.closed);
      } catch (error) {
        backfillFailures++;
        lastBackfillError =
          error instanceof XError
            ? error
            : new XError({ code: 'SOLANA_BACKFILL_FAILED', category: 'server', message: String(error), cause: error });
      } finally {
        backfilling = false;
      }
    }

    async function backfillOnce(client: SubscriptionsRpc, target: string): Promise<void> {
      const until = lastSeen;
      if (until === undefined) return;
      backfillQueries++;
      const queryCommitment = commitment === 'finalized' ? 'finalized' : 'confirmed';
      const found = await client.call<Array<{ signature: string; slot: number; err: unknown }>>(
        'getSignaturesForAddress',
        [target, { until, limit: backfillLimit, commitment: queryCommitment }],
        { signal: internal.signal },
      );
      if (!Array.isArray(found)) return;
      for (const entry of [...found].reverse()) {
        if (merged.closed) return;
        if (typeof entry?.signature !== 'string' || merged.has(entry.signature)) continue;
        const tx = await client.call<{ meta?: { logMessages?: string[] | null; err?: unknown } | null } | null>(
          'getTransaction',
          [entry.signature, { commitment: queryCommitment, encoding: 'json', maxSupportedTransactionVersion: 0 }],
          { signal: internal.signal },
        );
        // Not found yet at this commitment: delivering it without its logs would make the real notification a duplicate.
        // It is left to the live stream or the next backfill.
        if (tx?.meta === undefined || tx.meta === null) continue;
        const result = {
          context: { slot: entry.slot },
          value: { signature: entry.signature, err: entry.err ?? null, logs: tx.meta.logMessages ?? [] },
        };
        merged.backfill({ method, result: result as T, slot: entry.slot, endpoint: 'backfill' });
      }
    }

    /** The status of the watched signature: delivered as its final notification once it reached the stream's commitment. */
    async function backfillSignature(client: SubscriptionsRpc): Promise<void> {
      const target = params[0];
      if (typeof target !== 'string' || merged.has('final')) return;
      backfillQueries++;
      const answer = await client.call<{ value?: ReadonlyArray<SignatureStatus | null> } | null>(
        'getSignatureStatuses',
        [[target], { searchTransactionHistory: true }],
        { signal: internal.signal },
      );
      const status = answer?.value?.[0];
      if (status === null || status === undefined || typeof status.slot !== 'number' || merged.closed) return;
      if (!reaches(status, commitment ?? 'finalized')) return;
      const result = { context: { slot: status.slot }, value: { err: status.err ?? null } };
      merged.backfill({ method, result: result as T, slot: status.slot, endpoint: 'backfill' });
    }

    /** The account's state now (`getAccountInfo` at the stream's commitment and encoding), as a notification result. */
    async function accountNow(client: SubscriptionsRpc): Promise<{ context: { slot: number }; value: unknown } | undefined> {
      const target = params[0];
      if (typeof target !== 'string') return undefined;
      const config = plainRecord(params[1]);
      const answer = await client.call<{ context?: { slot?: unknown }; value?: unknown } | null>(
        'getAccountInfo',
        [
          target,
          {
            commitment: commitment ?? 'finalized',
            // The subscription's own encoding, so that the state compares with the providers' copies (node default: binary).
            encoding: config?.encoding ?? 'binary',
            ...(config?.dataSlice === undefined ? {} : { dataSlice: config.dataSlice }),
          },
        ],
        { signal: internal.signal },
      );
      const slot = notificationSlot(answer);
      // A closed account (null) has no state to compare: the next update of a provider tells.
      if (answer === null || slot === undefined || answer.value === null || answer.value === undefined) return undefined;
      return { context: { slot }, value: answer.value };
    }

    /**
     * Delivers the account's state after a gap when it is newer than, and differs from, the last state delivered (or,
     * before any, the state when the subscription opened; without that baseline nothing is known to have changed).
     */
    async function backfillAccount(client: SubscriptionsRpc): Promise<void> {
      backfillQueries++;
      const result = await accountNow(client);
      const reference = lastAccount ?? accountBaseline;
      if (result === undefined || reference === undefined || merged.closed) return;
      const slot = result.context.slot;
      if (slot <= reference.slot || accountDigest(spec.key(result)) === reference.digest) return;
      merged.backfill({ method, result: result as T, slot, endpoint: 'backfill' });
    }

    /**
     * Account updates: drops any state older than the newest delivered one (a lagging provider's, after a backfill that
     * already holds everything up to its slot) and a repeat of the newest at the same slot; keeps the newest delivered.
     */
    function freshAccount(slot: number | undefined, key: string): boolean {
      if (slot === undefined) return true;
      const digest = accountDigest(key);
      if (lastAccount !== undefined && (slot < lastAccount.slot || (slot === lastAccount.slot && digest === lastAccount.digest)))
        return false;
      if (lastAccount === undefined || slot >= lastAccount.slot) lastAccount = { slot, digest };
      return true;
    }

    /** Slot notifications: counts forward jumps and the slots they skipped; a late slot inside a gap fills it. */
    function countSlot(slot: number | undefined): void {
      if (slot === undefined) return;
      if (highestSlot === undefined || firstSlot === undefined) {
        firstSlot = slot;
        highestSlot = slot;
        return;
      }
      if (slot > highestSlot + 1) {
        slotGaps++;
        slotsMissed += slot - highestSlot - 1;
      } else if (slot < highestSlot && slot > firstSlot && slotsMissed > 0) {
        slotsMissed--;
      }
      highestSlot = Math.max(highestSlot, slot);
    }

    /**
     * Resolves true once `getSlot` at the stream's commitment reached `slot`, false on timeout or close. The hold is
     * counted from the event's arrival, so that a burst of events that never confirm costs `confirmTimeoutMs` once,
     * not once each.
     */
    async function confirmed(slot: number, receivedAt: number): Promise<boolean> {
      if (rpc === undefined || commitment === undefined || commitment === 'processed') return true;
      const started = receivedAt;
      for (;;) {
        if ((watermarks[commitment] ?? -1) >= slot) return true;
        if (merged.closed || internal.signal.aborted) return false;
        try {
          const current = await rpc.call<number>('getSlot', [{ commitment }], { signal: internal.signal });
          if (typeof current === 'number' && current > (watermarks[commitment] ?? -1)) watermarks[commitment] = current;
        } catch {
          // An unanswered check counts as "not yet"; the timeout below bounds the hold.
        }
        if ((watermarks[commitment] ?? -1) >= slot) return true;
        if (performance.now() - started >= confirmTimeoutMs) return false;
        if (!(await pause(confirmPollMs, internal.signal))) return false;
      }
    }

    if (backfillKind === 'account' && rpc !== undefined) {
      accountNow(rpc).then(
        (result) => {
          if (result !== undefined) accountBaseline = { slot: result.context.slot, digest: accountDigest(spec.key(result)) };
        },
        () => undefined, // Without a baseline, a gap before the first update is reported, not filled.
      );
    }

    const subscription: SolanaMergedSubscription<T> = {
      method,
      params,
      commitment,
      get endpoints() {
        const sources = merged.stats().sources;
        return used.filter((_e, i) => sources[i]?.ended !== true).map((e) => e.id);
      },
      async next(): Promise<IteratorResult<MergedItem<SolanaNotification<T>>>> {
        for (;;) {
          let result: IteratorResult<MergedItem<SolanaNotification<T>>>;
          try {
            result = await merged.next();
          } catch (error) {
            release();
            throw error;
          }
          if (result.done === true) {
            release();
            return result;
          }
          const item = result.value;
          if (item.type === 'event') {
            const slot = item.value.slot;
            if (verifyCommitment && slot !== undefined && item.index !== -1 && !(await confirmed(slot, item.receivedAt))) {
              if (merged.closed) return { value: undefined, done: true };
              unconfirmed++;
              continue;
            }
            if (method === 'accountSubscribe' && !freshAccount(slot, String(item.key))) {
              stale++;
              continue;
            }
            if (method === 'slotSubscribe') countSlot(slot);
            if (address !== undefined) lastSeen = String(item.key);
            if (method === 'signatureSubscribe' && item.key === 'final') {
              // The node ends a signature subscription after the final status: so does the merged one, after delivering it.
              queueMicrotask(() => subscription.close());
            }
          }
          return result;
        }
      },
      return(): Promise<IteratorResult<MergedItem<SolanaNotification<T>>>> {
        subscription.close();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return subscription;
      },
      stats() {
        return { ...merged.stats(), unconfirmed, stale, slotGaps, slotsMissed, backfillQueries, backfillFailures, lastBackfillError };
      },
      close() {
        merged.close();
        internal.abort(abortedError('subscription closed'));
        release();
      },
      get closed() {
        return merged.closed;
      },
    };

    function release(): void {
      signal?.removeEventListener('abort', onCallerAbort);
      live.delete(subscription);
    }
    if (!merged.closed) live.add(subscription);
    return subscription;
  }

  return {
    subscribe,
    endpoints: endpoints.map((e) => ({ id: e.id, label: e.label })),
    get active() {
      return live.size;
    },
    stats() {
      return endpoints.map((e) => ({
        id: e.id,
        label: e.label,
        first: e.first,
        late: e.late,
        leadShare: e.first + e.late === 0 ? undefined : e.first / (e.first + e.late),
        lagP50Ms: e.lag.count === 0 ? undefined : e.lag.getValueAtQuantile(0.5),
        lagP99Ms: e.lag.count === 0 ? undefined : e.lag.getValueAtQuantile(0.99),
        disconnects: e.disconnects,
        reconnects: e.reconnects,
      }));
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const subscription of [...live]) subscription.close();
      await Promise.all(
        endpoints.map(async (e) => {
          const transport = e.transport;
          e.transport = undefined;
          await transport?.close().catch(() => undefined);
        }),
      );
    },
  };
}

interface SignatureStatus {
  readonly slot?: unknown;
  readonly err?: unknown;
  readonly confirmations?: number | null;
  readonly confirmationStatus?: string | null;
}

const COMMITMENT_RANK: Readonly<Record<SolanaCommitment, number>> = { processed: 0, confirmed: 1, finalized: 2 };

/** Whether a signature status reached `commitment` (a node without `confirmationStatus` says finalized with `confirmations: null`). */
function reaches(status: SignatureStatus, commitment: SolanaCommitment): boolean {
  const level = status.confirmationStatus ?? (status.confirmations === null ? 'finalized' : 'processed');
  const rank = COMMITMENT_RANK[level as SolanaCommitment];
  return rank !== undefined && rank >= COMMITMENT_RANK[commitment];
}

/** The content part of an account notification's dedupe key (`slot:digest`). */
function accountDigest(key: string): string {
  return key.slice(key.indexOf(':') + 1);
}

function plainRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** The endpoint ids a pool knows (none when it has no snapshot to read). */
function poolEndpointIds(pool: SubscriptionsPool | undefined): ReadonlySet<string> {
  try {
    return new Set(pool?.snapshot().endpoints.map((e) => e.id) ?? []);
  } catch {
    return new Set();
  }
}

/** Waits `ms`; false (at once, timer cleared) when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve(false);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    function onAbort(): void {
      clearTimeout(timer);
      resolve(false);
    }
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
