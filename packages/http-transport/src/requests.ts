import { isPlainObject } from '@x/errors';
import { describeId, stringifyJson } from '@x/json-rpc';
import type { JsonRpcId, JsonRpcParams } from '@x/json-rpc';
import { safeText } from './errors.js';
import { invalidRequest } from './options.js';
import type { TransportSettings } from './options.js';
import type { BatchRequest } from './types.js';

/** The transport's JSON-RPC id sequence: 1, 2, … wrapping before it leaves the safe integers. */
export function createIdSequence(): () => number {
  let lastId = 0;
  return () => {
    lastId = lastId >= Number.MAX_SAFE_INTEGER ? 1 : lastId + 1;
    return lastId;
  };
}

function checkId(id: unknown, endpoint: string): asserts id is JsonRpcId {
  if (typeof id === 'string' || Number.isSafeInteger(id)) return;
  throw invalidRequest('A JSON-RPC id must be a string or a safe integer', { endpoint });
}

/** `HTTP_INVALID_REQUEST` for a method that is not a non-empty string or params that are neither array nor object. */
export function checkRequest(method: unknown, params: unknown, endpoint: string): void {
  if (typeof method !== 'string' || method === '') throw invalidRequest('The JSON-RPC method must be a non-empty string', { endpoint });
  if (params !== undefined && !Array.isArray(params) && !isPlainObject(params)) {
    throw invalidRequest('JSON-RPC params must be an array or an object', { endpoint, method });
  }
}

function serialise(payload: unknown, method: string | undefined, settings: TransportSettings): string {
  try {
    // A bigint is written as a JSON integer with all its digits.
    const text = stringifyJson(payload);
    if (text !== undefined) return text;
    throw new TypeError('the request has no JSON representation');
  } catch (error) {
    // Circular params, a throwing toJSON: the message names the problem, not the data.
    const context = method === undefined ? { endpoint: settings.label } : { endpoint: settings.label, method };
    throw invalidRequest(
      `The request cannot be serialised as JSON: ${safeText((error as Error).message, settings.env.secrets)}`,
      context,
      error,
    );
  }
}

const request = (id: JsonRpcId | undefined, method: string, params: JsonRpcParams | undefined): object =>
  params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };

/** The body of one call whose method and params passed {@link checkRequest} (`HTTP_INVALID_REQUEST` for a bad id or unserialisable params). */
export function singlePayload(
  method: string,
  params: JsonRpcParams | undefined,
  id: unknown,
  settings: TransportSettings,
): { readonly id: JsonRpcId; readonly payload: string } {
  checkId(id, settings.label);
  return { id, payload: serialise(request(id, method, params), method, settings) };
}

/** The body of a batch, checked, with the ids it was sent with (given ones kept, the others drawn from `nextId` without clashes). */
export function batchPayload(
  input: readonly BatchRequest[],
  nextId: () => number,
  settings: TransportSettings,
): { readonly ids: readonly JsonRpcId[]; readonly payload: string } {
  const endpoint = settings.label;
  if (!Array.isArray(input) || input.length === 0) throw invalidRequest('A batch needs a non-empty array of requests', { endpoint });
  // Array.isArray narrows to any[]; the items are checked one by one below.
  const requests: readonly BatchRequest[] = input;
  const chosen = new Set<JsonRpcId>();
  for (const item of requests) {
    if (!isPlainObject(item)) throw invalidRequest('Every batch item must be an object', { endpoint });
    checkRequest(item.method, item.params, endpoint);
    if (item.id === undefined) continue;
    checkId(item.id, endpoint);
    if (chosen.has(item.id)) throw invalidRequest(`The id ${describeId(item.id)} appears twice in the batch`, { endpoint });
    chosen.add(item.id);
  }
  const ids = requests.map((item) => {
    if (item.id !== undefined) return item.id;
    let id = nextId();
    while (chosen.has(id)) id = nextId();
    chosen.add(id);
    return id;
  });
  const payload = serialise(
    requests.map((item, position) => request(ids[position], item.method, item.params)),
    undefined,
    settings,
  );
  return { ids, payload };
}
