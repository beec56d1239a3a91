import type { Dispatcher } from 'undici';
import type { XError } from '@x/errors';
import { parseResponse } from '@x/json-rpc';
import type { JsonRpcErrorObject } from '@x/json-rpc';
import { headerText, readLimited } from './body.js';
import { rpcFailure, statusFailure } from './classify.js';
import type { ResponseFacts } from './classify.js';
import { httpError, safeText } from './errors.js';
import type { TransportSettings } from './options.js';
import { parseRetryAfter } from './retry-after.js';

// An error response's body is read only for its message; a small cap keeps a huge error page from
// costing more than the error is worth (the connection is then dropped instead of reused).
const ERROR_BODY_BYTES = 64 * 1024;

/** The HTTP facts every error about this response carries. */
export function factsOf(response: Dispatcher.ResponseData): ResponseFacts {
  return { status: response.statusCode, retryAfterMs: parseRetryAfter(headerText(response.headers['retry-after'])) };
}

/** The error of a non-2xx answer, with the JSON-RPC error or the text of its (capped) body when it has one. */
export async function failureFromStatus(
  response: Dispatcher.ResponseData,
  facts: ResponseFacts,
  maxBytes: number,
  signal: AbortSignal,
  settings: TransportSettings,
): Promise<XError> {
  let bodyText: string | undefined;
  let rpcError: JsonRpcErrorObject | undefined;
  try {
    const read = await readLimited(response.body, Math.min(maxBytes, ERROR_BODY_BYTES), signal);
    bodyText = read.bytes.toString('utf8');
    if (read.complete) {
      const parsed = parseResponse(settings.parseJson(bodyText));
      if (parsed.kind === 'error') rpcError = parsed.error;
    }
  } catch {
    // The status already tells what happened; a body that is unreadable, not JSON or cut short by
    // the deadline only loses the detail.
  }
  if (rpcError !== undefined && facts.status !== 429) return rpcFailure(rpcError, facts, settings.env);
  return statusFailure(facts, { bodyText, rpcError }, settings.env);
}

/**
 * A 2xx body that is not JSON. No cause: the JSON parser's SyntaxError quotes a few characters of the
 * body, possibly the start of a secret too short for redactSecrets to recognise.
 */
function malformed(bytes: Buffer, facts: ResponseFacts, contentType: string | undefined, settings: TransportSettings): XError {
  const { label, env } = settings;
  const excerpt = safeText(bytes.subarray(0, ERROR_BODY_BYTES).toString('utf8'), env.secrets);
  const what = bytes.length === 0 ? 'an empty body' : 'a body that is not JSON';
  return httpError('HTTP_MALFORMED_RESPONSE', 'protocol', `${label} answered with ${what}`, {
    endpoint: label,
    status: facts.status,
    bytes: bytes.length,
    ...(contentType === undefined ? {} : { contentType: safeText(contentType, env.secrets) }),
    ...(excerpt === '' ? {} : { body: excerpt }),
  });
}

function tooLarge(limitBytes: number, facts: ResponseFacts, contentLength: number | undefined, label: string): XError {
  return httpError(
    'HTTP_RESPONSE_TOO_LARGE',
    'protocol',
    `${label} sent a response body larger than ${limitBytes} bytes`,
    contentLength === undefined
      ? { endpoint: label, status: facts.status, limitBytes }
      : { endpoint: label, status: facts.status, limitBytes, contentLength },
  );
}

/** Reads a 2xx answer's body within `maxBytes` and parses it as JSON. */
export async function readJson(
  response: Dispatcher.ResponseData,
  facts: ResponseFacts,
  maxBytes: number,
  signal: AbortSignal,
  settings: TransportSettings,
): Promise<unknown> {
  const declared = Number(headerText(response.headers['content-length']) ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes, facts, declared, settings.label);
  const read = await readLimited(response.body, maxBytes, signal);
  if (!read.complete) throw tooLarge(maxBytes, facts, undefined, settings.label);
  try {
    return settings.parseJson(read.bytes.toString('utf8'));
  } catch {
    throw malformed(read.bytes, facts, headerText(response.headers['content-type']), settings);
  }
}
