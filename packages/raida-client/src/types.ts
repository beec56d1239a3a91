import type { ErrorCategory, XError } from '@x/errors';
import type { CommandName, RaidaServer, RandomSource, ReplyCounterConvention } from '@x/raida-protocol';
import type { ReplyCounterSource } from './reply-counters.js';
import type { UdpClient } from '@x/udp-transport';
import type { RaidaServerStatus } from './status.js';

/**
 * A coin as the whole RAIDA knows it: one authenticity number per RAIDA, indexed by RAIDA id (0–24),
 * which is also the position in a full 25-server list.
 */
export interface RaidaCoin {
  /** int8 from −8 to 6; the coin is worth 10^denomination. */
  readonly denomination: number;
  readonly serialNumber: number;
  /** `ans[id]` is the 16-byte AN that RAIDA `id` holds. Only the ids of the configured servers are read. */
  readonly ans: readonly Uint8Array[];
}

/** The ANs a pown proposes for one coin, indexed by RAIDA id like {@link RaidaCoin.ans}. */
export type RaidaNewAns = readonly Uint8Array[];

/** Request encryption: none, or AES-128-CTR (type 1) keyed by one coin's AN on each RAIDA. */
export type RaidaEncryption = { readonly type: 0 } | { readonly type: 1; readonly keyCoin: RaidaCoin };

export interface RaidaClientOptions {
  /** Servers in order; each request is addressed to `server.id`. Default: `PUBLIC_RAIDA_SERVERS`. */
  readonly servers?: readonly RaidaServer[];
  /** Network coin id (request bytes 6–7). Default 6. */
  readonly coinId?: number;
  /** One attempt against one server (a datagram and its reply), in ms. Default 3000. Retries wait longer (× 1.5 each). */
  readonly attemptTimeoutMs?: number;
  /**
   * The whole call (every attempt, retries and reply counter probes included), in ms. Servers still out when it
   * passes are reported as `timeout` (error `RAIDA_DEADLINE`) and nothing more is sent. Default: none.
   */
  readonly deadlineMs?: number;
  /**
   * The UDP transport, injected: a client of `@x/udp-transport` (or anything with its `fanOut` and `close`) that the
   * RAIDA client uses and never closes. Default: a `createUdpClient()` of its own, closed by `close()`.
   */
  readonly udp?: UdpClient;
  /** Random source for challenges, echo bytes and nonces. Default: Web Crypto. */
  readonly random?: RandomSource;
  /** Servers that must agree. Default: a strict majority, ⌊n/2⌋ + 1 (13 of 25). */
  readonly quorum?: number;
  /** Largest request datagram; detect/pown split their coins to stay under it. Default 1024. */
  readonly maxRequestBytes?: number;
  /** Encryption for every call unless a call overrides it. Default `{ type: 0 }`. */
  readonly encryption?: RaidaEncryption;
  /**
   * Reply counter convention of encrypted reply bodies, by RAIDA id, for servers whose convention you know.
   * Others are learned once per client (see the README). Default: none set.
   */
  readonly replyCounters?: Readonly<Record<number, ReplyCounterConvention>>;
}

/** What `onReply` receives each time one server's answer to one attempt is known. */
export interface RaidaReplyEvent {
  /** Position of the server in the configured list. */
  readonly index: number;
  readonly server: RaidaServerResult;
  /** 0 for the first attempt. */
  readonly attempt: number;
  /** False when this server failed and will be retried. */
  readonly final: boolean;
  /** Servers whose status is final so far, this one included. */
  readonly completed: number;
  readonly total: number;
}

export interface RaidaCallOptions {
  /** One attempt against one server (the first; retries wait × 1.5 each). Default: the client's `attemptTimeoutMs`. */
  readonly attemptTimeoutMs?: number;
  /** The whole call. Default: the client's `deadlineMs`. */
  readonly deadlineMs?: number;
  /** Aborting rejects the call with `ABORTED` and stops waiting at once. */
  readonly signal?: AbortSignal;
  /** Live progress, once per server per attempt. Exceptions it throws are ignored. */
  readonly onReply?: (event: RaidaReplyEvent) => void;
  /** Overrides the client's `encryption`. */
  readonly encryption?: RaidaEncryption;
}

export interface RaidaRetryOptions {
  /**
   * Extra attempts for servers that timed out or had a network error (never for a server that
   * answered). Each retry's timeout is the previous one × 1.5, capped at 10 s. Default 0.
   */
  readonly retries?: number;
}

export interface RaidaEarlyFinishOptions {
  /** Stop waiting once no server still out could change any coin's verdict. Default false. */
  readonly earlyFinish?: boolean;
}

