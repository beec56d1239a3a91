import { describe, expect, it } from 'vitest';
import { barChart, cdfChart, cdfPath, escapeXml, linearTicks, logTicks, nines } from '../src/svg.js';

/** Every element opened is closed, in order: enough to know a browser will parse the file. */
function wellFormed(svg: string): boolean {
  const stack: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (selfClosing) continue;
    if (closing) {
      if (stack.pop() !== name) return false;
    } else {
      stack.push(name!);
    }
  }
  return stack.length === 0;
}

describe('axis helpers', () => {
  it('puts log ticks at 1, 2 and 5 per decade within the range', () => {
    expect(logTicks(3, 700)).toEqual([5, 10, 20, 50, 100, 200, 500]);
    expect(logTicks(0.2, 0.9)).toEqual([0.2, 0.5]);
    expect(logTicks(0, 10)).toEqual([]);
  });

  it('counts nines of a cumulative fraction', () => {
    expect(nines(0)).toBe(0);
    expect(nines(0.9)).toBeCloseTo(1, 12);
    expect(nines(0.999)).toBeCloseTo(3, 12);
  });

  it('covers the maximum with round linear steps', () => {
    expect(linearTicks(4.3)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(linearTicks(470)).toEqual([0, 100, 200, 300, 400, 500]);
    expect(linearTicks(0)).toEqual([0, 1]);
  });
});

describe('cdfPath', () => {
  it('thins a large sample to what can be seen, keeping both ends', () => {
    const sorted = Array.from({ length: 100_000 }, (_, i) => 1 + i / 1000);
    const points = cdfPath(
      sorted,
      (ms) => ms,
      (fraction) => 1000 - fraction * 1000,
      5,
    );
    expect(points.length).toBeLessThan(2_500);
    expect(points[0]).toEqual([1, 1000]);
    expect(points[points.length - 1]![0]).toBeCloseTo(sorted[sorted.length - 1]!, 9);
    for (let i = 1; i < points.length; i++) {
      expect(points[i]![0]).toBeGreaterThanOrEqual(points[i - 1]![0]);
      expect(points[i]![1]).toBeLessThanOrEqual(points[i - 1]![1]);
    }
  });

  it('stops where the percentile axis ends', () => {
    const sorted = Array.from({ length: 1000 }, (_, i) => i + 1);
    const points = cdfPath(
      sorted,
      (ms) => ms,
      (fraction) => fraction,
      2,
    );
    // 99 % is the 990th sample: nothing beyond it is drawn.
    expect(points[points.length - 1]![0]).toBe(991);
  });
});

describe('cdfChart', () => {
  it('draws one path per series, dashes the dashed ones and escapes names', () => {
    const svg = cdfChart({
      title: 'Latency <ms> & more',
      series: [
        { name: 'ours', samples: [5, 1, 3, 2, 4] },
        { name: 'a "baseline" & <b>', samples: [10, 20, 30], dashed: true },
      ],
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(wellFormed(svg)).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg.match(/<path [^>]*stroke-dasharray/g)).toHaveLength(1);
    expect(svg).toContain('Latency &lt;ms&gt; &amp; more');
    expect(svg).toContain('a &quot;baseline&quot; &amp; &lt;b&gt; (n=3)');
    expect(svg).not.toContain('<b>');
  });

  it('survives empty and non-finite samples', () => {
    const svg = cdfChart({
      title: 't',
      series: [
        { name: 'empty', samples: [] },
        { name: 'nan', samples: [Number.NaN, 2] },
      ],
    });
    expect(wellFormed(svg)).toBe(true);
    expect(svg).toContain('empty (n=0)');
    expect(svg).toContain('nan (n=1)');
  });
});

describe('barChart', () => {
  it('draws a bar per finite value, n/a for the others, and the marker', () => {
    const svg = barChart({
      title: 'p99',
      rows: ['one', 'two'],
      panels: [{ title: 'ms', values: [10, Number.NaN], marker: { value: 5, label: 'goal' } }],
    });
    expect(wellFormed(svg)).toBe(true);
    // One background rect and one bar.
    expect(svg.match(/<rect /g)).toHaveLength(2);
    expect(svg).toContain('>n/a<');
    expect(svg).toContain('>goal<');
  });
});

describe('escapeXml', () => {
  it('escapes the five characters that matter in text and attributes', () => {
    expect(escapeXml(`<a href="x">&</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;');
  });
});
