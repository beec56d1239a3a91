import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { XError, toXError } from '@x/errors';
import { checkHealingRequest, formatServerAddress, healingCommandByCode } from '@x/raida-protocol';
import type { CoinId } from '@x/raida-protocol';
import { createRandom, type Random, type RandomSeed } from '../random.js';
import { resolveRaidaBehavior, sampleRaidaLatencyMs, type RaidaBehaviorPatch, type RaidaServerBehavior } from './behavior.js';
import { checkAn, checkClusterCoin, checkCoinId, coinKey, type ClusterCoin } from './coins.js';
import { resolveRaidaOptions, type RaidaClusterOptions, type RaidaRequestEvent } from './options.js';
import { answerDatagram, createServerState, type ServerConfig, type ServerState } from './server.js';
import { handlesReleased } from '../handles.js';
import { LOOPBACK_HOST as HOST, notifyObserver, runAfter } from '../serving.js';
import { answerHealing, createHealingState, createPeerCall, type HealingState } from './healing.js';

/** Where one simulated RAIDA server listens. */
export interface RaidaServerInfo {
  /** RAIDA id, 0 to count − 1 (what requests to it must carry in byte 2). */
  readonly id: number;
  readonly host: string;
  readonly port: number;
}

/** What one server has seen since the start (or the last `resetStats`). */
export interface RaidaServerStats {
  readonly id: number;
  /** Datagrams that arrived. */
  readonly received: number;
  /** Datagrams too short to answer (under 32 bytes): no reply, as the protocol says. */
  readonly ignored: number;
  /** Datagrams not answered because the server was down or `dropRate` dropped them. */
  readonly dropped: number;
  /** Type-1 requests of a crash length that an AES-NI host (`aesNiHost`) received: each would have killed a real server. */
  readonly crashes: number;
  /** Requests whose reply was sent (from the server's port or, when spoofing, another one). */
  readonly answered: number;
  /** Replies sent from the spoofing socket instead of the server's own. */
  readonly spoofed: number;
  /** Replies waiting for their delay to pass (not reset by `resetStats`). */
  readonly pending: number;
  /** Send failures and socket errors. */
  readonly socketErrors: number;
  /** Answered requests by reply status, e.g. `{ 250: 3, 37: 1 }`. */
  readonly byStatus: Readonly<Record<number, number>>;
}

export interface RaidaCluster {
  /** One entry per server, in id order. */
  readonly servers: readonly RaidaServerInfo[];
  /** The servers as `host:port` lines in id order: what `parseServerList` and the `raida --servers` flag read. */
  readonly serverList: string;
  /** The network coin id the servers accept. */
  readonly coinId: number;
  readonly seed: RandomSeed;
  /** A server's current behaviour. */
  readonly behavior: (id: number) => RaidaServerBehavior;
  /** Changes a server live; replies already scheduled keep the fate they drew. Returns the new behaviour. */
  readonly setBehavior: (id: number, patch: RaidaBehaviorPatch) => RaidaServerBehavior;
  /** `stats()`: every server, in id order; `stats(id)`: one server. */
  readonly stats: {
    (): readonly RaidaServerStats[];
    (id: number): RaidaServerStats;
  };
  /** Zeroes every server's counters (except `pending`). */
  readonly resetStats: () => void;
  /** A copy of the AN `raidaId` holds for `coin`, or `undefined` when that server does not know the coin. */
  readonly getAn: (raidaId: number, coin: CoinId) => Uint8Array | undefined;
  /** Sets (or adds) the AN one server holds for `coin`. */
  readonly setAn: (raidaId: number, coin: CoinId, an: Uint8Array) => void;
  /** Puts a coin on every server (`an` for all, or `ans` per server), replacing what they held. */
  readonly addCoin: (coin: ClusterCoin) => void;
  /** Removes a coin from every server. */
  readonly removeCoin: (coin: CoinId) => void;
  /** Cancels every scheduled reply and closes every socket. Resolves once no handle of the cluster is left. Idempotent. */
  readonly close: () => Promise<void>;
}

/** The execution-time field of a spoofed copy, so tests can tell which copy a client accepted. */
export const SPOOFED_EXECUTION_TIME_US = 0xffffffff;

