export { createHttpTransport, DEFAULT_CALLER_ERROR_CODES, DEFAULT_RATE_LIMIT_CODES } from './transport.js';
export type {
  BatchOutcome,
  BatchRequest,
  CallOptions,
  DrainOnAbortOptions,
  HttpTransport,
  HttpTransportOptions,
  SingleCallOptions,
  TimedResult,
} from './transport.js';
export { isCallerError } from './errors.js';
export type { HttpTransportErrorCode } from './errors.js';
export { parseRetryAfter } from './retry-after.js';
export type { JsonRpcErrorObject, JsonRpcId, JsonRpcParams } from './jsonrpc.js';
export { parseJsonWithBigIntegers, stringifyJson } from './json.js';
export type { BigIntegerMode } from './json.js';
