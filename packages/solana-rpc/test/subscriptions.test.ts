import { isXError } from '@x/errors';
import type { MergedItem } from '@x/rpc-strategies';
import { createSolanaSubscriptions } from '@x/solana-rpc';
import type { SolanaMergedSubscription, SolanaNotification, SolanaSubscriptions, SubscriptionsRpc } from '@x/solana-rpc';
import { fakeLogsResult, startFakeWsProvider } from '@x/testkit';
import type { FakeWsProvider } from '@x/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const PROGRAM = '6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P';
const LOGS: [unknown, unknown] = [{ mentions: [PROGRAM] }, { commitment: 'processed' }];

let providers: FakeWsProvider[] = [];
let clients: SolanaSubscriptions[] = [];

afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(providers.map((p) => p.close()));
  clients = [];
  providers = [];
});

async function setup(n: number, extra: Partial<Parameters<typeof createSolanaSubscriptions>[0]> = {}) {
  providers = await Promise.all(Array.from({ length: n }, () => startFakeWsProvider()));
  const client = createSolanaSubscriptions({
    endpoints: providers.map((p, i) => ({ url: p.url, id: `p${i}` })),
    ws: { reconnect: { initialDelayMs: 5, maxDelayMs: 20, jitter: 0 }, pingIntervalMs: false },
    ...extra,
  });
  clients.push(client);
  return { providers, client };
}

async function nextItem<T>(sub: SolanaMergedSubscription<T>): Promise<MergedItem<SolanaNotification<T>>> {
  const r = await sub.next();
  if (r.done === true) throw new Error('stream ended');
  return r.value;
}

async function nextEvent<T>(sub: SolanaMergedSubscription<T>): Promise<Extract<MergedItem<SolanaNotification<T>>, { type: 'event' }>> {
  for (;;) {
    const item = await nextItem(sub);
    if (item.type === 'event') return item;
  }
}

/** Resolves once each provider has a live subscription of `method`. */
async function subscribed(list: Array<FakeWsProvider | undefined>, method: string): Promise<void> {
  for (const p of list) await p?.waitForSubscriptions(method, 1);
}

