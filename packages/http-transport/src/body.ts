import type { Readable } from 'node:stream';

export interface ReadResult {
  readonly bytes: Buffer;
  readonly complete: boolean;
}

/**
 * Reads at most `limit` bytes; past the limit it stops and reports `complete: false` (the caller destroys the body).
 * When `signal` aborts it rejects at once with the signal's reason and leaves the body paused and
 * intact, so that the caller can still drain it to keep its connection.
 */
export function readLimited(body: Readable, limit: number, signal: AbortSignal): Promise<ReadResult> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
      body.pause();
    };
    const onData = (chunk: Buffer): void => {
      if (size + chunk.length > limit) {
        chunks.push(chunk.subarray(0, limit - size));
        stop();
        resolve({ bytes: Buffer.concat(chunks), complete: false });
        return;
      }
      size += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      stop();
      resolve({ bytes: Buffer.concat(chunks, size), complete: true });
    };
    const onError = (error: Error): void => {
      stop();
      reject(error);
    };
    // A body destroyed without an error (no 'end' came first) was cut short.
    const onClose = (): void => {
      stop();
      reject(Object.assign(new Error('The response body was closed before it ended'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    };
    const onAbort = (): void => {
      stop();
      reject(signal.reason as Error);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    if (body.readableEnded) {
      resolve({ bytes: Buffer.alloc(0), complete: true });
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    body.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
    body.resume();
  });
}

/** Settles with `pending`, or rejects with `signal`'s reason as soon as it aborts, leaving `pending` running. */
export function untilAborted<T>(pending: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: Error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** The first value of a header undici may hand over as a list. */
export function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
