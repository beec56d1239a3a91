import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isXError } from '@x/errors';
import { createLocalBudgetStore } from '@x/pool';
import type { BudgetTake } from '@x/pool';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const requests: BudgetTake = { bucket: { key: 'requests:a', ratePerSecond: 10, capacity: 5 }, cost: 1 };
const credits = (cost: number): BudgetTake => ({ bucket: { key: 'credits:a', ratePerSecond: 100, capacity: 100 }, cost });

describe('createLocalBudgetStore', () => {
  it('grants the burst at once, then refuses with the time until the next token, and refills continuously', async () => {
    const store = createLocalBudgetStore();
    for (let i = 0; i < 5; i += 1) expect((await store.take([requests])).granted).toBe(true);
    const refused = await store.take([requests]);
    expect(refused).toEqual({ granted: false, retryInMs: 100, remaining: [0] });
    vi.advanceTimersByTime(99);
    expect((await store.take([requests])).granted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(await store.take([requests])).toMatchObject({ granted: true, retryInMs: 0 });
    vi.advanceTimersByTime(60_000);
    expect((await store.take([requests])).remaining[0]).toBeCloseTo(4); // capped at capacity, then one taken
  });

  it('takes all or none: a refused credits bucket leaves the requests bucket untouched', async () => {
    const store = createLocalBudgetStore();
    expect(await store.take([requests, credits(80)])).toMatchObject({ granted: true, remaining: [4, 20] });
    const refused = await store.take([requests, credits(50)]);
    expect(refused).toEqual({ granted: false, retryInMs: 300, remaining: [4, 20] });
    expect((await store.refund([requests, credits(80)])) as unknown).toBeUndefined();
    expect(await store.take([requests, credits(50)])).toMatchObject({ granted: true, remaining: [4, 50] });
  });

  it('grants a cost above capacity once the bucket is full, leaving it in debt', async () => {
    const store = createLocalBudgetStore();
    expect(await store.take([credits(150)])).toMatchObject({ granted: true, remaining: [-50] });
    expect(await store.take([credits(1)])).toMatchObject({ granted: false, retryInMs: 510 });
  });

  it('sums the costs of one bucket named twice in a take', async () => {
    const store = createLocalBudgetStore();
    expect((await store.take([credits(30)])).granted).toBe(true);
    expect((await store.take([credits(40), credits(40)])).granted).toBe(false);
    expect(await store.take([credits(35), credits(35)])).toMatchObject({ granted: true, remaining: [0, 0] });
  });

  it('shares holds between users and drops expired ones; a hold never shortens', async () => {
    const store = createLocalBudgetStore();
    const wall = Date.now();
    await store.hold('a', { kind: 'cooldown', untilWallMs: wall + 3_000 });
    await store.hold('a', { kind: 'cooldown', untilWallMs: wall + 1_000 });
    await store.hold('b', { kind: 'ejected', untilWallMs: wall + 10_000 });
    expect(await store.holds()).toEqual(
      new Map([
        ['a', { kind: 'cooldown', untilWallMs: wall + 3_000 }],
        ['b', { kind: 'ejected', untilWallMs: wall + 10_000 }],
      ]),
    );
    vi.advanceTimersByTime(3_000);
    expect([...(await store.holds()).keys()]).toEqual(['b']);
    expect(store.status()).toEqual({ mode: 'local' });
  });

  it('rejects malformed takes and holds with POOL_INVALID_BUDGET naming the option', async () => {
    const store = createLocalBudgetStore();
    const bad = [
      [[{ bucket: { key: '', ratePerSecond: 1, capacity: 1 }, cost: 1 }], 'takes[0].bucket.key'],
      [[{ bucket: { key: 'k', ratePerSecond: 0, capacity: 1 }, cost: 1 }], 'takes[0].bucket.ratePerSecond'],
      [[{ bucket: { key: 'k', ratePerSecond: 1, capacity: Number.NaN }, cost: 1 }], 'takes[0].bucket.capacity'],
      [[requests, { bucket: requests.bucket, cost: -1 }], 'takes[1].cost'],
    ] as const;
    for (const [takes, option] of bad) {
      const error: unknown = await store.take(takes as unknown as BudgetTake[]).catch((e: unknown) => e);
      expect(isXError(error, 'POOL_INVALID_BUDGET') && error.context.option).toBe(option);
    }
    const error: unknown = await store.hold('a', { kind: 'gone' as 'ejected', untilWallMs: 1 }).catch((e: unknown) => e);
    expect(isXError(error, 'POOL_INVALID_BUDGET') && error.context.option).toBe('hold.kind');
    expect(() => createLocalBudgetStore({ now: 5 as unknown as () => number })).toThrow(/now must be a function/);
  });
});
