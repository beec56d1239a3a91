export { createRaidaClient } from './client.js';
export { fillerCoinIds, planCoinBatches } from './batches.js';
export type { BatchPlanInput, CoinBatch } from './batches.js';
export { randomAns } from './coins.js';
export type { ReplyCounterSource } from './reply-counters.js';
export type { RaidaClientErrorCode, RaidaServerErrorContext } from './errors.js';
export { RAIDA_SERVER_STATUSES, isReplyStatus, isRetryableStatus } from './status.js';
export type { RaidaServerStatus } from './status.js';
export { RETRY_TIMEOUT_CAP_MS, RETRY_TIMEOUT_FACTOR, coinVerdict, isCoinSettled, majorityOf, retryTimeoutMs } from './verdicts.js';
export type { VoteCount } from './verdicts.js';
export type {
  CoinVerdict,
  CoinVote,
  RaidaCallOptions,
  RaidaClient,
  RaidaClientOptions,
  RaidaCoin,
  RaidaCoinResult,
  RaidaCoinVerdict,
  RaidaDetectOptions,
  RaidaEarlyFinishOptions,
  RaidaEchoOptions,
  RaidaEncryption,
  RaidaNewAns,
  RaidaPownOptions,
  RaidaReplyEvent,
  RaidaResult,
  RaidaRetryOptions,
  RaidaServerRef,
  RaidaServerResult,
  RaidaTotals,
} from './types.js';
export { DEFAULT_FIX_TIMEOUT_MS, createRaidaHealer } from './healing.js';
export type {
  RaidaFindCoin,
  RaidaHealCallOptions,
  RaidaHealReplyEvent,
  RaidaHealResult,
  RaidaHealServerResult,
  RaidaHealer,
  RaidaHealerOptions,
  RaidaTicketResult,
} from './healing.js';
