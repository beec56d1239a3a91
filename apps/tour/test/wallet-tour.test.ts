import { describe, expect, it } from 'vitest';
import { walletTour } from '../src/wallet.js';

describe('the wallet part of pnpm start', () => {
  it('imports three coins, heals the fracked one, and shows it passing on all 25 servers', async () => {
    let text = '';
    await walletTour({ write: (chunk) => void (text += chunk), color: false });
    const imported = text.slice(text.indexOf('$ raida import'), text.indexOf('$ raida heal'));
    expect(imported).toMatch(/→ Bank +p{25} +authentic/);
    expect(imported).toMatch(/→ Fracked +p{5}fp{14}fp{4} +fracked/);
    expect(imported).toMatch(/→ Counterfeit +f{25}/);
    const healed = text.slice(text.indexOf('$ raida heal'), text.indexOf('$ raida balance'));
    expect(healed).toMatch(/→ Bank +p{25} +healed/);
    const balance = text.slice(text.indexOf('$ raida balance'), text.indexOf('$ raida detect'));
    expect(balance).toMatch(/Bank +2 coins/);
    expect(balance).toMatch(/Counterfeit +1 coin /);
    expect(text).toMatch(/│ +1 │ 892226 │ +1 │ authentic │ +25 │ +0 │/);
  });
});
