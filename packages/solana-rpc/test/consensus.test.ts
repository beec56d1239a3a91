import { base58 } from '@scure/base';
import { afterEach, describe, expect, it } from 'vitest';
import { isXError } from '@x/errors';
import { rpcProfiles } from '@x/testkit';
import { DEFAULT_MAX_SLOT_LAG } from '@x/solana-rpc';
import type { SolanaCallDetails } from '@x/solana-rpc';
import { setup } from './helpers.js';
import type { Setup } from './helpers.js';

let current: Setup | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

const ids = (votes: ReadonlyArray<{ endpoint: string }> | undefined): string[] => (votes ?? []).map((vote) => vote.endpoint).sort();
const valueOf = (details: SolanaCallDetails): unknown => (details.result as { value: unknown }).value;

describe('a lagging endpoint never wins consensus', () => {
  it('outvoted when its older state differs, and never the source of the answer', async () => {
    current = await setup([{ id: 'a' }, { id: 'b' }, { id: 'lagging', behavior: { slotLag: 3 } }]);
    const { cluster, client } = current;
    const [wallet] = cluster.chain.wallets();
    cluster.chain.advance(5);
    cluster.chain.setAccount(wallet!, { lamports: 4_242_000 });
    const tip = cluster.chain.slot();
    for (let i = 0; i < 5; i++) {
      const details = await client.callWithDetails('getBalance', [wallet], { strategy: 'consensus' });
      expect(valueOf(details)).toBe(4_242_000);
      expect(details.slot).toBe(tip);
      expect(details.endpoint).not.toBe('lagging');
      expect(ids(details.consensus?.agreed)).not.toContain('lagging');
    }
  });

  it('listed as a dissenter when it did vote, with its own older slot kept', async () => {
    // With a quorum of 2 among 4 and one endpoint hung, the call waits until the lagging vote is in.
    current = await setup(
      [{ id: 'a' }, { id: 'b' }, { id: 'lagging', behavior: { slotLag: 3 } }, { id: 'hung', behavior: rpcProfiles.hung }],
      {
        client: { methods: { getBalance: { strategy: 'consensus', quorum: 2, deadlineMs: 300 } } },
      },
    );
    const { cluster, client } = current;
    const [wallet] = cluster.chain.wallets();
    cluster.chain.advance(5);
    cluster.chain.setAccount(wallet!, { lamports: 777_000 });
    const tip = cluster.chain.slot();
    const details = await client.callWithDetails('getBalance', [wallet]);
    expect(valueOf(details)).toBe(777_000);
    expect(ids(details.consensus?.agreed)).toEqual(['a', 'b']);
    expect(details.consensus?.dissented).toEqual([expect.objectContaining({ endpoint: 'lagging', slot: tip - 3 })]);
    expect(details.consensus?.unanswered.map((entry) => entry.endpoint)).toEqual(['hung']);
  });

  it('agreeing on an unchanged value still yields the freshest slot, not the lagging one', async () => {
    current = await setup([{ id: 'lagging', behavior: { slotLag: 4 } }, { id: 'a' }, { id: 'b' }], {
      client: { methods: { getBalance: { strategy: 'consensus', quorum: 3 } } },
    });
    const { cluster, client } = current;
    // An account no simulated transaction touches.
    const wallet = base58.encode(new Uint8Array(32).fill(7));
    cluster.chain.setAccount(wallet, { lamports: 1_000_000 });
    cluster.chain.advance(6);
    const details = await client.callWithDetails('getBalance', [wallet]);
    expect(valueOf(details)).toBe(1_000_000);
    expect(ids(details.consensus?.agreed)).toEqual(['a', 'b', 'lagging']);
    expect(details.slot).toBe(cluster.chain.slot());
    expect(details.endpoint).not.toBe('lagging');
  });

  it('beyond maxSlotLag its answers are rejected as stale: with slotQuorum 1 even a lagging majority cannot win', async () => {
    current = await setup([{ id: 'fresh' }, { id: 'far1', behavior: { slotLag: 40 } }, { id: 'far2', behavior: { slotLag: 40 } }], {
      client: { maxSlotLag: 10, slotQuorum: 1 },
    });
    const { cluster, client } = current;
    cluster.chain.advance(50);
    // Broadcast waits for every answer: this call only establishes the watermark.
    await client.callWithDetails('getSlot', [], { strategy: 'broadcast' });
    expect(client.slotWatermark('finalized')).toBe(cluster.chain.slot());
    const [wallet] = cluster.chain.wallets();
    cluster.chain.setAccount(wallet!, { lamports: 31_337 });
    const error = await client.call('getBalance', [wallet], { strategy: 'consensus' }).catch((caught: unknown) => caught);
    expect(isXError(error, 'SOLANA_NO_CONSENSUS')).toBe(true);
    const context = (error as { context: Record<string, unknown> }).context;
    expect(context).toMatchObject({ reason: 'too-few', quorum: 2 });
    // The vote ends as soon as the quorum is out of reach: 'fresh' is counted when it answered before both stale
    // answers came back, and cut (unanswered) otherwise. Either way it is never outvoted by the lagging pair.
    if ((context.groups as unknown[]).length === 0) expect(context.unanswered).toEqual(['fresh']);
    else expect(context).toMatchObject({ groups: [{ endpoints: ['fresh'] }], unanswered: [] });
    const failures = context.failures as Array<{ endpoint: string; error: { code: string } }>;
    expect(failures.map((failure) => [failure.endpoint, failure.error.code]).sort()).toEqual([
      ['far1', 'SOLANA_STALE_SLOT'],
      ['far2', 'SOLANA_STALE_SLOT'],
    ]);
  });
});

