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
} from './types.js';
export { isCallerError } from './errors.js';
export type {
  EndpointContext,
  HttpTransportErrorCode,
  RpcErrorContext,
  StatusErrorContext,
  TimeoutContext,
  TransportFailureContext,
} from './errors.js';
export { parseRetryAfter } from './retry-after.js';
export type { JsonRpcErrorObject, JsonRpcId, JsonRpcParams } from '@x/json-rpc';
export { parseJsonWithBigIntegers, stringifyJson } from '@x/json-rpc';
export type { BigIntegerMode } from '@x/json-rpc';
