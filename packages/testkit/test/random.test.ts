import { describe, expect, it } from 'vitest';
import { isXError } from '@x/errors';
import { createRandom } from '@x/testkit';

function draws(seed: number | string, count: number): number[] {
  const random = createRandom(seed);
  return Array.from({ length: count }, () => random.next());
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('createRandom', () => {
  it('repeats the same sequence for the same seed and differs across seeds', () => {
    expect(draws(42, 50)).toEqual(draws(42, 50));
    expect(draws('tour', 50)).toEqual(draws('tour', 50));
    expect(draws(42, 50)).not.toEqual(draws(43, 50));
    expect(draws(1, 50)).not.toEqual(draws(1.5, 50));
    expect(draws('42', 50)).not.toEqual(draws(42, 50));
  });

  it('pins the stream, so that recorded seeds keep reproducing the same runs', () => {
    const random = createRandom(7);
    expect([random.int(0, 1_000_000), random.int(0, 1_000_000), random.int(0, 1_000_000)]).toEqual([820522, 781283, 969300]);
    expect(createRandom('tour').fork('a').int(0, 1_000_000)).toBe(543061);
  });

  it('next() stays in [0, 1) and int() covers exactly [min, max]', () => {
    const random = createRandom(1);
    const seen = new Set<number>();
    const values = Array.from({ length: 5000 }, () => random.next());
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    for (let i = 0; i < 5000; i++) seen.add(random.int(-3, 3));
    expect([...seen].sort((a, b) => a - b)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
    expect(random.int(5, 5)).toBe(5);
    const u = random.uniform(10, 20);
    expect(u).toBeGreaterThanOrEqual(10);
    expect(u).toBeLessThan(20);
  });

  it('normal() has mean 0 and standard deviation 1; lognormal() has the given median', () => {
    const random = createRandom(3);
    const normals = Array.from({ length: 20_000 }, () => random.normal());
    const mean = normals.reduce((sum, x) => sum + x, 0) / normals.length;
    const variance = normals.reduce((sum, x) => sum + (x - mean) ** 2, 0) / normals.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(Math.sqrt(variance) - 1)).toBeLessThan(0.03);

    const logs = Array.from({ length: 20_000 }, () => random.lognormal(40, 0.5)).sort((a, b) => a - b);
    const median = logs[logs.length / 2] as number;
    expect(median).toBeGreaterThan(38);
    expect(median).toBeLessThan(42);
    expect(logs.every((x) => x > 0)).toBe(true);
    expect(createRandom(3).lognormal(40, 0)).toBe(40);
  });

  it('chance(p) is true about p of the time, never for 0 and always for 1', () => {
    const random = createRandom(9);
    let hits = 0;
    for (let i = 0; i < 10_000; i++) if (random.chance(0.2)) hits++;
    expect(hits / 10_000).toBeGreaterThan(0.18);
    expect(hits / 10_000).toBeLessThan(0.22);
    const extremes = Array.from({ length: 1000 }, () => [random.chance(0), random.chance(1)]);
    expect(extremes.every(([never, always]) => never === false && always === true)).toBe(true);
  });

  it('pick() reaches every element; bytes() has the asked length and varies', () => {
    const random = createRandom(11);
    const items = ['a', 'b', 'c', 'd'] as const;
    const picked = new Set<string>();
    for (let i = 0; i < 200; i++) picked.add(random.pick(items));
    expect([...picked].sort()).toEqual(['a', 'b', 'c', 'd']);
    for (const length of [0, 1, 3, 4, 5, 64]) expect(random.bytes(length)).toHaveLength(length);
    expect(random.bytes(32)).not.toEqual(random.bytes(32));
    const source: (n: number) => Uint8Array = createRandom(11).bytes;
    expect(source(16)).toEqual(createRandom(11).bytes(16));
  });

  it('fork(label) depends only on the seed and label, never on earlier draws', () => {
    const fresh = createRandom(5);
    const used = createRandom(5);
    for (let i = 0; i < 100; i++) used.next();
    const a = fresh.fork('endpoint:a');
    const b = used.fork('endpoint:a');
    expect(Array.from({ length: 20 }, () => a.next())).toEqual(Array.from({ length: 20 }, () => b.next()));

    const other = createRandom(5).fork('endpoint:b');
    expect(Array.from({ length: 20 }, () => other.next())).not.toEqual(
      Array.from({ length: 20 }, () => createRandom(5).fork('endpoint:a').next()),
    );
    expect(createRandom(5).fork('x').fork('y').next()).toBe(createRandom(5).fork('x').fork('y').next());
    expect(createRandom(5).fork('x').fork('y').next()).not.toBe(createRandom(5).fork('xy').next());
    expect(createRandom(5).fork('a').next()).not.toBe(createRandom(6).fork('a').next());
  });

  it('rejects bad arguments with TESTKIT_INVALID_ARGUMENT', () => {
    const random = createRandom(1);
    const bad: (() => unknown)[] = [
      () => createRandom(Number.NaN),
      () => createRandom({} as never),
      () => random.int(2, 1),
      () => random.int(0.5, 2),
      () => random.uniform(2, 1),
      () => random.chance(1.5),
      () => random.chance(Number.NaN),
      () => random.lognormal(-1, 0.5),
      () => random.lognormal(10, -1),
      () => random.pick([]),
      () => random.bytes(-1),
      () => random.fork(3 as never),
    ];
    for (const fn of bad) {
      const error = catchError(fn);
      expect(isXError(error, 'TESTKIT_INVALID_ARGUMENT')).toBe(true);
      expect((error as { category: string }).category).toBe('config');
    }
  });
});
