import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RPC_METHODS, startRpcCluster, type RpcCluster } from '@x/testkit';
import {
  base58,
  base64,
  call,
  fill,
  parse,
  post,
  result,
  transferWire,
  unbase58,
  type Contextual,
  type RpcReply,
} from './solana-helpers.js';

interface AccountValue {
  data: [string, string] | string;
  executable: boolean;
  lamports: number;
  owner: string;
  rentEpoch: number;
  space: number;
}

interface SignatureEntry {
  signature: string;
  slot: number;
  err: unknown;
  memo: null;
  blockTime: number;
  confirmationStatus: string;
}

interface TransactionValue {
  slot: number;
  blockTime: number;
  version?: 'legacy' | 0;
  meta: { fee: number; err: unknown; preBalances: number[]; postBalances: number[]; logMessages: string[]; status: unknown };
  transaction:
    | [string, string]
    | {
        signatures: string[];
        message: {
          accountKeys: (string | { pubkey: string; signer: boolean; writable: boolean; source: string })[];
          header?: { numRequiredSignatures: number; numReadonlySignedAccounts: number; numReadonlyUnsignedAccounts: number };
          instructions: Record<string, unknown>[];
          recentBlockhash: string;
        };
      };
}

let cluster: RpcCluster;
let url: string;
let laggingUrl: string;

beforeAll(async () => {
  cluster = await startRpcCluster({
    seed: 'methods',
    autoAdvance: false,
    endpoints: [{ id: 'main' }, { id: 'lagging', behavior: { slotLag: 5 } }],
    chain: { startSlot: 10_000, transactionsPerSlot: 2 },
  });
  url = cluster.endpoints[0]!.url;
  laggingUrl = cluster.endpoints[1]!.url;
});

afterAll(async () => {
  await cluster.close();
});

