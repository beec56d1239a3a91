import { afterEach, describe, expect, it, vi } from 'vitest';
import { isXError } from '@x/errors';
import { startRpcCluster, type RpcCluster, type RpcClusterOptions, type SimulatedTransaction } from '@x/testkit';
import { base58, fill, transferWire } from './solana-helpers.js';

const clusters: RpcCluster[] = [];

async function start(options: RpcClusterOptions = {}): Promise<RpcCluster> {
  const cluster = await startRpcCluster({ autoAdvance: false, endpoints: 1, ...options });
  clusters.push(cluster);
  return cluster;
}

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(clusters.splice(0).map((cluster) => cluster.close()));
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

function landedSince(cluster: RpcCluster, slot: number): SimulatedTransaction[] {
  const { chain } = cluster;
  const signatures = new Set([...chain.wallets(), ...chain.dataAccounts()].flatMap((address) => chain.signatures(address)));
  return [...signatures]
    .map((signature) => chain.transaction(signature))
    .filter((tx): tx is SimulatedTransaction => tx !== null && tx.slot > slot);
}

describe('the simulated chain', () => {
  it('starts at startSlot with history behind it and produces transactions every slot', async () => {
    const { chain } = await start({ chain: { startSlot: 5000, transactionsPerSlot: 3 } });
    expect(chain.slot()).toBe(5000);
    expect(chain.oldestSlot()).toBe(4850);
    const wallet = chain.wallets()[0] as string;
    expect(chain.signatures(wallet).length).toBeGreaterThan(0);

    const addresses = [...chain.wallets(), ...chain.dataAccounts()];
    const totalAt = (slot: number): number => addresses.reduce((sum, address) => sum + (chain.account(address, slot)?.lamports ?? 0), 0);
    const before = totalAt(5000);
    expect(chain.advance(20)).toBe(5020);
    const landed = landedSince({ chain } as RpcCluster, 5000);
    expect(landed.length).toBeGreaterThan(20);
    // Lamports only leave the simulated accounts as fees: transfers move them around.
    expect(before - totalAt(5020)).toBe(landed.reduce((sum, tx) => sum + tx.fee, 0));
    for (const tx of landed) {
      expect(tx.err).toBeNull();
      const pre = tx.preBalances.reduce((a, b) => a + b, 0);
      const post = tx.postBalances.reduce((a, b) => a + b, 0);
      expect(pre - post).toBe(tx.fee);
      expect(tx.slot).toBeLessThanOrEqual(5020);
      expect(tx.blockTime).toBe(chain.blockTime(tx.slot));
    }
    // Data accounts are rewritten by the simulated program, and older state stays readable.
    const changed = chain.dataAccounts().filter((address) => {
      const old = chain.account(address, 5000)?.data;
      const now = chain.account(address)?.data;
      return old !== undefined && now !== undefined && Buffer.compare(old, now) !== 0;
    });
    expect(changed.length).toBeGreaterThan(0);
    const owner = chain.account(chain.dataAccounts()[0] as string)?.owner;
    expect(owner).toBe(chain.programId);
    expect(chain.account(chain.programId)?.executable).toBe(true);
  });

  it('lists signatures per address newest first, growing as slots pass', async () => {
    const { chain } = await start({ chain: { transactionsPerSlot: 4 } });
    const wallet = chain.wallets()[1] as string;
    const before = chain.signatures(wallet);
    chain.advance(30);
    const after = chain.signatures(wallet);
    expect(after.length).toBeGreaterThan(before.length);
    expect(after.slice(after.length - before.length)).toEqual(before);
    const slots = after.map((signature) => chain.transaction(signature)?.slot ?? -1);
    expect([...slots].sort((a, b) => b - a)).toEqual(slots);
    for (const signature of after) expect(chain.transaction(signature)?.transaction.accountKeys).toContain(wallet);
  });

  it('transfer() lands in the tip slot; an overdraft lands failed and only pays the fee', async () => {
    const { chain } = await start({ chain: { transactionsPerSlot: 0 } });
    const [from, to] = chain.wallets() as [string, string];
    const fromBefore = chain.account(from)?.lamports ?? 0;
    const toBefore = chain.account(to)?.lamports ?? 0;
    const tx = chain.transfer({ from, to, lamports: 1_000 });
    expect(tx.slot).toBe(chain.slot());
    expect(tx.err).toBeNull();
    expect(tx.preBalances.slice(0, 2)).toEqual([fromBefore, toBefore]);
    expect(tx.postBalances.slice(0, 2)).toEqual([fromBefore - 1_000 - 5_000, toBefore + 1_000]);
    expect(chain.account(from)?.lamports).toBe(fromBefore - 6_000);
    expect(chain.signatures(from)[0]).toBe(tx.signature);
    expect(chain.signatures(to)[0]).toBe(tx.signature);

    const failed = chain.transfer({ from, to, lamports: fromBefore * 10 });
    expect(failed.err).toEqual({ InstructionError: [0, { Custom: 1 }] });
    expect(failed.logMessages.at(-1)).toContain('failed');
    expect(chain.account(from)?.lamports).toBe(fromBefore - 6_000 - 5_000);
    expect(chain.account(to)?.lamports).toBe(toBefore + 1_000);

    const stranger = base58(fill(32, 99));
    expect(
      isXError(
        catchError(() => chain.transfer({ from: stranger, to, lamports: 1 })),
        'TESTKIT_INVALID_ARGUMENT',
      ),
    ).toBe(true);
    expect(
      isXError(
        catchError(() => chain.transfer({ from, to: from, lamports: 1 })),
        'TESTKIT_INVALID_ARGUMENT',
      ),
    ).toBe(true);
    expect(
      isXError(
        catchError(() => chain.transfer({ from, to: 'not-an-address', lamports: 1 })),
        'TESTKIT_INVALID_ARGUMENT',
      ),
    ).toBe(true);
    expect(
      isXError(
        catchError(() => chain.transfer({ from, to, lamports: -1 })),
        'TESTKIT_INVALID_ARGUMENT',
      ),
    ).toBe(true);
  });

  it('setAccount() creates, replaces and closes accounts at the tip, keeping older state', async () => {
    const { chain } = await start({ chain: { transactionsPerSlot: 0 } });
    const address = base58(fill(32, 7));
    expect(chain.account(address)).toBeNull();
    chain.setAccount(address, { lamports: 42, data: Uint8Array.of(1, 2, 3), owner: chain.programId });
    const created = chain.slot();
    expect(chain.account(address)).toEqual({ lamports: 42, data: Uint8Array.of(1, 2, 3), owner: chain.programId, executable: false });
    chain.advance(1);
    chain.setAccount(address, { lamports: 0 });
    expect(chain.account(address)).toBeNull();
    expect(chain.account(address, created)?.lamports).toBe(42);
    expect(chain.account(address, created - 1)).toBeNull();

    const copy = chain.account(chain.dataAccounts()[0] as string);
    copy?.data.fill(0);
    expect(chain.account(chain.dataAccounts()[0] as string)?.data).not.toEqual(copy?.data);

    expect(
      isXError(
        catchError(() => chain.setAccount('x', { lamports: 1 })),
        'TESTKIT_INVALID_ARGUMENT',
      ),
    ).toBe(true);
    expect(
      isXError(
        catchError(() => chain.setAccount(address, { lamports: 1.5 })),
        'TESTKIT_INVALID_ARGUMENT',
      ),
    ).toBe(true);
    expect(
      isXError(
        catchError(() => chain.setAccount(address, { lamports: 1, data: [1] as never })),
        'TESTKIT_INVALID_ARGUMENT',
      ),
    ).toBe(true);
    expect(
      isXError(
        catchError(() => chain.setAccount(address, { lamports: 1, owner: 'bad' })),
        'TESTKIT_INVALID_ARGUMENT',
      ),
    ).toBe(true);
  });

  it('submitTransaction() lands a serialized transaction later, once, or drops it when the payer cannot pay', async () => {
    const { chain } = await start({ chain: { transactionsPerSlot: 0 } });
    const payer = base58(fill(32, 1));
    const to = base58(fill(32, 2));
    chain.setAccount(payer, { lamports: 1_000_000 });
    const { wire, signature } = transferWire({ payer, to, lamports: 250_000, blockhash: chain.blockhash(), signatureSeed: 1 });
    expect(chain.submitTransaction(wire, { delaySlots: 2 })).toBe(signature);
    expect(chain.submitTransaction(wire)).toBe(signature);
    expect(chain.transaction(signature)).toBeNull();
    chain.advance(1);
    expect(chain.transaction(signature)).toBeNull();
    chain.advance(1);
    const landed = chain.transaction(signature);
    expect(landed?.slot).toBe(chain.slot());
    expect(Buffer.from(landed?.wire ?? [])).toEqual(Buffer.from(wire));
    expect(chain.account(to)?.lamports).toBe(250_000);
    expect(chain.account(payer)?.lamports).toBe(1_000_000 - 250_000 - 5_000);
    expect(chain.submitTransaction(wire, { delaySlots: 0 })).toBe(signature);
    expect(chain.account(to)?.lamports).toBe(250_000);
    expect(chain.signatures(to)).toEqual([signature]);

    const broke = base58(fill(32, 3));
    const unpaid = transferWire({ payer: broke, to, lamports: 1, blockhash: chain.blockhash(), signatureSeed: 2 });
    chain.submitTransaction(unpaid.wire, { delaySlots: 1 });
    chain.advance(3);
    expect(chain.transaction(unpaid.signature)).toBeNull();

    expect(
      isXError(
        catchError(() => chain.submitTransaction(Uint8Array.of(1, 2, 3))),
        'TESTKIT_INVALID_ARGUMENT',
      ),
    ).toBe(true);
    expect(
      isXError(
        catchError(() => chain.submitTransaction(wire.subarray(0, wire.length - 1))),
        'TESTKIT_INVALID_ARGUMENT',
      ),
    ).toBe(true);
    expect(
      isXError(
        catchError(() => chain.submitTransaction(wire, { delaySlots: -1 })),
        'TESTKIT_INVALID_ARGUMENT',
      ),
    ).toBe(true);
  });

  it('is deterministic for a seed: same accounts, transactions and balances', async () => {
    const a = (await start({ seed: 'same' })).chain;
    const b = (await start({ seed: 'same' })).chain;
    const c = (await start({ seed: 'other' })).chain;
    expect(a.wallets()).toEqual(b.wallets());
    expect(a.wallets()).not.toEqual(c.wallets());
    a.advance(10);
    b.advance(10);
    for (const address of a.wallets()) {
      expect(a.signatures(address)).toEqual(b.signatures(address));
      expect(a.account(address)).toEqual(b.account(address));
    }
    expect(a.blockhash()).toBe(b.blockhash());
    expect(a.blockhash()).not.toBe(c.blockhash());
    expect(a.blockhash(a.slot() - 1)).not.toBe(a.blockhash());
  });

  it('forgets history older than retainSlots', async () => {
    const { chain } = await start({ chain: { retainSlots: 150, transactionsPerSlot: 2 } });
    const wallet = chain.wallets()[0] as string;
    const oldest = chain.signatures(wallet).at(-1) as string;
    const oldSlot = chain.transaction(oldest)?.slot as number;
    chain.advance(400);
    expect(chain.oldestSlot()).toBe(chain.slot() - 150);
    expect(chain.transaction(oldest)).toBeNull();
    expect(chain.signatures(wallet)).not.toContain(oldest);
    expect(oldSlot).toBeLessThan(chain.oldestSlot());
    const remaining = chain.signatures(wallet).map((signature) => chain.transaction(signature)?.slot ?? -1);
    expect(Math.min(...remaining)).toBeGreaterThanOrEqual(chain.oldestSlot());
  });

  it('advances one slot per slotMs on its own timer, and stops on close()', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
    const cluster = await startRpcCluster({ endpoints: 1, slotMs: 400, chain: { startSlot: 9000 } });
    clusters.push(cluster);
    expect(cluster.chain.slot()).toBe(9000);
    vi.advanceTimersByTime(399);
    expect(cluster.chain.slot()).toBe(9000);
    vi.advanceTimersByTime(1);
    expect(cluster.chain.slot()).toBe(9001);
    vi.advanceTimersByTime(4000);
    expect(cluster.chain.slot()).toBe(9011);
    expect(vi.getTimerCount()).toBe(1);
    await cluster.close();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(4000);
    expect(cluster.chain.slot()).toBe(9011);
  });

  it('refuses changes after close() but still answers reads', async () => {
    const cluster = await start();
    await cluster.close();
    await cluster.close();
    const error = catchError(() => cluster.chain.advance());
    expect(isXError(error, 'TESTKIT_RPC_CLOSED')).toBe(true);
    expect(
      isXError(
        catchError(() => cluster.chain.transfer({ from: 'a', to: 'b', lamports: 1 })),
        'TESTKIT_RPC_CLOSED',
      ),
    ).toBe(true);
    expect(cluster.chain.slot()).toBe(300_000_000);
    expect(cluster.chain.account(cluster.chain.wallets()[0] as string)).not.toBeNull();
  });

  it('maps accounts to EVM addresses and times slots from startTimeMs', async () => {
    const { chain } = await start({ slotMs: 500, chain: { startSlot: 2000, startTimeMs: Date.UTC(2024, 0, 1) } });
    const evm = chain.evmAddressOf(chain.wallets()[0] as string);
    expect(evm).toMatch(/^0x[0-9a-f]{40}$/);
    expect(chain.blockTime(2000)).toBe(Date.UTC(2024, 0, 1) / 1000);
    expect(chain.blockTime(2010)).toBe(Date.UTC(2024, 0, 1) / 1000 + 5);
    expect(chain.evmChainId).toBe(31337);
    expect(
      isXError(
        catchError(() => chain.advance(-1)),
        'TESTKIT_INVALID_ARGUMENT',
      ),
    ).toBe(true);
  });
});
