import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What a scripted upstream answers to one HTTP request: a status and a raw body. */
export interface ScriptedAnswer {
  readonly status?: number;
  readonly body: string;
}

export interface ScriptedUpstream {
  readonly url: string;
  /** Every request body received, as raw text, in arrival order. */
  readonly bodies: string[];
  close(): Promise<void>;
}

/**
 * A JSON-RPC upstream on 127.0.0.1 whose answers the test writes byte for byte (`answer` gets the raw
 * request body), and which keeps every raw request body: what the proxy really sent, digits and all.
 */
export async function startScriptedUpstream(answer: (body: string) => ScriptedAnswer | Promise<ScriptedAnswer>): Promise<ScriptedUpstream> {
  const bodies: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      bodies.push(body);
      void Promise.resolve(answer(body)).then((reply) => {
        if (response.destroyed) return;
        response.writeHead(reply.status ?? 200, {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(reply.body)),
        });
        response.end(reply.body);
      });
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
