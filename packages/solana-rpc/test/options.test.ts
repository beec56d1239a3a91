import { afterEach, describe, expect, it } from 'vitest';
import { rpcProfiles } from '@x/testkit';
import { DEFAULT_METHOD_POLICY, METHOD_PRESETS, createSolanaMultiRpc } from '@x/solana-rpc';
import type { SolanaRpcOptions } from '@x/solana-rpc';
import { deferred, setup } from './helpers.js';
import type { Setup } from './helpers.js';

let current: Setup | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

const url = 'http://127.0.0.1:9';
const invalid = (options: unknown, field: string): void => {
  expect(() => createSolanaMultiRpc(options as SolanaRpcOptions)).toThrow(
    expect.objectContaining({ code: 'SOLANA_INVALID_OPTIONS', category: 'config', context: { option: field } }),
  );
};

describe('presets and overrides', () => {
  it('ship the users\u2019 plan as data', () => {
    expect(METHOD_PRESETS.getAccountInfo).toEqual({ strategy: 'race', deadlineMs: 50 });
    expect(METHOD_PRESETS.getTransaction).toEqual({ strategy: 'consensus', deadlineMs: 200 });
    expect(METHOD_PRESETS.getSignaturesForAddress).toEqual({ strategy: 'dual', deadlineMs: 100 });
    expect(METHOD_PRESETS.sendTransaction?.strategy).toBe('broadcast');
    expect(Object.isFrozen(METHOD_PRESETS)).toBe(true);
    expect(Object.isFrozen(METHOD_PRESETS.getAccountInfo)).toBe(true);
  });

  it('merge per method over the preset, and per method over defaults for the rest', async () => {
    const client = createSolanaMultiRpc({
      endpoints: [{ url }],
      defaults: { strategy: 'race' },
      methods: {
        getAccountInfo: { deadlineMs: 80 },
        getBalance: { strategy: 'consensus', quorum: 2 },
        getSlot: { hedgeDelayMs: 5 },
        getBlockHeight: { attemptTimeoutMs: 30 },
      },
    });
    expect(client.policyFor('getAccountInfo')).toEqual({ strategy: 'race', deadlineMs: 80 });
    expect(client.policyFor('getBalance')).toEqual({ strategy: 'consensus', deadlineMs: 500, quorum: 2 });
    expect(client.policyFor('getSlot')).toEqual({ strategy: 'hedge', deadlineMs: 500, hedgeDelayMs: 5 });
    expect(client.policyFor('getBlockHeight')).toEqual({
      strategy: 'race',
      deadlineMs: DEFAULT_METHOD_POLICY.deadlineMs,
      attemptTimeoutMs: 30,
    });
    expect(client.policyFor('getTransaction')).toBe(METHOD_PRESETS.getTransaction);
    await client.close();
  });

  it('per call, switching strategy drops the old strategy\u2019s settings', async () => {
    current = await setup([{ id: 'a' }, { id: 'b' }], {
      client: { methods: { getSlot: { strategy: 'hedge', hedgeDelayMs: 5, deadlineMs: 5_000 } } },
    });
    const details = await current.client.callWithDetails('getSlot', [], { strategy: 'consensus', quorum: 2 });
    expect(details.policy).toEqual({ strategy: 'consensus', deadlineMs: 5_000, quorum: 2 });
    expect(details.consensus?.agreed).toHaveLength(2);
    const raced = await current.client.callWithDetails('getSlot', [], { maxCandidates: 1, strategy: 'race' });
    expect(raced.attempts).toHaveLength(1);
  });

  it('name the bad field', () => {
    invalid({ endpoints: [{ url }], methods: { getTransaction: { qourum: 2 } } }, 'methods.getTransaction.qourum');
    invalid({ endpoints: [{ url }], methods: { getBalance: { strategy: 'race', quorum: 2 } } }, 'methods.getBalance.quorum');
    invalid({ endpoints: [{ url }], methods: { getBalance: { strategy: 'fastest' } } }, 'methods.getBalance.strategy');
    // getBalance's preset is a hedge: a quorum alone would be silently ignored.
    invalid({ endpoints: [{ url }], methods: { getBalance: { quorum: 2 } } }, 'methods.getBalance.quorum');
    invalid({ endpoints: [{ url }], defaults: { across: 'balance' } }, 'defaults.across');
    invalid({ endpoints: [{ url }], methods: { getBalance: { deadlineMs: 0 } } }, 'methods.getBalance.deadlineMs');
    invalid({ endpoints: [{ url }], methods: { getBalance: { maxCandidates: 1.5 } } }, 'methods.getBalance.maxCandidates');
    invalid({ endpoints: [{ url }], methods: { getBalance: { across: 'all' } } }, 'methods.getBalance.across');
    invalid({ endpoints: [{ url }], methods: { requestAirdrop: { strategy: 'hedge' } } }, 'methods.requestAirdrop.strategy');
    invalid({ endpoints: [{ url }], defaults: { deadlineMs: -1 } }, 'defaults.deadlineMs');
    invalid({ endpoints: [{ url }], methods: [] }, 'methods');
    invalid({ endpoints: [] }, 'endpoints');
    invalid({ endpoints: [{ url, apiKey: 'x' }] }, 'endpoints[0].apiKey');
    invalid({ endpoints: [{ url: 42 }] }, 'endpoints[0].url');
    invalid(
      {
        endpoints: [
          { url, id: 'a' },
          { url, id: 'a' },
        ],
      },
      'endpoints[1].id',
    );
    invalid({ endpoints: [{ url }], maxSlotLag: -1 }, 'maxSlotLag');
    invalid({ endpoints: [{ url }], pool: { endpoints: [] } }, 'pool.endpoints');
    invalid({ endpoints: [{ url }], http: { url } }, 'http');
    invalid({ endpoints: [{ url }], retries: 3 }, 'retries');
    invalid(undefined, 'options');
    expect(() => createSolanaMultiRpc({ endpoints: [{ url: 'ftp://x' }] })).toThrow(
      expect.objectContaining({ code: 'HTTP_INVALID_OPTIONS' }),
    );
  });

  it('gives endpoints their host as id, numbering repeats', async () => {
    const client = createSolanaMultiRpc({
      endpoints: [
        { url: 'https://rpc.example.com/a' },
        { url: 'https://rpc.example.com/b' },
        { url: 'http://127.0.0.1:8899', id: 'local' },
      ],
    });
    expect(client.endpoints.map((endpoint) => endpoint.id)).toEqual(['rpc.example.com', 'rpc.example.com#2', 'local']);
    await client.close();
  });
});

