export { createUdpClient } from './client.js';
export type { UdpInvalidRequestContext, UdpNetworkErrorContext, UdpTargetContext, UdpTransportErrorCode } from './errors.js';
export type {
  UdpAccept,
  UdpClient,
  UdpClientOptions,
  UdpFailure,
  UdpFanOutItem,
  UdpFanOutOptions,
  UdpLookup,
  UdpOutcome,
  UdpReply,
  UdpRequestOptions,
  UdpStats,
  UdpTarget,
} from './types.js';
