export { race } from './race.js';
export { hedge } from './hedge.js';
export { consensus, canonicalKey, quorumStillReachable } from './consensus.js';
export { dual, createDualBalancer } from './dual.js';
export { scatter } from './scatter.js';
export { DEFAULT_HEDGE_BUDGET, adaptiveDelay, createHedgeBudget } from './budget.js';
export type { AdaptiveDelayOptions, HedgeBudgetOptions } from './budget.js';
export { STRATEGY_ERROR_CODES, aggregateCategory, defaultShouldFailover } from './errors.js';
export type { FailureEntry, GroupSummary, StrategyErrorCode } from './errors.js';
export type {
  AttemptEvent,
  AttemptFailure,
  Ballot,
  ConsensusOptions,
  ConsensusTally,
  ConsensusVerdict,
  DualBalancer,
  DualOptions,
  DualPair,
  DualResult,
  HedgeBudget,
  HedgeBudgetSnapshot,
  HedgeDelay,
  HedgeOptions,
  HedgeResult,
  Quorum,
  RaceResult,
  ScatterOptions,
  ScatterOutcome,
  ScatterProgress,
  StrategyOptions,
  TallyConsensusOptions,
  TallyDecision,
  TallyInput,
  Vote,
} from './types.js';
