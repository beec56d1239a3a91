import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

interface Running {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly stdout: () => string;
  readonly stderr: () => string;
  kill(signal: NodeJS.Signals): void;
}

function startProxy(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Running {
  const child = spawn(process.execPath, ['--conditions=@x/source', '--import', 'tsx', 'apps/rpc-proxy/src/main.ts', ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { exited, stdout: () => out, stderr: () => err, kill: (signal) => child.kill(signal) };
}

/** Resolves with the URL the proxy prints, or rejects with its output if it exits first. */
function printedUrl(running: Running): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = setInterval(() => {
      const match = /listening on (http:\/\/\S+)/.exec(running.stdout());
      if (match !== null) {
        clearInterval(check);
        resolve(match[1]!);
      }
    }, 20);
    void running.exited.then(({ code }) => {
      clearInterval(check);
      reject(new Error(`rpc-proxy exited (${code}) before listening:\n${running.stdout()}\n${running.stderr()}`));
    });
  });
}

describe('the rpc-proxy process over WebSocket', () => {
  it('pnpm rpc-proxy --local accepts a logsSubscribe from a plain WebSocket client, notifies it, and unsubscribes it', async () => {
    const running = startProxy(['--local', '--port', '0']);
    try {
      const url = await printedUrl(running);
      const ws = new WebSocket(url.replace('http:', 'ws:'));
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      const answers: Array<Record<string, unknown>> = [];
      const answered = (id: number) =>
        new Promise<Record<string, unknown>>((resolve) => {
          const check = (data: Buffer): void => {
            const message = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
            answers.push(message);
            if (message.id === id) {
              ws.off('message', check);
              resolve(message);
            }
          };
          ws.on('message', check);
        });
      const subscribed = answered(1);
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'logsSubscribe', params: ['all', { commitment: 'confirmed' }] }));
      const answer = await subscribed;
      expect(answer).toEqual({ jsonrpc: '2.0', id: 1, result: expect.any(Number) as number });
      // The local cluster produces transactions every slot: the merged stream delivers them as a provider would.
      const notified = new Promise<Record<string, unknown>>((resolve) => {
        const check = (data: Buffer): void => {
          const message = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
          if (message.method === 'logsNotification') {
            ws.off('message', check);
            resolve(message);
          }
        };
        ws.on('message', check);
      });
      const notification = await notified;
      expect(notification).toMatchObject({
        params: { subscription: answer.result, result: { context: { slot: expect.any(Number) as number } } },
      });
      const unsubscribed = answered(2);
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'logsUnsubscribe', params: [answer.result] }));
      expect(await unsubscribed).toEqual({ jsonrpc: '2.0', id: 2, result: true });
      ws.close();
    } finally {
      running.kill('SIGTERM');
    }
    expect(await running.exited).toEqual({ code: 0, signal: null });
  });

  it('takes the WebSocket limits from the configuration file, the --ws-* flags over them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rpc-proxy-ws-'));
    const config = join(dir, 'proxy.json');
    await writeFile(config, JSON.stringify({ websocket: { maxSubscriptionsPerConnection: 5, maxMessageBytes: 2_048 } }));
    const running = startProxy(['--local', '--port', '0', '--config', config, '--ws-max-subscriptions', '1']);
    try {
      const url = await printedUrl(running);
      const ws = new WebSocket(url.replace('http:', 'ws:'));
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      const answers = new Map<unknown, Record<string, unknown>>();
      const waiters: Array<() => void> = [];
      ws.on('message', (data: Buffer) => {
        const message = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
        if (message.id !== undefined) answers.set(message.id, message);
        for (const wake of waiters.splice(0)) wake();
      });
      const answer = async (id: number): Promise<Record<string, unknown>> => {
        while (!answers.has(id)) await new Promise<void>((resolve) => waiters.push(resolve));
        return answers.get(id)!;
      };
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'slotSubscribe' }));
      expect(await answer(1)).toMatchObject({ result: expect.any(Number) as number });
      // --ws-max-subscriptions 1 wins over the file's 5.
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'slotSubscribe' }));
      expect(await answer(2)).toMatchObject({ error: { code: -32005 } });
      // The file's maxMessageBytes applies: a larger message closes the connection with 1009.
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'slotSubscribe', params: ['x'.repeat(4_096)] }));
      expect(await closed).toBe(1009);
    } finally {
      running.kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    }
    expect(await running.exited).toEqual({ code: 0, signal: null });
  });
});
