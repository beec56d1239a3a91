import type { XError } from '@x/errors';
import { describeId, parseResponse } from '@x/json-rpc';
import type { JsonRpcErrorObject, JsonRpcId } from '@x/json-rpc';
import { rpcFailure } from './classify.js';
import type { ResponseFacts } from './classify.js';
import { httpError, safeText } from './errors.js';
import type { Exchanged } from './exchange.js';
import type { TransportSettings } from './options.js';
import type { BatchOutcome } from './types.js';

function idMismatch(message: string, expectedId: JsonRpcId, receivedId: string, settings: TransportSettings): XError {
  return httpError('HTTP_RPC_ID_MISMATCH', 'protocol', `${settings.label} ${message}`, {
    endpoint: settings.label,
    expectedId,
    receivedId,
  });
}

function invalidResponse(reason: string, status: number, settings: TransportSettings): XError {
  return httpError('HTTP_RPC_INVALID_RESPONSE', 'protocol', `${settings.label} sent an invalid JSON-RPC response: ${reason}`, {
    endpoint: settings.label,
    status,
  });
}

const receivedIdOf = (id: JsonRpcId | null | undefined, settings: TransportSettings): string =>
  safeText(describeId(id), settings.env.secrets);

/** The `result` answering the call with `id`, or the error it stands for. */
export function resultOf(json: unknown, id: JsonRpcId, facts: ResponseFacts, settings: TransportSettings): unknown {
  if (Array.isArray(json)) throw invalidResponse('an array (batch) answered a single call', facts.status, settings);
  const parsed = parseResponse(json);
  if (parsed.kind === 'invalid') throw invalidResponse(parsed.reason, facts.status, settings);
  // An error the server could not tie to a request carries a null (or, from lax servers, no) id.
  const matches = parsed.id === id || (parsed.kind === 'error' && (parsed.id === null || parsed.id === undefined));
  if (!matches) {
    const received = receivedIdOf(parsed.id, settings);
    throw idMismatch(`answered id ${received} to a request with id ${describeId(id)}`, id, received, settings);
  }
  if (parsed.kind === 'error') throw rpcFailure(parsed.error, facts, settings.env);
  return parsed.value;
}

/**
 * One outcome per request of a batch, in request order, matched by id whatever order the server
 * answered in. Rejects only when the answer as a whole is not a batch answer.
 */
export function outcomesOf<T>(exchanged: Exchanged, ids: readonly JsonRpcId[], settings: TransportSettings): BatchOutcome<T>[] {
  const { json, facts, latencyMs } = exchanged;
  const { env, label } = settings;
  if (!Array.isArray(json)) {
    const parsed = parseResponse(json);
    // A single error with no id answers the whole batch: the server refused it (rate limit, batch
    // not supported, ...).
    if (parsed.kind === 'error' && (parsed.id === null || parsed.id === undefined)) throw rpcFailure(parsed.error, facts, env);
    throw invalidResponse('a batch call was not answered with an array', facts.status, settings);
  }
  const positions = new Map<JsonRpcId, number>(ids.map((id, position) => [id, position]));
  const outcomes = new Array<BatchOutcome<T> | undefined>(ids.length);
  const answered = new Set<number>();
  let unattributedError: JsonRpcErrorObject | undefined;
  let strays = 0;
  const fail = (error: XError): BatchOutcome<T> => ({ ok: false, error, latencyMs });
  for (const element of json) {
    const parsed = parseResponse(element);
    const position = parsed.id === null || parsed.id === undefined ? undefined : positions.get(parsed.id);
    if (position === undefined) {
      if (parsed.kind === 'error' && (parsed.id === null || parsed.id === undefined)) unattributedError ??= parsed.error;
      else strays += 1;
      continue;
    }
    const id = ids[position] as JsonRpcId;
    if (answered.has(position)) {
      outcomes[position] = fail(
        idMismatch(`answered the request with id ${describeId(id)} more than once`, id, receivedIdOf(id, settings), settings),
      );
      continue;
    }
    answered.add(position);
    if (parsed.kind === 'result') outcomes[position] = { ok: true, value: parsed.value as T, latencyMs };
    else if (parsed.kind === 'error') outcomes[position] = fail(rpcFailure(parsed.error, facts, env));
    else outcomes[position] = fail(invalidResponse(parsed.reason, facts.status, settings));
  }
  return ids.map((id, position) => {
    const outcome = outcomes[position];
    if (outcome !== undefined) return outcome;
    // An error with a null id is the server's answer to what it could not identify; it is the
    // best explanation for the requests left unanswered.
    if (unattributedError !== undefined) return fail(rpcFailure(unattributedError, facts, env));
    return fail(
      httpError('HTTP_RPC_MISSING_RESPONSE', 'protocol', `${label} sent no response for the batch request with id ${describeId(id)}`, {
        endpoint: label,
        expectedId: id,
        unmatchedResponses: strays,
      }),
    );
  });
}
