export { createWsTransport } from './transport.js';
export type { WsCallOptions, WsTransport } from './transport.js';
export type { ReconnectOptions, WsTransportEvent, WsTransportOptions } from './options.js';
export type { SubscribeOptions, UnsubscribeOptions, WsNotification, WsResubscribed, WsSubscription } from './subscriptions.js';
export type { LinkState as WsTransportState, WsTransportStats } from './link.js';
export type { WsTransportErrorCode } from './errors.js';
