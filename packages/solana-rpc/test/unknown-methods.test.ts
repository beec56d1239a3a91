import { afterEach, describe, expect, it } from 'vitest';
import { isXError } from '@x/errors';
import { DEFAULT_METHOD_POLICY, createSolanaMultiRpc } from '@x/solana-rpc';
import type { SolanaRpc } from '@x/solana-rpc';
import { startScriptedServer } from './helpers.js';
import type { ScriptedServer } from './helpers.js';

// A method no preset knows may be a write (a bundle submission): it must never reach an endpoint twice.

let servers: ScriptedServer[] = [];
let client: SolanaRpc | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

/** Three endpoints; the first one, ranked first by a fresh pool, holds its answer for 200 ms (long enough for any hedge), then answers. */
async function threeEndpoints(options: { writes?: string[]; firstFails?: boolean } = {}): Promise<SolanaRpc> {
  const first = await startScriptedServer(async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    if (options.firstFails === true) throw new Error('connection dropped');
    return 'bundle-id-1';
  });
  servers = [first, await startScriptedServer(() => 'bundle-id-2'), await startScriptedServer(() => 'bundle-id-3')];
  client = createSolanaMultiRpc({
    endpoints: servers.map((server, index) => ({ id: `e${index}`, url: server.url })),
    ...(options.writes === undefined ? {} : { writes: options.writes }),
  });
  return client;
}

const received = (): number[] => servers.map((server) => server.requests.filter((request) => request.method === 'sendBundle').length);

describe('methods without a preset', () => {
  it('default to one attempt on one endpoint: never hedged, never retried', async () => {
    expect(DEFAULT_METHOD_POLICY.strategy).toBe('single');
    const rpc = await threeEndpoints();
    expect(rpc.policyFor('sendBundle')).toMatchObject({ strategy: 'single' });
    expect(await rpc.call('sendBundle', [['tx']])).toBe('bundle-id-1');
    expect(received()).toEqual([1, 0, 0]);
  });

  it('a failed attempt is not retried elsewhere: the call fails and each endpoint got the method at most once', async () => {
    const rpc = await threeEndpoints({ firstFails: true });
    const error = await rpc.call('sendBundle', [['tx']]).catch((caught: unknown) => caught);
    expect(isXError(error)).toBe(true);
    expect(received()).toEqual([1, 0, 0]);
  });

  it('methods named in `writes` are broadcast once per endpoint, like sendTransaction', async () => {
    const rpc = await threeEndpoints({ writes: ['sendBundle'] });
    expect(rpc.policyFor('sendBundle')).toMatchObject({ strategy: 'broadcast' });
    const details = await rpc.callWithDetails('sendBundle', [['tx']]);
    expect(details.broadcast?.map((outcome) => outcome.ok)).toEqual([true, true, true]);
    expect(received()).toEqual([1, 1, 1]);
  });

  it('a method named in `writes` may not be configured to hedge, race or vote', () => {
    expect(() =>
      createSolanaMultiRpc({
        endpoints: [{ url: 'http://127.0.0.1:1' }],
        writes: ['sendBundle'],
        methods: { sendBundle: { strategy: 'hedge' } },
      }),
    ).toThrow(expect.objectContaining({ code: 'SOLANA_INVALID_OPTIONS' }));
    expect(() => createSolanaMultiRpc({ endpoints: [{ url: 'http://127.0.0.1:1' }], writes: [''] })).toThrow(
      expect.objectContaining({ code: 'SOLANA_INVALID_OPTIONS' }),
    );
  });
});
