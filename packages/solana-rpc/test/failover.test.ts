import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSolanaMultiRpc } from '@x/solana-rpc';
import type { SolanaStrategy } from '@x/solana-rpc';
import { startScriptedServer } from './helpers.js';
import type { ScriptedServer } from './helpers.js';

/** Ways a provider breaks the protocol while answering at once: each is a failure of that provider only. */
const BROKEN: Record<string, { code: string; answer: (id: unknown) => { status: number; type: string; body: string } }> = {
  'truncated JSON': {
    code: 'HTTP_MALFORMED_RESPONSE',
    answer: (id) => ({ status: 200, type: 'application/json', body: JSON.stringify({ jsonrpc: '2.0', id, result: 77 }).slice(0, 20) }),
  },
  'an HTML error page on 200': {
    code: 'HTTP_MALFORMED_RESPONSE',
    answer: () => ({ status: 200, type: 'text/html', body: '<html><body>Attention Required! | Cloudflare</body></html>' }),
  },
  'a body over the size limit': {
    code: 'HTTP_RESPONSE_TOO_LARGE',
    answer: (id) => ({ status: 200, type: 'application/json', body: JSON.stringify({ jsonrpc: '2.0', id, result: 'x'.repeat(8192) }) }),
  },
  'an answer to another request': {
    code: 'HTTP_RPC_ID_MISMATCH',
    answer: () => ({ status: 200, type: 'application/json', body: JSON.stringify({ jsonrpc: '2.0', id: 'someone-else', result: 77 }) }),
  },
  'not JSON-RPC 2.0': {
    code: 'HTTP_RPC_INVALID_RESPONSE',
    answer: (id) => ({ status: 200, type: 'application/json', body: JSON.stringify({ id, result: 77 }) }),
  },
};

let mode = 'truncated JSON';
let broken: Server;
let brokenUrl = '';
let good: ScriptedServer;

beforeAll(async () => {
  broken = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const { id } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: unknown };
      const { status, type, body } = BROKEN[mode]!.answer(id);
      response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) }).end(body);
    });
  });
  await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
  brokenUrl = `http://127.0.0.1:${(broken.address() as AddressInfo).port}`;
  // The honest provider is a little slower, so the broken answer is always in first.
  good = await startScriptedServer(() => new Promise((resolve) => setTimeout(() => resolve(42), 30)));
});

afterAll(async () => {
  await good.close();
  broken.closeAllConnections();
  await new Promise<void>((resolve) => broken.close(() => resolve()));
});

describe('a provider that breaks the protocol fails over like one that is down', () => {
  const cases = Object.keys(BROKEN).flatMap((what) =>
    (['race', 'hedge', 'dual'] as const).map((strategy): [string, SolanaStrategy] => [what, strategy]),
  );

  it.each(cases)('%s, %s: the honest provider answers, and the broken one is reported as the failure', async (what, strategy) => {
    mode = what;
    const client = createSolanaMultiRpc({
      // Listed first, so hedge asks it first too.
      endpoints: [
        { id: 'broken', url: brokenUrl, role: 'primary' },
        { id: 'honest', url: good.url, role: 'secondary' },
      ],
      http: { maxResponseBytes: 4096 },
    });
    try {
      const details = await client.callWithDetails('getSlot', [], {
        strategy,
        deadlineMs: 10_000,
        ...(strategy === 'hedge' ? { hedgeDelayMs: 5_000 } : {}),
      });
      expect(details).toMatchObject({ result: 42, endpoint: 'honest' });
      expect(details.attempts.find((attempt) => attempt.endpoint === 'broken')).toMatchObject({
        ok: false,
        error: { code: BROKEN[what]!.code, category: 'protocol' },
      });
      expect(client.pool.snapshot().endpoints.find((endpoint) => endpoint.id === 'broken')!.totals.error).toBe(1);
    } finally {
      await client.close();
    }
  });
});
