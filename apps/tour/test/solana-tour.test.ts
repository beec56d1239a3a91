import { describe, expect, it } from 'vitest';
import { solanaTour } from '../src/solana.js';

function rowOf(text: string, name: string): string[] {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`│ ${name} `));
  if (line === undefined) throw new Error(`no table row for ${name}`);
  return line
    .split('│')
    .slice(1, -1)
    .map((cell) => cell.trim());
}

describe('the Solana part of pnpm start', () => {
  it('compares the strategies on one table and shows the stale answers of the lagging provider rejected', async () => {
    let text = '';
    await solanaTour({ write: (chunk) => void (text += chunk), color: false }, { callsPerContender: 24, concurrency: 8 });

    const names = ['single endpoint (slow-tail)', 'race (all four)', 'hedge', 'dual (2 pairs, raced)', 'consensus (3 of 4)'];
    for (const name of names) {
      const [, p50, p99, success, requests] = rowOf(text, name);
      expect(p50).toMatch(/^\d+\.\d (ms|s)$/);
      expect(p99).toMatch(/^\d+\.\d+ (ms|s)$/);
      expect(success).toMatch(/^\d+\.\d %$/);
      expect(Number(requests)).toBeGreaterThan(0);
    }
    // One provider, one request per call; race and consensus ask all four at once.
    expect(Number(rowOf(text, 'single endpoint (slow-tail)')[4])).toBeLessThanOrEqual(1);
    expect(Number(rowOf(text, 'consensus (3 of 4)')[4])).toBeGreaterThan(2);
    // Consensus never returns the lagging node's blockhash.
    expect(rowOf(text, 'consensus (3 of 4)')[5]).toBe('0');

    const verdicts = text.slice(text.indexOf('consensus, vote by vote'));
    const [, , agreed, dissented, , , , returned] = rowOf(verdicts, 'lagging');
    expect(agreed).toBe('0');
    expect(dissented).toBe('0');
    expect(returned).toBe('0');
    expect(Number(rowOf(verdicts, 'steady')[2])).toBeGreaterThan(0);
    // Its stale answers were rejected by the slot watermark and got it ejected from the pool.
    expect(text).toMatch(/The pool's view of lagging: \w+, ejected [1-9]\d* time\(s\), last error SOLANA_STALE_SLOT/);
  });
});
