import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { XError } from '@x/errors';
import { createSolanaMultiRpc, loadStateFile, saveStateFile } from '@x/solana-rpc';
import type { SolanaRpc } from '@x/solana-rpc';
import { startScriptedServer } from './helpers.js';
import type { ScriptedServer } from './helpers.js';

let dir = '';
let servers: ScriptedServer[] = [];
const clients: SolanaRpc[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'x-solana-state-'));
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
  await rm(dir, { recursive: true, force: true });
});

async function twoEndpoints(): Promise<Array<{ id: string; url: string }>> {
  servers = [await startScriptedServer(() => 7), await startScriptedServer(() => 7)];
  return [
    { id: 'a', url: servers[0]!.url },
    { id: 'b', url: `${servers[1]!.url}/v2/sekret-key-123` },
  ];
}

describe('warm start: state', () => {
  it('a restarted client starts from the saved state: ejections, latency and statistics', async () => {
    const endpoints = await twoEndpoints();
    const first = createSolanaMultiRpc({ endpoints, pool: { ejection: { consecutiveFailures: 1 } } });
    clients.push(first);
    for (let i = 0; i < 5; i++) await first.call('getThing');
    first.pool.record('b', { ok: false, latencyMs: 1, error: new XError({ code: 'TEST_DOWN', category: 'network', message: 'down' }) });
    expect(first.pool.snapshot().endpoints[1]?.health).toBe('ejected');
    const file = join(dir, 'state.json');
    await saveStateFile(file, first.exportState());
    // Atomic: the file is complete and no temporary file is left behind; no secret of a URL is in it.
    expect(await readdir(dir)).toEqual(['state.json']);
    expect(await readFile(file, 'utf8')).not.toContain('sekret-key-123');

    const second = createSolanaMultiRpc({ endpoints, state: { restore: await loadStateFile(file) } });
    clients.push(second);
    expect(second.restoredState).toMatchObject({ restored: true, imported: ['a', 'b'], unknown: [] });
    const [a, b] = second.pool.snapshot().endpoints;
    expect(b).toMatchObject({ health: 'ejected' });
    expect(a?.latency.ewmaMs).toBe(first.pool.snapshot().endpoints[0]?.latency.ewmaMs);
    expect(a?.window.success).toBe(5);
    // It routes around the ejected endpoint from its first call.
    expect((await second.callWithDetails('getThing')).endpoint).toBe('a');
  });

  it('a state older than maxAgeMs, a corrupt one, or none at all is not restored and does not stop the client', async () => {
    const endpoints = await twoEndpoints();
    const first = createSolanaMultiRpc({ endpoints });
    clients.push(first);
    const old = { ...first.exportState(), exportedAt: Date.now() - 11 * 60_000 };
    const stale = createSolanaMultiRpc({ endpoints, state: { restore: old } });
    clients.push(stale);
    expect(stale.restoredState).toMatchObject({ restored: false, reason: 'too-old' });
    const longer = createSolanaMultiRpc({ endpoints, state: { restore: old, maxAgeMs: 3_600_000 } });
    clients.push(longer);
    expect(longer.restoredState).toMatchObject({ restored: true });
    const corrupt = createSolanaMultiRpc({ endpoints, state: { restore: { version: 99 } } });
    clients.push(corrupt);
    expect(corrupt.restoredState).toMatchObject({ restored: false, reason: 'invalid', error: { code: 'POOL_INVALID_IMPORT' } });
    expect(await corrupt.call('getThing')).toBe(7);
    const none = createSolanaMultiRpc({ endpoints, state: { restore: await loadStateFile(join(dir, 'missing.json')) } });
    clients.push(none);
    expect(none.restoredState).toEqual({ restored: false, reason: 'none' });
  });

  it('bad options and unreadable files are clear XErrors', async () => {
    const endpoints = await twoEndpoints();
    expect(() => createSolanaMultiRpc({ endpoints, state: { restore: undefined, maxAgeMs: -1 } })).toThrow(
      expect.objectContaining({ code: 'SOLANA_INVALID_OPTIONS' }),
    );
    expect(() => createSolanaMultiRpc({ endpoints, state: { file: 'x' } as never })).toThrow(
      expect.objectContaining({ code: 'SOLANA_INVALID_OPTIONS' }),
    );
    await writeFile(join(dir, 'broken.json'), '{"version":1,');
    await expect(loadStateFile(join(dir, 'broken.json'))).rejects.toMatchObject({ code: 'SOLANA_STATE_FILE' });
    await expect(saveStateFile(join(dir, 'no-such-dir', 'state.json'), { version: 1, exportedAt: 0, endpoints: [] })).rejects.toMatchObject(
      { code: 'SOLANA_STATE_FILE' },
    );
    expect(await readdir(dir)).toEqual(['broken.json']);
  });
});
