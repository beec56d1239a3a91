import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRandom, type Random, type RandomSeed } from '../random.js';
import { answerAfter, notifyObserver, readBody, SERVER_ERROR_STATUSES, STATUS_TEXT } from '../serving.js';
import { resolveLatency, sampleLatencyMs, type RpcLatency } from '../solana/behavior.js';
import {
  checkKeys,
  checkRelaySetOptions,
  createRelaySet,
  invalidOptions,
  isRecord,
  number,
  relayOptionChecks,
  resolveRelaySpecs,
} from './relay-set.js';

/**
 * What a relay does to the requests it forwards. Every draw is seeded per relay, in the order requests
 * arrive: the same seed and the same sequence of requests give the same fates.
 */
export interface RpcRelayFaults {
  /** Delay added before a request is forwarded (or before an injected error is answered): log-normal body, stalls. */
  readonly latency: RpcLatency;
  /** Fraction of requests answered HTTP 500/502/503/504 without reaching the upstream (0..1). */
  readonly serverErrorRate: number;
  /** Fraction of requests answered HTTP 429 with `Retry-After` without reaching the upstream (0..1). */
  readonly rateLimitRate: number;
  /** The `Retry-After` of an injected 429, in whole seconds. */
  readonly retryAfterSeconds: number;
  /** Fraction of requests read and never answered, until the client or `close()` ends the connection (0..1). */
  readonly hangRate: number;
  /** Fraction of answered calls whose `result` is altered on the way back (each batch entry drawn on its own) (0..1). */
  readonly wrongValueRate: number;
  /**
   * A provider's rate limit: a token bucket checked when a request arrives, before any other fault. `null`: none.
   * Requests beyond it are answered HTTP 429 at once, with `Retry-After` and counted as `over-limit`.
   */
  readonly rateLimit: RpcRelayRateLimit | null;
}

/**
 * A token bucket of `burst` tokens that refills at `requestsPerSecond` (continuously, on `performance.now()`). A request
 * takes one token per JSON-RPC call it carries (a batch of n takes n, as providers count them) and is admitted only when
 * the bucket holds that many; it starts full, and again whenever `setFaults` sets a limit. No draw is made for a refused
 * request, so the fates of admitted requests stay those of the seed.
 */
export interface RpcRelayRateLimit {
  /** Sustained rate, requests (calls) per second (> 0). */
  readonly requestsPerSecond: number;
  /** Bucket capacity: the most calls admitted at once after a quiet period (≥ 1). */
  readonly burst: number;
}

/** A partial `RpcRelayFaults`, one level deep for `latency`. */
export interface RpcRelayFaultsPatch {
  readonly latency?: Partial<RpcLatency>;
  readonly serverErrorRate?: number;
  readonly rateLimitRate?: number;
  readonly retryAfterSeconds?: number;
  readonly hangRate?: number;
  readonly wrongValueRate?: number;
  readonly rateLimit?: RpcRelayRateLimit | null;
}

/** A relay that forwards every request untouched and at once. */
export const DEFAULT_RELAY_FAULTS: RpcRelayFaults = Object.freeze({
  latency: Object.freeze({ medianMs: 0, sigma: 0, stallProbability: 0, stallMs: Object.freeze([500, 1500] as const) }),
  serverErrorRate: 0,
  rateLimitRate: 0,
  retryAfterSeconds: 1,
  hangRate: 0,
  wrongValueRate: 0,
  rateLimit: null,
});

export interface RpcRelayOptions {
  /** Shown in stats and events. */
  readonly id: string;
  readonly faults?: RpcRelayFaultsPatch;
}

export interface RpcRelaysOptions {
  /** The real JSON-RPC server behind every relay, `http://host:port[/path]`. Requests are POSTed to this URL. */
  readonly upstream: string;
  /** Seeds every draw; each relay draws from its own stream (forked by id). Default 1. */
  readonly seed?: RandomSeed;
  readonly relays: readonly RpcRelayOptions[];
  /** Largest request body accepted, in bytes (HTTP 413 beyond). Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Called once per request as soon as its fate is drawn. */
  readonly onRequest?: (event: RpcRelayEvent) => void;
}

/** How a request through a relay ended. */
export type RpcRelayOutcome = 'forwarded' | 'server-error' | 'rate-limited' | 'over-limit' | 'hung' | 'upstream-error' | 'rejected';