interface MutableStats {
  received: number;
  ignored: number;
  dropped: number;
  crashes: number;
  answered: number;
  spoofed: number;
  socketErrors: number;
  byStatus: Map<number, number>;
}

function emptyStats(): MutableStats {
  return { received: 0, ignored: 0, dropped: 0, crashes: 0, answered: 0, spoofed: 0, socketErrors: 0, byStatus: new Map() };
}

interface Server {
  readonly state: ServerState;
  readonly socket: Socket;
  readonly dropRandom: Random;
  readonly latencyRandom: Random;
  behavior: RaidaServerBehavior;
  stats: MutableStats;
  pending: number;
  spoofSocket: Socket | undefined;
  info: RaidaServerInfo | undefined;
  readonly healing: HealingState;
}

function closedError(operation: string): XError {
  return new XError({
    code: 'TESTKIT_RAIDA_CLOSED',
    category: 'config',
    message: `${operation} was called after the RAIDA cluster was closed`,
    context: { operation },
  });
}

/**
 * Starts `count` (default 25) simulated RAIDA servers, each a UDP socket on 127.0.0.1 with an
 * ephemeral port, speaking the RAIDAX wire protocol through `@x/raida-protocol`. Resolves once
 * every server is bound; rejects with `TESTKIT_RAIDA_INVALID_OPTIONS` or `TESTKIT_RAIDA_LISTEN_FAILED`
 * (leaving nothing open).
 */