/** Waits for a condition that other sockets make true (no guessed sleep: re-checks after each I/O turn). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setImmediate(resolve));
}

describe('createSolanaSubscriptions', () => {
  it('delivers every logs event exactly once across duplicates and reordering, and ranks providers by lead', async () => {
    const {
      providers: [a, b, c],
      client,
    } = await setup(3);
    const sub = client.subscribe('logsSubscribe', LOGS);
    await subscribed([a, b, c], 'logsSubscribe');
    const sigs = ['s1', 's2', 's3', 's4', 's5'];
    const delivered: string[] = [];
    for (const [i, sig] of sigs.entries()) {
      a?.notify('logsSubscribe', fakeLogsResult(sig, 10 + i));
      const event = await nextEvent(sub);
      delivered.push(String(event.key));
      expect(event.source).toBe('p0');
    }
    // b sends everything late, reversed and twice; c only some of it.
    for (const sig of [...sigs].reverse()) b?.notify('logsSubscribe', fakeLogsResult(sig, 10));
    b?.notify('logsSubscribe', fakeLogsResult('s3', 12));
    for (const sig of ['s2', 's4']) c?.notify('logsSubscribe', fakeLogsResult(sig, 11));
    await until(() => sub.stats().duplicates === 8);
    expect(delivered).toEqual(sigs);
    expect(sub.stats()).toMatchObject({ delivered: 5, queued: 0 });
    const [sa, sb, sc] = client.stats();
    expect(sa).toMatchObject({ id: 'p0', first: 5, late: 0, leadShare: 1, lagP50Ms: 0 });
    expect(sb).toMatchObject({ first: 0, late: 5, leadShare: 0 });
    expect(sc).toMatchObject({ first: 0, late: 2 });
    expect(sb?.lagP50Ms).toBeGreaterThan(0);
    expect(sub.stats().sources[1]?.repeats).toBe(1);
    sub.close();
    await until(() => [a, b, c].every((p) => p?.subscriptions.length === 0));
    expect(a?.unsubscribes).toEqual(['logsUnsubscribe']);
  });

  it('loses nothing when one provider drops: a gap, the others carry on, it resumes', async () => {
    const {
      providers: [a, b],
      client,
    } = await setup(2);
    const sub = client.subscribe('logsSubscribe', LOGS);
    await subscribed([a, b], 'logsSubscribe');
    a?.notify('logsSubscribe', fakeLogsResult('before', 1));
    expect((await nextEvent(sub)).key).toBe('before');
    b?.dropAll();
    const gap = await nextItem(sub);
    expect(gap).toMatchObject({ type: 'gap', source: 'p1', ended: false });
    expect(gap.type === 'gap' && isXError(gap.reason) && gap.reason.category).toBe('network');
    a?.notify('logsSubscribe', fakeLogsResult('during', 2));
    // b's reconnect and a's event race: collect both, in whatever order.
    const seen: string[] = [];
    while (seen.length < 2) {
      const item = await nextItem(sub);
      seen.push(item.type === 'event' ? String(item.key) : `${item.type}:${item.source}`);
    }
    expect([...seen].sort()).toEqual(['during', 'resumed:p1']);
    await b?.waitForSubscriptions('logsSubscribe', 1);
    b?.notify('logsSubscribe', fakeLogsResult('after', 3));
    a?.notify('logsSubscribe', fakeLogsResult('after', 3));
    expect((await nextEvent(sub)).key).toBe('after');
    await until(() => sub.stats().duplicates === 1); // the second copy of 'after'
    expect(sub.stats().delivered).toBe(3);
    expect(client.stats()[1]).toMatchObject({ disconnects: 1, reconnects: 1 });
    sub.close();
  });

  it('backfills what every provider missed while down, through getSignaturesForAddress since the last seen signature', async () => {
    const calls: Array<{ method: string; params: unknown }> = [];
    const rpc: SubscriptionsRpc = {
      call<T>(method: string, params?: unknown): Promise<T> {
        calls.push({ method, params });
        if (method === 'getSignaturesForAddress') {
          return Promise.resolve([
            { signature: 'gap2', slot: 6, err: null },
            { signature: 'gap1', slot: 5, err: null },
          ] as T);
        }
        if (method === 'getTransaction')
          return Promise.resolve({ meta: { logMessages: [`from getTransaction ${String((params as unknown[])[0])}`] } } as T);
        return Promise.reject(new Error(`unexpected ${method}`));
      },
    };
    const {
      providers: [a],
      client,
    } = await setup(1, { rpc });
    const sub = client.subscribe('logsSubscribe', LOGS);
    await a?.waitForSubscriptions('logsSubscribe', 1);
    a?.notify('logsSubscribe', fakeLogsResult('live1', 4));
    expect((await nextEvent(sub)).key).toBe('live1');
    a?.dropAll();
    expect(await nextItem(sub)).toMatchObject({ type: 'gap' });
    expect(await nextItem(sub)).toMatchObject({ type: 'resumed' });
    const first = await nextEvent(sub);
    const second = await nextEvent(sub);
    expect([first.key, second.key]).toEqual(['gap1', 'gap2']);
    expect(first).toMatchObject({ source: 'backfill', index: -1 });
    expect(first.value.result).toEqual({
      context: { slot: 5 },
      value: { signature: 'gap1', err: null, logs: ['from getTransaction gap1'] },
    });
    expect(calls[0]).toEqual({
      method: 'getSignaturesForAddress',
      params: [PROGRAM, { until: 'live1', limit: 1000, commitment: 'confirmed' }],
    });
    // The provider's late copy of a backfilled event is a duplicate.
    a?.notify('logsSubscribe', fakeLogsResult('gap2', 6));
    a?.notify('logsSubscribe', fakeLogsResult('live2', 7));
    expect((await nextEvent(sub)).key).toBe('live2');
    expect(sub.stats()).toMatchObject({ delivered: 4, backfilled: 2, backfillQueries: 1, backfillFailures: 0 });
    sub.close();
  });

  it('a confirmed stream holds an event until its slot is confirmed and drops one that never is', async () => {
    let confirmedSlot = 12;
    const rpc: SubscriptionsRpc = {
      call<T>(method: string): Promise<T> {
        if (method === 'getSlot') return Promise.resolve(confirmedSlot as T);
        return Promise.reject(new Error(`unexpected ${method}`));
      },
    };
    const {
      providers: [a, liar],
      client,
    } = await setup(2, { rpc, confirmTimeoutMs: 200, confirmPollMs: 10 });
    const sub = client.subscribe('logsSubscribe', [{ mentions: [PROGRAM] }, { commitment: 'confirmed' }]);
    await subscribed([a, liar], 'logsSubscribe');
    a?.notify('logsSubscribe', fakeLogsResult('ok', 10));
    expect((await nextEvent(sub)).key).toBe('ok');
    // The liar reports processed-only events on a confirmed stream: slot 99 never confirms.
    liar?.notify('logsSubscribe', fakeLogsResult('never', 99));
    a?.notify('logsSubscribe', fakeLogsResult('later', 14));
    const waiting = nextEvent(sub);
    await until(() => sub.stats().delivered === 3);
    confirmedSlot = 15; // slot 14 confirms; 99 never does
    const event = await waiting;
    expect(event.key).toBe('later');
    expect(sub.stats().unconfirmed).toBe(1);
    sub.close();
  });

  it('dedupes slots by slot number and accounts by slot and content', async () => {
    const {
      providers: [a, b],
      client,
    } = await setup(2);
    const slots = client.subscribe('slotSubscribe');
    const account = client.subscribe('accountSubscribe', [PROGRAM, { commitment: 'processed', encoding: 'base64' }]);
    await subscribed([a, b], 'slotSubscribe');
    await subscribed([a, b], 'accountSubscribe');
    for (const p of [a, b]) p?.notify('slotSubscribe', { parent: 6, root: 1, slot: 7 });
    b?.notify('slotSubscribe', { parent: 7, root: 1, slot: 8 });
    expect((await nextEvent(slots)).key).toBe('7');
    expect((await nextEvent(slots)).key).toBe('8');
    const acc = (data: string) => ({
      context: { slot: 20 },
      value: { lamports: 1, data: [data, 'base64'], owner: PROGRAM, executable: false, rentEpoch: 0 },
    });
    a?.notify('accountSubscribe', acc('AAA='));
    b?.notify('accountSubscribe', acc('AAA='));
    a?.notify('accountSubscribe', acc('AQE='));
    const e1 = await nextEvent(account);
    const e2 = await nextEvent(account);
    expect(e1.key).not.toBe(e2.key);
    expect(String(e1.key).startsWith('20:')).toBe(true);
    await until(() => account.stats().duplicates === 1);
    expect(account.stats().delivered).toBe(2);
    await client.close();
    expect(slots.closed && account.closed).toBe(true);
    expect(client.active).toBe(0);
    await until(() => a?.openConnections === 0 && b?.openConnections === 0);
  });

  it('signal unsubscribes on every provider and rejects a waiting consumer; bad input is refused', async () => {
    const {
      providers: [a, b],
      client,
    } = await setup(2);
    const controller = new AbortController();
    const sub = client.subscribe('logsSubscribe', LOGS, { signal: controller.signal });
    await subscribed([a, b], 'logsSubscribe');
    const waiting = sub.next();
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
    await until(() => a?.subscriptions.length === 0 && b?.subscriptions.length === 0);
    expect(client.active).toBe(0);
    expect(() => client.subscribe('blockSubscribe' as never)).toThrow(expect.objectContaining({ code: 'SOLANA_INVALID_REQUEST' }));
    expect(() => createSolanaSubscriptions({ endpoints: [{ url: 'http://x' }] })).toThrow(
      expect.objectContaining({ code: 'SOLANA_INVALID_OPTIONS', context: { option: 'endpoints[0].url' } }),
    );
  });
});

describe('log backfill of a transaction no node has yet', () => {
  it('leaves it to the live stream: never an event without its logs, and the real copy is delivered, not a duplicate', async () => {
    let askedForTransaction: () => void = () => undefined;
    const backfillTried = new Promise<void>((resolve) => (askedForTransaction = resolve));
    const rpc: SubscriptionsRpc = {
      call<T>(method: string): Promise<T> {
        if (method === 'getSignaturesForAddress') return Promise.resolve([{ signature: 'gap1', slot: 5, err: null }] as T);
        if (method === 'getTransaction') {
          askedForTransaction();
          // Not found yet at the subscription's commitment.
          return Promise.resolve(null as T);
        }
        return Promise.reject(new Error(`unexpected ${method}`));
      },
    };
    const provider = await startFakeWsProvider();
    const client = createSolanaSubscriptions({
      endpoints: [{ url: provider.url, id: 'p0' }],
      rpc,
      verifyCommitment: false,
      ws: { reconnect: { initialDelayMs: 5, maxDelayMs: 20, jitter: 0 }, pingIntervalMs: false },
    });
    const subscription = client.subscribe('logsSubscribe', LOGS);
    const nextEvent = async (): Promise<{ key: string; logs: unknown }> => {
      for (;;) {
        const item = await subscription.next();
        if (item.done === true) throw new Error('the subscription ended');
        if (item.value.type === 'event') {
          const { result } = item.value.value as { result: { value: { logs: unknown } } };
          return { key: String(item.value.key), logs: result.value.logs };
        }
      }
    };
    try {
      await provider.waitForSubscriptions('logsSubscribe', 1);
      provider.notify('logsSubscribe', fakeLogsResult('live1', 4));
      expect((await nextEvent()).key).toBe('live1');
      provider.dropAll();
      // The backfill after the reconnect finds gap1 but no transaction for it yet.
      await backfillTried;
      await provider.waitForSubscriptions('logsSubscribe', 1);
      provider.notify('logsSubscribe', fakeLogsResult('gap1', 5));
      const gap = await nextEvent();
      expect(gap.key).toBe('gap1');
      expect(gap.logs).toEqual((fakeLogsResult('gap1', 5) as { value: { logs: unknown } }).value.logs);
      expect(subscription.stats().duplicates).toBe(0);
    } finally {
      subscription.close();
      await client.close();
      await provider.close();
    }
  });
});
