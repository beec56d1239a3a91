export { JSON_RPC_ERROR_CODES, describeId, parseResponse } from './jsonrpc.js';
export type { JsonRpcErrorObject, JsonRpcId, JsonRpcParams, ParsedResponse } from './jsonrpc.js';
export { errorResponse, isRequestId, parseRequest, parseRequestBody, resultResponse } from './request.js';
export type { JsonRpcResponse, ParseRequestBodyOptions, ParsedRequest, ParsedRequestBody } from './request.js';
export { BIG_INTEGER_MODES, jsonParserFor, parseJsonWithBigIntegers, stringifyJson, stringifyNotingBigInts } from './json.js';
export type { BigIntegerMode } from './json.js';
