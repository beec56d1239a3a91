import type { XError } from '@x/errors';
import type { JsonRpcParams } from '@x/json-rpc';
import { createRequestSender } from './dispatcher.js';
import { createDrainer } from './drain.js';
import { httpError } from './errors.js';
import { createExchanges } from './exchange.js';
import { outcomesOf, resultOf } from './match.js';
import { callSettings, resolveSettings } from './options.js';
import { batchPayload, checkRequest, createIdSequence, singlePayload } from './requests.js';
import { createSlots } from './slots.js';
import type {
  BatchOutcome,
  BatchRequest,
  CallOptions,
  HttpTransport,
  HttpTransportOptions,
  SingleCallOptions,
  TimedResult,
} from './types.js';

export { DEFAULT_CALLER_ERROR_CODES, DEFAULT_RATE_LIMIT_CODES } from './options.js';

/**
 * Creates a JSON-RPC 2.0 client for one HTTP endpoint, with its own keep-alive connection pool. The
 * wiring only: options (options.ts), the request queue (slots.ts), undici and its send hook
 * (dispatcher.ts), one bounded exchange (exchange.ts, response.ts, body.ts), background drains of
 * aborted calls (drain.ts), request bodies (requests.ts) and JSON-RPC matching (match.ts).
 */
export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  const settings = resolveSettings(options);
  const { label } = settings;
  const sender = createRequestSender(settings);
  const drainer = createDrainer();
  const slots = createSlots(settings.connections * Math.max(settings.pipelining, 1));
  const nextId = createIdSequence();
  let closing: Promise<void> | undefined;
  const closedError = (): XError => httpError('HTTP_CLOSED', 'aborted', `The transport for ${label} is closed`, { endpoint: label });
  const exchanges = createExchanges({ settings, slots, sender, drainer, closing: () => closing !== undefined }, closedError);

  const callWithLatency = async <T>(method: string, params?: JsonRpcParams, callOptions?: SingleCallOptions): Promise<TimedResult<T>> => {
    checkRequest(method, params, label);
    const call = callSettings(callOptions, settings);
    const { id, payload } = singlePayload(method, params, callOptions?.id ?? nextId(), settings);
    const exchanged = await exchanges.run(payload, call);
    return { value: resultOf(exchanged.json, id, exchanged.facts, settings) as T, latencyMs: exchanged.latencyMs };
  };

  const batch = async <T>(requests: readonly BatchRequest[], callOptions?: CallOptions): Promise<BatchOutcome<T>[]> => {
    const call = callSettings(callOptions, settings);
    const { ids, payload } = batchPayload(requests, nextId, settings);
    return outcomesOf<T>(await exchanges.run(payload, call), ids, settings);
  };

  const close = (): Promise<void> => {
    closing ??= (async () => {
      await exchanges.abortAll(closedError());
      await sender.destroy();
    })();
    return closing;
  };

  return {
    label,
    call: async <T>(method: string, params?: JsonRpcParams, callOptions?: SingleCallOptions): Promise<T> =>
      (await callWithLatency<T>(method, params, callOptions)).value,
    callWithLatency,
    batch,
    close,
  };
}