describe('Solana methods', () => {
  it('getSlot answers the tip; a lagging endpoint answers tip - lag', async () => {
    expect(await result<number>(url, 'getSlot')).toBe(cluster.chain.slot());
    expect(await result<number>(url, 'getSlot', [{ commitment: 'confirmed' }])).toBe(cluster.chain.slot());
    expect(await result<number>(laggingUrl, 'getSlot')).toBe(cluster.chain.slot() - 5);
  });

  it('getBalance answers { context: { slot, apiVersion }, value: lamports }', async () => {
    const wallet = cluster.chain.wallets()[0]!;
    const reply = await result<Contextual<number>>(url, 'getBalance', [wallet]);
    expect(reply).toEqual({
      context: { apiVersion: expect.any(String) as string, slot: cluster.chain.slot() },
      value: cluster.chain.account(wallet)?.lamports,
    });
    const unknown = await result<Contextual<number>>(url, 'getBalance', [base58(fill(32, 5))]);
    expect(unknown.value).toBe(0);
  });

  it('getAccountInfo answers base64 by default, honours encoding and dataSlice, and null for unknown accounts', async () => {
    const address = cluster.chain.dataAccounts()[0]!;
    const truth = cluster.chain.account(address)!;
    const reply = await result<Contextual<AccountValue>>(url, 'getAccountInfo', [address]);
    expect(reply.context.slot).toBe(cluster.chain.slot());
    expect(reply.value).toEqual({
      data: [base64(truth.data), 'base64'],
      executable: false,
      lamports: truth.lamports,
      owner: cluster.chain.programId,
      rentEpoch: Number(18446744073709551615n),
      space: truth.data.length,
    });
    const raw = (await post(url, { jsonrpc: '2.0', id: 1, method: 'getAccountInfo', params: [address] })).text;
    expect(raw).toContain('"rentEpoch":18446744073709551615');

    const sliced = await result<Contextual<AccountValue>>(url, 'getAccountInfo', [
      address,
      { encoding: 'base58', dataSlice: { offset: 2, length: 10 } },
    ]);
    expect(sliced.value.data).toEqual([base58(truth.data.subarray(2, 12)), 'base58']);
    expect(sliced.value.space).toBe(truth.data.length);
    const parsedFallback = await result<Contextual<AccountValue>>(url, 'getAccountInfo', [address, { encoding: 'jsonParsed' }]);
    expect(parsedFallback.value.data).toEqual([base64(truth.data), 'base64']);

    const tooBig = await call(url, 'getAccountInfo', [address, { encoding: 'base58' }]);
    expect(truth.data.length).toBeGreaterThan(128);
    expect(tooBig.error?.code).toBe(-32600);
    const wallet = await result<Contextual<AccountValue>>(url, 'getAccountInfo', [cluster.chain.wallets()[0], { encoding: 'base64' }]);
    expect(wallet.value.data).toEqual(['', 'base64']);
    expect(wallet.value.owner).toBe('11111111111111111111111111111111');
    expect((await result<Contextual<null>>(url, 'getAccountInfo', [base58(fill(32, 6))])).value).toBeNull();

    expect((await call(url, 'getAccountInfo', ['not-a-key'])).error).toEqual({ code: -32602, message: 'Invalid param: Invalid' });
    expect((await call(url, 'getAccountInfo', [address, { encoding: 'hex' }])).error?.code).toBe(-32602);
    expect((await call(url, 'getAccountInfo', [address, { commitment: 'soon' }])).error?.code).toBe(-32602);
    expect((await call(url, 'getAccountInfo', [])).error?.code).toBe(-32602);
  });

  it('getAccountInfo on a lagging endpoint serves older state, and minContextSlot refuses it with -32016', async () => {
    const wallet = cluster.chain.wallets()[2]!;
    const other = cluster.chain.wallets()[3]!;
    const before = cluster.chain.account(wallet)!.lamports;
    cluster.chain.transfer({ from: wallet, to: other, lamports: 77 });
    const tip = cluster.chain.slot();

    const fresh = await result<Contextual<AccountValue>>(url, 'getAccountInfo', [wallet, { minContextSlot: tip }]);
    expect(fresh.value.lamports).toBe(before - 77 - 5000);
    const stale = await result<Contextual<AccountValue>>(laggingUrl, 'getAccountInfo', [wallet]);
    expect(stale.context.slot).toBe(tip - 5);
    expect(stale.value.lamports).toBe(cluster.chain.account(wallet, tip - 5)!.lamports);
    expect(stale.value.lamports).not.toBe(fresh.value.lamports);

    const refused = await call(laggingUrl, 'getAccountInfo', [wallet, { minContextSlot: tip }]);
    expect(refused.error).toEqual({ code: -32016, message: 'Minimum context slot has not been reached', data: { contextSlot: tip - 5 } });
    const refusedBalance = await call(laggingUrl, 'getBalance', [wallet, { minContextSlot: tip - 4 }]);
    expect(refusedBalance.error?.code).toBe(-32016);
    expect((await call(laggingUrl, 'getBalance', [wallet, { minContextSlot: tip - 5 }])).error).toBeUndefined();
  });

  it('getSignaturesForAddress lists newest first with limit, before and until', async () => {
    const wallet = cluster.chain.wallets()[0]!;
    cluster.chain.advance(10);
    const all = await result<SignatureEntry[]>(url, 'getSignaturesForAddress', [wallet]);
    expect(all.map((entry) => entry.signature)).toEqual(cluster.chain.signatures(wallet));
    expect(all.length).toBeGreaterThan(4);
    const first = all[0]!;
    expect(first).toEqual({
      blockTime: cluster.chain.blockTime(first.slot),
      confirmationStatus: 'confirmed',
      err: null,
      memo: null,
      signature: first.signature,
      slot: first.slot,
    });
    const slots = all.map((entry) => entry.slot);
    expect([...slots].sort((a, b) => b - a)).toEqual(slots);

    const limited = await result<SignatureEntry[]>(url, 'getSignaturesForAddress', [wallet, { limit: 2 }]);
    expect(limited).toEqual(all.slice(0, 2));
    const page = await result<SignatureEntry[]>(url, 'getSignaturesForAddress', [wallet, { limit: 2, before: all[1]!.signature }]);
    expect(page).toEqual(all.slice(2, 4));
    const until = await result<SignatureEntry[]>(url, 'getSignaturesForAddress', [wallet, { until: all[3]!.signature }]);
    expect(until).toEqual(all.slice(0, 3));

    const lagged = await result<SignatureEntry[]>(laggingUrl, 'getSignaturesForAddress', [wallet]);
    expect(lagged.every((entry) => entry.slot <= cluster.chain.slot() - 5)).toBe(true);

    expect((await call(url, 'getSignaturesForAddress', [wallet, { limit: 1001 }])).error?.code).toBe(-32602);
    expect((await call(url, 'getSignaturesForAddress', [wallet, { before: 'nope' }])).error?.code).toBe(-32602);
    expect((await call(url, 'getSignaturesForAddress', [wallet, { commitment: 'processed' }])).error?.code).toBe(-32602);
  });

  it('getSignatureStatuses answers processed, confirmed one slot deep, finalized 32 deep, null when unknown', async () => {
    const [from, to] = cluster.chain.wallets() as [string, string];
    const landed = cluster.chain.transfer({ from, to, lamports: 1 });
    const unknown = base58(fill(64, 7));
    const statuses = async (): Promise<Contextual<Array<Record<string, unknown> | null>>> =>
      result<Contextual<Array<Record<string, unknown> | null>>>(url, 'getSignatureStatuses', [[landed.signature, unknown]]);
    const now = await statuses();
    expect(now.context.slot).toBe(cluster.chain.slot());
    expect(now.value).toEqual([
      { slot: landed.slot, confirmations: 0, err: null, status: { Ok: null }, confirmationStatus: 'processed' },
      null,
    ]);
    cluster.chain.advance(1);
    expect((await statuses()).value[0]).toMatchObject({ confirmationStatus: 'confirmed', confirmations: 1 });
    cluster.chain.advance(31);
    expect((await statuses()).value[0]).toMatchObject({ confirmationStatus: 'finalized', confirmations: null });
    // A lagging endpoint does not see what landed after its view.
    const late = cluster.chain.transfer({ from, to, lamports: 1 });
    const lagged = await result<Contextual<unknown[]>>(laggingUrl, 'getSignatureStatuses', [[late.signature]]);
    expect(lagged.value).toEqual([null]);
    expect((await call(url, 'getSignatureStatuses', [['nope']])).error?.code).toBe(-32602);
    expect((await call(url, 'getSignatureStatuses', [landed.signature])).error?.code).toBe(-32602);
    expect((await call(url, 'getSignatureStatuses', [Array.from({ length: 257 }, () => unknown)])).error?.code).toBe(-32602);
  });

  it('getTransaction answers the json shape, base64 wire, jsonParsed, and null when unknown', async () => {
    const [from, to] = cluster.chain.wallets() as [string, string];
    const landed = cluster.chain.transfer({ from, to, lamports: 1234 });
    const tx = await result<TransactionValue>(url, 'getTransaction', [landed.signature]);
    expect(tx.slot).toBe(landed.slot);
    expect(tx.blockTime).toBe(landed.blockTime);
    expect(tx.version).toBeUndefined();
    expect(tx.meta).toMatchObject({
      fee: 5000,
      err: null,
      status: { Ok: null },
      preBalances: landed.preBalances,
      postBalances: landed.postBalances,
    });
    expect(tx.meta.logMessages[0]).toBe('Program 11111111111111111111111111111111 invoke [1]');
    expect(tx.transaction).toEqual({
      message: {
        accountKeys: [from, to, '11111111111111111111111111111111'],
        header: { numRequiredSignatures: 1, numReadonlySignedAccounts: 0, numReadonlyUnsignedAccounts: 1 },
        instructions: [{ accounts: [0, 1], data: expect.any(String) as string, programIdIndex: 2, stackHeight: null }],
        recentBlockhash: expect.any(String) as string,
      },
      signatures: [landed.signature],
    });

    const wire = await result<TransactionValue>(url, 'getTransaction', [
      landed.signature,
      { encoding: 'base64', maxSupportedTransactionVersion: 0 },
    ]);
    expect(wire.transaction).toEqual([base64(landed.wire), 'base64']);
    expect(wire.version).toBe('legacy');
    const legacyForm = await result<TransactionValue>(url, 'getTransaction', [landed.signature, 'base58']);
    expect(legacyForm.transaction).toEqual([base58(landed.wire), 'base58']);

    const parsed = await result<TransactionValue>(url, 'getTransaction', [landed.signature, { encoding: 'jsonParsed' }]);
    const message = (parsed.transaction as Exclude<TransactionValue['transaction'], [string, string]>).message;
    expect(message.accountKeys[0]).toEqual({ pubkey: from, signer: true, writable: true, source: 'transaction' });
    expect(message.accountKeys[2]).toEqual({
      pubkey: '11111111111111111111111111111111',
      signer: false,
      writable: false,
      source: 'transaction',
    });
    expect(message.instructions[0]).toEqual({
      parsed: { info: { destination: to, lamports: 1234, source: from }, type: 'transfer' },
      program: 'system',
      programId: '11111111111111111111111111111111',
      stackHeight: null,
    });

    expect(await result<null>(url, 'getTransaction', [base58(fill(64, 3))])).toBeNull();
    // Not yet visible where the endpoint is behind.
    expect(await result<null>(laggingUrl, 'getTransaction', [landed.signature])).toBeNull();
    expect((await call(url, 'getTransaction', [landed.signature, { commitment: 'processed' }])).error?.code).toBe(-32602);
    expect((await call(url, 'getTransaction', [landed.signature, { encoding: 'xml' }])).error?.code).toBe(-32602);
    expect((await call(url, 'getTransaction', ['short'])).error).toEqual({ code: -32602, message: 'Invalid param: Invalid' });
  });

  it('getLatestBlockhash answers the blockhash of the served slot with lastValidBlockHeight', async () => {
    const reply = await result<Contextual<{ blockhash: string; lastValidBlockHeight: number }>>(url, 'getLatestBlockhash', [
      { commitment: 'finalized' },
    ]);
    expect(reply).toEqual({
      context: { apiVersion: expect.any(String) as string, slot: cluster.chain.slot() },
      value: { blockhash: cluster.chain.blockhash(), lastValidBlockHeight: cluster.chain.slot() + 150 },
    });
    expect(unbase58(reply.value.blockhash)).toHaveLength(32);
    const lagged = await result<Contextual<{ blockhash: string }>>(laggingUrl, 'getLatestBlockhash');
    expect(lagged.value.blockhash).toBe(cluster.chain.blockhash(cluster.chain.slot() - 5));
  });

  it('sendTransaction returns the first signature and lands the transaction a few slots later', async () => {
    const payer = base58(fill(32, 21));
    const to = base58(fill(32, 22));
    cluster.chain.setAccount(payer, { lamports: 10_000_000 });
    const blockhash = (await result<Contextual<{ blockhash: string }>>(url, 'getLatestBlockhash')).value.blockhash;
    const first = transferWire({ payer, to, lamports: 1_000_000, blockhash, signatureSeed: 31 });
    expect(await result<string>(url, 'sendTransaction', [base64(first.wire), { encoding: 'base64' }])).toBe(first.signature);
    const second = transferWire({ payer, to, lamports: 2_000_000, blockhash, signatureSeed: 32 });
    expect(await result<string>(url, 'sendTransaction', [base58(second.wire)])).toBe(second.signature);
    // Sending the same transaction again is harmless.
    expect(await result<string>(url, 'sendTransaction', [base64(first.wire), { encoding: 'base64' }])).toBe(first.signature);
    expect(await result<null>(url, 'getTransaction', [first.signature])).toBeNull();

    cluster.chain.advance(3);
    const landed = await result<TransactionValue>(url, 'getTransaction', [first.signature]);
    expect(landed.slot).toBeGreaterThan(cluster.chain.slot() - 3);
    expect((await result<Contextual<number>>(url, 'getBalance', [to])).value).toBe(3_000_000);
    expect(cluster.chain.signatures(to)).toHaveLength(2);
    expect(cluster.chain.signatures(payer)).toEqual(cluster.chain.signatures(to));
  });

  it('sendTransaction checks encoding, structure and (unless skipped) that the fee payer can pay', async () => {
    const to = base58(fill(32, 41));
    const broke = transferWire({ payer: base58(fill(32, 40)), to, lamports: 1, blockhash: cluster.chain.blockhash(), signatureSeed: 41 });
    const preflight = await call(url, 'sendTransaction', [base64(broke.wire), { encoding: 'base64' }]);
    expect(preflight.error).toMatchObject({
      code: -32002,
      message: expect.stringContaining('Transaction simulation failed') as string,
      data: { err: 'AccountNotFound' },
    });
    expect(await result<string>(url, 'sendTransaction', [base64(broke.wire), { encoding: 'base64', skipPreflight: true }])).toBe(
      broke.signature,
    );
    cluster.chain.advance(3);
    expect(await result<null>(url, 'getTransaction', [broke.signature])).toBeNull();

    expect((await call(url, 'sendTransaction', ['!!!', { encoding: 'base64' }])).error?.code).toBe(-32602);
    expect((await call(url, 'sendTransaction', ['0OIl'])).error?.code).toBe(-32602);
    expect((await call(url, 'sendTransaction', [base64(broke.wire.subarray(0, 80)), { encoding: 'base64' }])).error).toMatchObject({
      code: -32602,
      message: expect.stringContaining('invalid transaction') as string,
    });
    expect((await call(url, 'sendTransaction', [base64(broke.wire), { encoding: 'hex' }])).error?.code).toBe(-32602);
    expect((await call(url, 'sendTransaction', [])).error?.code).toBe(-32602);
  });

  it('getTransaction refuses a v0 transaction without maxSupportedTransactionVersion (-32015)', async () => {
    const payer = base58(fill(32, 51));
    cluster.chain.setAccount(payer, { lamports: 1_000_000 });
    const v0 = transferWire({
      payer,
      to: base58(fill(32, 52)),
      lamports: 5,
      blockhash: cluster.chain.blockhash(),
      signatureSeed: 51,
      version: 0,
    });
    cluster.chain.submitTransaction(v0.wire, { delaySlots: 0 });
    const refused = await call(url, 'getTransaction', [v0.signature]);
    expect(refused.error?.code).toBe(-32015);
    const tx = await result<TransactionValue>(url, 'getTransaction', [v0.signature, { maxSupportedTransactionVersion: 0 }]);
    expect(tx.version).toBe(0);
    expect(tx.meta.err).toBeNull();
    expect((await call(url, 'getTransaction', [v0.signature, { maxSupportedTransactionVersion: 1 }])).error?.code).toBe(-32602);
  });

  it('getHealth answers "ok" and GET /health answers like a Solana node', async () => {
    expect(await result<string>(url, 'getHealth')).toBe('ok');
    expect(await result<string>(laggingUrl, 'getHealth')).toBe('ok');
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok');
    expect((await call(url, 'getHealth', [1])).error?.code).toBe(-32602);
  });
});