describe('call options', () => {
  it('bad input is a clear XError and sends nothing', async () => {
    current = await setup([{ id: 'a' }]);
    const { client, cluster } = current;
    await expect(client.call('', [])).rejects.toMatchObject({ code: 'SOLANA_INVALID_REQUEST', category: 'config' });
    await expect(client.call('getSlot', 'x' as never)).rejects.toMatchObject({ code: 'SOLANA_INVALID_REQUEST' });
    await expect(client.call('getSlot', [], { strategy: 'fastest' as never })).rejects.toMatchObject({
      code: 'SOLANA_INVALID_OPTIONS',
      context: { option: 'call options.strategy' },
    });
    await expect(client.call('getSlot', [], { quorum: 2 })).rejects.toMatchObject({
      code: 'SOLANA_INVALID_OPTIONS',
      context: { option: 'call options.quorum' },
    });
    await expect(client.call('getSlot', [], { deadlineMs: Number.NaN })).rejects.toMatchObject({
      code: 'SOLANA_INVALID_OPTIONS',
      context: { option: 'call options.deadlineMs' },
    });
    await expect(client.call('getSlot', [], { commitment: 'max' as never })).rejects.toMatchObject({ code: 'SOLANA_INVALID_REQUEST' });
    await expect(client.call('getSlot', [], { minContextSlot: -1 })).rejects.toMatchObject({ code: 'SOLANA_INVALID_REQUEST' });
    await expect(client.call('getHealth', [], { minContextSlot: 'watermark' })).rejects.toMatchObject({ code: 'SOLANA_INVALID_REQUEST' });
    await expect(client.call('getHealth', [], { commitment: 'confirmed' })).rejects.toMatchObject({ code: 'SOLANA_INVALID_REQUEST' });
    await expect(client.call('getTransaction', ['x', 'base64'], { commitment: 'confirmed' })).rejects.toMatchObject({
      code: 'SOLANA_INVALID_REQUEST',
    });
    await expect(client.call('getSlot', [], { signal: 'no' as never })).rejects.toMatchObject({ code: 'SOLANA_INVALID_REQUEST' });
    expect(() => client.slotWatermark('max' as never)).toThrow(expect.objectContaining({ code: 'SOLANA_INVALID_REQUEST' }));
    expect(cluster.stats('a').requests).toBe(0);
  });

  it('a caller error from the node ends the call at once, without failing over', async () => {
    current = await setup([{ id: 'a' }, { id: 'b' }], {
      client: { methods: { getBalance: { strategy: 'hedge', deadlineMs: 5_000, hedgeDelayMs: 60_000 } } },
    });
    const error = await current.client.call('getBalance', ['not-an-address']).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'HTTP_RPC_CALLER_ERROR', category: 'config', context: { rpcCode: -32602 } });
    expect(current.cluster.stats('a').requests + current.cluster.stats('b').requests).toBe(1);
  });
});

describe('cancellation and close', () => {
  it('an aborted signal rejects at once and sends nothing', async () => {
    current = await setup([{ id: 'a' }]);
    const controller = new AbortController();
    controller.abort(new Error('changed my mind'));
    await expect(current.client.call('getSlot', [], { signal: controller.signal })).rejects.toMatchObject({
      code: 'ABORTED',
      category: 'aborted',
    });
    await expect(current.client.sendTransaction('AAAA', { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(current.cluster.stats('a').requests).toBe(0);
  });

  it('aborting a call in flight rejects it, whatever the strategy', async () => {
    const arrived = deferred<void>();
    current = await setup([{ id: 'hung', behavior: rpcProfiles.hung }], { cluster: { onRequest: () => arrived.resolve() } });
    for (const strategy of ['race', 'consensus', 'broadcast'] as const) {
      const controller = new AbortController();
      const pending = current.client.call('getSlot', [], { strategy, signal: controller.signal });
      await arrived.promise;
      controller.abort();
      await expect(pending).rejects.toMatchObject({ code: 'ABORTED', category: 'aborted' });
    }
  });

  it('close() aborts calls in flight, is idempotent, and later calls reject with SOLANA_CLOSED', async () => {
    const arrived = deferred<void>();
    current = await setup([{ id: 'hung', behavior: rpcProfiles.hung }], { cluster: { onRequest: () => arrived.resolve() } });
    const { client } = current;
    const pending = client.call('getSlot', [], { strategy: 'race' });
    await arrived.promise;
    const closing = client.close();
    expect(client.close()).toBe(closing);
    await expect(pending).rejects.toMatchObject({ code: 'HTTP_CLOSED', category: 'aborted' });
    await closing;
    await expect(client.call('getSlot')).rejects.toMatchObject({ code: 'SOLANA_CLOSED', category: 'aborted' });
    await expect(client.sendTransaction('AAAA')).rejects.toMatchObject({ code: 'SOLANA_CLOSED' });
  });
});
