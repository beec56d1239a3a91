import { address, createSolanaRpcSubscriptionsFromTransport } from '@solana/kit';
import type { RpcSubscriptionsTransport } from '@solana/kit';
import { createKitSubscriptionsTransport, createSolanaSubscriptions, createSubscriptionHub } from '@x/solana-rpc';
import type { SolanaSubscriptions } from '@x/solana-rpc';
import { fakeLogsResult, startFakeWsProvider } from '@x/testkit';
import type { FakeWsProvider } from '@x/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const PROGRAM = '6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P';

let providers: FakeWsProvider[] = [];
let subscriptions: SolanaSubscriptions | undefined;

afterEach(async () => {
  await subscriptions?.close();
  await Promise.all(providers.map((p) => p.close()));
  providers = [];
  subscriptions = undefined;
});

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setImmediate(resolve));
}

describe('createKitSubscriptionsTransport', () => {
  it("kit's own subscription API receives every merged event once, from several providers", async () => {
    providers = await Promise.all([startFakeWsProvider(), startFakeWsProvider(), startFakeWsProvider()]);
    subscriptions = createSolanaSubscriptions({
      endpoints: providers.map((p, i) => ({ url: p.url, id: `p${i}` })),
      ws: { pingIntervalMs: false },
    });
    // The one line a kit user changes: createSolanaRpcSubscriptions(url) becomes this.
    const transport: RpcSubscriptionsTransport = createKitSubscriptionsTransport(subscriptions);
    const rpcSubscriptions = createSolanaRpcSubscriptionsFromTransport(transport);

    const controller = new AbortController();
    const notifications = await rpcSubscriptions
      .logsNotifications({ mentions: [address(PROGRAM)] }, { commitment: 'processed' })
      .subscribe({ abortSignal: controller.signal });
    for (const p of providers) await p.waitForSubscriptions('logsSubscribe', 1);
    const [a, b, c] = providers;
    // Every provider sends every event, in different orders, one of them twice.
    const sigs = ['k1', 'k2', 'k3', 'k4'];
    for (const sig of sigs) a?.notify('logsSubscribe', fakeLogsResult(sig, 100));
    for (const sig of [...sigs].reverse()) b?.notify('logsSubscribe', fakeLogsResult(sig, 100));
    for (const sig of [...sigs, 'k2']) c?.notify('logsSubscribe', fakeLogsResult(sig, 100));
    const received: string[] = [];
    for await (const n of notifications) {
      received.push(n.value.signature);
      // kit's response transformer turned the slot into a bigint, as with its own transport.
      expect(n.context.slot).toBe(100n);
      if (received.length === sigs.length) break;
    }
    expect([...received].sort()).toEqual(sigs);
    await until(() => subscriptions?.stats().reduce((n, s) => n + s.first + s.late, 0) === 12);
    // 12 copies arrived (c repeated one more); each of the 4 events was first exactly once.
    expect(subscriptions.stats().reduce((n, s) => n + s.first, 0)).toBe(4);
    controller.abort();
    await until(() => providers.every((p) => p.subscriptions.length === 0));
    expect(subscriptions.active).toBe(0);
  });

  it('identical kit subscriptions share one merged subscription; the last unsubscribe closes it', async () => {
    providers = [await startFakeWsProvider()];
    subscriptions = createSolanaSubscriptions({ endpoints: [{ url: providers[0]?.url ?? '' }], ws: { pingIntervalMs: false } });
    const hub = createSubscriptionHub(subscriptions);
    const rpcSubscriptions = createSolanaRpcSubscriptionsFromTransport(createKitSubscriptionsTransport(hub));
    const one = new AbortController();
    const two = new AbortController();
    const first = await rpcSubscriptions.slotNotifications().subscribe({ abortSignal: one.signal });
    const second = await rpcSubscriptions.slotNotifications().subscribe({ abortSignal: two.signal });
    expect(hub.shared).toBe(1);
    expect(hub.members).toBe(2);
    await providers[0]?.waitForSubscriptions('slotSubscribe', 1);
    expect(providers[0]?.subscriptions).toHaveLength(1);
    providers[0]?.notify('slotSubscribe', { parent: 41, root: 10, slot: 42 });
    const [n1, n2] = await Promise.all([first[Symbol.asyncIterator]().next(), second[Symbol.asyncIterator]().next()]);
    expect(n1.value).toEqual({ parent: 41n, root: 10n, slot: 42n });
    expect(n2.value).toEqual(n1.value);
    one.abort();
    await until(() => hub.members === 1);
    expect(hub.shared).toBe(1);
    two.abort();
    await until(() => hub.shared === 0 && providers[0]?.subscriptions.length === 0);
  });

  it("when every provider gives up, kit's iterator throws instead of waiting forever", async () => {
    providers = await Promise.all([startFakeWsProvider(), startFakeWsProvider()]);
    subscriptions = createSolanaSubscriptions({
      endpoints: providers.map((p, i) => ({ url: p.url, id: `p${i}` })),
      ws: { pingIntervalMs: false, reconnect: false },
    });
    const rpcSubscriptions = createSolanaRpcSubscriptionsFromTransport(createKitSubscriptionsTransport(subscriptions));
    const notifications = await rpcSubscriptions.slotNotifications().subscribe({ abortSignal: new AbortController().signal });
    for (const p of providers) await p.waitForSubscriptions('slotSubscribe', 1);
    const iterator = notifications[Symbol.asyncIterator]();
    const waiting = iterator.next();
    for (const p of providers) p.dropAll();
    const error = await waiting.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'WS_DISCONNECTED', category: 'network' });
    expect(subscriptions.active).toBe(0);
  });
});
