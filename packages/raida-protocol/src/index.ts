export { crc32 } from './crc32.js';
export { createBufferedRandom, defaultRandom } from './random.js';
export type { BufferedRandomOptions, RandomSource } from './random.js';
export { CHALLENGE_LENGTH, challengeFromRandom, createChallenge, isValidChallenge } from './challenge.js';
export { aes128Ctr, advanceCounter, counterBlockFromNonce, replyCounterBlock, requestBlockCount, xorBytes } from './crypto.js';
export type { ReplyCounterConvention } from './crypto.js';
export {
  AN_LENGTH,
  MAX_DENOMINATION,
  MAX_SERIAL_NUMBER,
  MIN_DENOMINATION,
  NETWORK_SERIAL_NUMBER_LIMIT,
  assertCoin,
  assertCoinId,
  assertPownCoin,
  bitfieldLength,
  decodeDetectCoins,
  decodePownCoins,
  decodeVerdictBitfield,
  denominationValue,
  encodeDetectCoins,
  encodePownCoins,
  encodeVerdictBitfield,
} from './coins.js';
export type { Coin, CoinId, PownCoin } from './coins.js';
export { RAIDA_STATUS, STATUS_TABLE, hasStaleFields, isSuccessStatus, statusInfo } from './status.js';
export type { RaidaStatusName, StatusInfo, StatusKind } from './status.js';
export { isCrashSafeType1BodyLength } from './safe-length.js';
export { COMMANDS, COMMAND_LIST, commandByCode, requestBodyLength } from './commands.js';
export type { CommandName, CommandSpec } from './commands.js';
export {
  DEFAULT_COIN_ID,
  MAX_REQUEST_LENGTH,
  buildDetectRequest,
  buildEchoRequest,
  buildPownRequest,
  buildRequest,
  buildVersionRequest,
  maxCoinsPerRequest,
} from './request.js';
export type { BuiltRequest, ReplyEncryption, ReplyExpectation, RequestEncryption, RequestInput, RequestOptions } from './request.js';
export { checkRequest, parseRequestHeader } from './request-parse.js';
export type { ParsedRequest, RequestCheck, RequestCheckOptions, RequestHeader, RequestRejection } from './request-parse.js';
export { buildReply, buildReplyForRequest, parseReply } from './reply.js';
export type { ParsedReply, ReplyForRequestOptions, ReplyInit, StaleReplyFields } from './reply.js';
export { validateReply } from './validate.js';
export type { ValidateReplyOptions, ValidatedReply } from './validate.js';
export { PUBLIC_RAIDA_SERVERS, RAIDA_COUNT, RAIDA_QUORUM, checkServerSet, formatServerAddress, parseServerList } from './servers.js';
export type { ParseServerListOptions, RaidaServer, ServerListErrorContext } from './servers.js';
export type { RaidaInvalidCoinContext, RaidaInvalidOptionContext, RaidaProtocolErrorCode, RaidaReplyErrorContext } from './errors.js';
export {
  FIX_PEER_VOTES_NEEDED,
  FIX_TICKET_COUNT,
  HEALING_STATUS,
  PG_LENGTH,
  buildFindRequest,
  buildFixRequest,
  buildGetTicketRequest,
  buildValidateTicketRequest,
  checkHealingRequest,
  fixedAn,
  healingBodyLength,
  healingCommandByCode,
  maxHealingCoinsPerRequest,
  validateHealingReply,
} from './healing.js';
export type {
  BuiltHealingRequest,
  FindResult,
  HealingCommandName,
  HealingCommandSpec,
  HealingExpectation,
  HealingRequestCheck,
  ParsedHealingRequest,
  ValidatedHealingReply,
} from './healing.js';
