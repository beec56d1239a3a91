import { base58 } from '@scure/base';
import { afterEach, describe, expect, it } from 'vitest';
import { isXError } from '@x/errors';
import { rpcProfiles } from '@x/testkit';
import { createSolanaMultiRpc, firstSignatureOf } from '@x/solana-rpc';
import { setup, transferTransaction } from './helpers.js';
import type { Setup } from './helpers.js';

let current: Setup | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

const sent = (current: Setup, id: string): number => current.cluster.stats(id).methods.sendTransaction ?? 0;

describe('sendTransaction', () => {
  it('goes to every endpoint exactly once, reports every answer, and the first acceptance wins', async () => {
    current = await setup([{ id: 'a' }, { id: 'b' }, { id: 'down', behavior: rpcProfiles.down }, { id: 'c' }]);
    const { cluster, client } = current;
    const [from, to] = cluster.chain.wallets();
    const { wire, bytes } = transferTransaction(from!, to!, 5_000n, cluster.chain.blockhash());
    const expected = firstSignatureOf(bytes);
    const accepted: unknown[] = [];
    const result = await client.sendTransaction(wire, { onAccepted: (acceptance) => accepted.push(acceptance) });

    expect(result.signature).toBe(expected);
    expect(['a', 'b', 'c']).toContain(result.endpoint);
    expect(accepted).toEqual([{ signature: expected, endpoint: result.endpoint, latencyMs: result.latencyMs }]);
    expect(result.outcomes.map((outcome) => outcome.endpoint).sort()).toEqual(['a', 'b', 'c', 'down']);
    for (const outcome of result.outcomes) {
      if (outcome.endpoint === 'down') expect(outcome.ok === false && outcome.error.code).toBe('HTTP_NETWORK');
      else expect(outcome).toMatchObject({ ok: true, value: expected });
    }
    expect([sent(current, 'a'), sent(current, 'b'), sent(current, 'c')]).toEqual([1, 1, 1]);
    expect(cluster.stats('down').connectionsReset).toBe(1);
    // Nothing was resent after the down endpoint failed.
    expect(cluster.stats('down').requests).toBe(0);
    cluster.chain.advance(3);
    expect(cluster.chain.transaction(expected)?.slot).toBeGreaterThan(0);
  });

  it('a node answering another signature is caught lying and does not win', async () => {
    current = await setup([{ id: 'liar', behavior: rpcProfiles.liar }, { id: 'a' }]);
    const { cluster, client } = current;
    const [from, to] = cluster.chain.wallets();
    const { wire, bytes } = transferTransaction(from!, to!, 1n, cluster.chain.blockhash());
    const result = await client.sendTransaction(wire);
    expect(result.signature).toBe(firstSignatureOf(bytes));
    expect(result.endpoint).toBe('a');
    const liar = result.outcomes.find((outcome) => outcome.endpoint === 'liar');
    expect(liar?.ok === false && liar.error.code).toBe('SOLANA_SIGNATURE_MISMATCH');
    expect(liar?.ok === false && liar.error.category).toBe('protocol');
    expect(sent(current, 'liar')).toBe(1);
  });

  it('when every node refuses it, SOLANA_SEND_FAILED carries every answer', async () => {
    current = await setup([{ id: 'a' }, { id: 'b' }]);
    const { cluster, client } = current;
    // A fee payer the chain has never seen fails preflight (-32002) on every node.
    const stranger = base58.encode(new Uint8Array(32).fill(9));
    const { wire } = transferTransaction(stranger, cluster.chain.wallets()[0]!, 1n, cluster.chain.blockhash());
    const error = await client.sendTransaction(wire).catch((caught: unknown) => caught);
    expect(isXError(error, 'SOLANA_SEND_FAILED')).toBe(true);
    if (!isXError(error)) return;
    expect(error.category).toBe('server');
    const outcomes = error.context.outcomes as Array<{ endpoint: string; ok: boolean; error?: { context: { rpcCode?: number } } }>;
    expect(outcomes.map((outcome) => [outcome.endpoint, outcome.ok, outcome.error?.context.rpcCode])).toEqual([
      ['a', false, -32002],
      ['b', false, -32002],
    ]);
    expect([sent(current, 'a'), sent(current, 'b')]).toEqual([1, 1]);
  });

  it("strategy 'single' sends to one endpoint only", async () => {
    current = await setup([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    const { cluster, client } = current;
    const [from, to] = cluster.chain.wallets();
    const { wire, bytes } = transferTransaction(from!, to!, 2n, cluster.chain.blockhash());
    const result = await client.sendTransaction(wire, { strategy: 'single' });
    expect(result.signature).toBe(firstSignatureOf(bytes));
    expect(result.outcomes).toHaveLength(1);
    expect(sent(current, 'a') + sent(current, 'b') + sent(current, 'c')).toBe(1);
  });

  it('accepts bytes and base58 text, and call() broadcasts too', async () => {
    current = await setup([{ id: 'a' }, { id: 'b' }]);
    const { cluster, client } = current;
    const [from, to] = cluster.chain.wallets();
    const one = transferTransaction(from!, to!, 3n, cluster.chain.blockhash());
    expect((await client.sendTransaction(one.bytes)).signature).toBe(firstSignatureOf(one.bytes));
    const two = transferTransaction(from!, to!, 4n, cluster.chain.blockhash());
    expect((await client.sendTransaction(base58.encode(two.bytes), { encoding: 'base58', skipPreflight: true })).signature).toBe(
      firstSignatureOf(two.bytes),
    );
    const three = transferTransaction(from!, to!, 5n, cluster.chain.blockhash());
    const details = await client.callWithDetails('sendTransaction', [three.wire, { encoding: 'base64' }]);
    expect(details.result).toBe(firstSignatureOf(three.bytes));
    expect(details.broadcast).toHaveLength(2);
    expect([sent(current, 'a'), sent(current, 'b')]).toEqual([3, 3]);
  });

  it('refuses what it cannot parse, sending nothing', async () => {
    current = await setup([{ id: 'a' }]);
    const { client } = current;
    await expect(client.sendTransaction('not base64!')).rejects.toMatchObject({ code: 'SOLANA_INVALID_TRANSACTION', category: 'config' });
    await expect(client.sendTransaction(new Uint8Array([1, 2, 3]))).rejects.toMatchObject({ code: 'SOLANA_INVALID_TRANSACTION' });
    await expect(client.sendTransaction(new Uint8Array([0, 1, 2]))).rejects.toMatchObject({ code: 'SOLANA_INVALID_TRANSACTION' });
    await expect(client.call('sendTransaction', [42])).rejects.toMatchObject({ code: 'SOLANA_INVALID_TRANSACTION' });
    await expect(client.sendTransaction('AAAA', { encoding: 'hex' as never })).rejects.toMatchObject({
      code: 'SOLANA_INVALID_TRANSACTION',
    });
    await expect(client.sendTransaction('AAAA', { maxRetries: -1 })).rejects.toMatchObject({ code: 'SOLANA_INVALID_REQUEST' });
    await expect(client.sendTransaction('AAAA', { retries: 3 } as never)).rejects.toMatchObject({ code: 'SOLANA_INVALID_REQUEST' });
    expect(current.cluster.stats('a').requests).toBe(0);
  });

  it('is never hedged, raced or retried: such policies are refused', async () => {
    current = await setup([{ id: 'a' }]);
    const { cluster, client } = current;
    const [from, to] = cluster.chain.wallets();
    const { wire } = transferTransaction(from!, to!, 1n, cluster.chain.blockhash());
    await expect(client.sendTransaction(wire, { strategy: 'hedge' as never })).rejects.toMatchObject({
      code: 'SOLANA_INVALID_OPTIONS',
      category: 'config',
    });
    await expect(client.call('sendTransaction', [wire, { encoding: 'base64' }], { strategy: 'race' })).rejects.toMatchObject({
      code: 'SOLANA_INVALID_OPTIONS',
    });
    expect(() =>
      createSolanaMultiRpc({ endpoints: [{ url: cluster.endpoints[0]!.url }], methods: { sendTransaction: { strategy: 'consensus' } } }),
    ).toThrow(expect.objectContaining({ code: 'SOLANA_INVALID_OPTIONS', context: { option: 'methods.sendTransaction.strategy' } }));
    expect(cluster.stats('a').requests).toBe(0);
  });
});
