import { afterEach, describe, expect, it } from 'vitest';
import { startRpcCluster } from '../src/index.js';
import type { RpcCluster, RpcClusterOptions } from '../src/index.js';
import { base64, fill, base58, result, transferWire } from './solana-helpers.js';
import { connect, until } from './stream-helpers.js';
import type { RawClient } from './stream-helpers.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function cluster(options: RpcClusterOptions = {}): Promise<RpcCluster> {
  const started = await startRpcCluster({ autoAdvance: false, endpoints: 1, chain: { transactionsPerSlot: 0 }, ...options });
  cleanup.push(() => started.close());
  return started;
}

async function client(url: string): Promise<RawClient> {
  const opened = await connect(url);
  cleanup.push(() => opened.close());
  return opened;
}

describe('the simulated cluster over WebSocket', () => {
  it('serves logsSubscribe on the HTTP port and notifies transactions as Solana does', async () => {
    const rpc = await cluster();
    const info = rpc.endpoints[0]!;
    expect(info.wsUrl).toBe(`ws://127.0.0.1:${info.port}`);
    const ws = await client(info.wsUrl);
    const [from, to] = rpc.chain.wallets();
    const id = await ws.subscribe('logsSubscribe', [{ mentions: [to] }, { commitment: 'processed' }]);
    const landed = rpc.chain.transfer({ from: from!, to: to!, lamports: 1_000 });
    await until(() => ws.notifications().length === 1);
    expect(ws.notifications()[0]).toEqual({
      jsonrpc: '2.0',
      method: 'logsNotification',
      params: {
        subscription: id,
        result: { context: { slot: landed.slot }, value: { signature: landed.signature, err: null, logs: [...landed.logMessages] } },
      },
    });
    expect(rpc.stats(info.id).stream).toMatchObject({ connections: 1, openConnections: 1, subscriptions: 1, notifications: 1 });
  });
});

const wallets = (rpc: RpcCluster): [string, string, string] => {
  const [a, b, c] = rpc.chain.wallets();
  return [a!, b!, c!];
};

