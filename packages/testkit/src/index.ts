export { createRandom, type Random, type RandomSeed } from './random.js';
export { startRpcCluster, type RpcCluster, type RpcEndpointInfo, type RpcEndpointStats, type RpcResponseKind } from './solana/cluster.js';
export { type RpcStreamStats } from './solana/streams.js';
export { COMMITMENT_DEPTH, SUBSCRIPTION_METHODS, type Commitment } from './solana/pubsub.js';
export { type RpcClusterOptions, type RpcEndpointOptions, type RpcRequestEvent } from './solana/options.js';
export {
  DEFAULT_RPC_BEHAVIOR,
  DEFAULT_STREAM_FAULTS,
  rpcProfiles,
  sampleLatencyMs,
  type RpcBehaviorPatch,
  type RpcEndpointBehavior,
  type RpcEndpointMode,
  type RpcErrorMode,
  type RpcLatency,
  type RpcProfileName,
  type RpcRateLimit,
  type RpcStreamFaults,
} from './solana/behavior.js';
export { type SimulatedAccount, type SimulatedChain, type SimulatedChainOptions, type SimulatedTransaction } from './solana/chain.js';
export { RPC_ERROR_CODES, RPC_METHODS, type RpcErrorObject } from './solana/methods.js';
export { type SolanaWireTransaction } from './solana/wire.js';
export { fakeLogsResult, startFakeWsProvider, type FakeWsProvider, type FakeWsSubscription } from './solana/fake-ws-provider.js';
export {
  SPOOFED_EXECUTION_TIME_US,
  startRaidaCluster,
  type RaidaCluster,
  type RaidaServerInfo,
  type RaidaServerStats,
} from './raida/cluster.js';
export { type RaidaClusterOptions, type RaidaRequestEvent } from './raida/options.js';
export { type RaidaHealingOptions } from './raida/healing.js';
export {
  DEFAULT_RAIDA_BEHAVIOR,
  sampleRaidaLatencyMs,
  type RaidaBehaviorPatch,
  type RaidaLatency,
  type RaidaReplyCounter,
  type RaidaServerBehavior,
  type RaidaSpoofMode,
} from './raida/behavior.js';
export {
  coinForRaida,
  counterfeitCoin,
  createTestCoins,
  frackCoin,
  type ClusterCoin,
  type TestCoin,
  type TestCoinOptions,
} from './raida/coins.js';
export { DEMO_FRACKED_ON, createDemoCoins, startDemoRaida, type DemoCoin, type DemoRaida, type DemoRaidaOptions } from './raida/demo.js';
export {
  DEFAULT_RELAY_FAULTS,
  alterValue,
  startRpcRelays,
  type RpcRelayEvent,
  type RpcRelayFaults,
  type RpcRelayFaultsPatch,
  type RpcRelayInfo,
  type RpcRelayOptions,
  type RpcRelayOutcome,
  type RpcRelayRateLimit,
  type RpcRelays,
  type RpcRelaysOptions,
  type RpcRelayStats,
} from './relay/relay.js';
export {
  DEFAULT_WS_RELAY_FAULTS,
  startWsRelays,
  type WsRelayFaults,
  type WsRelayInfo,
  type WsRelayOptions,
  type WsRelays,
  type WsRelaysOptions,
  type WsRelayStats,
} from './relay/ws-relay.js';
export { startRedisServer, type RedisServer, type RedisServerOptions } from './redis.js';