export interface RpcRelayEvent {
  readonly relayId: string;
  readonly outcome: Exclude<RpcRelayOutcome, 'upstream-error' | 'rejected'>;
  /** The delay drawn for it, in ms (0 for a hang, and for a request over the rate limit, answered at once). */
  readonly delayMs: number;
  /** HTTP status it will get from the relay itself: 500–504, 429, or 0 (forwarded or hung: the upstream decides). */
  readonly status: number;
}

export interface RpcRelayStats {
  readonly id: string;
  /** HTTP requests received, rejected ones included. */
  readonly requests: number;
  /**
   * Requests by how they ended (`forwarded` counts requests sent upstream, whatever it answered; `rate-limited` the
   * injected 429s of `rateLimitRate`; `over-limit` the 429s of `rateLimit`).
   */
  readonly outcomes: Readonly<Record<RpcRelayOutcome, number>>;
  /** Calls whose `result` was altered. */
  readonly wrongValues: number;
  /** Requests whose client went away before the relay answered. */
  readonly aborted: number;
}

export interface RpcRelayInfo {
  readonly id: string;
  /** `http://127.0.0.1:<port>`: POST JSON-RPC here. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
}

export interface RpcRelays {
  readonly relays: readonly RpcRelayInfo[];
  readonly faults: (id: string) => RpcRelayFaults;
  /** Changes a relay's faults live; requests already drawn keep their fate. Returns the new faults. */
  readonly setFaults: (id: string, patch: RpcRelayFaultsPatch) => RpcRelayFaults;
  /** Every relay in order. */
  readonly stats: () => readonly RpcRelayStats[];
  /** Ends every pending answer, hung connection and upstream request, and stops listening. Idempotent. */
  readonly close: () => Promise<void>;
}

/** `base` with `patch` applied, validated; a bad field is named by its path. */
function resolveRelayFaults(base: RpcRelayFaults, patch: unknown, field: string): RpcRelayFaults {
  if (patch === undefined) return base;
  if (!isRecord(patch)) throw invalidOptions('must be an object', field, patch);
  checkKeys(patch, ['latency', 'serverErrorRate', 'rateLimitRate', 'retryAfterSeconds', 'hangRate', 'wrongValueRate', 'rateLimit'], field);
  const latency =
    patch.latency === undefined ? base.latency : resolveLatency(base.latency, patch.latency, `${field}.latency`, relayOptionChecks);
  const rate = (key: 'serverErrorRate' | 'rateLimitRate' | 'hangRate' | 'wrongValueRate'): number =>
    patch[key] === undefined ? base[key] : number(patch[key], `${field}.${key}`, 0, 1);
  const retryAfter = patch.retryAfterSeconds;
  if (
    retryAfter !== undefined &&
    (typeof retryAfter !== 'number' || !Number.isSafeInteger(retryAfter) || retryAfter < 0 || retryAfter > 86_400)
  ) {
    throw invalidOptions('must be an integer in [0, 86400]', `${field}.retryAfterSeconds`, retryAfter);
  }
  const faults = {
    latency: Object.freeze({ ...latency, stallMs: Object.freeze([...latency.stallMs]) as unknown as readonly [number, number] }),
    serverErrorRate: rate('serverErrorRate'),
    rateLimitRate: rate('rateLimitRate'),
    retryAfterSeconds: retryAfter ?? base.retryAfterSeconds,
    hangRate: rate('hangRate'),
    wrongValueRate: rate('wrongValueRate'),
    rateLimit: patch.rateLimit === undefined ? base.rateLimit : resolveRateLimit(patch.rateLimit, `${field}.rateLimit`),
  };
  if (faults.serverErrorRate + faults.rateLimitRate + faults.hangRate > 1) {
    throw invalidOptions(
      'serverErrorRate + rateLimitRate + hangRate must not exceed 1',
      field,
      faults.serverErrorRate + faults.rateLimitRate + faults.hangRate,
    );
  }
  return Object.freeze(faults);
}

const MAX_REQUESTS_PER_SECOND = 1_000_000;

