/**
 * Child-process entry for the proxy-cpu scenario of `pnpm bench` (apps/bench/src/scenarios/proxy-cpu.ts,
 * which forks this file and speaks the messages below over IPC): runs one rpc-proxy and reports this
 * process's own CPU time (`process.cpuUsage()`), so that what is measured is the proxy's work alone: the
 * clients live in the bench process and the upstream endpoints in the cluster host.
 */
import { createProxyServer } from '../src/server.js';
import type { ProxyServer, ProxyServerOptions } from '../src/server.js';

type ProxyHostRequest =
  | { readonly id: number; readonly op: 'start'; readonly options: Pick<ProxyServerOptions, 'endpoints' | 'methods'> }
  | { readonly id: number; readonly op: 'cpu' }
  | { readonly id: number; readonly op: 'close' };

type ProxyHostReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly message: string };

let proxy: ProxyServer | undefined;

async function handle(request: ProxyHostRequest): Promise<unknown> {
  switch (request.op) {
    case 'start':
      proxy = await createProxyServer({ ...request.options, limits: { maxBatchSize: 1_000 } });
      return { url: proxy.url };
    case 'cpu':
      return process.cpuUsage();
    case 'close':
      await proxy?.close();
      proxy = undefined;
      return null;
  }
}

process.on('message', (request: ProxyHostRequest) => {
  handle(request).then(
    (value) => process.send?.({ id: request.id, ok: true, value } satisfies ProxyHostReply),
    (error: unknown) =>
      process.send?.({
        id: request.id,
        ok: false,
        message: error instanceof Error ? error.message : String(error),
      } satisfies ProxyHostReply),
  );
});
process.on('disconnect', () => {
  void proxy?.close();
});
