import type { JsonRpcErrorObject } from '@x/json-rpc';
import { RPC_ERROR_CODES } from './methods.js';

// Request parsing, response builders and big-integer JSON come from @x/json-rpc. The simulated nodes
// answer with a real Solana node's plain messages ("Invalid request"), not the parser's detailed ones.
export const PARSE_ERROR: JsonRpcErrorObject = Object.freeze({ code: RPC_ERROR_CODES.parseError, message: 'Parse error' });
export const INVALID_REQUEST: JsonRpcErrorObject = Object.freeze({ code: RPC_ERROR_CODES.invalidRequest, message: 'Invalid request' });
export const INTERNAL_ERROR: JsonRpcErrorObject = Object.freeze({ code: RPC_ERROR_CODES.internalError, message: 'Internal error' });
