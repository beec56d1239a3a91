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
});
