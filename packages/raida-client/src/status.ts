/**
 * The status strings of one server in a result, in the order tables list them:
 * - `ready`: echo/version answered 250 with the right signature;
 * - `pass` / `fail` / `mixed`: detect/pown answered 241 / 242 / 243 (every coin passed / failed / some of each);
 * - `timeout`: no acceptable reply within the timeout (replies from any other address or port are never accepted);
 * - `network-error`: sending failed, the socket failed, or the host name did not resolve;
 * - `protocol-error`: a datagram came back from the server but is not a valid reply to this request
 *   (wrong signature/challenge, malformed, a success status that does not fit the command);
 * - `server-error`: a valid reply with an error status (its code and name are in the detail);
 * - `skipped`: not awaited, because `earlyFinish` stopped once every coin's verdict was settled.
 */
export const RAIDA_SERVER_STATUSES = [
  'ready',
  'pass',
  'fail',
  'mixed',
  'timeout',
  'network-error',
  'protocol-error',
  'server-error',
  'skipped',
] as const;

export type RaidaServerStatus = (typeof RAIDA_SERVER_STATUSES)[number];

/** Statuses that mean the server sent a valid reply. */
export function isReplyStatus(status: RaidaServerStatus): boolean {
  return status === 'ready' || status === 'pass' || status === 'fail' || status === 'mixed' || status === 'server-error';
}

/** Statuses worth another attempt of an idempotent command: the server may simply not have heard us. */
export function isRetryableStatus(status: RaidaServerStatus): boolean {
  return status === 'timeout' || status === 'network-error';
}
