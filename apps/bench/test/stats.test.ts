import { describe, expect, it } from 'vitest';
import { quantile, summarize } from '../src/stats.js';

describe('bench statistics', () => {
  it('uses nearest-rank quantiles', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(sorted, 0.5)).toBe(50);
    expect(quantile(sorted, 0.99)).toBe(99);
    expect(quantile(sorted, 1)).toBe(100);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it('summarises an unsorted sample', () => {
    const s = summarize([5, 1, 3]);
    expect(s).toMatchObject({ count: 3, mean: 3, p50: 3, max: 5 });
  });
});
