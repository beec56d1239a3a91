import { afterEach, describe, expect, it, vi } from 'vitest';
import { startRpcCluster } from '../src/index.js';
import type { RpcCluster, RpcClusterOptions, RpcStreamFaults } from '../src/index.js';
import { connect, until } from './stream-helpers.js';
import type { RawClient } from './stream-helpers.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function cluster(stream: Partial<RpcStreamFaults>, options: RpcClusterOptions = {}): Promise<RpcCluster> {
  const started = await startRpcCluster({
    autoAdvance: false,
    endpoints: [{ id: 'p', behavior: { stream } }],
    chain: { transactionsPerSlot: 0 },
    ...options,
  });
  cleanup.push(() => started.close());
  return started;
}

async function client(rpc: RpcCluster): Promise<RawClient> {
  const opened = await connect(rpc.endpoints[0]!.wsUrl);
  cleanup.push(() => opened.close());
  return opened;
}

const slots = (ws: RawClient): number[] => ws.notifications().map((frame) => (frame.params?.result as { slot: number }).slot);

describe('seeded stream faults', () => {
  it('dropRate: dropped notifications are never sent, and counted', async () => {
    const rpc = await cluster({ dropRate: 0.5 }, { seed: 7 });
    const ws = await client(rpc);
    await ws.subscribe('slotSubscribe');
    const start = rpc.chain.slot();
    rpc.chain.advance(40);
    const { dropped, notifications } = rpc.stats('p').stream;
    expect(dropped + notifications).toBe(40);
    expect(dropped).toBeGreaterThan(5);
    expect(notifications).toBeGreaterThan(5);
    await until(() => ws.notifications().length === notifications);
    expect(slots(ws).every((slot, index, all) => slot > start && (index === 0 || slot > all[index - 1]!))).toBe(true);
  });

  it('the same seed drops the same notifications; another seed others', async () => {
    const seen = async (seed: number): Promise<number[]> => {
      const rpc = await cluster({ dropRate: 0.5 }, { seed });
      const ws = await client(rpc);
      await ws.subscribe('slotSubscribe');
      const start = rpc.chain.slot();
      rpc.chain.advance(30);
      await until(() => ws.notifications().length === rpc.stats('p').stream.notifications);
      return slots(ws).map((slot) => slot - start);
    };
    const first = await seen(11);
    expect(await seen(11)).toEqual(first);
    expect(await seen(12)).not.toEqual(first);
  });

  it('duplicateRate: a duplicated notification arrives twice in a row', async () => {
    const rpc = await cluster({ duplicateRate: 1 });
    const ws = await client(rpc);
    await ws.subscribe('slotSubscribe');
    const start = rpc.chain.slot();
    rpc.chain.advance(3);
    await until(() => ws.notifications().length === 6);
    expect(slots(ws).map((slot) => slot - start)).toEqual([1, 1, 2, 2, 3, 3]);
    expect(rpc.stats('p').stream).toMatchObject({ notifications: 6, duplicated: 3 });
  });

  it('reorderRate: a held notification goes out right after the next one', async () => {
    const rpc = await cluster({ reorderRate: 1 });
    const ws = await client(rpc);
    await ws.subscribe('slotSubscribe');
    const start = rpc.chain.slot();
    rpc.chain.advance(4);
    await until(() => ws.notifications().length === 4);
    expect(slots(ws).map((slot) => slot - start)).toEqual([2, 1, 4, 3]);
    expect(rpc.stats('p').stream.reordered).toBe(2);
  });

  it('reorderRate: a held notification with no successor still goes out', async () => {
    const rpc = await cluster({ reorderRate: 1 });
    const ws = await client(rpc);
    await ws.subscribe('slotSubscribe');
    rpc.chain.advance(1);
    await until(() => ws.notifications().length === 1);
    expect(rpc.stats('p').stream).toMatchObject({ reordered: 1, notifications: 1 });
  });

  it('delayMs and jitterMs: nothing goes out before its delay; jitter keeps the order', async () => {
    const rpc = await cluster({ delayMs: 100, jitterMs: 50 });
    const ws = await client(rpc);
    await ws.subscribe('slotSubscribe');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const start = rpc.chain.slot();
    rpc.chain.advance(5);
    vi.advanceTimersByTime(99);
    expect(rpc.stats('p').stream.notifications).toBe(0);
    // Every delay is within delayMs + jitterMs (and the little real time spent scheduling).
    vi.advanceTimersByTime(100);
    expect(rpc.stats('p').stream.notifications).toBe(5);
    vi.useRealTimers();
    await until(() => ws.notifications().length === 5);
    expect(slots(ws).map((slot) => slot - start)).toEqual([1, 2, 3, 4, 5]);
  });

  it('stallRate and stallMs: the socket stays open but delivers nothing for stallMs, then everything due, in order', async () => {
    const rpc = await cluster({ stallRate: 1, stallMs: 200 });
    const ws = await client(rpc);
    await ws.subscribe('slotSubscribe');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const start = rpc.chain.slot();
    rpc.chain.advance(5);
    vi.advanceTimersByTime(150);
    expect(rpc.stats('p').stream).toMatchObject({ notifications: 0, stalls: 1, stalled: 5, openConnections: 1, subscriptions: 1 });
    // The stall started with the first notification: everything goes out once it is over (plus the real time spent here).
    vi.advanceTimersByTime(250);
    expect(rpc.stats('p').stream.notifications).toBe(5);
    vi.useRealTimers();
    await until(() => ws.notifications().length === 5);
    expect(slots(ws).map((slot) => slot - start)).toEqual([1, 2, 3, 4, 5]);
  });

  it('stallRate: stalls are drawn from the seeded stream, the same for the same seed', async () => {
    const stalls = async (seed: number): Promise<number> => {
      const rpc = await cluster({ stallRate: 0.2, stallMs: 1 }, { seed });
      const ws = await client(rpc);
      await ws.subscribe('slotSubscribe');
      for (let i = 0; i < 30; i++) {
        rpc.chain.advance(1);
        // Each stall is over before the next slot (1 ms), so that each notification draws.
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await until(() => ws.notifications().length === 30);
      return rpc.stats('p').stream.stalls;
    };
    const first = await stalls(21);
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(30);
    expect(await stalls(21)).toBe(first);
  });

  it('disconnectRate: the connection drops abruptly instead of delivering', async () => {
    const rpc = await cluster({ disconnectRate: 1 });
    const ws = await client(rpc);
    await ws.subscribe('slotSubscribe');
    rpc.chain.advance(1);
    await expect(ws.closed).resolves.toEqual({ code: 1006 });
    expect(ws.notifications()).toHaveLength(0);
    expect(rpc.stats('p').stream).toMatchObject({ disconnects: 1, openConnections: 0, subscriptions: 0 });
  });

  it('disconnectStreams() drops every connection of one endpoint; new connections are accepted', async () => {
    const rpc = await cluster({});
    const ws = await client(rpc);
    const other = await client(rpc);
    expect(rpc.disconnectStreams('p')).toBe(2);
    await expect(ws.closed).resolves.toEqual({ code: 1006 });
    await other.closed;
    const again = await client(rpc);
    await expect(again.subscribe('slotSubscribe')).resolves.toBe(1);
    expect(rpc.stats('p').stream).toMatchObject({ connections: 3, openConnections: 1, disconnects: 2 });
  });

  it('neverConfirms: processed streams deliver, confirmed and finalized never do, until it confirms again', async () => {
    const rpc = await cluster({ neverConfirms: true });
    const ws = await client(rpc);
    const [a, b] = rpc.chain.wallets();
    const processed = await ws.subscribe('logsSubscribe', ['all', { commitment: 'processed' }]);
    const confirmed = await ws.subscribe('logsSubscribe', ['all', { commitment: 'confirmed' }]);
    const landed = rpc.chain.transfer({ from: a!, to: b!, lamports: 1 });
    const signature = await ws.subscribe('signatureSubscribe', [landed.signature, { commitment: 'confirmed' }]);
    rpc.chain.advance(40);
    await until(() => ws.notifications().length === 1);
    await ws.request('slotSubscribe');
    expect(ws.notifications().map((frame) => frame.params?.subscription)).toEqual([processed]);
    rpc.setBehavior('p', { stream: { neverConfirms: false } });
    await until(() => ws.notifications().length === 3);
    expect(
      ws
        .notifications()
        .map((frame) => frame.params?.subscription)
        .sort(),
    ).toEqual([processed, confirmed, signature].sort());
  });

  it('a lagging endpoint (slotLag) delivers each event only once its view reaches it', async () => {
    const rpc = await startRpcCluster({
      autoAdvance: false,
      chain: { transactionsPerSlot: 0 },
      endpoints: [{ id: 'fast' }, { id: 'slow', behavior: { slotLag: 3 } }],
    });
    cleanup.push(() => rpc.close());
    const fast = await connect(rpc.endpoints[0]!.wsUrl);
    const slow = await connect(rpc.endpoints[1]!.wsUrl);
    cleanup.push(
      () => fast.close(),
      () => slow.close(),
    );
    await fast.subscribe('logsSubscribe', ['all', { commitment: 'processed' }]);
    await slow.subscribe('logsSubscribe', ['all', { commitment: 'processed' }]);
    const [a, b] = rpc.chain.wallets();
    const landed = rpc.chain.transfer({ from: a!, to: b!, lamports: 1 });
    await until(() => fast.notifications().length === 1);
    rpc.chain.advance(2);
    await slow.request('slotSubscribe');
    expect(slow.notifications()).toHaveLength(0);
    rpc.chain.advance(1);
    await until(() => slow.notifications().length === 1);
    expect(slow.notifications()[0]!.params?.result).toEqual(fast.notifications()[0]!.params?.result);
    expect((slow.notifications()[0]!.params?.result as { context: { slot: number } }).context.slot).toBe(landed.slot);
  });

  it('a hung endpoint accepts the WebSocket and answers nothing; a down one refuses it', async () => {
    const rpc = await cluster({});
    rpc.setBehavior('p', { mode: 'hung' });
    const ws = await client(rpc);
    let answered = false;
    void ws.request('slotSubscribe').then(() => (answered = true));
    rpc.chain.advance(3);
    await until(() => rpc.stats('p').stream.connections === 1);
    expect(answered).toBe(false);
    rpc.setBehavior('p', { mode: 'down' });
    await expect(ws.closed).resolves.toEqual({ code: 1006 });
    await expect(connect(rpc.endpoints[0]!.wsUrl)).rejects.toThrow();
  });

  it('close() ends every WebSocket and notification timer', async () => {
    const before = process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
    const rpc = await startRpcCluster({ autoAdvance: false, endpoints: [{ id: 'p', behavior: { stream: { delayMs: 60_000 } } }] });
    const ws = await connect(rpc.endpoints[0]!.wsUrl);
    await ws.subscribe('slotSubscribe');
    rpc.chain.advance(2);
    await rpc.close();
    await expect(ws.closed).resolves.toEqual({ code: 1006 });
    expect(rpc.stats('p').stream.notifications).toBe(0);
    const timers = process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
    expect(timers).toBeLessThanOrEqual(before);
  });

  it('checks stream options, naming the field', async () => {
    await expect(startRpcCluster({ behavior: { stream: { dropRate: 2 } } })).rejects.toMatchObject({
      code: 'TESTKIT_RPC_INVALID_OPTIONS',
      context: { option: 'behavior.stream.dropRate' },
    });
    await expect(startRpcCluster({ behavior: { stream: { lossy: true } as never } })).rejects.toMatchObject({
      context: { option: 'behavior.stream' },
    });
    await expect(startRpcCluster({ behavior: { stream: { neverConfirms: 'yes' as never } } })).rejects.toMatchObject({
      context: { option: 'behavior.stream.neverConfirms' },
    });
  });
});
