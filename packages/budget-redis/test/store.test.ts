import { createServer } from 'node:net';
import { isXError } from '@x/errors';
import type { BudgetStore, TokenBucketSpec } from '@x/pool';
import { startRedisServer, type RedisServer } from '@x/testkit';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisBudgetStore, type RedisBudgetStoreOptions } from '../src/index.js';

// Buckets that refill so slowly (one token per 1000 s) that no token comes back while a test runs: counts are exact.
const slow = (key: string, capacity: number): TokenBucketSpec => ({ key, ratePerSecond: 0.001, capacity });

let redis: RedisServer;
const open: BudgetStore[] = [];
let prefixes = 0;

async function store(options: Partial<RedisBudgetStoreOptions> = {}, prefix = `t${++prefixes}:`): Promise<BudgetStore> {
  const created = await createRedisBudgetStore({
    url: redis.url,
    keyPrefix: prefix,
    heartbeatMs: 50,
    reconnectMaxDelayMs: 100,
    ...options,
  });
  open.push(created);
  return created;
}

/** Two replicas on one Redis and one key prefix. */
async function replicas(options: Partial<RedisBudgetStoreOptions> = {}): Promise<[BudgetStore, BudgetStore]> {
  const prefix = `t${++prefixes}:`;
  return [await store(options, prefix), await store(options, prefix)];
}

beforeAll(async () => {
  redis = await startRedisServer();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((created) => created.close()));
});
afterAll(async () => {
  await redis.stop();
});

describe('shared token buckets', () => {
  it('two replicas taking at once never exceed the bucket, and together get all of it', async () => {
    const [a, b] = await replicas();
    const bucket = slow('provider-a', 50);
    const grants = await Promise.all(Array.from({ length: 80 }, (_, index) => (index % 2 === 0 ? a : b).take([{ bucket, cost: 1 }])));
    expect(grants.filter((grant) => grant.granted)).toHaveLength(50);
    const refused = grants.filter((grant) => !grant.granted);
    expect(refused).toHaveLength(30);
    for (const grant of refused) expect(grant.retryInMs).toBeGreaterThan(0);
    expect(a.status()).toMatchObject({ mode: 'shared' });
  });

  it('takes several buckets all or none', async () => {
    const [a, b] = await replicas();
    const requests = slow('requests', 5);
    const credits = slow('credits', 30);
    expect(
      await a.take([
        { bucket: requests, cost: 1 },
        { bucket: credits, cost: 10 },
      ]),
    ).toMatchObject({ granted: true, remaining: [4, 20] });
    const second = await b.take([
      { bucket: requests, cost: 1 },
      { bucket: credits, cost: 10 },
    ]);
    expect(second.granted).toBe(true);
    expect(second.remaining[0]).toBeCloseTo(3, 3);
    expect(second.remaining[1]).toBeCloseTo(10, 3);
    // Credits would go below zero: nothing is taken from either bucket.
    const refused = await a.take([
      { bucket: requests, cost: 1 },
      { bucket: credits, cost: 11 },
    ]);
    expect(refused.granted).toBe(false);
    expect(refused.remaining[0]).toBeCloseTo(3, 3);
    expect(refused.remaining[1]).toBeCloseTo(10, 3);
    expect(refused.retryInMs).toBeGreaterThanOrEqual(1_000 * 1_000 - 1);
    // The same bucket twice in one take counts twice.
    expect(
      (
        await b.take([
          { bucket: requests, cost: 2 },
          { bucket: requests, cost: 2 },
        ])
      ).granted,
    ).toBe(false);
    expect(
      (
        await b.take([
          { bucket: requests, cost: 2 },
          { bucket: requests, cost: 1 },
        ])
      ).granted,
    ).toBe(true);
  });

  it('grants a cost above the capacity once the bucket is full, leaving it in debt', async () => {
    const [a, b] = await replicas();
    const bucket = slow('big', 3);
    const grant = await a.take([{ bucket, cost: 5 }]);
    expect(grant.granted).toBe(true);
    expect(grant.remaining[0]).toBeCloseTo(-2, 3);
    expect((await b.take([{ bucket, cost: 1 }])).granted).toBe(false);
  });

  it('refunds tokens to every replica, never above the capacity', async () => {
    const [a, b] = await replicas();
    const bucket = slow('refund', 4);
    expect((await a.take([{ bucket, cost: 4 }])).granted).toBe(true);
    expect((await b.take([{ bucket, cost: 1 }])).granted).toBe(false);
    await a.refund([{ bucket, cost: 2 }]);
    expect(await b.take([{ bucket, cost: 2 }])).toMatchObject({ granted: true });
    await a.refund([{ bucket, cost: 100 }]);
    const full = await b.take([{ bucket, cost: 4 }]);
    expect(full.granted).toBe(true);
    expect(full.remaining[0]).toBeCloseTo(0, 3);
  });

  it('refills on the Redis clock', async () => {
    const [a, b] = await replicas();
    const bucket: TokenBucketSpec = { key: 'fast', ratePerSecond: 50, capacity: 2 };
    expect((await a.take([{ bucket, cost: 2 }])).granted).toBe(true);
    const refused = await b.take([{ bucket, cost: 2 }]);
    expect(refused.granted).toBe(false);
    expect(refused.retryInMs).toBeGreaterThan(0);
    expect(refused.retryInMs).toBeLessThanOrEqual(40);
    await vi.waitFor(async () => expect((await b.take([{ bucket, cost: 2 }])).granted).toBe(true), { timeout: 5_000, interval: 20 });
  });

  it('rejects malformed takes with POOL_INVALID_BUDGET', async () => {
    const a = await store();
    const error: unknown = await a
      .take([{ bucket: { key: 'x', ratePerSecond: -1, capacity: 1 }, cost: 1 }])
      .catch((caught: unknown) => caught);
    expect(isXError(error, 'POOL_INVALID_BUDGET')).toBe(true);
    expect((error as { context: { option: string } }).context.option).toBe('takes[0].bucket.ratePerSecond');
  });
});