describe('EVM methods on the same endpoints', () => {
  it('eth_chainId and eth_blockNumber answer hex quantities; the block number is the served slot', async () => {
    expect(await result<string>(url, 'eth_chainId', [])).toBe('0x7a69');
    expect(await result<string>(url, 'eth_blockNumber', [])).toBe(`0x${cluster.chain.slot().toString(16)}`);
    expect(await result<string>(laggingUrl, 'eth_blockNumber')).toBe(`0x${(cluster.chain.slot() - 5).toString(16)}`);
  });

  it('eth_getBalance answers wei (lamports × 10⁹) in hex, by block tag or number', async () => {
    const wallet = cluster.chain.wallets()[4]!;
    const evm = cluster.chain.evmAddressOf(wallet);
    const lamports = cluster.chain.account(wallet)!.lamports;
    expect(await result<string>(url, 'eth_getBalance', [evm, 'latest'])).toBe(`0x${(BigInt(lamports) * 1_000_000_000n).toString(16)}`);
    expect(await result<string>(url, 'eth_getBalance', [evm.toUpperCase().replace('0X', '0x'), 'latest'])).toBe(
      `0x${(BigInt(lamports) * 1_000_000_000n).toString(16)}`,
    );
    const older = cluster.chain.slot() - 20;
    const olderLamports = cluster.chain.account(wallet, older)!.lamports;
    expect(await result<string>(url, 'eth_getBalance', [evm, `0x${older.toString(16)}`])).toBe(
      `0x${(BigInt(olderLamports) * 1_000_000_000n).toString(16)}`,
    );
    expect(await result<string>(url, 'eth_getBalance', [`0x${'ab'.repeat(20)}`, 'latest'])).toBe('0x0');

    expect((await call(url, 'eth_getBalance', [evm, `0x${(cluster.chain.slot() + 1).toString(16)}`])).error).toEqual({
      code: -32000,
      message: 'header not found',
    });
    expect((await call(url, 'eth_getBalance', ['0x1234', 'latest'])).error?.code).toBe(-32602);
    expect((await call(url, 'eth_getBalance', [evm, 'tomorrow'])).error?.code).toBe(-32602);
  });
});

