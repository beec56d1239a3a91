import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_SLOT_LAG, createSolanaMultiRpc } from '@x/solana-rpc';
import type { SolanaRpc } from '@x/solana-rpc';
import { deferred, startScriptedServer } from './helpers.js';
import type { Script, ScriptedServer } from './helpers.js';

const servers: ScriptedServer[] = [];
let client: SolanaRpc | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function clientOver(...scripts: Script[]): Promise<{ client: SolanaRpc; servers: ScriptedServer[] }> {
  const started = await Promise.all(scripts.map((script) => startScriptedServer(script)));
  servers.push(...started);
  client = createSolanaMultiRpc({
    endpoints: started.map((server, index) => ({ url: server.url, id: `s${index}` })),
    defaults: { deadlineMs: 10_000 },
    methods: { getSlot: { strategy: 'race', deadlineMs: 10_000 }, getBalance: { strategy: 'race', deadlineMs: 10_000 } },
  });
  return { client, servers: started };
}

const contextual = (slot: number, value: unknown) => ({ context: { slot }, value });

describe('params on the wire', () => {
  it('bigints become numbers; the commitment option lands in the config object at the right place', async () => {
    const { client, servers } = await clientOver(({ method }) =>
      method === 'getSlot' ? 10 : method === 'getBlocks' ? [] : contextual(10, 1),
    );
    await client.call('getBalance', ['addr', { minContextSlot: 7n }]);
    await client.call('getSlot', [], { commitment: 'confirmed' });
    await client.call('getBalance', ['addr'], { commitment: 'processed' });
    await client.call('getBlocks', [5], { commitment: 'confirmed' });
    await client.call('getBalance', ['addr', { commitment: 'finalized', encoding: 'x' }], { commitment: 'confirmed' });
    expect(servers[0]!.requests.map((request) => request.params)).toEqual([
      ['addr', { minContextSlot: 7 }],
      [{ commitment: 'confirmed' }],
      ['addr', { commitment: 'processed' }],
      [5, null, { commitment: 'confirmed' }],
      ['addr', { commitment: 'confirmed', encoding: 'x' }],
    ]);
  });

  it('a bigint beyond 2^53 - 1 is sent with every digit, not rounded or refused', async () => {
    const { client, servers } = await clientOver(() => contextual(10, 1));
    await client.call('getBlocks', [18446744073709551615n, 9007199254740993n]);
    expect(servers[0]!.bodies[0]).toContain('"params":[18446744073709551615,9007199254740993]');
  });

  it("minContextSlot: 'watermark' sends the highest slot seen at the call's commitment, nothing before one is known", async () => {
    const { client, servers } = await clientOver(({ method, params }) => {
      const commitment = (params as Array<{ commitment?: string } | undefined>)[method === 'getSlot' ? 0 : 1]?.commitment;
      const slot = commitment === 'processed' ? 200 : 150;
      return method === 'getSlot' ? slot : contextual(slot, 1);
    });
    await client.call('getBalance', ['addr'], { minContextSlot: 'watermark', commitment: 'processed' });
    await client.call('getSlot', [], { commitment: 'processed' });
    await client.call('getBalance', ['addr'], { minContextSlot: 'watermark', commitment: 'processed' });
    await client.call('getBalance', ['addr'], { minContextSlot: 'watermark' });
    await client.call('getBalance', ['addr'], { minContextSlot: 'watermark' });
    expect(servers[0]!.requests.map((request) => request.params)).toEqual([
      ['addr', { commitment: 'processed' }],
      [{ commitment: 'processed' }],
      ['addr', { commitment: 'processed', minContextSlot: 200 }],
      ['addr'],
      ['addr', { minContextSlot: 150 }],
    ]);
  });
});

describe('slot watermark details', () => {
  it('commitments are judged apart: finalized answers trail processed ones without being stale', async () => {
    const { client } = await clientOver(({ params }) =>
      contextual((params as Array<{ commitment?: string } | undefined>)[1]?.commitment === 'processed' ? 1_000 : 968, 5),
    );
    await client.call('getBalance', ['addr'], { commitment: 'processed' });
    const finalized = await client.callWithDetails('getBalance', ['addr']);
    expect(finalized.slot).toBe(968);
    expect(client.slotWatermark('processed')).toBe(1_000);
    expect(client.slotWatermark('finalized')).toBe(968);
    expect(client.slotWatermark()).toBe(1_000);
  });

  it('a slow answer is judged against the watermark when it was asked, not when it arrives', async () => {
    const held = deferred<unknown>();
    let slot = 100;
    const { client } = await clientOver(({ method }) => {
      if (method === 'getBalance') return held.promise;
      slot += 50;
      return slot;
    });
    await client.call('getSlot');
    const slow = client.call('getBalance', ['addr']);
    // Meanwhile the watermark moves far ahead.
    expect(await client.call('getSlot')).toBe(200);
    held.resolve(contextual(150, 42));
    expect(await slow).toEqual(contextual(150, 42));
    // Asked now, the same answer is stale.
    const again = client.call('getBalance', ['addr']);
    await expect(again).rejects.toMatchObject({ code: 'STRATEGY_ALL_ATTEMPTS_FAILED' });
    const error = await again.catch((caught: { context: { failures: Array<{ error: unknown }> } }) => caught.context.failures[0]?.error);
    expect(error).toMatchObject({ code: 'SOLANA_STALE_SLOT', context: { slot: 150, watermark: 200, maxSlotLag: DEFAULT_MAX_SLOT_LAG } });
  });

  it('maxSlotLag: 0 accepts nothing older than the highest slot seen', async () => {
    const slots = [100, 99];
    const started = await startScriptedServer(() => slots.shift() ?? 0);
    servers.push(started);
    client = createSolanaMultiRpc({ endpoints: [{ url: started.url }], maxSlotLag: 0, methods: { getSlot: { deadlineMs: 10_000 } } });
    expect(await client.call('getSlot')).toBe(100);
    const error = await client
      .call('getSlot')
      .catch((caught: { context: { failures: Array<{ error: unknown }> } }) => caught.context.failures[0]?.error);
    expect(error).toMatchObject({ code: 'SOLANA_STALE_SLOT', context: { slot: 99, watermark: 100, maxSlotLag: 0 } });
  });

  it('an answer that is not a list of signatures is a protocol failure of that node', async () => {
    const { client } = await clientOver(
      () => [{ signature: 1 }],
      () => [{ signature: 's', slot: 5, err: null }],
    );
    const details = await client.callWithDetails('getSignaturesForAddress', ['addr'], { strategy: 'broadcast', deadlineMs: 10_000 });
    expect(details.result).toEqual([{ signature: 's', slot: 5, err: null }]);
    expect(details.broadcast?.[0]).toMatchObject({ ok: false, error: { code: 'SOLANA_INVALID_RESULT', category: 'protocol' } });
  });
});