describe('holds', () => {
  it('are seen by the other replica, never shortened, and expire with their key', async () => {
    const [a, b] = await replicas();
    const until = Date.now() + 60_000;
    await a.hold('provider-a', { kind: 'cooldown', untilWallMs: until });
    expect(await b.holds()).toEqual(new Map([['provider-a', { kind: 'cooldown', untilWallMs: until }]]));
    await b.hold('provider-a', { kind: 'ejected', untilWallMs: until - 30_000 });
    expect((await a.holds()).get('provider-a')).toEqual({ kind: 'cooldown', untilWallMs: until });

    const raw = new Redis(redis.url);
    try {
      const prefixed = (await raw.keys('*hold:provider-a'))[0] as string;
      const ttl = await raw.pttl(prefixed);
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
    } finally {
      raw.disconnect();
    }

    await a.hold('provider-b', { kind: 'ejected', untilWallMs: Date.now() + 150 });
    expect((await b.holds()).get('provider-b')?.kind).toBe('ejected');
    await vi.waitFor(async () => expect((await b.holds()).has('provider-b')).toBe(false), { timeout: 5_000, interval: 25 });
    expect((await b.holds()).has('provider-a')).toBe(true);
  });

  it('ignores a hold that has already ended, and rejects a malformed one', async () => {
    const [a, b] = await replicas();
    await a.hold('old', { kind: 'cooldown', untilWallMs: Date.now() - 1 });
    expect((await b.holds()).size).toBe(0);
    const error: unknown = await a.hold('x', { kind: 'paused' as 'cooldown', untilWallMs: Date.now() }).catch((caught: unknown) => caught);
    expect(isXError(error, 'POOL_INVALID_BUDGET')).toBe(true);
  });
});

