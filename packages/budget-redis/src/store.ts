import { randomUUID } from 'node:crypto';
import { checkTimerMs, configError, describeValue, isPlainObject, redactUrl } from '@x/errors';
import type { ConfigErrorContext } from '@x/errors';
import { checkTakes, createLocalBudgetStore } from '@x/pool';
import type { BudgetGrant, BudgetStore, BudgetStoreStatus, BudgetTake, EndpointHold, TokenBucketSpec } from '@x/pool';
import { Redis } from 'ioredis';
import { HEARTBEAT_SCRIPT, HOLDS_SCRIPT, HOLD_SCRIPT, REFUND_SCRIPT, TAKE_SCRIPT } from './lua.js';

declare module '@x/errors' {
  interface ErrorContexts {
    /** A bad option of `createRedisBudgetStore`; `option` names it. */
    BUDGET_REDIS_INVALID_OPTIONS: ConfigErrorContext;
  }
}

export interface RedisBudgetStoreOptions {
  /** `redis://[user:password@]host:port[/db]`: the store opens (and `close()` closes) its own connection. */
  readonly url?: string;
  /**
   * An ioredis client you own instead of `url` (exactly one of the two). The store adds its scripts and an `error`
   * listener to it, sends nothing while it is not `ready`, and leaves it open on `close()`.
   */
  readonly client?: Redis;
  /** Prefix of every key the store writes. Default `x:budget:`; replicas that share budgets use the same one. */
  readonly keyPrefix?: string;
  /**
   * How many replicas share the budgets: while Redis is unreachable each serves on local buckets of `1 / replicas` of
   * every budget. Default: the number of live replicas seen through Redis heartbeats (1 until one was seen).
   */
  readonly replicas?: number;
  /** This replica's share in (0, 1] of every budget while Redis is unreachable, instead of `1 / replicas`. */
  readonly share?: number;
  /** This replica's id in the heartbeat set. Default: a random UUID. */
  readonly replicaId?: string;
  /** How often the replica renews its heartbeat (which lives three times as long). Default 1000 ms. */
  readonly heartbeatMs?: number;
  /** Longest wait for one Redis command before the call is served locally (own connection only). Default 500 ms. */
  readonly commandTimeoutMs?: number;
  /** How long `createRedisBudgetStore` waits for the first connection before starting degraded. Default 2000 ms. */
  readonly connectTimeoutMs?: number;
  /** Longest pause between reconnection attempts (own connection only; they back off up to this). Default 1000 ms. */
  readonly reconnectMaxDelayMs?: number;
}

interface ScriptCommands {
  xBudgetTake(...args: Array<string | number>): Promise<Array<number | string>>;
  xBudgetRefund(...args: Array<string | number>): Promise<number>;
  xBudgetHold(...args: Array<string | number>): Promise<number>;
  xBudgetHolds(...args: Array<string | number>): Promise<string[]>;
  xBudgetHeartbeat(...args: Array<string | number>): Promise<number>;
}

const CODE = 'BUDGET_REDIS_INVALID_OPTIONS';
const KNOWN = [
  'url',
  'client',
  'keyPrefix',
  'replicas',
  'share',
  'replicaId',
  'heartbeatMs',
  'commandTimeoutMs',
  'connectTimeoutMs',
  'reconnectMaxDelayMs',
] as const;

interface Resolved {
  readonly keyPrefix: string;
  readonly replicas: number | undefined;
  readonly share: number | undefined;
  readonly replicaId: string;
  readonly heartbeatMs: number;
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly reconnectMaxDelayMs: number;
}

/** A key part named in options: a non-empty string of at most 200 characters, or `BUDGET_REDIS_INVALID_OPTIONS`. */
function shortName(option: 'keyPrefix' | 'replicaId', value: unknown): string {
  if (typeof value === 'string' && value.length > 0 && value.length <= 200) return value;
  throw configError(CODE, option, `${option} must be a non-empty string of at most 200 characters, got ${describeValue(value)}`, value);
}

