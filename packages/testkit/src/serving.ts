import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:net';

/** Where every simulator listens. */
export const LOOPBACK_HOST = '127.0.0.1';

/** The statuses an injected HTTP server error is drawn from. */
export const SERVER_ERROR_STATUSES = [500, 502, 503, 504] as const;
/** Their reason phrases, the plain-text body of an injected server error. */
export const STATUS_TEXT: Readonly<Record<number, string>> = {
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Listens on an ephemeral port of 127.0.0.1; resolves with the port, or rejects with the error that prevented it. */
export async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

/**
 * Runs `action` at once when `delayMs <= 0`, else on a timer held in `timers` until it fires, so that a close can
 * clear every pending one. Returns that timer.
 */
export function runAfter(timers: Set<NodeJS.Timeout>, delayMs: number, action: () => void): NodeJS.Timeout | undefined {
  if (delayMs <= 0) {
    action();
    return undefined;
  }
  const timer = setTimeout(() => {
    timers.delete(timer);
    action();
  }, delayMs);
  timers.add(timer);
  return timer;
}

/** `runAfter` for an HTTP answer: when the client leaves first, the timer is cleared and `onAborted` called. */
export function answerAfter(
  timers: Set<NodeJS.Timeout>,
  delayMs: number,
  res: ServerResponse,
  answer: () => void,
  onAborted: () => void,
): void {
  const timer = runAfter(timers, delayMs, answer);
  if (timer === undefined) return;
  res.once('close', () => {
    if (!timers.delete(timer)) return;
    clearTimeout(timer);
    onAborted();
  });
}

/**
 * Reads a request body of at most `maxBytes`: `onBody` gets it once whole; past the limit the rest is discarded and
 * `onTooLarge` is called once. A client that vanishes mid-body calls neither (its socket closes; nothing is left to do).
 */
export function readBody(req: IncomingMessage, maxBytes: number, onBody: (body: Buffer) => void, onTooLarge: () => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  req.on('data', (chunk: Buffer) => {
    if (tooLarge) return;
    size += chunk.length;
    if (size > maxBytes) {
      tooLarge = true;
      chunks.length = 0;
      onTooLarge();
    } else chunks.push(chunk);
  });
  req.on('end', () => {
    if (!tooLarge) onBody(Buffer.concat(chunks));
  });
  req.on('error', () => undefined);
}

/** Calls a user's `onRequest` observer with `event`: one that throws becomes a process warning, never a failure of the simulator. */
export function notifyObserver<E>(observer: ((event: E) => void) | undefined, event: E): void {
  if (observer === undefined) return;
  try {
    observer(event);
  } catch (error) {
    process.emitWarning(`@x/testkit: onRequest threw: ${error instanceof Error ? error.message : String(error)}`, 'TestkitWarning');
  }
}
