import { afterEach, expect, it, vi } from 'vitest';
import { isXError } from '@x/errors';
import { createSolanaMultiRpc } from '@x/solana-rpc';
import type { SolanaRpc } from '@x/solana-rpc';
import { startScriptedServer } from './helpers.js';
import type { ScriptedServer } from './helpers.js';

let servers: ScriptedServer[] = [];
let client: SolanaRpc | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
  vi.useRealTimers();
});

it('consensus ends with SOLANA_NO_CONSENSUS as soon as the fourth answer makes the quorum unreachable, not at its deadline', async () => {
  // Only the timers are fake: the 1,500 ms deadline can fire only if the test advances the clock, which it never does.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
  const answers = [1, 2, 3, 4];
  for (const value of answers) servers.push(await startScriptedServer(() => value));
  const hung = await startScriptedServer(() => new Promise(() => undefined));
  servers.push(hung);
  client = createSolanaMultiRpc({
    endpoints: servers.map((server, index) => ({ id: index === 4 ? 'hung' : `e${index}`, url: server.url })),
    methods: { getVote: { strategy: 'consensus', quorum: 3, deadlineMs: 1_500 } },
  });
  const error = await client.call('getVote').catch((caught: unknown) => caught);
  expect(isXError(error, 'SOLANA_NO_CONSENSUS')).toBe(true);
  expect((error as { category: string }).category).toBe('protocol');
  expect((error as { context: Record<string, unknown> }).context).toMatchObject({
    reason: 'disagreement',
    quorum: 3,
    unanswered: ['hung'],
  });
  expect(hung.requests).toHaveLength(1);
});
