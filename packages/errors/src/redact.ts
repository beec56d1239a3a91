/** What replaces a secret in any text this project prints. */
export const REDACTED = '***';

// A path segment is treated as a credential when it is long and token-like: providers put API keys
// in paths (`/v2/<key>`, `/<token>/`). Short, word-like segments (`v2`, `solana`, `mainnet`) stay.
function looksLikeSecret(segment: string): boolean {
  if (segment.length >= 24) return true;
  return segment.length >= 12 && /\d/.test(segment) && /[a-z]/i.test(segment);
}

/**
 * A URL fit for errors, logs and metric labels: user info, every query value, the fragment and
 * token-like path segments are replaced by `***`. Scheme, host, port and ordinary path segments are
 * kept so that endpoints remain recognisable. Input that is not a URL is not echoed back.
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : new URL(url.href);
  } catch {
    return '[invalid URL]';
  }
  const userInfo = parsed.username !== '' || parsed.password !== '' ? `${REDACTED}@` : '';
  const path = parsed.pathname
    .split('/')
    .map((segment) => (looksLikeSecret(decodeSafely(segment)) ? REDACTED : segment))
    .join('/');
  const keys = [...parsed.searchParams.keys()];
  const query = keys.length === 0 ? '' : `?${keys.map((key) => `${encodeURIComponent(key)}=${REDACTED}`).join('&')}`;
  return `${parsed.protocol}//${userInfo}${parsed.host}${path === '/' ? '' : path}${query}`;
}

function decodeSafely(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Replaces every occurrence of each secret in `text` with `***`. For text that may quote a secret
 * verbatim (a server's error message echoing the request URL, say). Empty secrets are ignored.
 */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  const sorted = [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  for (const secret of sorted) out = out.split(secret).join(REDACTED);
  return out;
}

/**
 * A foreign error fit to be kept as `cause`. `rendered` is everything the error would print (message, stack, nested
 * causes, properties: `util.inspect` on Node). When it quotes none of `secrets`, the original is returned; otherwise a
 * copy of an `Error` with the secrets removed from its message and stack (its `name` and a string `code` kept, nested
 * causes and other properties dropped), or for anything else the redacted rendering.
 */
export function redactCause(error: unknown, secrets: readonly string[], rendered: string): unknown {
  if (!secrets.some((secret) => secret.length > 0 && rendered.includes(secret))) return error;
  if (!(error instanceof Error)) return redactSecrets(rendered, secrets);
  const copy = new Error(redactSecrets(error.message, secrets));
  copy.name = error.name;
  copy.stack = redactSecrets(error.stack ?? '', secrets);
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') Object.defineProperty(copy, 'code', { value: code, enumerable: true });
  return copy;
}

/**
 * The secret parts of a URL (user info, query values, token-like path segments), for use with
 * {@link redactSecrets} on text that might quote them.
 */
export function secretsOfUrl(url: string | URL): string[] {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : new URL(url.href);
  } catch {
    return typeof url === 'string' && url.length > 0 ? [url] : [];
  }
  const secrets: string[] = [];
  if (parsed.username !== '') secrets.push(parsed.username, decodeSafely(parsed.username));
  if (parsed.password !== '') secrets.push(parsed.password, decodeSafely(parsed.password));
  for (const value of parsed.searchParams.values()) {
    if (value !== '') secrets.push(value, encodeURIComponent(value));
  }
  for (const segment of parsed.pathname.split('/')) {
    const decoded = decodeSafely(segment);
    if (looksLikeSecret(decoded)) secrets.push(segment, decoded);
  }
  if (parsed.hash.length > 1) secrets.push(parsed.hash.slice(1));
  return [...new Set(secrets)];
}
