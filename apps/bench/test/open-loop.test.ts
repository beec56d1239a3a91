import { createRandom } from '@x/testkit';
import { describe, expect, it } from 'vitest';
import type { CallTarget, RpcContender } from '../src/rpc/contender.js';
import { poissonArrivals, runOpenLoopStep } from '../src/rpc/open-loop.js';

const draws = (seed: number): (() => number) => {
  const random = createRandom(seed).fork('arrivals');
  return () => random.next();
};

describe('poissonArrivals', () => {
  it('gives the same arrival times for the same seed, within the duration, in order', () => {
    const first = poissonArrivals(100, 2000, draws(5));
    expect(poissonArrivals(100, 2000, draws(5))).toEqual(first);
    expect(poissonArrivals(100, 2000, draws(6))).not.toEqual(first);
    expect(first.every((at, i) => at >= 0 && at < 2000 && (i === 0 || at >= first[i - 1]!))).toBe(true);
  });

  it('offers the requested rate on average', () => {
    // 100 calls/s for 200 s: 20,000 expected, σ ≈ 141.
    const count = poissonArrivals(100, 200_000, draws(1)).length;
    expect(count).toBeGreaterThan(19_400);
    expect(count).toBeLessThan(20_600);
  });
});

describe('runOpenLoopStep', () => {
  const target = (index: number): CallTarget => ({ solana: String(index), evm: `0x${index.toString(16).padStart(40, '0')}` });

  it('counts served, wrong, failed and unfinished calls, and times served calls only', async () => {
    let calls = 0;
    const contender: RpcContender = {
      name: 'scripted',
      kind: 'baseline',
      settings: '',
      getBalance: (t) => {
        const index = calls++;
        if (index % 4 === 0) return Promise.resolve(BigInt(t.solana));
        if (index % 4 === 1) return Promise.resolve(-1n);
        if (index % 4 === 2) return Promise.reject(new Error('refused'));
        return new Promise<bigint>(() => undefined);
      },
      close: () => Promise.resolve(),
    };
    const step = await runOpenLoopStep(contender, {
      callsPerSecond: 2000,
      durationMs: 20,
      graceMs: 5,
      random: draws(3),
      targetOf: target,
      isTrue: (value, t) => value === BigInt(t.solana),
    });
    expect(step.issued).toBe(calls);
    expect(step.issued).toBeGreaterThan(8);
    expect(step.served).toBe(Math.ceil(step.issued / 4));
    expect(step.wrong).toBe(Math.ceil((step.issued - 1) / 4));
    expect(step.failed).toBe(Math.ceil((step.issued - 2) / 4));
    expect(step.unfinished).toBe(Math.ceil((step.issued - 3) / 4));
    expect(step.servedLatencies).toHaveLength(step.served);
    expect([...step.errors]).toEqual([['Error: refused', step.failed]]);
  });
});
