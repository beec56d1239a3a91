import { afterEach, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { once } from 'node:events';
import { counterfeitCoin, createTestCoins } from '@x/testkit';
import type { RaidaCluster } from '@x/testkit';
import { createUdpClient } from '@x/udp-transport';
import type { UdpClient } from '@x/udp-transport';
import { startChaosRelay } from './chaos-relay.js';
import { clientFor, closeAll, cluster, received } from './helpers.js';

const cleanup: Array<() => Promise<void>> = [];

afterEach(async () => {
  await closeAll();
  for (const close of cleanup.splice(0).reverse()) await close();
});

function sharedUdp(): UdpClient {
  const udp = createUdpClient();
  cleanup.push(() => udp.close());
  return udp;
}

/**
 * A relay in front of one server that keeps the server's reply to the first request it forwards and
 * delivers it, from the relay's own address, just before forwarding the next request: a reply late for
 * one call reaching the next call's pooled socket, at a moment the test controls. `dropNext` loses the
 * second reply.
 */
async function startHoldingRelay(
  server: { host: string; port: number },
  dropNext: boolean,
): Promise<{ port: number; replies: () => number }> {
  const bindSocket = async (): Promise<Socket> => {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    return socket;
  };
  const front = await bindSocket();
  const upstream = await bindSocket();
  let client: RemoteInfo | undefined;
  let held: Buffer | undefined;
  let replies = 0;
  upstream.on('message', (reply: Buffer) => {
    replies++;
    if (replies === 1) held = reply;
    else if (!(dropNext && replies === 2)) front.send(reply, client!.port, client!.address);
  });
  front.on('message', (request: Buffer, from: RemoteInfo) => {
    client = from;
    const forward = (): void => upstream.send(request, server.port, server.host);
    if (held === undefined) forward();
    else {
      const stale = held;
      held = undefined;
      front.send(stale, from.port, from.address, forward);
    }
  });
  cleanup.push(async () => {
    await Promise.all([front, upstream].map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
  });
  return { port: front.address().port, replies: () => replies };
}

/** The cluster's servers, with server `index` reached through `port` on 127.0.0.1. */
function through(raida: RaidaCluster, index: number, port: number): Array<{ id: number; host: string; port: number }> {
  return raida.servers.map((server, i) => (i === index ? { id: server.id, host: '127.0.0.1', port } : server));
}

describe('a datagram from the server address that is not its reply does not win', () => {
  it('a forged reply sent from the right address before the genuine one is rejected; the genuine one is taken', async () => {
    const [coin] = createTestCoins(1, 'forgery');
    const raida = await cluster({ coins: [coin!] });
    const relay = await startChaosRelay(raida.servers, 'forgery');
    cleanup.push(() => relay.close());
    // Server 3's replies are each preceded by a forged 250 (echo) or 241 "all pass" with a guessed signature.
    relay.setFaults({}, { 3: { forge: 1 } });
    const udp = sharedUdp();
    const client = clientFor(raida, { servers: relay.servers, udp, attemptTimeoutMs: 2000 });

    const echo = await client.echo();
    expect(relay.deliveries().flatMap((delivery) => (delivery.kind === 'forged' ? [delivery.server] : []))).toEqual([3]);
    expect(echo.statuses.every((status) => status === 'ready')).toBe(true);
    expect(echo.servers[3]).toMatchObject({ status: 'ready', statusCode: 250 });
    expect(echo.servers[3]!.errorCode).toBeUndefined();
    expect(udp.stats()).toMatchObject({ droppedRejected: 1, received: 25 });

    await relay.newRound();
    // The forged "all pass" for a counterfeit coin loses to the genuine "all fail".
    const detect = await client.detect([counterfeitCoin(coin!)]);
    expect(relay.deliveries().flatMap((delivery) => (delivery.kind === 'forged' ? [delivery.server] : []))).toEqual([3]);
    expect(detect.servers[3]).toMatchObject({ status: 'fail', statusCode: 242 });
    expect(detect.coins[0]).toMatchObject({ verdict: 'counterfeit', pass: 0, fail: 25 });
    expect(udp.stats()).toMatchObject({ droppedRejected: 2, received: 50 });
  });

  it('a server that only ever answers with a wrong signature is still a protocol-error, at its timeout, and not retried', async () => {
    const raida = await cluster({ behaviors: { 4: { wrongSignature: true } } });
    const udp = sharedUdp();
    const result = await clientFor(raida, { udp, attemptTimeoutMs: 300 }).echo({ retries: 2 });
    expect(result.servers[4]).toMatchObject({
      status: 'protocol-error',
      errorCode: 'RAIDA_REPLY_SIGNATURE_MISMATCH',
      errorCategory: 'protocol',
      latencyMs: 300,
      attempts: 1,
    });
    expect(result.totals).toMatchObject({ ready: 24, 'protocol-error': 1, timeout: 0 });
    expect(received(raida)[4]).toBe(1);
    expect(udp.stats()).toMatchObject({ droppedRejected: 1, timeouts: 1 });
  });

  it('a late reply to the previous call on the reused socket is turned away, and the next call takes its own reply', async () => {
    const raida = await cluster();
    const relay = await startHoldingRelay(raida.servers[5]!, false);
    const udp = sharedUdp();
    const client = clientFor(raida, { servers: through(raida, 5, relay.port), udp });

    const first = await client.echo({ attemptTimeoutMs: 200 });
    expect(first.servers[5]).toMatchObject({ status: 'timeout', errorCode: 'UDP_TIMEOUT' });
    const second = await client.echo({ attemptTimeoutMs: 2000 });
    expect(second.statuses.every((status) => status === 'ready')).toBe(true);
    expect(relay.replies()).toBe(2);
    expect(udp.stats()).toMatchObject({ droppedRejected: 1, openSockets: 1 });
  });

  it('a late reply to the previous call is not held against the server: without its own reply it is a timeout', async () => {
    const raida = await cluster();
    const relay = await startHoldingRelay(raida.servers[5]!, true);
    const udp = sharedUdp();
    const client = clientFor(raida, { servers: through(raida, 5, relay.port), udp });

    await client.echo({ attemptTimeoutMs: 200 });
    const second = await client.echo({ attemptTimeoutMs: 300 });
    expect(second.servers[5]).toMatchObject({ status: 'timeout', errorCode: 'UDP_TIMEOUT', latencyMs: 300 });
    expect(udp.stats().droppedRejected).toBe(1);
  });
});
