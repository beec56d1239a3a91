import { describe, expect, it } from 'vitest';
import { buildEchoRequest } from '@x/raida-protocol';
import { createTestCoins, startRaidaCluster } from '@x/testkit';
import { eventRecorder, openRawClient, resourceCounts, thrownBy } from './raida-helpers.js';

describe('close()', () => {
  it('cancels scheduled replies, closes every socket (spoofing ones too) and leaves no handle or timer behind', async () => {
    const before = resourceCounts();
    const recorder = eventRecorder();
    const cluster = await startRaidaCluster({
      onRequest: recorder.onRequest,
      behaviors: { 0: { latency: 60_000 }, 1: { spoof: 'only' }, 2: { slowMs: 60_000 } },
    });
    const client = await openRawClient();
    for (const id of [0, 1, 2, 3]) await client.send(cluster.servers[id]!.port, buildEchoRequest({ raidaId: id }).bytes);
    await recorder.waitFor(4);
    // The spoofed reply and the real one of server 3 arrive; 0 and 2 are still waiting.
    await client.collect(2);
    expect(cluster.stats(0).pending).toBe(1);
    expect(cluster.stats(2).pending).toBe(1);

    const during = resourceCounts();
    // 25 servers, 1 spoofing socket and the client.
    expect((during.get('UDPWrap') ?? 0) - (before.get('UDPWrap') ?? 0)).toBe(27);
    expect((during.get('Timeout') ?? 0) - (before.get('Timeout') ?? 0)).toBeGreaterThanOrEqual(2);

    await client.close();
    const closing = cluster.close();
    expect(cluster.close()).toBe(closing);
    await closing;
    const after = resourceCounts();
    expect(after.get('UDPWrap') ?? 0).toBe(before.get('UDPWrap') ?? 0);
    expect(after.get('Timeout') ?? 0).toBe(before.get('Timeout') ?? 0);
  });

  it('refuses changes after close with TESTKIT_RAIDA_CLOSED, while reads keep working', async () => {
    const [coin] = createTestCoins(1, 'closed');
    const cluster = await startRaidaCluster({ coins: [coin!] });
    await cluster.close();
    const changes = [
      () => cluster.setBehavior(0, { down: true }),
      () => cluster.setAn(0, coin!, new Uint8Array(16)),
      () => cluster.addCoin({ denomination: 1, serialNumber: 1, an: new Uint8Array(16) }),
      () => cluster.removeCoin(coin!),
    ];
    for (const change of changes) expect(thrownBy(change)).toMatchObject({ code: 'TESTKIT_RAIDA_CLOSED', category: 'config' });
    expect(cluster.getAn(3, coin!)).toEqual(coin!.ans[3]);
    expect(cluster.stats(0).received).toBe(0);
    await cluster.close();
  });
});