function resolveOptions(options: RedisBudgetStoreOptions): Resolved {
  const input: unknown = options;
  if (!isPlainObject(input)) throw configError(CODE, 'options', 'createRedisBudgetStore options must be an object', options);
  for (const key of Object.keys(options)) {
    if (!(KNOWN as readonly string[]).includes(key)) {
      throw configError(CODE, key, `unknown option "${key}" (known: ${KNOWN.join(', ')})`, key);
    }
  }
  if ((options.url === undefined) === (options.client === undefined)) {
    throw configError(CODE, 'url', 'give exactly one of url (a redis:// URL) or client (an ioredis client)');
  }
  if (options.url !== undefined) {
    let protocol = '';
    try {
      protocol = typeof options.url === 'string' ? new URL(options.url).protocol : '';
    } catch {
      // reported below
    }
    // The URL may carry a password: never echo it.
    if (protocol !== 'redis:' && protocol !== 'rediss:') throw configError(CODE, 'url', 'url must be a redis:// or rediss:// URL');
  }
  if (options.client !== undefined && !(options.client instanceof Redis)) {
    throw configError(CODE, 'client', 'client must be an ioredis client (new Redis(...))', options.client);
  }
  const keyPrefix = shortName('keyPrefix', options.keyPrefix ?? 'x:budget:');
  if (options.replicas !== undefined && !(Number.isInteger(options.replicas) && options.replicas >= 1 && options.replicas <= 10_000)) {
    throw configError(
      CODE,
      'replicas',
      `replicas must be an integer in [1, 10000], got ${describeValue(options.replicas)}`,
      options.replicas,
    );
  }
  if (options.share !== undefined && !(typeof options.share === 'number' && options.share > 0 && options.share <= 1)) {
    throw configError(CODE, 'share', `share must be a number in (0, 1], got ${describeValue(options.share)}`, options.share);
  }
  if (options.share !== undefined && options.replicas !== undefined) {
    throw configError(CODE, 'share', 'give share or replicas, not both');
  }
  const replicaId = shortName('replicaId', options.replicaId ?? randomUUID());
  return {
    keyPrefix,
    replicas: options.replicas,
    share: options.share,
    replicaId,
    heartbeatMs: checkTimerMs(CODE, 'heartbeatMs', options.heartbeatMs ?? 1_000),
    commandTimeoutMs: checkTimerMs(CODE, 'commandTimeoutMs', options.commandTimeoutMs ?? 500),
    connectTimeoutMs: checkTimerMs(CODE, 'connectTimeoutMs', options.connectTimeoutMs ?? 2_000),
    reconnectMaxDelayMs: checkTimerMs(CODE, 'reconnectMaxDelayMs', options.reconnectMaxDelayMs ?? 1_000),
  };
}

/** The distinct buckets of a take, costs of a repeated key summed (as the local store decides). */
function distinct(takes: ReadonlyArray<BudgetTake>): Array<{ spec: TokenBucketSpec; cost: number }> {
  const byKey = new Map<string, { spec: TokenBucketSpec; cost: number }>();
  for (const take of takes) {
    const entry = byKey.get(take.bucket.key);
    if (entry === undefined) byKey.set(take.bucket.key, { spec: take.bucket, cost: take.cost });
    else entry.cost += take.cost;
  }
  return [...byKey.values()];
}

function parseHold(value: string): EndpointHold | undefined {
  const colon = value.indexOf(':');
  const kind = value.slice(0, colon);
  const untilWallMs = Number(value.slice(colon + 1));
  if ((kind !== 'cooldown' && kind !== 'ejected') || !Number.isFinite(untilWallMs)) return undefined;
  return { kind, untilWallMs };
}

/**
 * A `BudgetStore` (the interface of `@x/pool`) on Redis: every replica that uses the same Redis and `keyPrefix` takes
 * from the same token buckets, atomically (one Lua script per take, on the Redis clock), and sees the others' holds
 * (cool-downs, ejections) as keys that expire with them. While Redis is unreachable the store serves on local buckets
 * of this replica's share of each budget, `status()` says `degraded` and why, and it returns to `shared` by itself
 * once Redis answers again. Redis errors never reach the caller; `close()` releases every timer, listener and (its
 * own) connection. Resolves once connected, or after `connectTimeoutMs` in degraded mode.
 */