export type RaidaEchoOptions = RaidaCallOptions & RaidaRetryOptions;
export type RaidaDetectOptions = RaidaCallOptions & RaidaRetryOptions & RaidaEarlyFinishOptions;
/** No `retries`: pown is not idempotent and is never resent. */
export type RaidaPownOptions = RaidaCallOptions & RaidaEarlyFinishOptions;

/** One server's part of a call. */
export interface RaidaServerResult {
  /** RAIDA id the requests were addressed to. */
  readonly id: number;
  /** `host:port` (IPv6 in brackets). */
  readonly address: string;
  readonly status: RaidaServerStatus;
  /** Status byte of the reply (for detect/pown split into several requests: the combined 241/242/243). */
  readonly statusCode?: number;
  /** Name from the status table, e.g. `success`, `allPass`, `invalidCrc`. */
  readonly statusName?: string;
  readonly statusDescription?: string;
  /** For every status but ready/pass/fail/mixed. */
  readonly errorCategory?: ErrorCategory;
  readonly errorCode?: string;
  readonly message?: string;
  readonly error?: XError;
  /** Execution time the server reported, in µs (summed over split requests). */
  readonly executionTimeUs?: number;
  /** Of the final attempt: reply time, time to failure, or exactly the timeout. Split requests: the slowest. */
  readonly latencyMs: number;
  /** Attempts made (1 unless retried). */
  readonly attempts: number;
  /** The version command's answer. */
  readonly version?: string;
  /** Detect/pown: this server's verdict per coin (`true` = pass), when it answered with coin results. */
  readonly verdicts?: readonly boolean[];
  /**
   * Encrypted (type 1) calls: the server's reply counter convention, when known (`undefined` while it is not), and
   * whether it was configured or learned.
   */
  readonly replyCounter?: ReplyCounterConvention;
  readonly replyCounterSource?: ReplyCounterSource;
}

/** Counts of each status, plus what they add up to. */
export type RaidaTotals = { readonly [S in RaidaServerStatus]: number } & {
  /** Servers that sent a valid reply: ready, pass, fail, mixed and server-error. */
  readonly replied: number;
  /** Echo/version: at least `quorum` servers ready. Detect/pown: every coin reached a verdict (none in limbo). */
  readonly consensus: boolean;
  readonly quorum: number;
};

export interface RaidaServerRef {
  readonly index: number;
  readonly id: number;
  readonly address: string;
  readonly latencyMs: number;
}

export interface RaidaResult {
  readonly command: CommandName;
  /** One per server, in server order. */
  readonly statuses: RaidaServerStatus[];
  /** One per server, in server order, in ms. */
  readonly latencies: number[];
  readonly servers: RaidaServerResult[];
  readonly totals: RaidaTotals;
  /** Among servers that sent a valid reply; `undefined` when none did. */
  readonly fastest: RaidaServerRef | undefined;
  readonly slowest: RaidaServerRef | undefined;
  /** Wall time of the whole call, retries included. */
  readonly elapsedMs: number;
}

export type CoinVerdict = 'authentic' | 'counterfeit' | 'fracked' | 'limbo';
/** One server's vote on one coin. */
export type CoinVote = 'pass' | 'fail' | 'unknown';

export interface RaidaCoinVerdict {
  /** Position of the coin in the call. */
  readonly index: number;
  readonly denomination: number;
  readonly serialNumber: number;
  readonly verdict: CoinVerdict;
  readonly pass: number;
  readonly fail: number;
  /** Servers that gave no vote (silent, errored, or not awaited). */
  readonly unknown: number;
  /** Ids of the servers that failed the coin: for a fracked coin, the ones that need healing. */
  readonly failedOn: number[];
  /** One vote per server, in server order. */
  readonly votes: CoinVote[];
}

export interface RaidaCoinResult extends RaidaResult {
  readonly command: 'detect' | 'pown';
  readonly coins: RaidaCoinVerdict[];
}

export interface RaidaClient {
  readonly servers: readonly RaidaServer[];
  readonly quorum: number;
  echo(options?: RaidaEchoOptions): Promise<RaidaResult>;
  version(options?: RaidaEchoOptions): Promise<RaidaResult>;
  detect(coins: readonly RaidaCoin[], options?: RaidaDetectOptions): Promise<RaidaCoinResult>;
  /** `newAns[i]` are the proposed ANs of `coins[i]`, indexed by RAIDA id. Never retried. */
  pown(coins: readonly RaidaCoin[], newAns: readonly RaidaNewAns[], options?: RaidaPownOptions): Promise<RaidaCoinResult>;
  /** Settles calls in flight with `RAIDA_CLIENT_CLOSED` and closes the UDP client it created. Idempotent. */
  close(): Promise<void>;
}
