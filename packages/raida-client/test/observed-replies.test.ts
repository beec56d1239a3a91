import { afterEach, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { once } from 'node:events';
import { createRaidaClient } from '@x/raida-client';
import type { RaidaClient } from '@x/raida-client';
import { createTestCoins } from '@x/testkit';

// Servers that answer with the reply shapes shared/raida-protocol.md records from a real RAIDAX server,
// written out byte by byte here rather than built by any code of the project.

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/** A UDP server on 127.0.0.1 that answers every datagram with `reply(request)`. */
async function scriptedServer(reply: (request: Buffer) => Buffer): Promise<{ port: number }> {
  const socket: Socket = createSocket('udp4');
  socket.on('message', (request: Buffer, from: RemoteInfo) => socket.send(reply(request), from.port, from.address));
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  cleanup.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return { port: socket.address().port };
}

function clientOf(port: number): RaidaClient {
  // A timeout far beyond the test's own: a reply that is not taken at once fails the test.
  const client = createRaidaClient({ servers: [{ id: 0, host: '127.0.0.1', port }], attemptTimeoutMs: 60_000 });
  cleanup.push(() => client.close());
  return client;
}

describe('replies with stale fields, as a real server sends them', () => {
  it('status 34 (fresh echo bytes, stale signature) is server-error 34 as soon as it arrives', async () => {
    // 00 00 22 00 00 01 ‖ the request's echo bytes ‖ 00 × 6 ‖ execution time 9 µs ‖ a signature of an older request.
    const server = await scriptedServer((request) =>
      Buffer.concat([hex('00 00 22 00 00 01'), request.subarray(30, 32), hex('00 00 00 00 00 00 00 09'), hex('77'.repeat(16))]),
    );
    const [key, coin] = createTestCoins(2, 34, { raidaCount: 1 });
    const result = await clientOf(server.port).detect([coin!], { encryption: { type: 1, keyCoin: key! } });
    expect(result.servers[0]).toMatchObject({
      status: 'server-error',
      statusCode: 34,
      statusName: 'encryptionCoinNotFound',
      errorCode: 'RAIDA_SERVER_ERROR',
    });
    expect(result.coins[0]!.verdict).toBe('limbo');
  });

  it("a status 34 whose echo bytes are not the request's is not taken", async () => {
    const server = await scriptedServer(() => hex(`00 00 22 00 00 01 FF FF 00 00 00 00 00 00 00 09 ${'77'.repeat(16)}`));
    const [key, coin] = createTestCoins(2, 35, { raidaCount: 1 });
    const random = (n: number): Uint8Array => new Uint8Array(n).fill(1);
    const client = createRaidaClient({ servers: [{ id: 0, host: '127.0.0.1', port: server.port }], attemptTimeoutMs: 200, random });
    cleanup.push(() => client.close());
    const result = await client.detect([coin!], { encryption: { type: 1, keyCoin: key! } });
    // The random source is pinned, so the request's echo bytes are 01 01, never FF FF.
    expect(result.servers[0]).toMatchObject({ status: 'protocol-error', errorCode: 'RAIDA_REPLY_ECHO_MISMATCH' });
  });

  it('the 48-byte status-27 reply is server-error 27', async () => {
    const server = await scriptedServer(() => hex(`00 00 1B 00 00 00 00 0D 00 00 00 00 00 00 00 00 03 ${'00 '.repeat(31)}`));
    const result = await clientOf(server.port).echo();
    expect(result.servers[0]).toMatchObject({
      status: 'server-error',
      statusCode: 27,
      statusName: 'invalidEncryptionType',
      executionTimeUs: 13,
    });
  });
});
