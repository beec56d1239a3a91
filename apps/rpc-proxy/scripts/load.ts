// A bounded load run against rpc-proxy from a second process, on loopback:
//
//   pnpm exec tsx --conditions=@x/source apps/rpc-proxy/scripts/load.ts [--requests 20000] [--concurrency 100] [--out FILE]
//                                                                        [--local-limit N]
//
// With --local-limit N, every simulated provider allows N requests a second (HTTP 429 beyond) and the proxy is given
// that budget: `upstream[].rateLimited` then counts the 429s that reached the proxy (0 when the budgets hold), and
// `budgets` shows the pool's budget metrics (waits, degraded redundancy).
//
// It starts `rpc-proxy --local --port 0` as a child process (the proxy and the simulated 4-provider
// cluster of `--local` live there), sends the requests from this process with Node's fetch, and
// reports: whether the proxy stayed up and exited cleanly, the error breakdown, latency quantiles and
// the proxy's memory before and after. The figures in docs/reliability.md come from it.
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startLocalUpstreams } from '../src/local.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '100' },
    out: { type: 'string' },
    'local-limit': { type: 'string' },
  },
});
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
if (!Number.isInteger(REQUESTS) || REQUESTS < 1 || !Number.isInteger(CONCURRENCY) || CONCURRENCY < 1) {
  console.error('load: --requests and --concurrency must be positive integers');
  process.exit(2);
}
/** No request may outlive this: the run is bounded whatever the proxy does. */
const REQUEST_TIMEOUT_MS = 30_000;

type Proxy = ChildProcessByStdio<null, Readable, Readable>;

