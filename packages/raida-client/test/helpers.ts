import { createRaidaClient } from '@x/raida-client';
import type { RaidaClient, RaidaClientOptions } from '@x/raida-client';
import { startRaidaCluster } from '@x/testkit';
import type { RaidaCluster, RaidaClusterOptions } from '@x/testkit';

const open: Array<{ close(): Promise<void> }> = [];

/** A simulated RAIDA (25 servers on 127.0.0.1 unless `count` says otherwise), closed by {@link closeAll}. */
export async function cluster(options: RaidaClusterOptions = {}): Promise<RaidaCluster> {
  const started = await startRaidaCluster(options);
  open.push(started);
  return started;
}

/** A client for `of`'s servers, closed by {@link closeAll}. */
export function clientFor(of: RaidaCluster, options: RaidaClientOptions = {}): RaidaClient {
  const client = createRaidaClient({ servers: of.servers, ...options });
  open.push(client);
  return client;
}

/** Closes every client and cluster the helpers made, clients first. Call in afterEach. */
export async function closeAll(): Promise<void> {
  const all = open.splice(0).reverse();
  for (const item of all) await item.close();
}

/** Open UDP handles in this process. */
export function udpHandles(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'UDPWrap').length;
}

/** Lets libuv drop closed handles: they go in the close phase that follows the check phase. */
export async function handlesSettled(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Datagrams each server received, in id order. */
export function received(of: RaidaCluster): number[] {
  return of.stats().map((stats) => stats.received);
}
