import { JSON_RPC_ERROR_CODES } from '@x/json-rpc';

/**
 * The JSON-RPC 2.0 codes this proxy answers with: the standard ones of `@x/json-rpc` keep their meaning;
 * the proxy's own live in -32050…-32059, clear of the codes Solana nodes use (-32001…-32019) so that a
 * node's own error, passed through, is never confused with one of the proxy's.
 */
export const PROXY_RPC_ERROR_CODES = Object.freeze({
  ...JSON_RPC_ERROR_CODES,
  UPSTREAM_UNAVAILABLE: -32050,
  UPSTREAM_TIMEOUT: -32051,
  UPSTREAM_RATE_LIMITED: -32052,
  NO_CONSENSUS: -32053,
  UPSTREAM_INVALID_RESPONSE: -32054,
  UNAUTHORIZED: -32055,
});