function startProxy(): Promise<{ child: Proxy; url: string; stderr: () => string }> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@x/source',
      '--import',
      'tsx',
      'apps/rpc-proxy/src/main.ts',
      '--local',
      '--port',
      '0',
      ...(values['local-limit'] === undefined ? [] : ['--local-limit', values['local-limit']]),
    ],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  return new Promise((resolve, reject) => {
    const onData = (): void => {
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match === null) return;
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      resolve({ child, url: match[1]!, stderr: () => err });
    };
    const onExit = (code: number | null): void => reject(new Error(`rpc-proxy exited (${code}) before listening:\n${err}`));
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Resident memory of a process, from /proc (Linux): current and peak, in MiB. */
async function memoryOf(pid: number): Promise<{ rssMiB: number; peakMiB: number } | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

interface Call {
  readonly method: string;
  readonly params?: unknown[];
}

/** What a trading bot asks: mostly account reads, balances and slots, some votes and signature polls. */
function requestMix(
  wallets: readonly string[],
  accounts: readonly string[],
  signatures: readonly string[],
): Array<{ weight: number; body: (i: number) => string }> {
  const pick = <T>(list: readonly T[], i: number): T => list[i % list.length]!;
  const call = (id: number, c: Call): Record<string, unknown> => ({
    jsonrpc: '2.0',
    id,
    method: c.method,
    ...(c.params === undefined ? {} : { params: c.params }),
  });
  const calls: Array<{ weight: number; make: (i: number) => Call }> = [
    { weight: 35, make: (i) => ({ method: 'getAccountInfo', params: [pick(accounts, i), { encoding: 'base64' }] }) },
    { weight: 20, make: (i) => ({ method: 'getBalance', params: [pick(wallets, i)] }) },
    { weight: 10, make: () => ({ method: 'getSlot' }) },
    { weight: 10, make: (i) => ({ method: 'getTransaction', params: [pick(signatures, i), { maxSupportedTransactionVersion: 0 }] }) },
    { weight: 10, make: (i) => ({ method: 'getSignaturesForAddress', params: [pick(wallets, i), { limit: 10 }] }) },
  ];
  return [
    ...calls.map(({ weight, make }) => ({ weight, body: (i: number) => JSON.stringify(call(i, make(i))) })),
    { weight: 5, body: (i) => JSON.stringify(Array.from({ length: 5 }, (_, k) => call(k, calls[k]!.make(i + k)))) },
    {
      weight: 5,
      body: (i) =>
        i % 2 === 0 ? '{"jsonrpc":"2.0","id":1,"method":' : JSON.stringify({ jsonrpc: '2.0', id: i, method: 'notAllowedHere' }),
    },
    { weight: 5, body: (i) => JSON.stringify({ jsonrpc: '2.0', id: i, method: 'getLatestBlockhash' }) },
  ];
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

async function main(): Promise<void> {
  // The simulated chain is a pure function of its seed: a twin gives the addresses the proxy's cluster holds.
  const twin = await startLocalUpstreams();
  const wallets = twin.cluster.chain.wallets();
  const accounts = [...wallets, ...twin.cluster.chain.dataAccounts()];
  await twin.cluster.close();

  const { child, url, stderr } = await startProxy();
  const post = (body: string): Promise<Response> =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });

  // A few signatures to look up, as seen through the proxy itself.
  const signatures: string[] = [];
  for (const wallet of wallets.slice(0, 4)) {
    const answer = (await (
      await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getSignaturesForAddress', params: [wallet, { limit: 5 }] }))
    ).json()) as {
      result?: Array<{ signature: string }>;
    };
    for (const entry of answer.result ?? []) signatures.push(entry.signature);
  }
  if (signatures.length === 0) signatures.push('1111111111111111111111111111111111111111111111111111111111111111');
  const mix = requestMix(wallets, accounts, signatures);
  const totalWeight = mix.reduce((sum, entry) => sum + entry.weight, 0);
  const bodyFor = (i: number): string => {
    // A fixed, evenly spread sequence (no randomness): the same run every time.
    let slot = (i * 7919) % totalWeight;
    for (const entry of mix) {
      if (slot < entry.weight) return entry.body(i);
      slot -= entry.weight;
    }
    return mix[0]!.body(i);
  };

  const memoryBefore = await memoryOf(child.pid!);
  const latencies = new Float64Array(REQUESTS);
  const byStatus = new Map<string, number>();
  const byCallOutcome = new Map<string, number>();
  const count = (map: Map<string, number>, key: string): void => {
    map.set(key, (map.get(key) ?? 0) + 1);
  };
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < REQUESTS) {
      const i = next++;
      const sent = performance.now();
      try {
        const response = await post(bodyFor(i));
        const text = await response.text();
        latencies[i] = performance.now() - sent;
        count(byStatus, `HTTP ${response.status}`);
        if (text === '') continue;
        const parsed = JSON.parse(text) as unknown;
        for (const entry of Array.isArray(parsed) ? parsed : [parsed]) {
          const item = entry as { result?: unknown; error?: { code: number; message: string; data?: { code?: string } } };
          if (item.error === undefined) count(byCallOutcome, 'result');
          // The proxy's own codes name the @x error in data.code; a node's error passed through keeps its message.
          else count(byCallOutcome, `error ${item.error.code} ${item.error.data?.code ?? item.error.message.slice(0, 48)}`);
        }
      } catch (error) {
        latencies[i] = performance.now() - sent;
        count(byStatus, `failed: ${(error as Error).name} ${String((error as { cause?: { code?: string } }).cause?.code ?? '')}`.trim());
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  const memoryAfter = await memoryOf(child.pid!);
  const budgetLines = (await (await fetch(`${url}/metrics`)).text())
    .split('\n')
    .filter((line) => line.startsWith('x_pool_budget_') && !line.startsWith('x_pool_budget_tokens'));
  const stats = (await (await fetch(`${url}/stats`)).json()) as {
    proxy: Record<string, number>;
    pool: {
      endpoints: Array<{
        id: string;
        health: string;
        totals: Record<string, number>;
        latency: { p50Ms: number | null; p99Ms: number | null };
      }>;
    };
  };

  // Alive now means it never exited during the run; then it must shut down cleanly on SIGTERM.
  const aliveAtEnd = child.exitCode === null && child.signalCode === null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (!aliveAtEnd) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  child.kill('SIGTERM');
  const exit = await exited;

  const sorted = latencies.slice().sort();
  const report = {
    requests: REQUESTS,
    concurrency: CONCURRENCY,
    seconds: Number(seconds.toFixed(2)),
    requestsPerSecond: Math.round(REQUESTS / seconds),
    latencyMs: Object.fromEntries(
      (
        [
          ['p50', 0.5],
          ['p90', 0.9],
          ['p99', 0.99],
          ['p99.9', 0.999],
          ['max', 1],
        ] as const
      ).map(([name, q]) => [name, Number(quantile(sorted, q).toFixed(1))]),
    ),
    httpStatuses: Object.fromEntries([...byStatus].sort()),
    calls: Object.fromEntries([...byCallOutcome].sort((a, b) => b[1] - a[1])),
    proxyCounters: stats.proxy,
    upstream: stats.pool.endpoints.map((endpoint) => ({
      id: endpoint.id,
      health: endpoint.health,
      ...endpoint.totals,
      p50Ms: endpoint.latency.p50Ms,
      p99Ms: endpoint.latency.p99Ms,
    })),
    budgets: budgetLines,
    proxyMemoryMiB: { before: memoryBefore, after: memoryAfter },
    proxyStayedUp: aliveAtEnd,
    proxyExit: exit,
  };
  console.log(JSON.stringify(report, null, 2));
  if (values.out !== undefined) await writeFile(values.out, `${JSON.stringify(report, null, 2)}\n`);
  if (!aliveAtEnd || exit.code !== 0) {
    console.error(
      `load: the proxy did not survive the run cleanly (${aliveAtEnd ? 'shutdown' : 'exited during the run'}: ${JSON.stringify(exit)})\n${stderr()}`,
    );
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(`load: ${error instanceof Error ? error.stack : String(error)}`);
  process.exitCode = 1;
});
