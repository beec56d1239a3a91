import { request } from 'node:http';
import type { Socket } from 'node:net';

interface RpcErrorReply {
  code: number;
  message: string;
  data?: unknown;
}

export interface RpcReply<T> {
  jsonrpc: '2.0';
  id: number | string | null;
  result?: T;
  error?: RpcErrorReply;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** POSTs `body` (a string is sent as is, anything else as JSON) and reads the whole answer. */
export async function post(url: string, body: unknown): Promise<HttpAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

export function parse<T>(text: string): T {
  return JSON.parse(text) as T;
}

/** One JSON-RPC call; the reply as parsed JSON. */
export async function call<T>(url: string, method: string, params?: unknown[]): Promise<RpcReply<T>> {
  const answer = await post(url, params === undefined ? { jsonrpc: '2.0', id: 1, method } : { jsonrpc: '2.0', id: 1, method, params });
  if (answer.status !== 200) throw new Error(`HTTP ${answer.status}: ${answer.text}`);
  return parse<RpcReply<T>>(answer.text);
}

/** The result of one call, failing the test when the endpoint answered an error. */
export async function result<T>(url: string, method: string, params?: unknown[]): Promise<T> {
  const reply = await call<T>(url, method, params);
  if (reply.error !== undefined) throw new Error(`${method} failed: ${JSON.stringify(reply.error)}`);
  return reply.result as T;
}

export interface Contextual<T> {
  context: { slot: number; apiVersion?: string };
  value: T;
}

/**
 * A POST through node:http without connection reuse, for tests that watch sockets: resolves with the
 * answer, rejects when the connection dies; `closed` settles once the client socket is fully closed.
 */
export function rawPost(
  url: string,
  body: string,
): { answer: Promise<{ status: number; text: string }>; closed: Promise<void>; abort: () => void } {
  let onSocket: (socket: Socket) => void = () => undefined;
  let abort: () => void = () => undefined;
  const socketReady = new Promise<Socket>((resolve) => {
    onSocket = resolve;
  });
  const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('socket', onSocket);
    abort = () => req.destroy();
    req.on('error', reject);
    req.end(body);
  });
  // Tests await the answer only after provoking the failure; mark it handled so that an early
  // rejection is not reported as unhandled in between.
  answer.catch(() => undefined);
  const closed = socketReady.then(
    (socket) =>
      new Promise<void>((resolve) => {
        if (socket.destroyed && socket.closed) resolve();
        else socket.once('close', () => resolve());
      }),
  );
  return { answer, closed, abort };
}

// An independent base58 (BigInt arithmetic) so the package's own encoder is checked, not reused.
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

export function base58(bytes: Uint8Array): string {
  let value = 0n;
  for (const byte of bytes) value = value * 256n + BigInt(byte);
  let out = '';
  while (value > 0n) {
    out = (ALPHABET[Number(value % 58n)] as string) + out;
    value /= 58n;
  }
  for (const byte of bytes) {
    if (byte !== 0) break;
    out = `1${out}`;
  }
  return out;
}

export function unbase58(text: string): Uint8Array {
  let value = 0n;
  for (const char of text) value = value * 58n + BigInt(ALPHABET.indexOf(char));
  const bytes: number[] = [];
  while (value > 0n) {
    bytes.unshift(Number(value % 256n));
    value /= 256n;
  }
  for (const char of text) {
    if (char !== '1') break;
    bytes.unshift(0);
  }
  return Uint8Array.from(bytes);
}

/** Deterministic bytes for keys and signatures in tests. */
export function fill(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed * 2654435761;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    out[i] = (x >>> 16) & 0xff;
  }
  return out;
}

const SYSTEM_PROGRAM = '11111111111111111111111111111111';

/** A serialized one-signature System transfer, legacy or v0, written by hand from the wire spec. */
export function transferWire(options: {
  payer: string;
  to: string;
  lamports: number;
  blockhash: string;
  signatureSeed: number;
  version?: 'legacy' | 0;
}): {
  wire: Uint8Array;
  signature: string;
} {
  const signature = fill(64, options.signatureSeed);
  const data = new Uint8Array(12);
  new DataView(data.buffer).setUint32(0, 2, true);
  new DataView(data.buffer).setBigUint64(4, BigInt(options.lamports), true);
  const parts: number[] = [1, ...signature];
  if (options.version === 0) parts.push(0x80);
  parts.push(1, 0, 1, 3);
  for (const key of [options.payer, options.to, SYSTEM_PROGRAM]) parts.push(...padKey(unbase58(key)));
  parts.push(...unbase58(options.blockhash));
  parts.push(1, 2, 2, 0, 1, data.length, ...data);
  if (options.version === 0) parts.push(0);
  return { wire: Uint8Array.from(parts), signature: base58(signature) };
}

function padKey(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  out.set(bytes, 32 - bytes.length);
  return out;
}

export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}
