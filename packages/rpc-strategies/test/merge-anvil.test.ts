import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { mergeStreams } from '@x/rpc-strategies';
import type { MergeSource, MergedItem } from '@x/rpc-strategies';
import { startWsRelays } from '@x/testkit';
import type { WsRelays } from '@x/testkit';
import { createWsTransport } from '@x/ws-transport';
import type { WsTransport } from '@x/ws-transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The generic merge layer over a real node: one anvil, three fault-injecting WebSocket relays in front of it
// (@x/testkit), one @x/ws-transport per relay, `eth_subscribe` newHeads and logs merged by block / by log identity.

const DEV_ACCOUNT = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
// A contract whose every call emits one log with topic 0x…2a (PUSH1 0x2a PUSH1 0 PUSH1 0 LOG1 STOP, behind init code).
const LOGGER_INIT = '0x6760' + '2a' + '60006000a100' + '6000526008' + '6018f3';
const TOPIC = `0x${'2a'.padStart(64, '0')}`;
const BLOCKS = 16;

function anvilBinary(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@foundry-rs/anvil-linux-amd64/package.json')), 'bin', 'anvil');
}
const hasAnvil = existsSync(anvilBinary());

let anvil: { url: string; close(): Promise<void> };
let relays: WsRelays;
let logger: string;
const transports: WsTransport[] = [];
/** Subscriptions the server (through its relay) has confirmed. */
let subscribed = 0;

async function startAnvil(): Promise<typeof anvil> {
  const child: ChildProcess = spawn(anvilBinary(), ['--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit');
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const match = /Listening on (127\.0\.0\.1:\d+)/.exec(line);
      if (match) resolve(`http://${match[1]}`);
    });
    void exited.then(() => reject(new Error('anvil exited before listening')));
  });
  child.stdout!.resume();
  return {
    url,
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
      lines.close();
    },
  };
}

async function rpc<T>(method: string, params: unknown[] = []): Promise<T> {
  const response = await fetch(anvil.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: T; error?: { message: string } };
  if (body.error !== undefined) throw new Error(`anvil ${method}: ${body.error.message}`);
  return body.result as T;
}

/** A push source over one relay: `eth_subscribe(params)`, reconnects reported as gaps. */
function relaySource<T>(id: string, url: string, params: unknown[]): MergeSource<T> {
  return {
    name: id,
    start(sink) {
      let live: WsTransport | undefined = createWsTransport({
        url,
        reconnect: { initialDelayMs: 5, maxDelayMs: 50, jitter: 0 },
        pingIntervalMs: false,
        onEvent: (event) => {
          if (event.type === 'close' && !sink.signal.aborted) sink.disconnected(event.error);
        },
      });
      transports.push(live);
      live
        .subscribe<T>('eth_subscribe', params, {
          onNotification: (n) => sink.event(n.result),
          onResubscribed: () => sink.connected(),
          onEnd: (error) => sink.end(error),
          signal: sink.signal,
        })
        .then(
          () => void subscribed++,
          (error: unknown) => sink.end(error),
        );
      return () => {
        void live?.close();
        live = undefined;
      };
    },
  };
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 2));
}

describe.skipIf(!hasAnvil)('mergeStreams over three faulty relays in front of a real anvil', () => {
  beforeAll(async () => {
    anvil = await startAnvil();
    const hash = await rpc<string>('eth_sendTransaction', [{ from: DEV_ACCOUNT, data: LOGGER_INIT }]);
    logger = (await rpc<{ contractAddress: string }>('eth_getTransactionReceipt', [hash])).contractAddress;
    relays = await startWsRelays({
      upstream: anvil.url.replace('http:', 'ws:'),
      seed: 16,
      relays: [
        { id: 'clean', faults: { delayMs: 1, jitterMs: 4 } },
        { id: 'slow-dup', faults: { delayMs: 5, jitterMs: 20, duplicateRate: 0.5 } },
        { id: 'lossy', faults: { dropRate: 0.3, jitterMs: 4 } },
      ],
    });
  });

  afterAll(async () => {
    for (const t of transports) await t.close();
    await relays?.close();
    await anvil?.close();
  });

  it('delivers every newHeads and logs event exactly once, first arrival wins, across relay disconnects', async () => {
    const controller = new AbortController();
    const heads = mergeStreams<{ number: string; hash: string }>(
      relays.relays.map((r) => relaySource(r.id, r.url, ['newHeads'])),
      { key: (h) => h.hash, signal: controller.signal },
    );
    const logs = mergeStreams<{ blockHash: string; logIndex: string; transactionHash: string; blockNumber: string }>(
      relays.relays.map((r) => relaySource(r.id, r.url, ['logs', { address: logger, topics: [TOPIC] }])),
      { key: (l) => `${l.blockHash}:${l.logIndex}`, signal: controller.signal },
    );
    await until(() => subscribed === 6);
    const first = Number(await rpc<string>('eth_blockNumber')) + 1;
    for (let block = 0; block < BLOCKS; block++) {
      await rpc('eth_sendTransaction', [{ from: DEV_ACCOUNT, to: logger }]);
      // Two relays drop their connections halfway (never both the clean one and the other at once: one stays up).
      if (block === BLOCKS / 2) {
        relays.disconnect('clean');
        relays.disconnect('lossy');
      }
    }
    const headNumbers: number[] = [];
    const logBlocks: number[] = [];
    const read = async <T>(stream: AsyncIterator<MergedItem<T>>, into: number[], field: (v: T) => string): Promise<void> => {
      while (into.length < BLOCKS) {
        const r = await stream.next();
        if (r.done === true) throw new Error('merged stream ended early');
        if (r.value.type === 'event') into.push(Number(field(r.value.value)));
      }
    };
    await Promise.all([read(heads, headNumbers, (h) => h.number), read(logs, logBlocks, (l) => l.blockNumber)]);
    // Wait for the duplicating relay, always the last, to have sent its copy of every block.
    const slowDup = () => heads.stats().sources.find((s) => s.name === 'slow-dup');
    await until(() => (slowDup()?.first ?? 0) + (slowDup()?.late ?? 0) === BLOCKS);
    const expected = Array.from({ length: BLOCKS }, (_, i) => first + i);
    expect([...headNumbers].sort((a, b) => a - b)).toEqual(expected);
    expect([...logBlocks].sort((a, b) => a - b)).toEqual(expected);
    const stats = heads.stats();
    expect(stats.delivered).toBe(BLOCKS);
    expect(stats.sources.reduce((n, s) => n + s.first, 0)).toBe(BLOCKS);
    // The duplicating relay's copies were dropped, and the relays that were cut reported it.
    expect(stats.sources.find((s) => s.name === 'slow-dup')?.repeats).toBeGreaterThan(0);
    expect(
      stats.sources
        .filter((s) => s.disconnects > 0)
        .map((s) => s.name)
        .sort(),
    ).toEqual(['clean', 'lossy']);
    controller.abort();
    expect(heads.closed && logs.closed).toBe(true);
  });
});
