export { createPool } from './create-pool.js';
export type { Pool } from './create-pool.js';
export {
  DEFAULT_BURST_RESERVE,
  DEFAULT_COOLDOWN,
  DEFAULT_EJECTION,
  DEFAULT_HEDGE,
  DEFAULT_REDUNDANCY_HEADROOM,
  DEFAULT_SCORING,
  DEFAULT_STATISTICS,
} from './options.js';
export { DEFAULT_HEDGE_BUDGET } from './execute.js';
export type {
  BudgetExhaustedPolicy,
  CreditsBudget,
  EndpointBudget,
  RedundancyHeadroomOptions,
  CooldownOptions,
  EjectionOptions,
  EndpointConfig,
  EndpointRole,
  HedgeDelayOptions,
  PoolEndpoint,
  PoolOptions,
  ScoringOptions,
  StatisticsOptions,
} from './options.js';
export type { AttemptOutcome, EjectionReason, HealthState, RecordOptions } from './endpoint.js';
export type { AttemptTracker, BudgetRequest, SelectOptions, Selection } from './pool.js';
export type { AttemptCounts, EndpointSnapshot, LatencyStatistics, PoolSnapshot, WindowStatistics } from './snapshot.js';
export type { EndpointExport, ImportResult, PoolExport } from './warm-start.js';
export type { AttemptResult } from './window.js';
export type { StreamDelivery, StreamStatistics } from './stream.js';
export type { StreamSelectOptions } from './stream-selection.js';
export type {
  ConsensusExecuteOptions,
  DualExecuteOptions,
  Execute,
  ExecuteCommonOptions,
  ExecuteOptions,
  ExecuteResult,
  HedgeExecuteOptions,
  PoolAttemptFn,
  RaceExecuteOptions,
  ScatterExecuteOptions,
  TallyExecuteOptions,
  PoolHedgeResult,
  PoolRaceResult,
} from './execute.js';
export type { BudgetReport, Redundancy } from './budgets.js';
export { checkTakes, createLocalBudgetStore } from './budget-store.js';
export type {
  BudgetGrant,
  BudgetStore,
  BudgetStoreStatus,
  BudgetTake,
  EndpointHold,
  EndpointHoldKind,
  LocalBudgetStoreOptions,
  TokenBucketSpec,
} from './budget-store.js';
