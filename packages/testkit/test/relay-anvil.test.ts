import { startRpcRelays } from '@x/testkit';
import type { RpcRelays } from '@x/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, startAnvil } from './relay-helpers.js';
import type { Anvil } from './relay-helpers.js';

// anvil's first dev account (from its default mnemonic), funded with 10,000 ETH at genesis.
const DEV_ACCOUNT = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';

let anvil: Anvil;
let relays: RpcRelays;

beforeAll(async () => {
  anvil = await startAnvil();
  relays = await startRpcRelays({ upstream: anvil.url, seed: 5, relays: [{ id: 'clean' }, { id: 'liar', faults: { wrongValueRate: 1 } }] });
});

afterAll(async () => {
  await relays?.close();
  await anvil?.close();
});

const call = async (url: string, method: string, params: unknown[] = []): Promise<{ result?: string; error?: unknown }> =>
  JSON.parse((await post(url, { jsonrpc: '2.0', id: 1, method, params })).text) as { result?: string };

describe('relays in front of a real anvil node', () => {
  it('a clean relay answers exactly what anvil answers', async () => {
    const [clean] = relays.relays;
    for (const [method, params] of [
      ['eth_chainId', []],
      ['eth_blockNumber', []],
      ['eth_getBalance', [DEV_ACCOUNT, 'latest']],
    ] as const) {
      expect(await call(clean!.url, method, [...params])).toEqual(await call(anvil.url, method, [...params]));
    }
    expect((await call(clean!.url, 'eth_getBalance', [DEV_ACCOUNT, 'latest'])).result).toBe('0x21e19e0c9bab2400000');
  });

  it('a lying relay returns a different balance, still a hex quantity', async () => {
    const liar = relays.relays[1]!;
    const truth = (await call(anvil.url, 'eth_getBalance', [DEV_ACCOUNT, 'latest'])).result!;
    const lie = (await call(liar.url, 'eth_getBalance', [DEV_ACCOUNT, 'latest'])).result!;
    expect(lie).toMatch(/^0x[0-9a-f]+$/);
    expect(BigInt(lie)).not.toBe(BigInt(truth));
    expect(relays.stats()[1]!.wrongValues).toBe(1);
  });
});