export async function createRedisBudgetStore(options: RedisBudgetStoreOptions): Promise<BudgetStore> {
  const resolved = resolveOptions(options);
  const { keyPrefix, replicaId, heartbeatMs } = resolved;
  const owned = options.client === undefined;
  const where = options.url !== undefined ? redactUrl(options.url) : 'the given client';
  const client =
    options.client ??
    new Redis(options.url as string, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: resolved.commandTimeoutMs,
      connectTimeout: resolved.connectTimeoutMs,
      retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 10), resolved.reconnectMaxDelayMs),
      lazyConnect: false,
    });
  client.defineCommand('xBudgetTake', { lua: TAKE_SCRIPT });
  client.defineCommand('xBudgetRefund', { lua: REFUND_SCRIPT });
  client.defineCommand('xBudgetHold', { lua: HOLD_SCRIPT, numberOfKeys: 2 });
  client.defineCommand('xBudgetHolds', { lua: HOLDS_SCRIPT, numberOfKeys: 1 });
  client.defineCommand('xBudgetHeartbeat', { lua: HEARTBEAT_SCRIPT, numberOfKeys: 1 });
  const scripts = client as unknown as ScriptCommands;

  const bucketKey = (key: string): string => `${keyPrefix}bucket:${key}`;
  const holdPrefix = `${keyPrefix}hold:`;
  const holdIndex = `${keyPrefix}holds`;
  const replicasKey = `${keyPrefix}replicas`;

  let closed = false;
  let up = client.status === 'ready';
  let everShared = up;
  let reason = up ? '' : `connecting to ${where}`;
  let liveReplicas: number | undefined;
  /** Tokens each bucket had at its last shared take: where this replica's share of it starts when Redis goes away. */
  const lastTokens = new Map<string, number>();
  /** Holds last read from Redis, kept for the time Redis is away. */
  let lastHolds = new Map<string, EndpointHold>();
  let local = createLocalBudgetStore();
  /** This replica's own holds (kept apart from `local`, which starts afresh each time Redis goes away). */
  const ownHolds = createLocalBudgetStore();
  /** Buckets of `local` already started at this replica's share of their last shared level. */
  let seeded = new Set<string>();
  /** This replica served on local buckets since it last shared them. */
  let servedLocally = false;
  /**
   * Back from serving locally: a bucket missing in Redis (a Redis that restarted empty) starts empty rather than full,
   * since the providers' own buckets were being spent meanwhile. Holds the keys already settled in Redis since.
   */
  let afterOutage: Set<string> | undefined;

  const share = (): number => resolved.share ?? 1 / (resolved.replicas ?? Math.max(1, liveReplicas ?? 1));
  const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error));

  function goDown(why: string): void {
    if (closed) return;
    if (up) {
      // A fresh local store: its buckets start at this replica's share of what was last seen in Redis.
      void local.close();
      local = createLocalBudgetStore();
      seeded = new Set();
    }
    up = false;
    reason = why;
  }
  function goUp(): void {
    if (closed) return;
    if (servedLocally) afterOutage = new Set();
    servedLocally = false;
    up = true;
    everShared = true;
    reason = '';
    void heartbeat();
  }

  const onReady = (): void => goUp();
  const onError = (error: unknown): void => goDown(`redis unreachable (${where}): ${describeError(error)}`);
  const onClose = (): void => {
    if (up) goDown(`redis connection to ${where} closed`);
  };
  client.on('ready', onReady);
  client.on('error', onError);
  client.on('close', onClose);
  client.on('end', onClose);

  async function heartbeat(): Promise<void> {
    if (closed || client.status !== 'ready') return;
    try {
      liveReplicas = Number(await scripts.xBudgetHeartbeat(replicasKey, replicaId, heartbeatMs * 3));
      // Back after a failed or timed-out command on a connection that stayed up (no new 'ready' event comes then).
      if (!up) goUp();
    } catch (error) {
      goDown(`redis heartbeat failed (${where}): ${describeError(error)}`);
    }
  }
  const heartbeatTimer = setInterval(() => void heartbeat(), heartbeatMs);

  const scaled = (spec: TokenBucketSpec): TokenBucketSpec => {
    const part = share();
    return { key: spec.key, ratePerSecond: spec.ratePerSecond * part, capacity: spec.capacity * part };
  };
  const scaledTakes = (takes: ReadonlyArray<BudgetTake>): BudgetTake[] =>
    takes.map((take) => ({ bucket: scaled(take.bucket), cost: take.cost }));

  async function localTake(takes: ReadonlyArray<BudgetTake>): Promise<BudgetGrant> {
    servedLocally = true;
    const scaledOnes = scaledTakes(takes);
    if (everShared) {
      for (const take of scaledOnes) {
        if (seeded.has(take.bucket.key)) continue;
        seeded.add(take.bucket.key);
        // Unknown level (the bucket was not used here while shared): start empty, as other replicas may have spent it.
        const startAt = (lastTokens.get(take.bucket.key) ?? 0) * share();
        const spend = take.bucket.capacity - Math.max(0, startAt);
        if (spend > 0) await local.take([{ bucket: take.bucket, cost: spend }]);
      }
    }
    return await local.take(scaledOnes);
  }

  const usable = (): boolean => !closed && up && client.status === 'ready';
  const spread = (entries: ReadonlyArray<{ spec: TokenBucketSpec; cost: number }>): Array<string | number> => {
    const args: Array<string | number> = [entries.length, ...entries.map((entry) => bucketKey(entry.spec.key))];
    for (const entry of entries) {
      const missing = afterOutage !== undefined && !afterOutage.has(entry.spec.key) ? '0' : 'full';
      args.push(entry.spec.ratePerSecond, entry.spec.capacity, entry.cost, missing);
    }
    return args;
  };
  /** The buckets are in Redis now: a missing one is no longer this replica's to start empty. */
  const settled = (entries: ReadonlyArray<{ spec: TokenBucketSpec }>): void => {
    for (const entry of entries) afterOutage?.add(entry.spec.key);
  };

  const store: BudgetStore = {
    async take(takes) {
      checkTakes(takes);
      if (usable()) {
        const entries = distinct(takes);
        try {
          const reply = await scripts.xBudgetTake(...spread(entries));
          // Another program's script under the same name, say: served locally rather than trusted.
          if (!Array.isArray(reply) || reply.length !== entries.length + 2) throw new Error('unexpected reply to the take script');
          settled(entries);
          const tokens = new Map<string, number>();
          entries.forEach((entry, index) => {
            const left = Number(reply[index + 2]);
            tokens.set(entry.spec.key, left);
            lastTokens.set(entry.spec.key, left);
          });
          return {
            granted: Number(reply[0]) === 1,
            retryInMs: Number(reply[1]),
            remaining: takes.map((take) => tokens.get(take.bucket.key) ?? 0),
          };
        } catch (error) {
          goDown(`redis take failed (${where}): ${describeError(error)}`);
        }
      }
      return await localTake(takes);
    },
    async refund(takes) {
      checkTakes(takes);
      if (usable()) {
        try {
          const entries = distinct(takes);
          await scripts.xBudgetRefund(...spread(entries));
          settled(entries);
          return;
        } catch (error) {
          goDown(`redis refund failed (${where}): ${describeError(error)}`);
        }
      }
      await local.refund(scaledTakes(takes));
    },
    async hold(endpointId, hold) {
      // The local store checks the hold (and throws POOL_INVALID_BUDGET) and keeps it for the time Redis is away.
      await ownHolds.hold(endpointId, hold);
      if (!usable()) return;
      try {
        await scripts.xBudgetHold(holdPrefix + endpointId, holdIndex, endpointId, `${hold.kind}:${hold.untilWallMs}`, hold.untilWallMs);
      } catch (error) {
        goDown(`redis hold failed (${where}): ${describeError(error)}`);
      }
    },
    async holds() {
      if (usable()) {
        try {
          const flat = await scripts.xBudgetHolds(holdIndex, holdPrefix);
          const read = new Map<string, EndpointHold>();
          for (let index = 0; index + 1 < flat.length; index += 2) {
            const parsed = parseHold(String(flat[index + 1]));
            if (parsed !== undefined) read.set(String(flat[index]), parsed);
          }
          lastHolds = read;
        } catch (error) {
          goDown(`redis holds failed (${where}): ${describeError(error)}`);
        }
      }
      // Redis's view (live or last read), with this replica's own holds where they last longer.
      const now = Date.now();
      const merged = new Map<string, EndpointHold>();
      for (const [id, hold] of lastHolds) if (hold.untilWallMs > now) merged.set(id, hold);
      for (const [id, hold] of await ownHolds.holds()) {
        const other = merged.get(id);
        if (other === undefined || hold.untilWallMs > other.untilWallMs) merged.set(id, hold);
      }
      return merged;
    },
    status(): BudgetStoreStatus {
      if (closed) return { mode: 'degraded', detail: 'closed', share: share() };
      if (usable()) {
        const seen = liveReplicas === undefined ? '' : `, ${liveReplicas} live replica${liveReplicas === 1 ? '' : 's'}`;
        return { mode: 'shared', detail: `redis ${where}${seen}`, share: share() };
      }
      return {
        mode: 'degraded',
        detail: `${reason || `redis ${where} not ready`}; serving on local budgets scaled to ${share()}`,
        share: share(),
      };
    },
    async close() {
      if (closed) return;
      if (client.status === 'ready') {
        try {
          await client.zrem(replicasKey, replicaId);
        } catch {
          // best effort: the heartbeat expires anyway
        }
      }
      closed = true;
      clearInterval(heartbeatTimer);
      client.removeListener('ready', onReady);
      client.removeListener('close', onClose);
      client.removeListener('end', onClose);
      if (owned) {
        const ended = new Promise<void>((resolve) => {
          if (client.status === 'end') resolve();
          else client.once('end', () => resolve());
        });
        client.disconnect(false);
        await ended;
      }
      client.removeListener('error', onError);
      await local.close();
      await ownHolds.close();
      // Let libuv release the socket's handle before resolving.
      await new Promise<void>((resolve) => setImmediate(resolve));
      await new Promise<void>((resolve) => setImmediate(resolve));
    },
  };

  if (client.status !== 'ready') {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        client.removeListener('ready', done);
        resolve();
      };
      const timer = setTimeout(done, resolved.connectTimeoutMs);
      client.once('ready', done);
    });
  }
  return store;
}
