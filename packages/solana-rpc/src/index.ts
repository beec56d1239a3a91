export { createSolanaMultiRpc } from './client.js';
export { DEFAULT_MAX_SLOT_LAG } from './options.js';
export { SOLANA_CALLER_ERROR_CODES, SOLANA_RATE_LIMIT_CODES } from './endpoints.js';
export type {
  SendTransactionOptions,
  SendTransactionResult,
  SolanaAttemptReport,
  SolanaBroadcastOutcome,
  SolanaCallDetails,
  SolanaCallOptions,
  SolanaConsensusReport,
  SolanaEndpointConfig,
  SolanaHttpOptions,
  SolanaPoolOptions,
  SolanaRpc,
  SolanaRpcOptions,
  SolanaVote,
} from './types.js';
export { DEFAULT_METHOD_POLICY, DEFAULT_WRITE_POLICY, METHOD_PRESETS, POLICY_KEYS, SOLANA_STRATEGIES, WRITE_METHODS } from './policy.js';
export type { MethodPolicy, MethodPolicyOverride, SolanaStrategy } from './policy.js';
export { CONFIG_POSITION } from './params.js';
export type { SolanaCommitment } from './params.js';
export { contextSlotOf } from './watermark.js';
export { DEFAULT_STATE_MAX_AGE_MS, loadStateFile, saveStateFile } from './state.js';
export type { SolanaStateOptions, SolanaStateRestore } from './state.js';
export { signatureListsCompatible, tallySolanaVotes, comparableValue } from './tally.js';
export type { Ballot, SignatureEntry, Tally, TallyGroup, TallyOptions } from './tally.js';
export { BATCHABLE_STRATEGIES, BATCH_ROUNDS } from './batch.js';
export type { SolanaBatchCall, SolanaBatchOptions, SolanaBatchOutcome } from './batch.js';
export { createKitTransport, jsonRpcErrorOf } from './kit.js';
export type { KitTransport, KitTransportConfig, KitTransportOptions } from './kit.js';
export { firstSignatureOf } from './transaction.js';
export type { TransactionEncoding } from './transaction.js';
export { SOLANA_RPC_ERROR_CODES } from './errors.js';
export type { BroadcastOutcomeContext, NoConsensusContext, SolanaRpcErrorCode } from './errors.js';
export { createSolanaSubscriptions } from './subscriptions/merged.js';
export type {
  SolanaMergedSubscription,
  SolanaNotification,
  SolanaStreamEndpointStats,
  SolanaSubscribeOptions,
  SolanaSubscriptionCounters,
  SolanaSubscriptions,
  SolanaSubscriptionsOptions,
  SolanaWsEndpointConfig,
  SubscriptionTransport,
  SubscriptionTransportEvent,
  SubscriptionTransportFactory,
  SubscriptionsPool,
  SubscriptionsRpc,
} from './subscriptions/merged.js';
export { SUBSCRIPTION_METHODS, isSubscriptionMethod, subscriptionKey } from './subscriptions/methods.js';
export type { SolanaSubscriptionMethod } from './subscriptions/methods.js';
export { createSubscriptionHub, createSubscriptionSession } from './subscriptions/hub.js';
export type {
  HubListener,
  SessionErrorBody,
  SubscriptionHub,
  SubscriptionSession,
  SubscriptionSessionOptions,
} from './subscriptions/hub.js';
export { createKitSubscriptionsChannel, createKitSubscriptionsTransport } from './subscriptions/kit.js';
export type { KitSubscriptionsChannel, KitSubscriptionsOptions, KitSubscriptionsTransport } from './subscriptions/kit.js';
