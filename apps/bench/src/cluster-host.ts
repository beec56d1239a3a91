/**
 * Child-process entry: runs one simulated cluster from @x/testkit and answers control messages over IPC.
 *
 * Benchmarks start their clusters here rather than in the measuring process so that the servers' work
 * (HTTP parsing, latency timers, UDP replies) runs on the other core and never delays the event loop
 * whose clocks time the contenders. Started by `startRemoteCluster` (remote-cluster.ts).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startRaidaCluster, startRpcCluster, startRpcRelays } from '@x/testkit';
import type { RaidaCluster, RpcCluster, RpcRelays } from '@x/testkit';
import type { HostReply } from './child-host.js';
import type { HostRequest } from './remote-cluster.js';

const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
let rpc: RpcCluster | undefined;
let raida: RaidaCluster | undefined;
let relays: RpcRelays | undefined;

function send(reply: HostReply): void {
  process.send?.(reply);
}

async function handle(request: HostRequest): Promise<unknown> {
  switch (request.op) {
    case 'start-rpc': {
      rpc = await startRpcCluster(request.options);
      return { endpoints: rpc.endpoints, evmChainId: rpc.chain.evmChainId, wallets: rpc.chain.wallets() };
    }
    case 'start-raida': {
      raida = await startRaidaCluster(request.options);
      return { servers: raida.servers };
    }
    case 'start-relays': {
      relays = await startRpcRelays(request.options);
      return { relays: relays.relays };
    }
    case 'call': {
      const target = rpc ?? raida ?? relays;
      if (target === undefined) throw new Error('no cluster started');
      // A path such as ['chain', 'account'] names a method on the cluster; its value is sent back as it is.
      let owner: unknown = target;
      for (const key of request.path.slice(0, -1)) owner = (owner as Record<string, unknown>)[key];
      const method = (owner as Record<string, unknown>)[request.path[request.path.length - 1]!];
      if (typeof method !== 'function') throw new Error(`not a cluster method: ${request.path.join('.')}`);
      return await (method as (...args: readonly unknown[]) => unknown).apply(owner, [...request.args]);
    }
    case 'loop-delay': {
      // Event-loop delay of this process since the last reading (ms): a stall here delays every endpoint at once.
      const reading = { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
      loopDelay.reset();
      return reading;
    }
    case 'close': {
      await rpc?.close();
      await raida?.close();
      await relays?.close();
      rpc = undefined;
      raida = undefined;
      relays = undefined;
      return null;
    }
  }
}

process.on('message', (message: HostRequest) => {
  handle(message).then(
    (value) => send({ id: message.id, ok: true, value }),
    (error: unknown) => send({ id: message.id, ok: false, message: error instanceof Error ? error.message : String(error) }),
  );
});
// The parent going away (or closing the channel) ends this process with it.
process.on('disconnect', () => {
  void Promise.allSettled([rpc?.close(), raida?.close(), relays?.close()]).then(() => process.exit(0));
});
