import { fileURLToPath } from 'node:url';
import { Agent, request } from 'node:http';
import { forkHost, type Host } from '../child-host.js';
import { startRemoteRpcCluster } from '../remote-cluster.js';
import type { RemoteRpcCluster } from '../remote-cluster.js';
import { fmt } from '../stats.js';
import type { BenchContext, Scenario, ScenarioResult } from '../types.js';

/** The goal: at most this much CPU time of the proxy process per forwarded single-endpoint call. */
const GOAL_SINGLE_MS = 0.1;
const CONCURRENCY = 16;

/** The messages of apps/rpc-proxy/scripts/cpu-host.ts (an app, not a package: forked by path, not imported). */
type ProxyHostRequest =
  | {
      readonly id: number;
      readonly op: 'start';
      readonly options: {
        readonly endpoints: ReadonlyArray<{ id: string; url: string }>;
        readonly methods: Record<string, Record<string, unknown>>;
      };
    }
  | { readonly id: number; readonly op: 'cpu' }
  | { readonly id: number; readonly op: 'close' };
const CPU_HOST = fileURLToPath(new URL('../../../rpc-proxy/scripts/cpu-host.ts', import.meta.url));

/** Forks the proxy's CPU host, as the cluster host is. */
function startHost(): Host<ProxyHostRequest> {
  return forkHost<ProxyHostRequest>(CPU_HOST, 'proxy host');
}

interface Line {
  readonly name: string;
  readonly endpoints: number;
  readonly calls: number;
  readonly failed: number;
  readonly cpuMsPerCall: number;
  readonly userMsPerCall: number;
  readonly systemMsPerCall: number;
}

function post(url: string, agent: Agent, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends `calls` getAccountInfo calls through the proxy, `CONCURRENCY` at a time, over keep-alive connections. */
async function drive(url: string, agent: Agent, account: string, calls: number): Promise<number> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getAccountInfo', params: [account, { encoding: 'base64' }] });
  let next = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < calls) {
      next += 1;
      const answer = await post(url, agent, body);
      if (answer.status !== 200 || !answer.text.includes('"result"')) failed += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return failed;
}

async function measure(cluster: RemoteRpcCluster, name: string, endpoints: number, calls: number, context: BenchContext): Promise<Line> {
  const host = startHost();
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    const { url } = await host.request<{ url: string }>({
      op: 'start',
      options: {
        endpoints: cluster.endpoints.slice(0, endpoints).map((endpoint) => ({ id: endpoint.id, url: endpoint.url })),
        // A budget no loopback answer misses, so that every call is a forwarded success.
        methods: { getAccountInfo: { strategy: 'race', deadlineMs: 5_000 } },
      },
    });
    const account = cluster.wallets[0] as string;
    await drive(url, agent, account, Math.min(2_000, calls)); // warm-up: JIT, connections, pool statistics
    const before = await host.request<NodeJS.CpuUsage>({ op: 'cpu' });
    const failed = await drive(url, agent, account, calls);
    const after = await host.request<NodeJS.CpuUsage>({ op: 'cpu' });
    const userMs = (after.user - before.user) / 1000;
    const systemMs = (after.system - before.system) / 1000;
    const line = {
      name,
      endpoints,
      calls,
      failed,
      cpuMsPerCall: (userMs + systemMs) / calls,
      userMsPerCall: userMs / calls,
      systemMsPerCall: systemMs / calls,
    };
    context.log(`${name}: ${fmt(line.cpuMsPerCall, 3)} ms CPU per call (${calls} calls, ${failed} failed)`);
    return line;
  } finally {
    agent.destroy();
    await host.close();
  }
}

export const proxyCpuScenario: Scenario = {
  id: 'proxy-cpu',
  title: 'rpc-proxy: CPU time per forwarded call',
  description:
    `The rpc-proxy runs alone in a child process and reports its own CPU time (process.cpuUsage(), user + system); ` +
    `the bench process sends getAccountInfo calls through it over keep-alive connections, ${CONCURRENCY} at a time, ` +
    `to @x/testkit endpoints that answer at once, in a third process. Figures are the proxy's CPU milliseconds per ` +
    `forwarded call, after a warm-up, with one endpoint (race over one) and with a 3-way race.`,
  async run(context: BenchContext): Promise<ScenarioResult> {
    const calls = context.full ? 50_000 : 10_000;
    const cluster = await startRemoteRpcCluster({ seed: context.seed, autoAdvance: false, endpoints: 3 });
    try {
      const single = await measure(cluster, 'one endpoint', 1, calls, context);
      const race = await measure(cluster, '3-way race', 3, calls, context);
      const lines = [single, race];
      return {
        tables: [
          {
            title: 'rpc-proxy CPU per forwarded call',
            columns: ['upstreams', 'calls', 'failed', 'CPU ms/call', 'user ms/call', 'system ms/call'],
            rows: lines.map((line) => [
              line.name,
              line.calls,
              line.failed,
              fmt(line.cpuMsPerCall, 3),
              fmt(line.userMsPerCall, 3),
              fmt(line.systemMsPerCall, 3),
            ]),
          },
        ],
        goals: [
          {
            goal: `≤ ${GOAL_SINGLE_MS} ms of proxy CPU per forwarded single-endpoint call`,
            met: single.cpuMsPerCall <= GOAL_SINGLE_MS && single.failed === 0,
            measured: `${fmt(single.cpuMsPerCall, 3)} ms (3-way race: ${fmt(race.cpuMsPerCall, 3)} ms)`,
          },
        ],
        data: { concurrency: CONCURRENCY, lines },
      };
    } finally {
      await cluster.close();
    }
  },
};
