import { describe, expect, it } from 'vitest';
import { raidaTour } from '../src/raida.js';

describe('the RAIDA part of pnpm start', () => {
  it('shows real timeouts for the silent and too-slow servers and the three coin verdicts', async () => {
    let text = '';
    await raidaTour({ write: (chunk) => void (text += chunk), color: false });
    const echo = text.slice(text.indexOf('$ raida echo'), text.indexOf('$ raida detect'));
    for (const id of [3, 7, 19]) expect(echo).toMatch(new RegExp(`│ +${id} │ 127\\.0\\.0\\.1:\\d+ +│ timeout │ +1\\.00 s `));
    expect(echo).toMatch(/│ +12 │ 127\.0\.0\.1:\d+ +│ ready +│/);
    expect(echo).toMatch(/^ready +22 of 25$/m);
    expect(echo).toMatch(/^consensus yes/m);
    const detect = text.slice(text.indexOf('$ raida detect'));
    expect(detect).toMatch(/│ authentic +│ +22 │ +0 │ +3 │/);
    expect(detect).toMatch(/│ fracked +│ +20 │ +2 │ +3 │ 5, 20 +│/);
    expect(detect).toMatch(/│ counterfeit +│ +0 │ +22 │ +3 │/);
  });
});