function resolveRateLimit(value: unknown, field: string): RpcRelayRateLimit | null {
  if (value === null) return null;
  if (!isRecord(value)) throw invalidOptions('must be an object { requestsPerSecond, burst } or null', field, value);
  checkKeys(value, ['requestsPerSecond', 'burst'], field);
  const requestsPerSecond = number(value.requestsPerSecond, `${field}.requestsPerSecond`, 0, MAX_REQUESTS_PER_SECOND);
  if (requestsPerSecond === 0) throw invalidOptions(`must be a number in (0, ${MAX_REQUESTS_PER_SECOND}]`, `${field}.requestsPerSecond`, 0);
  return Object.freeze({ requestsPerSecond, burst: number(value.burst, `${field}.burst`, 1, MAX_REQUESTS_PER_SECOND) });
}

/** JSON-RPC calls in a request body: a batch's length, else 1 (a body that is not JSON is one request all the same). */
function callsIn(body: Buffer): number {
  const text = body.toString('utf8');
  if (!text.trimStart().startsWith('[')) return 1;
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? Math.max(1, parsed.length) : 1;
  } catch {
    return 1;
  }
}

const HEX_QUANTITY = /^0x[0-9a-f]+$/i;

/**
 * A value that differs from `value` and keeps its shape, so that only a check of the value itself can
 * catch it: a hex quantity stays a hex quantity (a balance or block number off by a seeded amount),
 * a number stays a number, a boolean flips, and the first leaf of an object or array is altered.
 */
export function alterValue(value: unknown, random: Random): unknown {
  if (typeof value === 'string') {
    if (HEX_QUANTITY.test(value)) {
      const delta = BigInt(random.int(1, 1_000_000));
      const original = BigInt(value);
      return `0x${(original >= delta && random.chance(0.5) ? original - delta : original + delta).toString(16)}`;
    }
    return value.length === 0 ? 'x' : `${value.slice(0, -1)}${value.endsWith('0') ? '1' : '0'}`;
  }
  if (typeof value === 'number') return value + random.int(1, 1000);
  if (typeof value === 'boolean') return !value;
  if (value === null) return '0x1';
  if (Array.isArray(value)) return value.length === 0 ? [null] : [alterValue(value[0], random), ...(value.slice(1) as unknown[])];
  if (isRecord(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0) return { altered: true };
    const key = keys.includes('value') ? 'value' : keys[0]!;
    return { ...value, [key]: alterValue(value[key], random) };
  }
  return value;
}

interface MutableStats {
  requests: number;
  outcomes: Record<RpcRelayOutcome, number>;
  wrongValues: number;
  aborted: number;
}

/** The token bucket of a relay's `rateLimit`, for the limit object it was made for (a new limit starts a full bucket). */
interface Bucket {
  readonly limit: RpcRelayRateLimit;
  tokens: number;
  updatedMs: number;
}

interface Relay {
  readonly id: string;
  readonly timers: Set<NodeJS.Timeout>;
  readonly latencyRandom: Random;
  readonly faultRandom: Random;
  readonly valueRandom: Random;
  faults: RpcRelayFaults;
  bucket: Bucket | undefined;
  readonly stats: MutableStats;
}

/**
 * Takes `cost` tokens from the relay's bucket. Returns 0 when admitted, else the whole seconds until the bucket could
 * admit it (at least 1: the `Retry-After` of the 429).
 */
function takeTokens(relay: Relay, limit: RpcRelayRateLimit, cost: number): number {
  const now = performance.now();
  if (relay.bucket?.limit !== limit) relay.bucket = { limit, tokens: limit.burst, updatedMs: now };
  const bucket = relay.bucket;
  bucket.tokens = Math.min(limit.burst, bucket.tokens + ((now - bucket.updatedMs) / 1000) * limit.requestsPerSecond);
  bucket.updatedMs = now;
  if (bucket.tokens >= cost) {
    bucket.tokens -= cost;
    return 0;
  }
  return Math.max(1, Math.ceil((cost - bucket.tokens) / limit.requestsPerSecond));
}

type Fate =
  | { readonly kind: 'forwarded'; readonly wrongValueRate: number; readonly random: Random }
  | { readonly kind: 'server-error'; readonly status: number }
  | { readonly kind: 'rate-limited' }
  | { readonly kind: 'hung' };

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

/**
 * Starts seeded fault-injecting HTTP relays on 127.0.0.1 ephemeral ports in front of one real JSON-RPC
 * server (anvil, say): each relay forwards POSTed JSON-RPC bodies to `upstream` after a drawn delay, or
 * answers an injected HTTP 5xx or 429, or hangs, and may alter the `result` of what comes back.
 */
