import type { IncomingMessage, ServerResponse } from 'node:http';
import { isXError } from '@x/errors';
import { errorResponse, parseRequestBody } from '@x/json-rpc';
import type { ProxyLimits } from './config.js';
import type { MutableCounters } from './counters.js';
import type { Forwarder } from './forward.js';
import { discardBody, isJsonContentType, readBody, sendJson, sendText } from './http.js';
import { PROXY_RPC_ERROR_CODES } from './jsonrpc.js';

/** How much of an oversized body is read and thrown away so that the client can read its 413. */
const OVERSIZED_DRAIN_BYTES = 16 * 1_048_576;

export type RpcRoute = (request: IncomingMessage, response: ServerResponse, controller: AbortController) => Promise<void>;

/**
 * `POST /`: checks the content type, reads the body within `maxBodyBytes`, parses it with `@x/json-rpc`
 * (ids and params beyond 2^53 kept exact) and answers a single call, a batch, or the body as a whole.
 */
export function createRpcRoute(limits: ProxyLimits, counters: MutableCounters, forwarder: Forwarder): RpcRoute {
  /** The answer to a body that could not be read: the rest of it is never read, so the connection cannot carry another request. */
  const refuseBody = async (
    request: IncomingMessage,
    response: ServerResponse,
    controller: AbortController,
    reason: string,
  ): Promise<void> => {
    counters.rejected += 1;
    const close = { connection: 'close' };
    if (reason === 'too-large') {
      // Answering while the client still writes would reset the connection under the answer.
      await discardBody(request, OVERSIZED_DRAIN_BYTES, controller.signal);
      const error = {
        code: PROXY_RPC_ERROR_CODES.INVALID_REQUEST,
        message: `Invalid request: the body exceeds ${limits.maxBodyBytes} bytes`,
        data: { maxBodyBytes: limits.maxBodyBytes },
      };
      sendJson(response, 413, errorResponse(null, error), close);
    } else if (reason === 'invalid-utf8') {
      sendJson(
        response,
        200,
        errorResponse(null, { code: PROXY_RPC_ERROR_CODES.PARSE_ERROR, message: 'Parse error: the body is not valid UTF-8' }),
      );
    } else if (isXError(controller.signal.reason, 'PROXY_REQUEST_TIMEOUT')) {
      sendJson(
        response,
        408,
        errorResponse(null, {
          code: PROXY_RPC_ERROR_CODES.UPSTREAM_TIMEOUT,
          message: 'Request time limit exceeded while reading the body',
        }),
        close,
      );
    } else {
      sendJson(
        response,
        503,
        errorResponse(null, { code: PROXY_RPC_ERROR_CODES.INTERNAL_ERROR, message: 'The proxy is shutting down' }),
        close,
      );
    }
  };

  return async (request, response, controller) => {
    if (!isJsonContentType(request.headers['content-type'])) {
      counters.rejected += 1;
      const error = { code: PROXY_RPC_ERROR_CODES.INVALID_REQUEST, message: 'Invalid request: the content type must be application/json' };
      sendJson(response, 415, errorResponse(null, error), { connection: 'close' });
      return;
    }
    const body = await readBody(request, limits.maxBodyBytes, controller.signal);
    if (!body.ok) {
      await refuseBody(request, response, controller, body.reason);
      return;
    }
    const parsed = parseRequestBody(body.text, { maxBatchSize: limits.maxBatchSize });
    if (parsed.kind === 'error') {
      counters.rejected += 1;
      sendJson(response, 200, errorResponse(null, parsed.error));
      return;
    }
    const answer =
      parsed.kind === 'single'
        ? await forwarder.forward(parsed.request, controller.signal)
        : await forwarder.forwardBatch(parsed.requests, controller.signal);
    // Nothing to answer (notifications only): 204, as JSON-RPC over HTTP has it.
    if (answer === undefined || (Array.isArray(answer) && answer.length === 0)) sendText(response, 204, '', 'application/json');
    else sendJson(response, 200, answer);
  };
}
