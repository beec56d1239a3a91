import WebSocket from 'ws';

export interface Frame {
  readonly id?: number | string | null;
  readonly result?: unknown;
  readonly error?: { code: number; message: string };
  readonly method?: string;
  readonly params?: { subscription: number; result: unknown };
}

/** A plain WebSocket client that records every frame, for looking at exactly what a server sent. */
export interface RawClient {
  readonly frames: Frame[];
  /** Notifications received, in order (duplicates included). */
  readonly notifications: () => Frame[];
  readonly closed: Promise<{ code: number }>;
  isOpen(): boolean;
  /** Sends one request and resolves with its answer frame. */
  request(method: string, params?: unknown[]): Promise<Frame>;
  /** Subscribes and resolves with the subscription id (fails on an error answer). */
  subscribe(method: string, params?: unknown[]): Promise<number>;
  close(): Promise<void>;
}

let nextId = 1;

export async function connect(url: string): Promise<RawClient> {
  const socket = new WebSocket(url);
  const frames: Frame[] = [];
  const waiting = new Map<number, (frame: Frame) => void>();
  const closed = new Promise<{ code: number }>((resolve) => socket.once('close', (code) => resolve({ code })));
  socket.on('error', () => undefined);
  socket.on('message', (data) => {
    const frame = JSON.parse((data as Buffer).toString('utf8')) as Frame;
    frames.push(frame);
    if (typeof frame.id === 'number') waiting.get(frame.id)?.(frame);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const client: RawClient = {
    frames,
    notifications: () => frames.filter((frame) => frame.method !== undefined),
    closed,
    isOpen: () => socket.readyState === socket.OPEN,
    request(method, params) {
      const id = nextId++;
      return new Promise((resolve) => {
        waiting.set(id, (frame) => {
          waiting.delete(id);
          resolve(frame);
        });
        socket.send(JSON.stringify(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params }));
      });
    },
    async subscribe(method, params) {
      const frame = await client.request(method, params);
      if (typeof frame.result !== 'number') throw new Error(`${method} failed: ${JSON.stringify(frame.error)}`);
      return frame.result;
    },
    async close() {
      if (socket.readyState === socket.CLOSED) return;
      socket.terminate();
      await closed;
    },
  };
  return client;
}

/** Resolves when `predicate` holds, checking after every event-loop turn; fails after 10 s (a hang, not a timing assertion). */
export async function until(predicate: () => boolean, what = 'condition'): Promise<void> {
  const giveUpAt = Date.now() + 10_000;
  while (!predicate()) {
    if (Date.now() > giveUpAt) throw new Error(`never happened: ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
