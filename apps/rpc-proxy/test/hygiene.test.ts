import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createProxyServer } from '../src/server.js';
import type { ProxyServer } from '../src/server.js';

let proxy: ProxyServer | undefined;

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

/** Opens a raw connection, writes `first`, then one more header byte every `everyMs` until the server closes; resolves with what it answered. */
function trickle(port: number, first: string, everyMs: number | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    let timer: NodeJS.Timeout | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The server may reset a socket it already answered; what it answered is what matters.
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
    });
    socket.on('close', () => {
      clearInterval(timer);
      resolve(received);
    });
    socket.on('connect', () => {
      socket.write(first);
      if (everyMs !== undefined) {
        timer = setInterval(() => {
          if (socket.writable) socket.write('x');
        }, everyMs);
      }
    });
  });
}

/**
 * Runs fetch in another process (in-process, the event loop hides the race): POSTs `bytes` of body,
 * with a Content-Length and streamed, `times` each, and reports each status or error code.
 */
function fetchFromChild(url: string, bytes: number, times: number): Promise<string[]> {
  const script = `
    const out = [];
    const chunk = new TextEncoder().encode('x'.repeat(65536));
    for (let i = 0; i < ${times}; i++) {
      try {
        const r = await fetch(${JSON.stringify(url)}, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(${bytes}) });
        out.push(String(r.status)); await r.text();
      } catch (e) { out.push(String(e.cause?.code ?? e)); }
      try {
        const body = new ReadableStream({ start(c) { for (let k = 0; k < ${Math.ceil(bytes / 65536)}; k++) c.enqueue(chunk); c.close(); } });
        const r = await fetch(${JSON.stringify(url)}, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' });
        out.push('streamed ' + r.status); await r.text();
      } catch (e) { out.push('streamed ' + String(e.cause?.code ?? e)); }
    }
    process.stdout.write(JSON.stringify(out));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(stdout) as string[]) : reject(new Error(`fetch child exited with ${code}`)),
    );
  });
}

describe('HTTP hygiene', () => {
  it('answers 408 and closes a connection whose headers trickle in one byte at a time', async () => {
    proxy = await createProxyServer({ endpoints: [{ url: 'http://127.0.0.1:9' }], limits: { headersTimeoutMs: 200 } });
    const answer = await trickle(proxy.port, 'POST / HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: ', 20);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes a connection that never sends a request line', async () => {
    proxy = await createProxyServer({ endpoints: [{ url: 'http://127.0.0.1:9' }], limits: { headersTimeoutMs: 200 } });
    const answer = await trickle(proxy.port, 'PO', undefined);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('lets a fetch client in another process read the 413 of an oversized body, sized or streamed', async () => {
    proxy = await createProxyServer({ endpoints: [{ url: 'http://127.0.0.1:9' }], limits: { maxBodyBytes: 1024 } });
    const outcomes = await fetchFromChild(proxy.url, 6_000_000, 3);
    expect(outcomes).toEqual(['413', 'streamed 413', '413', 'streamed 413', '413', 'streamed 413']);
    expect(proxy.counters().rejected).toBe(6);
  });
});
