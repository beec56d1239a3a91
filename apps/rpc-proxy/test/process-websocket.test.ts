import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { printedUrl, startProxy } from './process-helpers.js';

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
