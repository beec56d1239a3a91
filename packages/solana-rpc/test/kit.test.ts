import { base58 } from '@scure/base';
import { afterEach, describe, expect, it } from 'vitest';
import {
  SOLANA_ERROR__JSON_RPC__INVALID_PARAMS,
  SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE,
  address,
  createSolanaRpc,
  createSolanaRpcFromTransport,
  isSolanaError,
  signature,
} from '@solana/kit';
import type { Base64EncodedWireTransaction, RpcTransport } from '@solana/kit';
import { XError, isXError } from '@x/errors';
import { rpcProfiles } from '@x/testkit';
import { createKitTransport, firstSignatureOf, jsonRpcErrorOf } from '@x/solana-rpc';
import { deferred, setup, transferTransaction } from './helpers.js';
import type { Setup } from './helpers.js';

// Nodes still send rentEpoch; kit's types no longer declare it, but kit hands it through.
const rentEpochOf = (account: object | null): unknown => (account as { rentEpoch?: unknown } | null)?.rentEpoch;

let current: Setup | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

async function kitOver(endpoints: Parameters<typeof setup>[0]) {
  current = await setup(endpoints);
  // Assigning to kit's own type checks, at compile time, that the adapter matches it exactly.
  const transport: RpcTransport = createKitTransport(current.client);
  return { ...current, rpc: createSolanaRpcFromTransport(transport) };
}