describe('subscription methods', () => {
  it('logsSubscribe "all" sees every transaction; { mentions } only those naming the address', async () => {
    const rpc = await cluster();
    const ws = await client(rpc.endpoints[0]!.wsUrl);
    const [a, b, c] = wallets(rpc);
    const all = await ws.subscribe('logsSubscribe', ['all', { commitment: 'processed' }]);
    const onlyC = await ws.subscribe('logsSubscribe', [{ mentions: [c] }, { commitment: 'processed' }]);
    const first = rpc.chain.transfer({ from: a, to: b, lamports: 1 });
    const second = rpc.chain.transfer({ from: b, to: c, lamports: 1 });
    await until(() => ws.notifications().length === 3);
    const seen = ws
      .notifications()
      .map((frame) => [frame.params?.subscription, (frame.params?.result as { value: { signature: string } }).value.signature]);
    expect(seen).toEqual([
      [all, first.signature],
      [all, second.signature],
      [onlyC, second.signature],
    ]);
  });

  it('accountSubscribe: processed sees every write; confirmed one notification per slot with its final state', async () => {
    const rpc = await cluster();
    const ws = await client(rpc.endpoints[0]!.wsUrl);
    const [a, b] = wallets(rpc);
    const processed = await ws.subscribe('accountSubscribe', [b, { commitment: 'processed', encoding: 'base64' }]);
    const confirmed = await ws.subscribe('accountSubscribe', [b, { commitment: 'confirmed', encoding: 'base64' }]);
    const start = rpc.chain.account(b)!.lamports;
    rpc.chain.transfer({ from: a, to: b, lamports: 10 });
    rpc.chain.transfer({ from: a, to: b, lamports: 20 });
    const slot = rpc.chain.slot();
    await until(() => ws.notifications().length === 2);
    rpc.chain.advance(1);
    await until(() => ws.notifications().length === 3);
    const lamports = (subscription: number): number[] =>
      ws
        .notifications()
        .flatMap((frame) =>
          frame.params?.subscription === subscription ? [(frame.params.result as { value: { lamports: number } }).value.lamports] : [],
        );
    expect(lamports(processed)).toEqual([start + 10, start + 30]);
    expect(lamports(confirmed)).toEqual([start + 30]);
    const last = ws.notifications()[2]!;
    expect(last.method).toBe('accountNotification');
    expect(last.params?.result).toEqual({
      context: { slot },
      value: {
        data: ['', 'base64'],
        executable: false,
        lamports: start + 30,
        owner: '11111111111111111111111111111111',
        rentEpoch: 18446744073709552000,
        space: 0,
      },
    });
  });

  it('programSubscribe notifies writes of accounts the program owns, through dataSize and memcmp filters', async () => {
    const rpc = await cluster();
    const ws = await client(rpc.endpoints[0]!.wsUrl);
    const [data] = rpc.chain.dataAccounts();
    const state = rpc.chain.account(data!)!;
    const sized = await ws.subscribe('programSubscribe', [
      rpc.chain.programId,
      { commitment: 'processed', encoding: 'base64', filters: [{ dataSize: state.data.length }] },
    ]);
    await ws.subscribe('programSubscribe', [
      rpc.chain.programId,
      { commitment: 'processed', filters: [{ dataSize: state.data.length + 1 }] },
    ]);
    const otherFirstByte = Buffer.from([(state.data[0]! + 7) % 256]).toString('base64');
    await ws.subscribe('programSubscribe', [
      rpc.chain.programId,
      { commitment: 'processed', filters: [{ memcmp: { offset: 0, bytes: otherFirstByte, encoding: 'base64' } }] },
    ]);
    const matching = Buffer.from(state.data.subarray(1, 5)).toString('base64');
    const byBytes = await ws.subscribe('programSubscribe', [
      rpc.chain.programId,
      { commitment: 'processed', encoding: 'base64', filters: [{ memcmp: { offset: 1, bytes: matching, encoding: 'base64' } }] },
    ]);
    const next = state.data.slice();
    next[0] = (next[0]! + 1) % 256;
    rpc.chain.setAccount(data!, { lamports: state.lamports, data: next, owner: rpc.chain.programId });
    await until(() => ws.notifications().length === 2);
    expect(ws.notifications().map((frame) => frame.params?.subscription)).toEqual([sized, byBytes]);
    expect(ws.notifications()[0]).toMatchObject({
      method: 'programNotification',
      params: {
        subscription: sized,
        result: {
          context: { slot: rpc.chain.slot() },
          value: { pubkey: data, account: { data: [Buffer.from(next).toString('base64'), 'base64'], owner: rpc.chain.programId } },
        },
      },
    });
  });

  it('signatureSubscribe notifies once at its commitment and ends; a signature already there is notified at once', async () => {
    const rpc = await cluster();
    const ws = await client(rpc.endpoints[0]!.wsUrl);
    const [a, b] = wallets(rpc);
    const landed = rpc.chain.transfer({ from: a, to: b, lamports: 5 });
    const finalized = await ws.subscribe('signatureSubscribe', [landed.signature]);
    rpc.chain.advance(31);
    const early = ws.notifications().length;
    rpc.chain.advance(1);
    await until(() => ws.notifications().length === 1);
    expect(early).toBe(0);
    expect(ws.notifications()[0]).toEqual({
      jsonrpc: '2.0',
      method: 'signatureNotification',
      params: { subscription: finalized, result: { context: { slot: landed.slot }, value: { err: null } } },
    });
    rpc.chain.advance(5);
    const gone = await ws.request('signatureUnsubscribe', [finalized]);
    expect(gone.error).toEqual({ code: -32602, message: 'Invalid subscription id.' });
    const again = await ws.subscribe('signatureSubscribe', [landed.signature, { commitment: 'confirmed' }]);
    await until(() => ws.notifications().length === 2);
    expect(ws.notifications()[1]!.params?.subscription).toBe(again);
  });

  it('slotSubscribe notifies every new slot with its parent and root', async () => {
    const rpc = await cluster();
    const ws = await client(rpc.endpoints[0]!.wsUrl);
    const id = await ws.subscribe('slotSubscribe');
    const start = rpc.chain.slot();
    rpc.chain.advance(3);
    await until(() => ws.notifications().length === 3);
    expect(ws.notifications().map((frame) => frame.params)).toEqual(
      [1, 2, 3].map((step) => ({ subscription: id, result: { parent: start + step - 1, root: start + step - 32, slot: start + step } })),
    );
    await expect(ws.request('slotUnsubscribe', [id])).resolves.toMatchObject({ result: true });
    rpc.chain.advance(2);
    await ws.request('slotSubscribe');
    expect(ws.notifications()).toHaveLength(3);
  });

  it('a confirmed stream never reports an event before its slot is confirmed; finalized waits 32 slots', async () => {
    const rpc = await cluster();
    const ws = await client(rpc.endpoints[0]!.wsUrl);
    const [a, b] = wallets(rpc);
    const ids = {
      processed: await ws.subscribe('logsSubscribe', ['all', { commitment: 'processed' }]),
      confirmed: await ws.subscribe('logsSubscribe', ['all', { commitment: 'confirmed' }]),
      finalized: await ws.subscribe('logsSubscribe', ['all']),
    };
    rpc.chain.transfer({ from: a, to: b, lamports: 5 });
    const count = (id: number): number => ws.notifications().filter((frame) => frame.params?.subscription === id).length;
    await until(() => count(ids.processed) === 1);
    expect([count(ids.confirmed), count(ids.finalized)]).toEqual([0, 0]);
    rpc.chain.advance(1);
    await until(() => count(ids.confirmed) === 1);
    rpc.chain.advance(30);
    await ws.request('slotSubscribe');
    expect(count(ids.finalized)).toBe(0);
    rpc.chain.advance(1);
    await until(() => count(ids.finalized) === 1);
    expect(ws.notifications().filter((frame) => frame.method === 'logsNotification')).toHaveLength(3);
  });

  it('answers bad calls as a Solana node does', async () => {
    const rpc = await cluster();
    const ws = await client(rpc.endpoints[0]!.wsUrl);
    await expect(ws.request('getSlot')).resolves.toMatchObject({ error: { code: -32601, message: 'Method not found' } });
    await expect(ws.request('logsSubscribe', [{ mentions: ['a', 'b'] }])).resolves.toMatchObject({ error: { code: -32602 } });
    await expect(ws.request('accountSubscribe', ['not-an-address'])).resolves.toMatchObject({ error: { code: -32602 } });
    await expect(ws.request('logsSubscribe', ['all', { commitment: 'soon' }])).resolves.toMatchObject({ error: { code: -32602 } });
    await expect(ws.request('slotUnsubscribe', [12345])).resolves.toMatchObject({
      error: { code: -32602, message: 'Invalid subscription id.' },
    });
    const slot = await ws.subscribe('slotSubscribe');
    await expect(ws.request('logsUnsubscribe', [slot])).resolves.toMatchObject({ error: { code: -32602 } });
  });
});

