import { describe, expect, it } from 'vitest';
import { streamsTour } from '../src/streams.js';

function rowOf(text: string, name: string): string[] {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`│ ${name} `));
  if (line === undefined) throw new Error(`no table row for ${name}`);
  return line
    .split('│')
    .slice(1, -1)
    .map((cell) => cell.trim());
}

describe('the streams part of pnpm start', () => {
  it("shows a merged logsSubscribe delivering every transfer once, with each provider's lead", async () => {
    let text = '';
    await streamsTour({ write: (chunk) => void (text += chunk), color: false }, { transactions: 24 });
    expect(text).toContain('Every one of the 24 transfers was delivered exactly once');
    let firsts = 0;
    for (const name of ['quick', 'jittery', 'lossy', 'slow']) {
      const [, first, late, share, p50] = rowOf(text, name);
      firsts += Number(first);
      expect(Number(late)).toBeGreaterThanOrEqual(0);
      expect(share).toMatch(/^(\d+ %|-)$/);
      expect(p50).toMatch(/^(\d+\.\d ms|-)$/);
    }
    // Each transfer reached the consumer once: first from a provider, or found by the backfill after the disconnect.
    const backfilled = Number(/(\d+) found by backfill/.exec(text)?.[1]);
    expect(firsts + backfilled).toBe(24);
    expect(Number(rowOf(text, 'quick')[7])).toBe(1);
    expect(text).toContain('gap quick');
  });
});
