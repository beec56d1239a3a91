import { afterEach, describe, expect, it } from 'vitest';
import { createSolanaMultiRpc } from '@x/solana-rpc';
import type { SolanaRpc, SolanaStrategy } from '@x/solana-rpc';
import { startScriptedServer } from './helpers.js';
import type { ScriptedRequest, ScriptedServer } from './helpers.js';

// Hostile endpoints that lie about `context.slot`: one node must never move the watermark past what
// the others corroborate, never get one of its answers accepted, and never get an honest node ejected.

const HONEST_VALUE = 1_000;
const LIAR_VALUE = 666;

let servers: ScriptedServer[] = [];
let client: SolanaRpc | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

/** The honest cluster's slot: it moves one slot per call, as a real chain moves while a bot polls. */
let tip = 300_000_000;

const answer = (slot: number, value: number, request: ScriptedRequest): unknown =>
  request.method === 'getSlot' ? slot : { context: { slot }, value };

/** Two honest endpoints (answering after 15 ms, like the reproduction) and a liar answering at once, first in the list. */
async function cluster(liarSlot: (call: number) => number, strategy: SolanaStrategy): Promise<{ client: SolanaRpc; liar: ScriptedServer }> {
  let liarCalls = 0;
  const liar = await startScriptedServer((request) => answer(liarSlot(liarCalls++), LIAR_VALUE, request));
  const honest = async (request: ScriptedRequest): Promise<unknown> => {
    await new Promise((resolve) => setTimeout(resolve, 15));
    return answer(tip, HONEST_VALUE, request);
  };
  const a = await startScriptedServer(honest);
  const b = await startScriptedServer(honest);
  servers = [liar, a, b];
  client = createSolanaMultiRpc({
    endpoints: [
      { id: 'liar', url: liar.url },
      { id: 'a', url: a.url },
      { id: 'b', url: b.url },
    ],
    methods: { getBalance: { strategy, deadlineMs: 10_000 } },
  });
  return { client, liar };
}

const HOSTILE: ReadonlyArray<readonly [string, (call: number) => number]> = [
  ['a slot far in the future (9,000,000,000)', () => 9_000_000_000],
  ['a slot just beyond maxSlotLag ahead', () => tip + 50],
  ['a flapping slot (future, then past)', (call) => (call % 2 === 0 ? 9_000_000_000 : tip - 1_000)],
  [
    'a slot that differs per call',
    (call) => (call % 3 === 0 ? tip + 10_000 * (call + 1) : call % 3 === 1 ? tip - 500 * (call + 1) : 2 ** 52 - call),
  ],
  ['a slot far in the past', () => tip - 100_000],
];

describe('one endpoint lying about its slot', () => {
  for (const strategy of ['race', 'hedge', 'consensus'] as const) {
    for (const [name, liarSlot] of HOSTILE) {
      it(`${strategy}: ${name}: none of its answers is accepted, no honest endpoint is ejected`, async () => {
        const { client } = await cluster(liarSlot, strategy);
        const first = tip + 1;
        for (let call = 0; call < 20; call++) {
          tip += 1;
          const details = await client.callWithDetails<{ value: number }>('getBalance', ['wallet']);
          expect(details.result.value).toBe(HONEST_VALUE);
          expect(details.endpoint).not.toBe('liar');
          expect(details.slot).toBe(tip);
        }
        // The watermark is what the honest endpoints corroborate (it trails while only one of them answers), never the liar's slot.
        expect(client.slotWatermark('finalized')).toBeGreaterThanOrEqual(first);
        expect(client.slotWatermark('finalized')).toBeLessThanOrEqual(tip);
        const health = Object.fromEntries(client.pool.snapshot().endpoints.map((endpoint) => [endpoint.id, endpoint]));
        for (const id of ['a', 'b']) {
          expect(health[id]?.health).toBe('healthy');
          expect(health[id]?.ejectionsTotal).toBe(0);
        }
      });
    }
  }

  it('an endpoint far ahead of the others becomes suspect, visible in the snapshot and the metrics', async () => {
    const { client } = await cluster(() => 9_000_000_000, 'race');
    for (let call = 0; call < 3; call++) {
      tip += 1;
      await client.call('getBalance', ['wallet']);
    }
    const liar = client.pool.snapshot().endpoints.find((endpoint) => endpoint.id === 'liar');
    expect(liar).toMatchObject({
      health: 'suspect',
      available: false,
      lastEjectionReason: 'suspect',
      lastError: { code: 'SOLANA_SLOT_AHEAD' },
    });
    expect(await client.pool.metrics()).toMatch(/x_pool_endpoint_health\{endpoint="liar",[^}]*state="suspect"\} 1/);
  });

  it('under hedge-only traffic the liar is refuted by a slot check of the other endpoints', async () => {
    const { client } = await cluster(() => 9_000_000_000, 'hedge');
    tip += 1;
    const details = await client.callWithDetails<{ value: number }>('getBalance', ['wallet']);
    expect(details.result.value).toBe(HONEST_VALUE);
    await expect.poll(() => client.pool.snapshot().endpoints.find((endpoint) => endpoint.id === 'liar')?.health).toBe('suspect');
  });

  it('with slotQuorum 1 every endpoint is trusted alone (what one liar can then do)', async () => {
    const liar = await startScriptedServer((request) => answer(9_000_000_000, LIAR_VALUE, request));
    const a = await startScriptedServer((request) => answer(tip, HONEST_VALUE, request));
    servers = [liar, a];
    client = createSolanaMultiRpc({
      endpoints: [
        { id: 'liar', url: liar.url },
        { id: 'a', url: a.url },
      ],
      slotQuorum: 1,
      methods: { getBalance: { strategy: 'broadcast', deadlineMs: 10_000 } },
    });
    await client.callWithDetails('getBalance', ['wallet']);
    expect(client.slotWatermark('finalized')).toBe(9_000_000_000);
  });
});