describe('one chain behind HTTP and WebSocket', () => {
  it('a transaction sent over HTTP is notified over WebSocket when it lands, on every endpoint', async () => {
    const rpc = await cluster({ endpoints: 2 });
    const [http, other] = rpc.endpoints;
    const payer = base58(fill(32, 61));
    const to = base58(fill(32, 62));
    rpc.chain.setAccount(payer, { lamports: 10_000_000 });
    const sent = transferWire({ payer, to, lamports: 1_000, blockhash: rpc.chain.blockhash(), signatureSeed: 61 });
    const clients = [await client(http!.wsUrl), await client(other!.wsUrl)];
    const ids = await Promise.all(clients.map((ws) => ws.subscribe('signatureSubscribe', [sent.signature, { commitment: 'confirmed' }])));
    expect(await result<string>(http!.url, 'sendTransaction', [base64(sent.wire), { encoding: 'base64' }])).toBe(sent.signature);
    rpc.chain.advance(4);
    await until(() => clients.every((ws) => ws.notifications().length === 1));
    const landed = rpc.chain.transaction(sent.signature)!;
    expect(landed).not.toBeNull();
    clients.forEach((ws, index) => {
      expect(ws.notifications()[0]!.params).toEqual({
        subscription: ids[index],
        result: { context: { slot: landed.slot }, value: { err: null } },
      });
    });
  });
});