describe('JSON-RPC envelope', () => {
  it('answers -32601 for an unknown method and -32602 for params that are not an array', async () => {
    expect((await call(url, 'getEverything', [])).error).toEqual({ code: -32601, message: 'Method not found' });
    const reply = parse<RpcReply<unknown>>(
      (await post(url, { jsonrpc: '2.0', id: 'x', method: 'getSlot', params: { commitment: 'confirmed' } })).text,
    );
    expect(reply).toEqual({ jsonrpc: '2.0', id: 'x', error: { code: -32602, message: expect.any(String) as string } });
    expect(RPC_METHODS).toEqual(
      expect.arrayContaining([
        'getSlot',
        'getAccountInfo',
        'getBalance',
        'getTransaction',
        'getSignaturesForAddress',
        'getSignatureStatuses',
        'getLatestBlockhash',
        'sendTransaction',
        'getHealth',
        'eth_chainId',
        'eth_blockNumber',
        'eth_getBalance',
      ]),
    );
  });

  it('answers malformed JSON with -32700 on HTTP 200, and a malformed request with -32600', async () => {
    const malformed = await post(url, '{"jsonrpc": "2.0", "method": "getSlot", ');
    expect(malformed.status).toBe(200);
    expect(malformed.headers.get('content-type')).toContain('application/json');
    expect(parse(malformed.text)).toEqual({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null });
    expect(parse((await post(url, { jsonrpc: '1.0', id: 4, method: 'getSlot' })).text)).toEqual({
      jsonrpc: '2.0',
      error: { code: -32600, message: 'Invalid request' },
      id: 4,
    });
    expect(parse((await post(url, '"just a string"')).text)).toEqual({
      jsonrpc: '2.0',
      error: { code: -32600, message: 'Invalid request' },
      id: null,
    });
    expect(parse((await post(url, [])).text)).toEqual({ jsonrpc: '2.0', error: { code: -32600, message: 'Invalid request' }, id: null });
  });

  it('echoes an id beyond 2^53 with every digit, as a node does', async () => {
    const answer = await post(url, '{"jsonrpc":"2.0","id":9007199254740993,"method":"getSlot"}');
    expect(answer.text).toMatch(/"id":9007199254740993[,}]/);
  });

  it('answers a batch in order, skipping notifications, with per-entry errors', async () => {
    const answer = await post(url, [
      { jsonrpc: '2.0', id: 1, method: 'getSlot' },
      { jsonrpc: '2.0', method: 'getSlot' },
      { jsonrpc: '2.0', id: 'b', method: 'nope' },
      42,
      { jsonrpc: '2.0', id: 3, method: 'eth_chainId' },
    ]);
    expect(answer.status).toBe(200);
    expect(parse(answer.text)).toEqual([
      { jsonrpc: '2.0', result: cluster.chain.slot(), id: 1 },
      { jsonrpc: '2.0', error: { code: -32601, message: 'Method not found' }, id: 'b' },
      { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid request' }, id: null },
      { jsonrpc: '2.0', result: '0x7a69', id: 3 },
    ]);
    const notificationsOnly = await post(url, [{ jsonrpc: '2.0', method: 'getSlot' }]);
    expect(notificationsOnly.status).toBe(200);
    expect(notificationsOnly.text).toBe('');
    const single = await post(url, { jsonrpc: '2.0', method: 'getSlot' });
    expect(single.text).toBe('');
  });

  it('refuses other HTTP methods with 405 and bodies over maxBodyBytes with 413', async () => {
    const small = await startRpcCluster({ autoAdvance: false, endpoints: 1, maxBodyBytes: 200 });
    try {
      const target = small.endpoints[0]!.url;
      const put = await fetch(target, { method: 'PUT', body: '{}' });
      expect(put.status).toBe(405);
      await put.text();
      const big = await post(target, { jsonrpc: '2.0', id: 1, method: 'getSlot', params: [{ padding: 'x'.repeat(400) }] });
      expect(big.status).toBe(413);
      expect(await result<number>(target, 'getSlot')).toBe(small.chain.slot());
      expect(small.stats('rpc-0').responses.rejected).toBe(2);
      expect(small.stats('rpc-0').requests).toBe(3);
    } finally {
      await small.close();
    }
  });
});
