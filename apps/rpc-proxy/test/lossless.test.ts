import { afterEach, describe, expect, it } from 'vitest';
import { createProxyServer } from '../src/server.js';
import type { ProxyServer } from '../src/server.js';
import { startScriptedUpstream } from './upstream.js';
import type { ScriptedUpstream } from './upstream.js';

let upstream: ScriptedUpstream | undefined;
let proxy: ProxyServer | undefined;

afterEach(async () => {
  await proxy?.close();
  await upstream?.close();
  proxy = undefined;
  upstream = undefined;
});

/** An upstream that answers every call of a body (single or batch) with `result`, under the ids it was sent. */
function answerAll(result: string): (body: string) => { body: string } {
  return (body) => {
    const parsed = JSON.parse(body) as { id: number } | Array<{ id: number }>;
    const one = (entry: { id: number }): string => `{"jsonrpc":"2.0","id":${entry.id},"result":${result}}`;
    return { body: Array.isArray(parsed) ? `[${parsed.map(one).join(',')}]` : one(parsed) };
  };
}

async function post(url: string, body: string): Promise<string> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  expect(response.status).toBe(200);
  return response.text();
}

describe('integers beyond 2^53 in requests', () => {
  it('echoes a big id with every digit and forwards big params exactly (real HTTP both sides)', async () => {
    upstream = await startScriptedUpstream(answerAll('{"blockHeight":1}'));
    proxy = await createProxyServer({ endpoints: [{ id: 'a', url: upstream.url }] });
    const text = await post(
      proxy.url,
      '{"jsonrpc":"2.0","id":9007199254740993,"method":"getBlock","params":[18446744073709551615,{"maxSupportedTransactionVersion":0}]}',
    );
    // The id is the client's, digit for digit: JSON.parse would have answered 9007199254740992.
    expect(text).toContain('"id":9007199254740993');
    expect(text).toContain('"result":{"blockHeight":1}');
    expect(upstream.bodies).toHaveLength(1);
    expect(upstream.bodies[0]).toContain('"params":[18446744073709551615,{"maxSupportedTransactionVersion":0}]');
  });

  it('keeps big ids and params exact inside a batch, and small numbers as they were', async () => {
    upstream = await startScriptedUpstream(answerAll('7'));
    proxy = await createProxyServer({ endpoints: [{ id: 'a', url: upstream.url }] });
    const text = await post(
      proxy.url,
      '[{"jsonrpc":"2.0","id":-9007199254740995,"method":"getBlockTime","params":[9007199254740993]},{"jsonrpc":"2.0","id":1.5,"method":"getBlockTime","params":[12]}]',
    );
    expect(text).toContain('"id":-9007199254740995');
    expect(text).toContain('"id":1.5');
    const sent = upstream.bodies.join('\n');
    expect(sent).toContain('"params":[9007199254740993]');
    expect(sent).toContain('"params":[12]');
  });
});