export async function startRaidaCluster(options?: RaidaClusterOptions): Promise<RaidaCluster> {
  const resolved = resolveRaidaOptions(options);
  const root = createRandom(resolved.seed);
  const config: ServerConfig = { coinId: resolved.coinId, maxLength: resolved.maxRequestLength };
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  let closing: Promise<void> | undefined;

  function emit(event: RaidaRequestEvent): void {
    notifyObserver(resolved.onRequest, event);
  }

  function send(server: Server, socket: Socket, bytes: Uint8Array, to: RemoteInfo, then?: () => void): void {
    try {
      socket.send(bytes, to.port, to.address, (error) => {
        if (error) server.stats.socketErrors++;
        if (then !== undefined && !closed) then();
      });
    } catch {
      // A socket closed under a send (close() racing a reply) throws synchronously.
      server.stats.socketErrors++;
    }
  }

  function spoofSocketOf(server: Server): Socket {
    if (server.spoofSocket !== undefined) return server.spoofSocket;
    // Bound lazily: a send issued while it is still binding is queued by node:dgram until it is bound.
    const socket = createSocket({ type: 'udp4' });
    socket.on('error', () => server.stats.socketErrors++);
    socket.bind(0, HOST);
    sockets.add(socket);
    server.spoofSocket = socket;
    return socket;
  }

  function deliver(server: Server, reply: Uint8Array, status: number, behavior: RaidaServerBehavior, to: RemoteInfo): void {
    server.pending--;
    if (closed) return;
    const { stats } = server;
    stats.answered++;
    stats.byStatus.set(status, (stats.byStatus.get(status) ?? 0) + 1);
    if (behavior.spoof === false) {
      send(server, server.socket, reply, to);
      return;
    }
    const spoofed = reply.slice();
    new DataView(spoofed.buffer).setUint32(12, SPOOFED_EXECUTION_TIME_US);
    stats.spoofed++;
    // The real reply goes out from the send callback, so the spoofed one is on the wire first.
    const real = behavior.spoof === 'before-real' ? () => send(server, server.socket, reply, to) : undefined;
    send(server, spoofSocketOf(server), spoofed, to, real);
  }

  function onMessage(server: Server, message: Buffer, from: RemoteInfo): void {
    if (closed) return;
    const startedAt = performance.now();
    const { stats, behavior } = server;
    stats.received++;
    const base = { raidaId: server.state.raidaId, length: message.length, from: { address: from.address, port: from.port } };
    // Drawn for every datagram, whatever else happens to it, so the drop pattern of a seed depends only on arrival order.
    const drop = server.dropRandom.chance(behavior.dropRate);
    if (behavior.down || drop) {
      stats.dropped++;
      emit({
        ...base,
        outcome: 'dropped',
        command: undefined,
        status: undefined,
        reason: behavior.down ? 'server is down' : 'dropped by dropRate',
        delayMs: 0,
      });
      return;
    }
    if (answerHealingDatagram(server, new Uint8Array(message), from, base, startedAt)) return;
    let answer: ReturnType<typeof answerDatagram>;
    try {
      // A copy as a plain Uint8Array: Buffer#slice makes views, and table entries must not alias a receive buffer.
      answer = answerDatagram(new Uint8Array(message), server.state, behavior, config, () => (performance.now() - startedAt) * 1000);
    } catch (error) {
      // checkRequest never throws on content; anything here is a bug, and it must cost one answer, not the process.
      stats.socketErrors++;
      process.emitWarning(`@x/testkit: RAIDA ${server.state.raidaId} failed on a datagram: ${String(error)}`, 'TestkitWarning');
      return;
    }
    if (answer.kind === 'ignored') {
      stats.ignored++;
      emit({ ...base, outcome: 'ignored', command: undefined, status: undefined, reason: answer.reason, delayMs: 0 });
      return;
    }
    if (answer.kind === 'crashed') {
      stats.crashes++;
      emit({ ...base, outcome: 'crashed', command: answer.command, status: undefined, reason: answer.reason, delayMs: 0 });
      return;
    }
    const delayMs = sampleRaidaLatencyMs(behavior.latency, server.latencyRandom) + behavior.slowMs;
    emit({ ...base, outcome: 'answered', command: answer.command, status: answer.status, reason: answer.reason, delayMs });
    server.pending++;
    runAfter(timers, delayMs, () => deliver(server, answer.reply, answer.status, behavior, from));
  }

  const callPeers = createPeerCall((raidaId) => servers[raidaId]?.info?.port, { sockets, timers, isClosed: () => closed });

  /** Healing commands (group 2): answered once done, which for a fix means after every peer's validate_ticket. */
  function answerHealingDatagram(
    server: Server,
    bytes: Uint8Array,
    from: RemoteInfo,
    base: Omit<RaidaRequestEvent, 'outcome' | 'command' | 'status' | 'reason' | 'delayMs'>,
    startedAt: number,
  ): boolean {
    const check = checkHealingRequest(bytes, {
      raidaId: server.state.raidaId,
      coinId: config.coinId,
      maxLength: config.maxLength,
      keyFor: (keyCoin) => server.state.coins.get(coinKey(keyCoin)),
    });
    if (check === undefined) return false;
    const { stats, behavior } = server;
    if (check.outcome === 'ignored') {
      stats.ignored++;
      emit({ ...base, outcome: 'ignored', command: undefined, status: undefined, reason: check.reason, delayMs: 0 });
      return true;
    }
    const spec = healingCommandByCode(bytes[4] ?? 0, bytes[5] ?? 0)!;
    server.pending++;
    const context = {
      state: server.state,
      healing: server.healing,
      behavior,
      options: resolved.healing,
      coinId: config.coinId,
      peerIds: servers.map((peer) => peer.state.raidaId),
      callPeers,
      elapsedUs: () => (performance.now() - startedAt) * 1000,
    };
    answerHealing(check, spec.name, context).then(
      (answer) => {
        if (closed) {
          server.pending--;
          return;
        }
        const delayMs = sampleRaidaLatencyMs(behavior.latency, server.latencyRandom) + behavior.slowMs;
        emit({ ...base, outcome: 'answered', command: answer.command, status: answer.status, reason: answer.reason, delayMs });
        runAfter(timers, delayMs, () => deliver(server, answer.reply, answer.status, behavior, from));
      },
      (error: unknown) => {
        server.pending--;
        stats.socketErrors++;
        process.emitWarning(`@x/testkit: RAIDA ${server.state.raidaId} failed on a healing datagram: ${String(error)}`, 'TestkitWarning');
      },
    );
    return true;
  }

  async function bindServer(raidaId: number): Promise<void> {
    const socket = createSocket({ type: 'udp4' });
    sockets.add(socket);
    const serverRandom = root.fork(`raida:${raidaId}`);
    const server: Server = {
      state: createServerState(raidaId),
      socket,
      dropRandom: serverRandom.fork('drop'),
      latencyRandom: serverRandom.fork('latency'),
      behavior: resolved.behaviors[raidaId] as RaidaServerBehavior,
      stats: emptyStats(),
      pending: 0,
      spoofSocket: undefined,
      info: undefined,
      healing: createHealingState(serverRandom.fork('tickets')),
    };
    for (const coin of resolved.coins) server.state.coins.set(coinKey(coin.id), (coin.ans[raidaId] as Uint8Array).slice());
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, HOST, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', () => server.stats.socketErrors++);
    socket.on('message', (message, from) => onMessage(server, message, from));
    server.info = Object.freeze({ id: raidaId, host: HOST, port: socket.address().port });
  }

  async function closeAll(): Promise<void> {
    closed = true;
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    await Promise.all(
      [...sockets].map(
        (socket) =>
          new Promise<void>((resolve) => {
            try {
              socket.close(() => resolve());
            } catch {
              // Already closed (a failed bind): nothing is left to release.
              resolve();
            }
          }),
      ),
    );
    sockets.clear();
    await handlesReleased();
  }

  try {
    for (let raidaId = 0; raidaId < resolved.count; raidaId++) await bindServer(raidaId);
  } catch (error) {
    await closeAll();
    throw toXError(error, {
      code: 'TESTKIT_RAIDA_LISTEN_FAILED',
      category: 'network',
      message: `A simulated RAIDA server could not bind a UDP socket on ${HOST}`,
    });
  }

  function find(id: number, operation: string): Server {
    const server = Number.isInteger(id) ? servers[id] : undefined;
    if (server === undefined) {
      throw new XError({
        code: 'TESTKIT_RAIDA_UNKNOWN_SERVER',
        category: 'config',
        message: `${operation}: no simulated RAIDA server has the id ${String(id)} (ids are 0 to ${servers.length - 1})`,
        context: { id: typeof id === 'number' ? id : String(id), count: servers.length },
      });
    }
    return server;
  }

  function whileOpen(operation: string): void {
    if (closed) throw closedError(operation);
  }

  function snapshot(server: Server): RaidaServerStats {
    const { stats } = server;
    return {
      id: server.state.raidaId,
      received: stats.received,
      ignored: stats.ignored,
      dropped: stats.dropped,
      crashes: stats.crashes,
      answered: stats.answered,
      spoofed: stats.spoofed,
      pending: server.pending,
      socketErrors: stats.socketErrors,
      byStatus: Object.fromEntries(stats.byStatus),
    };
  }

  function stats(): readonly RaidaServerStats[];
  function stats(id: number): RaidaServerStats;
  function stats(id?: number): RaidaServerStats | readonly RaidaServerStats[] {
    return id === undefined ? servers.map(snapshot) : snapshot(find(id, 'stats'));
  }

  const infos = Object.freeze(servers.map((server) => server.info as RaidaServerInfo));
  return {
    servers: infos,
    serverList: infos.map(formatServerAddress).join('\n'),
    coinId: resolved.coinId,
    seed: resolved.seed,
    behavior: (id) => find(id, 'behavior').behavior,
    setBehavior(id, patch) {
      const server = find(id, 'setBehavior');
      whileOpen('setBehavior');
      server.behavior = resolveRaidaBehavior(server.behavior, patch, `setBehavior(${String(id)})`);
      return server.behavior;
    },
    stats,
    resetStats() {
      for (const server of servers) server.stats = emptyStats();
    },
    getAn(raidaId, coin) {
      const server = find(raidaId, 'getAn');
      return server.state.coins.get(coinKey(checkCoinId(coin, 'getAn(coin)')))?.slice();
    },
    setAn(raidaId, coin, an) {
      const server = find(raidaId, 'setAn');
      const key = coinKey(checkCoinId(coin, 'setAn(coin)'));
      const copy = checkAn(an, 'setAn(an)');
      whileOpen('setAn');
      server.state.coins.set(key, copy);
    },
    addCoin(coin) {
      const checked = checkClusterCoin(coin, 'addCoin(coin)', servers.length);
      whileOpen('addCoin');
      const key = coinKey(checked.id);
      servers.forEach((server, raidaId) => server.state.coins.set(key, checked.ans[raidaId] as Uint8Array));
    },
    removeCoin(coin) {
      const key = coinKey(checkCoinId(coin, 'removeCoin(coin)'));
      whileOpen('removeCoin');
      for (const server of servers) server.state.coins.delete(key);
    },
    close() {
      closing ??= closeAll();
      return closing;
    },
  };
}
