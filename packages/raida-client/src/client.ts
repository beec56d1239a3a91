import { formatServerAddress } from '@x/raida-protocol';
import { createUdpClient } from '@x/udp-transport';
import { coinCall, plainCall } from './calls.js';
import type { RaidaCore } from './core.js';
import { clientClosed } from './errors.js';
import { resolveClientOptions } from './options.js';
import { createReplyCounterTracker } from './reply-counters.js';
import { createReplyGate } from './reply-gate.js';
import type { RaidaClient, RaidaClientOptions } from './types.js';

/**
 * A RAIDA client: each call sends one request to every server at once (each with its own RAIDA id,
 * challenge and attempt timeout), validates every reply against its request, and reports a status and a
 * latency per server, totals, and for detect/pown a 13-of-25 verdict per coin.
 *
 * The wiring of named parts: `options.ts` (checks), `plan.ts` (the requests of a call), `rounds.ts` (attempts over
 * the injected UDP transport, retries, early finish, deadline), `reply-gate.ts` (which datagram is a reply),
 * `classify.ts` (a server's status from one outcome), `describe.ts` (results), `verdicts.ts` (the per-coin rule),
 * `calls.ts` (echo, version, detect, pown).
 */
export function createRaidaClient(options?: RaidaClientOptions): RaidaClient {
  const config = resolveClientOptions(options);
  const { servers, quorum } = config;
  const replyCounters = createReplyCounterTracker(servers, config.replyCounters);
  const core: RaidaCore = {
    config,
    // Pooled sockets are safe to reuse: a late reply to an earlier call fails the next request's `accept`.
    udp: config.udp ?? createUdpClient(),
    ownsUdp: config.udp === undefined,
    calls: new Set(),
    gate: createReplyGate(servers, replyCounters),
    replyCounters,
    addresses: servers.map(formatServerAddress),
    closed: false,
  };
  let closing: Promise<void> | undefined;

  return {
    servers,
    quorum,
    echo: (callOptions) => plainCall(core, 'echo', callOptions),
    version: (callOptions) => plainCall(core, 'version', callOptions),
    detect: (coins, callOptions) => coinCall(core, 'detect', coins, undefined, callOptions),
    pown: (coins, newAns, callOptions) => coinCall(core, 'pown', coins, newAns, callOptions),
    close() {
      if (closing !== undefined) return closing;
      core.closed = true;
      const reason = clientClosed();
      for (const stop of core.calls) stop.abort(reason);
      closing = core.ownsUdp ? core.udp.close() : Promise.resolve();
      return closing;
    },
  };
}