describe('replicas and Redis going away', () => {
  it('counts live replicas through heartbeats and derives the share from them', async () => {
    const [a, b] = await replicas();
    await vi.waitFor(() => expect(a.status().share).toBe(0.5), { timeout: 5_000, interval: 20 });
    expect(b.status()).toMatchObject({ mode: 'shared', share: 0.5 });
    expect(a.status().detail).toContain('2 live replicas');
    await b.close();
    // b left the set on close: a's next heartbeat sees it alone.
    await vi.waitFor(() => expect(a.status().share).toBe(1), { timeout: 5_000, interval: 20 });
  });

  it('serves on its local share while Redis is down, and shares again once Redis is back', async () => {
    const own = await startRedisServer();
    try {
      const prefix = 'outage:';
      const options = { url: own.url, keyPrefix: prefix, replicas: 2, heartbeatMs: 50, reconnectMaxDelayMs: 100 };
      const a = await createRedisBudgetStore(options);
      const b = await createRedisBudgetStore(options);
      open.push(a, b);
      const bucket = slow('provider-a', 10);
      for (let index = 0; index < 4; index += 1) expect((await a.take([{ bucket, cost: 1 }])).granted).toBe(true);

      await own.stop();
      await vi.waitFor(() => expect(a.status().mode).toBe('degraded'), { timeout: 5_000, interval: 10 });
      const status = a.status();
      expect(status.share).toBe(0.5);
      expect(status.detail).toMatch(/redis/);
      expect(status.detail).toContain('local budgets');

      // a last saw 6 tokens; its half of them is 3, and it never takes more while Redis is away.
      const localGrants = await Promise.all(Array.from({ length: 6 }, () => a.take([{ bucket, cost: 1 }])));
      expect(localGrants.filter((grant) => grant.granted)).toHaveLength(3);
      // b never used the bucket while shared: it does not know what is left, so it starts empty.
      expect((await b.take([{ bucket, cost: 1 }])).granted).toBe(false);
      // Holds still work locally.
      await a.hold('provider-a', { kind: 'cooldown', untilWallMs: Date.now() + 60_000 });
      expect((await a.holds()).has('provider-a')).toBe(true);

      const again = await startRedisServer({ port: own.port });
      try {
        await vi.waitFor(() => expect([a.status().mode, b.status().mode]).toEqual(['shared', 'shared']), { timeout: 10_000, interval: 20 });
        // The restarted Redis is empty, but the providers' buckets were spent while the replicas served locally: a
        // replica back from an outage starts a missing bucket empty, not full.
        expect((await a.take([{ bucket, cost: 1 }])).granted).toBe(false);
        expect((await b.take([{ bucket, cost: 1 }])).granted).toBe(false);
        // And it is one bucket again: what a gives back, b can take, once.
        await a.refund([{ bucket, cost: 2 }]);
        const grants = await Promise.all(Array.from({ length: 4 }, () => b.take([{ bucket, cost: 1 }])));
        expect(grants.filter((grant) => grant.granted)).toHaveLength(2);
        // A replica that never served locally starts a bucket it finds missing full, as on a first start.
        const fresh = await createRedisBudgetStore(options);
        open.push(fresh);
        expect((await fresh.take([{ bucket: slow('untouched', 10), cost: 10 }])).granted).toBe(true);
      } finally {
        await a.close();
        await b.close();
        await again.stop();
      }
    } finally {
      await own.stop();
    }
  });

  it('serves locally when Redis is too slow to answer, and shares again once it answers', async () => {
    const prefix = `slow${++prefixes}:`;
    const a = await store({ commandTimeoutMs: 50, replicas: 2 }, prefix);
    const bucket = slow('paused', 8);
    expect((await a.take([{ bucket, cost: 1 }])).granted).toBe(true);
    const admin = new Redis(redis.url);
    try {
      // Every other client's commands wait 400 ms: a's take times out and is served on its local share.
      await admin.call('CLIENT', 'PAUSE', '400', 'ALL');
      const grant = await a.take([{ bucket, cost: 1 }]);
      expect(grant.granted).toBe(true);
      expect(a.status().mode).toBe('degraded');
      expect(a.status().detail).toMatch(/timed? ?out/i);
      await vi.waitFor(() => expect(a.status().mode).toBe('shared'), { timeout: 5_000, interval: 20 });
    } finally {
      admin.disconnect();
    }
  });

  it('starts degraded when Redis cannot be reached, serves on its share, and never throws', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    const a = await store({ url: `redis://user:hunter2@127.0.0.1:${port}`, connectTimeoutMs: 200, share: 0.25 });
    const status = a.status();
    expect(status.mode).toBe('degraded');
    expect(status.share).toBe(0.25);
    expect(status.detail).not.toContain('hunter2');
    // Never shared: the local bucket starts full at a quarter of the budget.
    const grants = await Promise.all(Array.from({ length: 6 }, () => a.take([{ bucket: slow('b', 16), cost: 1 }])));
    expect(grants.filter((grant) => grant.granted)).toHaveLength(4);
    await a.refund([{ bucket: slow('b', 16), cost: 1 }]);
    expect((await a.holds()).size).toBe(0);
  });
});

