import { existsSync } from 'node:fs';
import { startWsRelays } from '@x/testkit';
import type { WsRelays } from '@x/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anvilBinary, post, startAnvil } from './relay-helpers.js';
import type { Anvil } from './relay-helpers.js';
import { connect, until } from './stream-helpers.js';
import type { Frame, RawClient } from './stream-helpers.js';

// anvil's first dev account (from its default mnemonic): unlocked, funded at genesis.
const DEV_ACCOUNT = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
// A contract whose every call emits one log with topic 0x…2a: PUSH1 0x2a PUSH1 0 PUSH1 0 LOG1 STOP,
// deployed by init code that copies those 8 bytes out of itself and returns them.
const LOGGER_INIT = '0x6760' + '2a' + '60006000a100' + '6000526008' + '6018f3';
const TOPIC = `0x${'2a'.padStart(64, '0')}`;

const hasAnvil = existsSync(anvilBinary());
const BLOCKS = 12;

let anvil: Anvil;
let relays: WsRelays;
let logger: string;
const clients: RawClient[] = [];

async function rpc<T>(method: string, params: unknown[] = []): Promise<T> {
  const body = JSON.parse((await post(anvil.url, { jsonrpc: '2.0', id: 1, method, params })).text) as {
    result?: T;
    error?: { message: string };
  };
  if (body.error !== undefined) throw new Error(`anvil ${method}: ${body.error.message}`);
  return body.result as T;
}

/** One transaction to the logger: anvil mines it in a block of its own, with one log. */
async function emit(): Promise<void> {
  await rpc('eth_sendTransaction', [{ from: DEV_ACCOUNT, to: logger }]);
}

async function subscribeBoth(url: string): Promise<{ client: RawClient; heads: string; logs: string }> {
  const client = await connect(url);
  clients.push(client);
  const heads = await client.request('eth_subscribe', ['newHeads']);
  const logs = await client.request('eth_subscribe', ['logs', { address: logger, topics: [TOPIC] }]);
  return { client, heads: heads.result as string, logs: logs.result as string };
}

/** The block number each notification of `subscription` is about (a head's `number`, a log's `blockNumber`), in arrival order. */
function blockNumbers(frames: Frame[], subscription: string): number[] {
  return frames.flatMap((frame) => {
    if (frame.params === undefined || frame.params.subscription !== (subscription as unknown)) return [];
    const result = frame.params.result as { number?: string; blockNumber?: string };
    return [Number(result.number ?? result.blockNumber)];
  });
}

describe.skipIf(!hasAnvil)('WebSocket relays in front of a real anvil node (eth_subscribe)', () => {
  beforeAll(async () => {
    anvil = await startAnvil();
    const hash = await rpc<string>('eth_sendTransaction', [{ from: DEV_ACCOUNT, data: LOGGER_INIT }]);
    logger = (await rpc<{ contractAddress: string }>('eth_getTransactionReceipt', [hash])).contractAddress;
    relays = await startWsRelays({
      upstream: anvil.url.replace('http:', 'ws:'),
      seed: 3,
      relays: [
        { id: 'clean' },
        { id: 'slow-dup', faults: { delayMs: 5, jitterMs: 20, duplicateRate: 0.5 } },
        { id: 'lossy', faults: { dropRate: 0.3 } },
      ],
    });
  });

  afterAll(async () => {
    for (const client of clients) await client.close();
    await relays?.close();
    await anvil?.close();
  });

  it('passes newHeads and logs through each relay with its faults applied', async () => {
    const [clean, slow, lossy] = await Promise.all(relays.relays.map((relay) => subscribeBoth(relay.url)));
    const direct = await subscribeBoth(anvil.url.replace('http:', 'ws:'));
    const first = Number(await rpc<string>('eth_blockNumber')) + 1;
    for (let block = 0; block < BLOCKS; block++) await emit();
    const expected = Array.from({ length: BLOCKS }, (_, index) => first + index);
    await until(() => blockNumbers(direct.client.frames, direct.logs).length === BLOCKS, 'anvil itself to send every log');

    // A clean relay: every event once, in order — exactly what anvil sends.
    await until(() => blockNumbers(clean!.client.frames, clean!.logs).length === BLOCKS);
    expect(blockNumbers(clean!.client.frames, clean!.heads)).toEqual(expected);
    expect(blockNumbers(clean!.client.frames, clean!.logs)).toEqual(expected);

    // Delay, jitter and duplicates: every event arrives, some twice, in order.
    const stats = (): ReturnType<WsRelays['stats']>[number] => relays.stats()[1]!;
    await until(() => stats().notifications === 2 * BLOCKS + stats().duplicated, 'the delayed notifications');
    await until(() => slow!.client.notifications().length === stats().notifications);
    const slowHeads = blockNumbers(slow!.client.frames, slow!.heads);
    expect([...new Set(slowHeads)]).toEqual(expected);
    expect(slowHeads.every((block, index) => index === 0 || block >= slowHeads[index - 1]!)).toBe(true);
    expect(stats().duplicated).toBeGreaterThan(0);
    expect(slowHeads.length + blockNumbers(slow!.client.frames, slow!.logs).length).toBe(2 * BLOCKS + stats().duplicated);

    // Drops: what is missing is exactly what the relay counted as dropped.
    const lossyStats = relays.stats()[2]!;
    await until(() => lossy!.client.notifications().length === relays.stats()[2]!.notifications);
    expect(lossyStats.dropped).toBeGreaterThan(0);
    const lossyHeads = blockNumbers(lossy!.client.frames, lossy!.heads);
    const lossyLogs = blockNumbers(lossy!.client.frames, lossy!.logs);
    expect(lossyHeads.length + lossyLogs.length).toBe(2 * BLOCKS - relays.stats()[2]!.dropped);
    expect(lossyHeads.every((block) => expected.includes(block))).toBe(true);
  });

  it('a forced disconnect ends the client connection; a new one subscribes again and receives what follows', async () => {
    const before = await subscribeBoth(relays.relays[0]!.url);
    expect(relays.disconnect('clean')).toBeGreaterThanOrEqual(1);
    await expect(before.client.closed).resolves.toEqual({ code: 1006 });
    await emit();
    const after = await subscribeBoth(relays.relays[0]!.url);
    const next = Number(await rpc<string>('eth_blockNumber')) + 1;
    await emit();
    await until(() => blockNumbers(after.client.frames, after.logs).length === 1);
    expect(blockNumbers(after.client.frames, after.heads)).toEqual([next]);
    expect(blockNumbers(before.client.frames, before.logs)).toEqual([]);
    expect(relays.stats()[0]!.disconnects).toBeGreaterThanOrEqual(1);
  });

  it('disconnectRate turns a notification into an abrupt disconnect', async () => {
    relays.setFaults('lossy', { dropRate: 0, disconnectRate: 1 });
    const victim = await subscribeBoth(relays.relays[2]!.url);
    await emit();
    await expect(victim.client.closed).resolves.toEqual({ code: 1006 });
    expect(victim.client.notifications()).toEqual([]);
  });
});

if (!hasAnvil) {
  describe('WebSocket relays in front of anvil', () => {
    it.skip(`skipped: the anvil binary is missing at ${anvilBinary()} (install @foundry-rs/anvil-linux-amd64)`, () => undefined);
  });
}
