import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';

export interface Upstream {
  readonly url: string;
  /** JSON-RPC bodies the upstream received, parsed, in order. */
  readonly received: unknown[];
  close(): Promise<void>;
}

/** What the simple upstream answers per method. */
export const UPSTREAM_RESULTS: Readonly<Record<string, unknown>> = {
  eth_getBalance: '0xde0b6b3a7640000',
  eth_blockNumber: '0x10',
  eth_syncing: false,
  eth_getBlockByNumber: { number: '0x10', hash: '0x' + 'ab'.repeat(32), transactions: [] },
};

/**
 * A simple JSON-RPC 2.0 upstream on 127.0.0.1: known methods answer from UPSTREAM_RESULTS, others
 * get -32601; batches are answered entry by entry.
 */
export async function startUpstream(): Promise<Upstream> {
  const received: unknown[] = [];
  const answer = (entry: { id?: unknown; method?: unknown }): unknown =>
    typeof entry.method === 'string' && entry.method in UPSTREAM_RESULTS
      ? { jsonrpc: '2.0', id: entry.id ?? null, result: UPSTREAM_RESULTS[entry.method] }
      : { jsonrpc: '2.0', id: entry.id ?? null, error: { code: -32601, message: 'Method not found' } };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
      received.push(body);
      const payload = Array.isArray(body) ? body.map((e) => answer(e as never)) : answer(body as never);
      const text = JSON.stringify(payload);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
      res.end(text);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface PostAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

export async function post(url: string, body: unknown, signal?: AbortSignal): Promise<PostAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

export interface Anvil {
  readonly url: string;
  close(): Promise<void>;
}

/** The anvil binary of the pinned `@foundry-rs/anvil-linux-amd64` devDependency. */
export function anvilBinary(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@foundry-rs/anvil-linux-amd64/package.json')), 'bin', 'anvil');
}

/** A real anvil node on 127.0.0.1 (an ephemeral port, read from its "Listening on" line). */
export async function startAnvil(): Promise<Anvil> {
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
  // Keep draining its output so that it never blocks on a full pipe.
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
