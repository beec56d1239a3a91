import { inspect } from 'node:util';
import { afterEach, expect, it } from 'vitest';
import { rpcProfiles } from '@x/testkit';
import { setup, transferTransaction } from './helpers.js';
import type { Setup } from './helpers.js';

const PATH_KEY = 'k3yInThePath0123456789abcdef';
const QUERY_KEY = 'qu3ry-s3cr3t-value';
const SUFFIX = `/v2/${PATH_KEY}?api-key=${QUERY_KEY}`;

let current: Setup | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

function expectClean(what: unknown): void {
  const texts = [typeof what === 'string' ? what : JSON.stringify(what), inspect(what, { depth: 12 })];
  if (what instanceof Error) texts.push(what.message, what.stack ?? '');
  for (const text of texts) {
    expect(text).not.toContain(PATH_KEY);
    expect(text).not.toContain(QUERY_KEY);
  }
}

it('API keys in URL paths and queries never reach errors, reports, snapshots or metrics', async () => {
  current = await setup(
    [
      { id: 'down', behavior: rpcProfiles.down },
      { id: 'stale', behavior: { slotLag: 30 } },
      { id: 'liar', behavior: rpcProfiles.liar },
      { id: 'ok' },
    ],
    // With one endpoint down, a quorum of 2 lets the two honest ones corroborate the watermark the stale one is judged by.
    { urlSuffix: SUFFIX, client: { slotQuorum: 2 } },
  );
  const { cluster, client } = current;
  cluster.chain.advance(40);
  expect(client.endpoints.map((endpoint) => endpoint.label).join()).toContain('/v2/***?api-key=***');
  expectClean(client.endpoints);

  // Every kind of failure this package reports: network, stale slot, lie, no consensus, send refused.
  expectClean(await client.callWithDetails('getSlot', [], { strategy: 'broadcast' }));
  const balances = await client.callWithDetails('getBalance', [cluster.chain.wallets()[0]], { strategy: 'broadcast' });
  expect(balances.broadcast?.find((outcome) => outcome.endpoint === 'stale')).toMatchObject({
    ok: false,
    error: { code: 'SOLANA_STALE_SLOT' },
  });
  expect(balances.broadcast?.find((outcome) => outcome.endpoint === 'down')).toMatchObject({ ok: false, error: { code: 'HTTP_NETWORK' } });
  expectClean(balances);
  const [from, to] = cluster.chain.wallets();
  const { wire } = transferTransaction(from!, to!, 1n, cluster.chain.blockhash());
  const sent = await client.sendTransaction(wire);
  expect(sent.outcomes.find((outcome) => outcome.endpoint === 'liar')).toMatchObject({
    ok: false,
    error: { code: 'SOLANA_SIGNATURE_MISMATCH' },
  });
  expectClean(sent);
  const noConsensus = await client.call('getBalance', [from], { strategy: 'consensus', quorum: 4 }).catch((error: unknown) => error);
  expect(noConsensus).toMatchObject({ code: 'SOLANA_NO_CONSENSUS' });
  expectClean(noConsensus);
  cluster.setBehavior('ok', { mode: 'down' });
  cluster.setBehavior('stale', { mode: 'down' });
  cluster.setBehavior('liar', { mode: 'down' });
  const allDown = await client.call('getSlot', [], { strategy: 'race' }).catch((error: unknown) => error);
  expect(allDown).toMatchObject({ code: 'STRATEGY_ALL_ATTEMPTS_FAILED', category: 'network' });
  expectClean(allDown);
  const sendFailed = await client.sendTransaction(wire).catch((error: unknown) => error);
  expect(sendFailed).toMatchObject({ code: 'SOLANA_SEND_FAILED' });
  expectClean(sendFailed);

  const snapshot = client.pool.snapshot();
  expect(snapshot.endpoints.map((endpoint) => endpoint.lastError?.code)).toContain('HTTP_NETWORK');
  expectClean(snapshot);
  expectClean(client.pool.export());
  const metrics = await client.pool.metrics();
  expect(metrics).toContain('endpoint="stale"');
  expectClean(metrics);
});

it('an endpoint id that would print a key is refused, naming no key', async () => {
  current = await setup([{ id: 'a' }]);
  const { createSolanaMultiRpc } = await import('@x/solana-rpc');
  const url = `${current.cluster.endpoints[0]!.url}${SUFFIX}`;
  const error = (() => {
    try {
      createSolanaMultiRpc({ endpoints: [{ url, id: `key-${PATH_KEY}` }] });
      return undefined;
    } catch (caught) {
      return caught;
    }
  })();
  expect(error).toMatchObject({ code: 'POOL_INVALID_OPTIONS', category: 'config' });
  expectClean((error as Error).message);
});