describe('options and lifecycle', () => {
  it('rejects bad options with BUDGET_REDIS_INVALID_OPTIONS naming the option, without echoing a URL', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, 'url'],
      [{ url: 'http://127.0.0.1:1' }, 'url'],
      [{ url: 'redis://127.0.0.1:1', keyPrefix: '' }, 'keyPrefix'],
      [{ url: 'redis://127.0.0.1:1', replicas: 0 }, 'replicas'],
      [{ url: 'redis://127.0.0.1:1', share: 1.5 }, 'share'],
      [{ url: 'redis://127.0.0.1:1', share: 0.5, replicas: 2 }, 'share'],
      [{ url: 'redis://127.0.0.1:1', heartbeatMs: 0 }, 'heartbeatMs'],
      [{ url: 'redis://127.0.0.1:1', client: {} }, 'url'],
      [{ url: 'redis://127.0.0.1:1', replica: 'a' }, 'replica'],
    ];
    for (const [options, option] of cases) {
      const error: unknown = await createRedisBudgetStore(options as RedisBudgetStoreOptions).catch((caught: unknown) => caught);
      expect(isXError(error, 'BUDGET_REDIS_INVALID_OPTIONS'), option).toBe(true);
      expect((error as { context: { option: string } }).context.option).toBe(option);
    }
    const secret: unknown = await createRedisBudgetStore({ url: 'http://u:hunter2@h' }).catch((caught: unknown) => caught);
    expect(JSON.stringify(secret)).not.toContain('hunter2');
  });

  it('close() releases its connection and timers, even while reconnecting', async () => {
    const count = (): Record<string, number> => {
      const counts: Record<string, number> = { TCPSocketWrap: 0, Timeout: 0 };
      for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1;
      return counts;
    };
    const before = count();
    const a = await createRedisBudgetStore({ url: redis.url, keyPrefix: 'close:' });
    await a.take([{ bucket: slow('x', 1), cost: 1 }]);
    await a.close();
    const down = await createRedisBudgetStore({ url: 'redis://127.0.0.1:1', keyPrefix: 'close:', connectTimeoutMs: 100 });
    await down.close();
    await down.close();
    const after = count();
    // Nothing of the two stores is left: no socket, no timer (others' timers may have ended meanwhile).
    expect(after.TCPSocketWrap).toBeLessThanOrEqual(before.TCPSocketWrap as number);
    expect(after.Timeout).toBeLessThanOrEqual(before.Timeout as number);
  });

  it('leaves a client it was given open, and uses it', async () => {
    const client = new Redis(redis.url);
    try {
      const prefix = `given${++prefixes}:`;
      const a = await createRedisBudgetStore({ client, keyPrefix: prefix });
      const b = await store({}, prefix);
      expect((await a.take([{ bucket: slow('given', 1), cost: 1 }])).granted).toBe(true);
      expect((await b.take([{ bucket: slow('given', 1), cost: 1 }])).granted).toBe(false);
      await a.close();
      expect(client.status).toBe('ready');
      expect(await client.ping()).toBe('PONG');
      expect(client.listenerCount('error')).toBe(0);
    } finally {
      client.disconnect();
    }
  });
});