describe('@solana/kit through createKitTransport', () => {
  it('getSlot, getBalance and getAccountInfo return what the chain holds, as kit types', async () => {
    const { cluster, rpc } = await kitOver([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    cluster.chain.advance(2);
    const [wallet] = cluster.chain.wallets();
    const [data] = cluster.chain.dataAccounts();

    expect(await rpc.getSlot().send()).toBe(BigInt(cluster.chain.slot()));
    const balance = await rpc.getBalance(address(wallet!)).send();
    expect(balance.value).toBe(BigInt(cluster.chain.account(wallet!)!.lamports));
    expect(balance.context.slot).toBe(BigInt(cluster.chain.slot()));

    const info = await rpc.getAccountInfo(address(data!), { encoding: 'base64' }).send();
    const account = cluster.chain.account(data!)!;
    expect(info.value?.owner).toBe(account.owner);
    expect(info.value?.lamports).toBe(BigInt(account.lamports));
    expect(info.value?.data).toEqual([Buffer.from(account.data).toString('base64'), 'base64']);
    expect(await rpc.getAccountInfo(address(base58.encode(new Uint8Array(32).fill(3)))).send()).toMatchObject({ value: null });
  });

  it("kit's bigint params reach the nodes as numbers", async () => {
    const { cluster, rpc } = await kitOver([{ id: 'a' }]);
    const [wallet] = cluster.chain.wallets();
    const slot = BigInt(cluster.chain.slot());
    const balance = await rpc.getBalance(address(wallet!), { minContextSlot: slot }).send();
    expect(balance.context.slot).toBe(slot);
    const tooNew = rpc.getBalance(address(wallet!), { minContextSlot: slot + 5n }).send();
    await expect(tooNew).rejects.toSatisfy((error: unknown) => isSolanaError(error) && error.context.__code === -32016);
  });

  it('a node error every endpoint gives becomes the SolanaError kit would throw', async () => {
    const { rpc } = await kitOver([{ id: 'a' }, { id: 'b' }]);
    const invalid = rpc.getBalance('not-an-address' as ReturnType<typeof address>).send();
    await expect(invalid).rejects.toSatisfy((error: unknown) => isSolanaError(error, SOLANA_ERROR__JSON_RPC__INVALID_PARAMS));
  });

  it('failures that are not node answers reach kit as XErrors', async () => {
    const { rpc } = await kitOver([{ id: 'down', behavior: rpcProfiles.down }]);
    await expect(rpc.getSlot().send()).rejects.toSatisfy(
      (error: unknown) => isXError(error, 'STRATEGY_ALL_ATTEMPTS_FAILED') && error.category === 'network',
    );
  });

  it('getTransaction and sendTransaction go through their policies', async () => {
    const { cluster, client, rpc } = await kitOver([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    const [from, to] = cluster.chain.wallets();
    const { wire, bytes } = transferTransaction(from!, to!, 1_000n, cluster.chain.blockhash());
    const sent = await rpc.sendTransaction(wire as Base64EncodedWireTransaction, { encoding: 'base64' }).send();
    expect(sent).toBe(firstSignatureOf(bytes));
    for (const id of ['a', 'b', 'c']) expect(cluster.stats(id).methods.sendTransaction).toBe(1);
    cluster.chain.advance(3);
    const tx = await rpc.getTransaction(signature(sent), { encoding: 'json', maxSupportedTransactionVersion: 0 }).send();
    expect(tx?.transaction.signatures[0]).toBe(sent);
    expect(tx?.meta?.fee).toBe(5000n);
    expect(client.policyFor('getTransaction').strategy).toBe('consensus');

    const stranger = base58.encode(new Uint8Array(32).fill(9));
    const refused = transferTransaction(stranger, to!, 1n, cluster.chain.blockhash());
    const failing = rpc.sendTransaction(refused.wire as Base64EncodedWireTransaction, { encoding: 'base64' }).send();
    await expect(failing).rejects.toSatisfy((error: unknown) =>
      isSolanaError(error, SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE),
    );
  });

  it("u64 values beyond 2^53 (rentEpoch = u64::MAX) reach kit exactly, as kit's own HTTP transport gives them", async () => {
    current = await setup([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    const { cluster, client } = current;
    // Consensus: the three answers hold bigints and must still be recognised as the same answer.
    const transport: RpcTransport = createKitTransport(client, {
      callOptions: (method) => (method === 'getAccountInfo' ? { strategy: 'consensus' } : undefined),
    });
    const ours = createSolanaRpcFromTransport(transport);
    const kitOwn = createSolanaRpc(cluster.endpoints[0]!.url);
    const [data] = cluster.chain.dataAccounts();
    const [wallet] = cluster.chain.wallets();

    const info = await ours.getAccountInfo(address(data!), { encoding: 'base64' }).send();
    expect(client.policyFor('getAccountInfo').strategy).not.toBe('consensus');
    for (const id of ['a', 'b', 'c']) expect(cluster.stats(id).methods.getAccountInfo).toBe(1);
    expect(rentEpochOf(info.value)).toBe(18446744073709551615n);
    expect(info).toEqual(await kitOwn.getAccountInfo(address(data!), { encoding: 'base64' }).send());

    const walletInfo = await ours.getAccountInfo(address(wallet!), { encoding: 'base58' }).send();
    expect(rentEpochOf(walletInfo.value)).toBe(18446744073709551615n);
    expect(walletInfo).toEqual(await kitOwn.getAccountInfo(address(wallet!), { encoding: 'base58' }).send());
    expect(await ours.getBalance(address(wallet!)).send()).toEqual(await kitOwn.getBalance(address(wallet!)).send());

    const raw = await transport<{ result: { value: { rentEpoch: unknown } } }>({
      payload: { jsonrpc: '2.0', id: '1', method: 'getAccountInfo', params: [data, { encoding: 'base64' }] },
    });
    expect(raw.result.value.rentEpoch).toBe(18446744073709551615n);
  });

  it("kit's abortSignal cancels the call in flight", async () => {
    const arrived = deferred<void>();
    current = await setup([{ id: 'hung', behavior: rpcProfiles.hung }], { cluster: { onRequest: () => arrived.resolve() } });
    const { cluster } = current;
    const rpc = createSolanaRpcFromTransport(createKitTransport(current.client));
    const controller = new AbortController();
    const pending = rpc.getSlot().send({ abortSignal: controller.signal });
    await arrived.promise;
    controller.abort(new Error('user left'));
    await expect(pending).rejects.toSatisfy(
      (error: unknown) => isXError(error, 'ABORTED') && (error.cause as Error).message === 'user left',
    );
    expect(cluster.stats('hung').requests).toBe(1);
  });

  it('refuses a payload that is not a JSON-RPC request', async () => {
    current = await setup([{ id: 'a' }]);
    const transport = createKitTransport(current.client);
    await expect(transport({ payload: [{ jsonrpc: '2.0', method: 'getSlot' }] })).rejects.toMatchObject({ code: 'SOLANA_INVALID_REQUEST' });
    await expect(transport({ payload: { method: 'getSlot' } })).rejects.toMatchObject({ code: 'SOLANA_INVALID_REQUEST' });
    expect(await transport({ payload: { jsonrpc: '2.0', id: '7', method: 'getSlot', params: [] } })).toEqual({
      jsonrpc: '2.0',
      id: '7',
      result: current.cluster.chain.slot(),
    });
    expect(current.cluster.stats('a').requests).toBe(1);
  });
});

describe('jsonRpcErrorOf', () => {
  const nodeError = (code: number, data?: unknown) =>
    new XError({
      code: 'HTTP_RPC_SERVER_ERROR',
      category: 'server',
      message: 'x: JSON-RPC error',
      context: { rpcCode: code, rpcMessage: `error ${code}`, rpcData: data },
    });
  const network = new XError({ code: 'HTTP_NETWORK', category: 'network', message: 'reset', context: {} });
  const all = (...errors: XError[]) =>
    new XError({
      code: 'STRATEGY_ALL_ATTEMPTS_FAILED',
      category: 'server',
      message: 'all failed',
      context: { failures: errors.map((error, index) => ({ index, error })) },
    });

  it('maps one node error, or the same node error from every endpoint, keeping its data', () => {
    expect(jsonRpcErrorOf(nodeError(-32002, { logs: ['x'] }))).toEqual({ code: -32002, message: 'error -32002', data: { logs: ['x'] } });
    expect(jsonRpcErrorOf(all(nodeError(-32016), nodeError(-32016)))).toEqual({ code: -32016, message: 'error -32016' });
  });

  it('never maps transport failures, mixed failures or foreign errors', () => {
    expect(jsonRpcErrorOf(all(nodeError(-32016), network))).toBeUndefined();
    expect(jsonRpcErrorOf(all(nodeError(-32016), nodeError(-32005)))).toBeUndefined();
    expect(jsonRpcErrorOf(network)).toBeUndefined();
    expect(jsonRpcErrorOf(new Error('x'))).toBeUndefined();
    expect(jsonRpcErrorOf({ context: { rpcCode: 1 } })).toBeUndefined();
  });
});
