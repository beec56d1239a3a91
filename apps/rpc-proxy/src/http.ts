import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { stringifyJson } from '@x/json-rpc';

// Stateless between calls (fatal, never streaming): one instance serves every request.
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export type BodyResult =
  { readonly ok: true; readonly text: string } | { readonly ok: false; readonly reason: 'too-large' | 'aborted' | 'invalid-utf8' };

/**
 * Reads a request body up to `maxBytes`. A declared `Content-Length` over the limit is refused before
 * reading; otherwise reading stops as soon as the limit is passed. Never rejects.
 */
export function readBody(request: IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<BodyResult> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve({ ok: false, reason: 'too-large' });
  return new Promise<BodyResult>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: BodyResult): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
      if (!result.ok) request.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) finish({ ok: false, reason: 'too-large' });
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      try {
        finish({ ok: true, text: UTF8.decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)) });
      } catch {
        finish({ ok: false, reason: 'invalid-utf8' });
      }
    };
    const onError = (): void => finish({ ok: false, reason: 'aborted' });
    const onClose = (): void => {
      if (!request.complete) finish({ ok: false, reason: 'aborted' });
    };
    const onAbort = (): void => finish({ ok: false, reason: 'aborted' });
    if (signal.aborted) {
      onAbort();
      return;
    }
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Reads and throws away the rest of a request body, up to `maxBytes` more, so that an answer sent
 * after it (a 413) reaches the client: closing a connection while the client is still writing makes
 * its kernel reset the connection, and the client sees EPIPE or ECONNRESET instead of the answer.
 * Resolves true once the body has ended, false when it is longer than `maxBytes`, its connection
 * failed or `signal` aborted (the request's time limit). Never rejects.
 */
export function discardBody(request: IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<boolean> {
  if (request.complete) return Promise.resolve(true);
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    let size = 0;
    const finish = (ended: boolean): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onFailure);
      request.off('close', onClose);
      signal.removeEventListener('abort', onFailure);
      if (!ended) request.pause();
      resolve(ended);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) finish(false);
    };
    const onEnd = (): void => finish(true);
    const onFailure = (): void => finish(false);
    const onClose = (): void => finish(request.complete);
    if (signal.aborted) {
      resolve(false);
      return;
    }
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onFailure);
    request.on('close', onClose);
    signal.addEventListener('abort', onFailure, { once: true });
    request.resume();
  });
}

/** `application/json`, with or without parameters such as `charset=utf-8`. */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const mediaType = header.split(';', 1)[0]?.trim().toLowerCase();
  return mediaType === 'application/json';
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * A checker for `Authorization: Bearer <token>`. Both sides are hashed first so that the comparison
 * takes the same time whatever the length or content of the guess.
 */
export function createBearerCheck(token: string): (header: string | undefined) => boolean {
  const expected = digest(token);
  return (header) => {
    if (header === undefined) return false;
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (match === null) return false;
    return timingSafeEqual(digest(match[1] ?? ''), expected);
  };
}

/** Sends a JSON body with an exact length; `connection: close` when the request body was not read in full. */
export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  // Answers hold bigints where upstream integers go beyond 2^53 (rentEpoch = u64::MAX): they are
  // written back with every digit, as the node wrote them.
  sendText(response, status, stringifyJson(body) ?? 'null', 'application/json; charset=utf-8', headers);
}

export function sendText(
  response: ServerResponse,
  status: number,
  text: string,
  contentType: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(status, {
    ...headers,
    'content-type': contentType,
    'content-length': String(Buffer.byteLength(text, 'utf8')),
    'cache-control': 'no-store',
  });
  // A string body goes out in one write with the head (a Buffer would be copied, then written beside it).
  response.end(text, 'utf8');
}