export async function startRpcRelays(options: RpcRelaysOptions): Promise<RpcRelays> {
  const { upstream, relays: given } = checkRelaySetOptions(options, ['upstream', 'seed', 'relays', 'maxBodyBytes', 'onRequest'], 'http:');
  const maxBodyBytes = options.maxBodyBytes === undefined ? 1 << 20 : number(options.maxBodyBytes, 'maxBodyBytes', 1, 1 << 30);
  const onRequest = options.onRequest;
  if (onRequest !== undefined && typeof onRequest !== 'function') throw invalidOptions('must be a function', 'onRequest', onRequest);
  const root = createRandom(options.seed ?? 1);
  const specs = resolveRelaySpecs(given, DEFAULT_RELAY_FAULTS, resolveRelayFaults);

  const agent = new Agent({ keepAlive: true });
  const upstreamRequests = new Set<ReturnType<typeof httpRequest>>();
  const set = createRelaySet<RpcRelayFaults, Relay>({
    scheme: 'http',
    what: 'A relay',
    resolveFaults: resolveRelayFaults,
    beforeClose: () => {
      for (const upstreamRequest of upstreamRequests) upstreamRequest.destroy();
      upstreamRequests.clear();
    },
    release: (relay) => {
      for (const timer of relay.timers) clearTimeout(timer);
      relay.timers.clear();
    },
    afterClose: () => agent.destroy(),
  });

  function drawFate(relay: Relay): Fate {
    const { faults, faultRandom } = relay;
    const draw = faultRandom.next();
    if (draw < faults.hangRate) return { kind: 'hung' };
    if (draw < faults.hangRate + faults.rateLimitRate) return { kind: 'rate-limited' };
    if (draw < faults.hangRate + faults.rateLimitRate + faults.serverErrorRate)
      return { kind: 'server-error', status: faultRandom.pick(SERVER_ERROR_STATUSES) };
    // A stream of its own per request, seeded now in arrival order, decides which entries of the answer
    // get altered and how: fates stay reproducible however the upstream's answers interleave.
    return { kind: 'forwarded', wrongValueRate: faults.wrongValueRate, random: createRandom(relay.valueRandom.int(0, 0x7fffffff)) };
  }

  function alterBody(relay: Relay, body: Buffer, fate: Extract<Fate, { kind: 'forwarded' }>): Buffer {
    if (fate.wrongValueRate === 0) return body;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return body;
    }
    let changed = false;
    const alterEntry = (entry: unknown): unknown => {
      if (!isRecord(entry) || !('result' in entry) || !fate.random.chance(fate.wrongValueRate)) return entry;
      changed = true;
      relay.stats.wrongValues++;
      return { ...entry, result: alterValue(entry.result, fate.random) };
    };
    const next = Array.isArray(parsed) ? parsed.map(alterEntry) : alterEntry(parsed);
    return changed ? Buffer.from(JSON.stringify(next)) : body;
  }

  function forward(relay: Relay, res: ServerResponse, body: Buffer, fate: Extract<Fate, { kind: 'forwarded' }>): void {
    const upstreamRequest = httpRequest(upstream, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
    });
    upstreamRequests.add(upstreamRequest);
    const fail = (): void => {
      if (!upstreamRequests.delete(upstreamRequest)) return;
      relay.stats.outcomes['upstream-error']++;
      send(res, 502, { 'content-type': 'text/plain; charset=utf-8' }, 'Bad Gateway: the upstream did not answer');
    };
    upstreamRequest.on('error', fail);
    upstreamRequest.on('response', (upstreamResponse: IncomingMessage) => {
      const chunks: Buffer[] = [];
      upstreamResponse.on('data', (chunk: Buffer) => chunks.push(chunk));
      upstreamResponse.on('error', fail);
      upstreamResponse.on('end', () => {
        if (!upstreamRequests.delete(upstreamRequest)) return;
        const status = upstreamResponse.statusCode ?? 502;
        const answer = status === 200 ? alterBody(relay, Buffer.concat(chunks), fate) : Buffer.concat(chunks);
        if (res.headersSent || res.destroyed) return;
        res.writeHead(status, {
          'content-type': upstreamResponse.headers['content-type'] ?? 'application/json',
          'content-length': String(answer.length),
        });
        res.end(answer);
      });
    });
    // A client that gives up takes its upstream request with it.
    res.once('close', () => {
      if (upstreamRequests.delete(upstreamRequest)) {
        relay.stats.aborted++;
        upstreamRequest.destroy();
      }
    });
    upstreamRequest.end(body);
  }

  /** Answers 429 at once when the request is over the relay's rate limit; true when it was. */
  function refuseOverLimit(relay: Relay, res: ServerResponse, body: Buffer): boolean {
    const limit = relay.faults.rateLimit;
    if (limit === null) return false;
    const retryAfterSeconds = takeTokens(relay, limit, callsIn(body));
    if (retryAfterSeconds === 0) return false;
    relay.stats.outcomes['over-limit']++;
    notifyObserver(onRequest, { relayId: relay.id, outcome: 'over-limit', delayMs: 0, status: 429 });
    send(
      res,
      429,
      { 'content-type': 'application/json', 'retry-after': String(retryAfterSeconds) },
      JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: 429, message: 'Too many requests: over the rate limit' } }),
    );
    return true;
  }

  function handle(relay: Relay, res: ServerResponse, body: Buffer): void {
    const { stats } = relay;
    if (refuseOverLimit(relay, res, body)) return;
    const fate = drawFate(relay);
    const delayMs = fate.kind === 'hung' ? 0 : sampleLatencyMs(relay.faults.latency, relay.latencyRandom);
    stats.outcomes[fate.kind]++;
    if (onRequest !== undefined) {
      const status = fate.kind === 'server-error' ? fate.status : fate.kind === 'rate-limited' ? 429 : 0;
      notifyObserver(onRequest, { relayId: relay.id, outcome: fate.kind, delayMs, status });
    }
    // A hung request is read and never answered: its connection stays open until the client or close() ends it.
    if (fate.kind === 'hung') return;
    const retryAfter = String(relay.faults.retryAfterSeconds);
    const act = (): void => {
      if (set.closed || res.destroyed) return;
      if (fate.kind === 'server-error') {
        send(res, fate.status, { 'content-type': 'text/plain; charset=utf-8' }, STATUS_TEXT[fate.status] ?? 'Server Error');
      } else if (fate.kind === 'rate-limited') {
        send(
          res,
          429,
          { 'content-type': 'application/json', 'retry-after': retryAfter },
          JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: 429, message: 'Too many requests' } }),
        );
      } else {
        forward(relay, res, body, fate);
      }
    };
    answerAfter(relay.timers, delayMs, res, act, () => stats.aborted++);
  }

  function onHttpRequest(relay: Relay, req: IncomingMessage, res: ServerResponse): void {
    if (set.closed) {
      res.destroy();
      return;
    }
    relay.stats.requests++;
    if (req.method !== 'POST') {
      req.resume();
      relay.stats.outcomes.rejected++;
      send(res, 405, { 'content-type': 'text/plain; charset=utf-8', allow: 'POST' }, 'Method Not Allowed: POST JSON-RPC');
      return;
    }
    readBody(
      req,
      maxBodyBytes,
      (body) => {
        if (!set.closed) handle(relay, res, body);
      },
      () => {
        relay.stats.outcomes.rejected++;
        const text = `Payload Too Large: the limit is ${maxBodyBytes} bytes`;
        send(res, 413, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }, text);
      },
    );
  }

  await set.start(specs, (spec) => {
    const random = root.fork(`relay:${spec.id}`);
    const server = createServer({ keepAlive: true });
    const relay: Relay = {
      id: spec.id,
      timers: new Set(),
      latencyRandom: random.fork('latency'),
      faultRandom: random.fork('faults'),
      valueRandom: random.fork('values'),
      faults: spec.faults,
      bucket: undefined,
      stats: {
        requests: 0,
        outcomes: { forwarded: 0, 'server-error': 0, 'rate-limited': 0, 'over-limit': 0, hung: 0, 'upstream-error': 0, rejected: 0 },
        wrongValues: 0,
        aborted: 0,
      },
    };
    server.on('request', (req: IncomingMessage, res: ServerResponse) => onHttpRequest(relay, req, res));
    return { relay, server };
  });

  return {
    relays: set.infos,
    faults: set.faults,
    setFaults: set.setFaults,
    stats: () =>
      set.relays.map((r) => ({
        id: r.id,
        requests: r.stats.requests,
        outcomes: { ...r.stats.outcomes },
        wrongValues: r.stats.wrongValues,
        aborted: r.stats.aborted,
      })),
    close: set.close,
  };
}