describe('a lying endpoint is outvoted', () => {
  it('getBalance, getAccountInfo and getTransaction always give the truth', async () => {
    current = await setup([{ id: 'a' }, { id: 'liar', behavior: rpcProfiles.liar }, { id: 'b' }]);
    const { cluster, client } = current;
    const [from, to] = cluster.chain.wallets();
    const [data] = cluster.chain.dataAccounts();
    const landed = cluster.chain.transfer({ from: from!, to: to!, lamports: 12_345 });
    cluster.chain.advance(1);
    for (let i = 0; i < 4; i++) {
      const balance = await client.callWithDetails('getBalance', [from], { strategy: 'consensus' });
      expect(valueOf(balance)).toBe(cluster.chain.account(from!)!.lamports);
      expect(ids(balance.consensus?.agreed)).not.toContain('liar');
      const info = await client.callWithDetails('getAccountInfo', [data, { encoding: 'base64' }], { strategy: 'consensus' });
      const account = valueOf(info) as { lamports: number; data: [string, string] };
      expect(account.lamports).toBe(cluster.chain.account(data!)!.lamports);
      expect(account.data[0]).toBe(Buffer.from(cluster.chain.account(data!)!.data).toString('base64'));
      const tx = await client.callWithDetails('getTransaction', [landed.signature]);
      expect((tx.result as { meta: { fee: number } }).meta.fee).toBe(landed.fee);
      expect(tx.policy.strategy).toBe('consensus');
      expect(ids(tx.consensus?.agreed)).not.toContain('liar');
    }
  });

  it('is named as a dissenter when its vote is in', async () => {
    current = await setup(
      [{ id: 'a' }, { id: 'liar', behavior: rpcProfiles.liar }, { id: 'b' }, { id: 'hung', behavior: rpcProfiles.hung }],
      {
        client: { methods: { getBalance: { strategy: 'consensus', quorum: 2, deadlineMs: 300 } } },
      },
    );
    const { cluster, client } = current;
    const [wallet] = cluster.chain.wallets();
    const details = await client.callWithDetails('getBalance', [wallet]);
    expect(valueOf(details)).toBe(cluster.chain.account(wallet!)!.lamports);
    expect(ids(details.consensus?.dissented)).toEqual(['liar']);
  });

  it('a forged newest signature never reaches a getSignaturesForAddress consensus', async () => {
    current = await setup([{ id: 'liar', behavior: rpcProfiles.liar }, { id: 'a' }, { id: 'b' }]);
    const { cluster, client } = current;
    const [from, to] = cluster.chain.wallets();
    cluster.chain.advance(3);
    cluster.chain.transfer({ from: from!, to: to!, lamports: 1 });
    cluster.chain.advance(2);
    const truth = cluster.chain.signatures(from!);
    const details = await client.callWithDetails('getSignaturesForAddress', [from, { limit: 20 }], { strategy: 'consensus' });
    expect((details.result as Array<{ signature: string }>).map((entry) => entry.signature)).toEqual(truth.slice(0, 20));
    expect(details.endpoint).toBeUndefined();
  });

  it('with a lagging node in between, the common part is returned and the newest comes once confirmed', async () => {
    // No background activity: the lists hold exactly the transfers made here.
    current = await setup([{ id: 'a' }, { id: 'lagging', behavior: { slotLag: 2 } }, { id: 'liar', behavior: rpcProfiles.liar }], {
      cluster: { chain: { transactionsPerSlot: 0 } },
    });
    const { cluster, client } = current;
    const [from, to] = cluster.chain.wallets();
    const first = cluster.chain.transfer({ from: from!, to: to!, lamports: 1 });
    cluster.chain.advance(3);
    const newest = cluster.chain.transfer({ from: from!, to: to!, lamports: 2 });
    const details = await client.callWithDetails('getSignaturesForAddress', [from, { limit: 50 }], { strategy: 'consensus' });
    const listed = (details.result as Array<{ signature: string }>).map((entry) => entry.signature);
    expect(listed).toEqual([first.signature]);
    cluster.chain.advance(2);
    const later = await client.call<Array<{ signature: string }>>('getSignaturesForAddress', [from, { limit: 50 }], {
      strategy: 'consensus',
    });
    expect(later.map((entry) => entry.signature)).toEqual([newest.signature, first.signature]);
  });
});

