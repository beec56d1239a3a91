export {
  CLOUDCOIN_COIN_ID,
  COIN_FILE_FORMAT,
  COIN_FILE_FORMAT_ASCII,
  COIN_FILE_RAIDA_COUNT,
  COIN_HEADER_LENGTH,
  COIN_RECORD_LENGTH,
  COIN_RECORD_WITH_PANS_LENGTH,
  FILE_HEADER_LENGTH,
  MAX_COINS_PER_FILE,
  MAX_FILE_DENOMINATION,
  MIN_FILE_DENOMINATION,
  ONE_COIN_FILE_LENGTH,
  ONE_COIN_FILE_WITH_PANS_LENGTH,
  assertWalletCoin,
  decodeCoinFile,
  encodeCoinFile,
} from './coin-file.js';
export type { EncodeCoinFileOptions, WalletCoin } from './coin-file.js';
export { PASSES_NEEDED, POWN_BYTES, POWN_LETTERS, countPown, decodePownString, encodePownString, gradePown } from './pown.js';
export type { CoinGrade, PownLetter } from './pown.js';
export { coinFileName, denominationUnits, formatUnits, totalUnits } from './names.js';
export { readCoinFile, writeCoinFile, writeFileAtomic } from './files.js';
export type { RaidaWalletErrorCode, WalletInvalidCoinContext } from './errors.js';
export { COIN_FOLDERS, CONFIG_FILE, TRANSACTIONS_FILE, WALLET_FOLDERS } from './folders.js';
export type { StoredCoin, WalletFolder, WalletProblem } from './folders.js';
export { openWallet } from './wallet.js';
export type {
  CoinOutcome,
  ExportOptions,
  FolderBalance,
  HealReport,
  ImportReport,
  Wallet,
  WalletCallOptions,
  WalletNetwork,
  WalletOptions,
  WalletProgress,
} from './wallet.js';
