import { afterEach, describe, expect, it } from 'vitest';
import { startRpcCluster, startWsRelays } from '../src/index.js';
import { connect, until } from './stream-helpers.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

describe('startWsRelays', () => {
  it('relays requests and answers both ways, and applies duplicates per notification (upstream: the simulated cluster)', async () => {
    const rpc = await startRpcCluster({ autoAdvance: false, endpoints: 1 });
    cleanup.push(() => rpc.close());
    const relays = await startWsRelays({ upstream: rpc.endpoints[0]!.wsUrl, relays: [{ id: 'dup', faults: { duplicateRate: 1 } }] });
    cleanup.push(() => relays.close());
    const client = await connect(relays.relays[0]!.url);
    cleanup.push(() => client.close());
    const id = await client.subscribe('slotSubscribe');
    await expect(client.request('logsSubscribe', ['bogus'])).resolves.toMatchObject({ error: { code: -32602 } });
    rpc.chain.advance(2);
    await until(() => client.notifications().length === 4);
    expect(
      client
        .notifications()
        .map((frame) => [frame.params?.subscription, (frame.params?.result as { slot: number }).slot - rpc.chain.slot()]),
    ).toEqual([
      [id, -1],
      [id, -1],
      [id, 0],
      [id, 0],
    ]);
    expect(relays.stats()[0]).toMatchObject({
      connections: 1,
      openConnections: 1,
      requests: 2,
      responses: 2,
      notifications: 4,
      duplicated: 2,
    });
  });

  it('ends the client connection when the upstream goes away, and releases everything on close()', async () => {
    const rpc = await startRpcCluster({ autoAdvance: false, endpoints: 1 });
    const relays = await startWsRelays({ upstream: rpc.endpoints[0]!.wsUrl, relays: [{ id: 'a' }] });
    cleanup.push(() => relays.close());
    const client = await connect(relays.relays[0]!.url);
    await client.subscribe('slotSubscribe');
    await rpc.close();
    await client.closed;
    await until(() => relays.stats()[0]!.openConnections === 0);
    await relays.close();
    await expect(connect(relays.relays[0]!.url)).rejects.toThrow();
  });

  it('checks its options, naming the field', async () => {
    await expect(startWsRelays({ upstream: 'http://127.0.0.1:1', relays: [{ id: 'a' }] })).rejects.toMatchObject({
      code: 'TESTKIT_RELAY_INVALID_OPTIONS',
      context: { option: 'upstream' },
    });
    await expect(startWsRelays({ upstream: 'ws://127.0.0.1:1', relays: [] })).rejects.toMatchObject({ context: { option: 'relays' } });
    await expect(startWsRelays({ upstream: 'ws://127.0.0.1:1', relays: [{ id: 'a', faults: { dropRate: 1.5 } }] })).rejects.toMatchObject({
      context: { option: 'relays[0].faults.dropRate' },
    });
    await expect(
      startWsRelays({ upstream: 'ws://127.0.0.1:1', relays: [{ id: 'a', faults: { reorderRate: 1 } as never }] }),
    ).rejects.toMatchObject({
      context: { option: 'relays[0].faults' },
    });
  });
});