describe('null transactions mean "not yet"', () => {
  it('an unknown signature is null, with every endpoint abstaining', async () => {
    current = await setup([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    const { client } = current;
    const unknown = '5'.repeat(87);
    const details = await client.callWithDetails('getTransaction', [unknown]);
    expect(details.result).toBeNull();
    expect(details.endpoint).toBeUndefined();
    expect(ids(details.consensus?.abstained)).toEqual(['a', 'b', 'c']);
    expect(await client.call('getTransaction', [unknown], { strategy: 'race' })).toBeNull();
  });

  it('a transaction only one node has yet is not outvoted by the nodes that answer null', async () => {
    current = await setup([{ id: 'slow1', behavior: { slotLag: 2 } }, { id: 'fresh' }, { id: 'slow2', behavior: { slotLag: 2 } }]);
    const { cluster, client } = current;
    const [from, to] = cluster.chain.wallets();
    cluster.chain.advance(5);
    const landed = cluster.chain.transfer({ from: from!, to: to!, lamports: 99 });
    const details = await client.callWithDetails('getTransaction', [landed.signature]);
    expect((details.result as { slot: number }).slot).toBe(landed.slot);
    expect(details.endpoint).toBe('fresh');
    expect(ids(details.consensus?.abstained)).toEqual(['slow1', 'slow2']);
    // A race does not stop at a null either: the one node that has it wins.
    const raced = await client.callWithDetails('getTransaction', [landed.signature], { strategy: 'race' });
    expect(raced.endpoint).toBe('fresh');
    const nulls = raced.attempts.filter((attempt) => attempt.error?.code === 'SOLANA_NOT_YET');
    expect(nulls.every((attempt) => attempt.endpoint !== 'fresh')).toBe(true);
    // "Not yet" is an answer, not a failure of the endpoint.
    const snapshot = client.pool.snapshot();
    for (const endpoint of snapshot.endpoints) expect(endpoint.totals.error).toBe(0);
  });
});

describe('slot watermark', () => {
  it('rejects a stale answer (SOLANA_STALE_SLOT, category server) and fails over', async () => {
    // Two endpoints cannot outvote each other: slotQuorum 1 trusts the freshest.
    current = await setup([{ id: 'fresh' }, { id: 'stale', behavior: { slotLag: 25 } }], { client: { slotQuorum: 1 } });
    const { cluster, client } = current;
    cluster.chain.advance(30);
    const tip = cluster.chain.slot();
    expect(client.slotWatermark()).toBeUndefined();
    await client.callWithDetails('getSlot', [], { strategy: 'broadcast' });
    expect(client.slotWatermark()).toBe(tip);
    const [wallet] = cluster.chain.wallets();
    const details = await client.callWithDetails('getBalance', [wallet], { strategy: 'broadcast' });
    const stale = details.broadcast?.find((outcome) => outcome.endpoint === 'stale');
    expect(stale?.ok).toBe(false);
    const error = stale?.ok === false ? stale.error : undefined;
    expect(error?.code).toBe('SOLANA_STALE_SLOT');
    expect(error?.category).toBe('server');
    expect(error?.context).toMatchObject({
      endpoint: 'stale',
      slot: tip - 25,
      watermark: tip,
      maxSlotLag: DEFAULT_MAX_SLOT_LAG,
      commitment: 'finalized',
    });
    expect(client.pool.snapshot().endpoints.find((endpoint) => endpoint.id === 'stale')?.lastError?.code).toBe('SOLANA_STALE_SLOT');
    for (let i = 0; i < 3; i++) expect(await client.call('getSlot', [], { strategy: 'race' })).toBe(tip);
  });

  it('keeps one watermark per commitment', async () => {
    current = await setup([{ id: 'a' }]);
    const { cluster, client } = current;
    const tip = cluster.chain.slot();
    await client.call('getSlot', [], { commitment: 'confirmed' });
    expect(client.slotWatermark('confirmed')).toBe(tip);
    expect(client.slotWatermark('finalized')).toBeUndefined();
    expect(client.slotWatermark()).toBe(tip);
  });

  it("minContextSlot: 'watermark' keeps reads monotonic: a node behind it answers -32016 and is not used", async () => {
    current = await setup([{ id: 'fresh' }, { id: 'behind', behavior: { slotLag: 2 } }], { client: { slotQuorum: 1 } });
    const { cluster, client } = current;
    cluster.chain.advance(5);
    await client.call('getSlot', [], { strategy: 'broadcast' });
    const [wallet] = cluster.chain.wallets();
    const details = await client.callWithDetails('getBalance', [wallet], { strategy: 'broadcast', minContextSlot: 'watermark' });
    const behind = details.broadcast?.find((outcome) => outcome.endpoint === 'behind');
    expect(behind?.ok === false && behind.error.context.rpcCode).toBe(-32016);
    expect(details.endpoint).toBe('fresh');
    expect(details.slot).toBe(cluster.chain.slot());
  });
});

describe('a hung endpoint never stalls a race', () => {
  it('the race returns from the others and the hung request is cut as a loser', async () => {
    current = await setup([{ id: 'hung', behavior: rpcProfiles.hung }, { id: 'ok' }, { id: 'hung2', behavior: rpcProfiles.hung }], {
      client: { methods: { getAccountInfo: { deadlineMs: 60_000 } } },
    });
    const { cluster, client } = current;
    const [data] = cluster.chain.dataAccounts();
    for (let i = 0; i < 3; i++) {
      const details = await client.callWithDetails('getAccountInfo', [data, { encoding: 'base64' }]);
      expect(details.policy.strategy).toBe('race');
      expect(details.endpoint).toBe('ok');
      const hung = details.attempts.filter((attempt) => attempt.endpoint !== 'ok');
      expect(hung).toHaveLength(2);
      expect(hung.every((attempt) => attempt.abortedAsLoser && attempt.error?.category === 'aborted')).toBe(true);
    }
  });
});

describe('presets', () => {
  it('getAccountInfo races with a 50 ms budget, getTransaction votes within 200 ms', async () => {
    // Against hung endpoints only, each call ends exactly at its budget, whatever the machine's speed.
    current = await setup(
      [
        { id: 'h1', behavior: rpcProfiles.hung },
        { id: 'h2', behavior: rpcProfiles.hung },
      ],
      { presets: true },
    );
    const { client } = current;
    const unknown = '5'.repeat(87);
    await expect(client.call('getAccountInfo', [unknown])).rejects.toSatisfy(
      (error: unknown) => isXError(error, 'STRATEGY_DEADLINE_EXCEEDED') && error.context.deadlineMs === 50,
    );
    const consensus = await client.call('getTransaction', [unknown]).catch((error: unknown) => error);
    expect(consensus).toSatisfy(
      (error: unknown) => isXError(error, 'SOLANA_NO_CONSENSUS') && error.category === 'timeout' && error.context.deadlineMs === 200,
    );
    await expect(client.call('getSignaturesForAddress', [unknown])).rejects.toSatisfy(
      (error: unknown) =>
        isXError(error, 'STRATEGY_DEADLINE_EXCEEDED') && error.context.deadlineMs === 100 && error.context.strategy === 'dual',
    );
  });

  it('getSignaturesForAddress polls through primary/secondary pairs', async () => {
    current = await setup([{ id: 'p' }, { id: 's' }]);
    const { cluster, client } = current;
    const [wallet] = cluster.chain.wallets();
    const details = await client.callWithDetails('getSignaturesForAddress', [wallet, { limit: 10 }]);
    expect(details.policy.strategy).toBe('dual');
    expect((details.result as Array<{ signature: string }>).map((entry) => entry.signature)).toEqual(
      cluster.chain.signatures(wallet!).slice(0, 10),
    );
    // Primary and secondary of the pair start together.
    expect(details.attempts.map((attempt) => attempt.endpoint).sort()).toEqual(['p', 's']);
  });
});
