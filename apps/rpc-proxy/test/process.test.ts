import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { printedUrl, startProxy } from './process-helpers.js';

describe('the rpc-proxy process', () => {
  it('boots the local cluster, serves a call, and exits 0 on SIGTERM', async () => {
    const running = startProxy(['--local', '--port', '0']);
    try {
      const url = await printedUrl(running);
      expect(new URL(url).hostname).toBe('127.0.0.1');
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getSlot' }),
      });
      const body = (await response.json()) as { result: unknown };
      expect(Number.isSafeInteger(body.result)).toBe(true);
    } finally {
      running.kill('SIGTERM');
    }
    expect(await running.exited).toEqual({ code: 0, signal: null });
    expect(running.stderr()).toContain('SIGTERM, shutting down');
  });

  it('--local --local-limit: under load beyond every provider, no 429 reaches the proxy and /metrics shows the budgets', async () => {
    // Each simulated provider allows 10 requests a second (HTTP 429 beyond) and the proxy is told so.
    const running = startProxy(['--local', '--port', '0', '--local-limit', '10']);
    try {
      const url = await printedUrl(running);
      // 60 calls at once: one and a half times what the 4 providers allow together in a second.
      const answers = await Promise.all(
        Array.from({ length: 60 }, async (_, id) => {
          const response = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ jsonrpc: '2.0', id, method: 'getSlot' }),
          });
          return (await response.json()) as { result?: unknown };
        }),
      );
      expect(answers.filter((answer) => answer.result !== undefined).length).toBeGreaterThan(40);
      const stats = (await (await fetch(`${url}/stats`)).json()) as {
        pool: { endpoints: Array<{ id: string; totals: { rateLimited: number } }> };
      };
      expect(stats.pool.endpoints.map((endpoint) => [endpoint.id, endpoint.totals.rateLimited])).toEqual([
        ['fast', 0],
        ['heavy-tail', 0],
        ['flaky', 0],
        ['lagging', 0],
      ]);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      for (const id of ['fast', 'heavy-tail', 'flaky', 'lagging'])
        expect(metrics).toContain(`x_pool_budget_tokens{endpoint="${id}",bucket="requests"}`);
      expect(metrics).toContain('x_pool_budget_store_mode{mode="local"} 1');
    } finally {
      running.kill('SIGTERM');
    }
    expect(await running.exited).toEqual({ code: 0, signal: null });
  });

  it('exits 2 naming the bad field of a configuration file, without starting', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rpc-proxy-process-'));
    try {
      const path = join(dir, 'proxy.json');
      await writeFile(
        path,
        JSON.stringify({ endpoints: [{ url: 'http://127.0.0.1:9' }], methods: { getAccountInfo: { deadlineMs: -1 } } }),
      );
      const running = startProxy(['--config', path, '--port', '0']);
      expect(await running.exited).toEqual({ code: 2, signal: null });
      expect(running.stderr()).toContain('methods.getAccountInfo.deadlineMs: expected a positive number');
      expect(running.stdout()).toBe('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('saves --state-file at SIGTERM and restores it on the next start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rpc-proxy-state-'));
    try {
      const path = join(dir, 'pool.json');
      const first = startProxy(['--local', '--port', '0', '--state-file', path]);
      try {
        const url = await printedUrl(first);
        for (let id = 0; id < 5; id += 1) {
          const response = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ jsonrpc: '2.0', id, method: 'getSlot' }),
          });
          expect(response.status).toBe(200);
          await response.text();
        }
      } finally {
        first.kill('SIGTERM');
      }
      expect(await first.exited).toEqual({ code: 0, signal: null });
      const saved = JSON.parse(await readFile(path, 'utf8')) as {
        version: number;
        endpoints: Array<{ id: string; window: { success: number } }>;
      };
      expect(saved.version).toBe(1);
      expect(saved.endpoints.map((endpoint) => endpoint.id)).toEqual(['fast', 'heavy-tail', 'flaky', 'lagging']);
      expect(saved.endpoints.reduce((sum, endpoint) => sum + endpoint.window.success, 0)).toBeGreaterThan(0);

      const second = startProxy(['--local', '--port', '0', '--state-file', path]);
      try {
        await printedUrl(second);
      } finally {
        second.kill('SIGTERM');
      }
      expect(await second.exited).toEqual({ code: 0, signal: null });
      // Read once the process is gone: both pipes are complete then.
      expect(second.stderr()).toMatch(/state restored from .*pool\.json .*: fast, heavy-tail, flaky, lagging/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
