import { isPlainObject } from '@x/errors';
import { invalidOptions } from './options.js';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;
// Connection management belongs to the pool; letting a caller set these would break keep-alive accounting.
const RESERVED_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade']);
// Header values that describe the payload rather than the caller are not credentials.
const NON_SECRET_HEADERS = new Set(['content-type', 'accept']);
// Shorter values (`1`, `true`, `no-cache`) are not credentials, and redacting them would only mangle messages.
const MIN_HEADER_SECRET_LENGTH = 8;

function decodeLoosely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The request headers: JSON in and out, Basic auth from the URL's user info, then the caller's
 * extras, checked (names are echoed in errors to help fix them; values may be tokens and never are).
 */
export function buildHeaders(url: URL, extra: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (url.username !== '' || url.password !== '') {
    const user = decodeLoosely(url.username);
    const password = decodeLoosely(url.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }
  if (extra === undefined) return headers;
  if (!isPlainObject(extra)) throw invalidOptions('headers', 'headers must be an object of strings');
  for (const [name, value] of Object.entries(extra)) {
    if (!HEADER_NAME.test(name))
      throw invalidOptions(`headers[${JSON.stringify(name.slice(0, 64))}]`, 'headers: a header name is not a valid HTTP token');
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw invalidOptions(`headers.${name}`, `headers: ${name} is managed by the transport`);
    if (typeof value !== 'string' || /[\r\n\0]/.test(value)) {
      throw invalidOptions(`headers.${name}`, `headers: the value of ${name} must be a string without CR, LF or NUL`);
    }
    headers[name.toLowerCase()] = value;
  }
  return headers;
}

/**
 * The credentials among the caller's extra headers (`authorization: Bearer …`, `x-api-key: …`): each
 * value, and each of its words (the token without its scheme), so that a server quoting them back in
 * a body or a JSON-RPC error cannot put them into an error. Tolerates input `buildHeaders` will refuse.
 */
export function secretsOfHeaders(extra: unknown): string[] {
  if (!isPlainObject(extra)) return [];
  const secrets: string[] = [];
  for (const [name, value] of Object.entries(extra)) {
    if (typeof value !== 'string' || NON_SECRET_HEADERS.has(name.toLowerCase())) continue;
    for (const candidate of [value.trim(), ...value.split(/\s+/)]) {
      if (candidate.length >= MIN_HEADER_SECRET_LENGTH) secrets.push(candidate);
    }
  }
  return [...new Set(secrets)];
}
