import type { Failure, Success } from '@x/errors';

/** Where a datagram goes: an IPv4 or IPv6 literal, or a host name resolved before sending. */
export interface UdpTarget {
  readonly host: string;
  /** 1–65535. */
  readonly port: number;
}

/** One datagram of a fan-out. */
export interface UdpFanOutItem {
  readonly target: UdpTarget;
  readonly payload: Uint8Array;
  /** This item's own timeout; defaults to the call's, then the client's `timeoutMs`. */
  readonly timeoutMs?: number;
  /**
   * Decides whether a datagram from the target is this item's reply. One it rejects (returns anything
   * but `true`, or throws) is dropped and counted as `droppedRejected`, and the item keeps waiting until
   * its timeout. Called synchronously, at most once per datagram. Default: the first datagram is the reply.
   */
  readonly accept?: UdpAccept;
}

/** Tells a reply from a datagram that only comes from the right address (forged, or late for an earlier request). */
export type UdpAccept = (reply: Uint8Array) => boolean;

/**
 * The reply to one datagram: the `@x/errors` {@link Success} of one exchange, plus its target. `value` is the whole
 * datagram that came back; `latencyMs` runs from this item's send (or, for a host name, the start of its
 * resolution) to the reply, in float ms.
 */
export type UdpReply = Success<Uint8Array> & { readonly target: UdpTarget };

/**
 * A datagram that got no usable reply: the `@x/errors` {@link Failure} of one exchange, plus its target.
 * `error.category` is `network`, `timeout` or `aborted`; `latencyMs` is exactly the item's timeout when it timed out.
 */
export type UdpFailure = Failure & { readonly target: UdpTarget };

export type UdpOutcome = UdpReply | UdpFailure;

export interface UdpRequestOptions {
  /** Overrides the client's `timeoutMs` for this call. */
  readonly timeoutMs?: number;
  /** Aborting settles whatever is still pending at once (category `aborted`). */
  readonly signal?: AbortSignal;
  /** As {@link UdpFanOutItem.accept}: a datagram it rejects is dropped and the request keeps waiting. */
  readonly accept?: UdpAccept;
}

export interface UdpFanOutOptions {
  /** Overrides the client's `timeoutMs` for this call. */
  readonly timeoutMs?: number;
  /** Aborting settles whatever is still pending at once (category `aborted`). */
  readonly signal?: AbortSignal;
  /**
   * Called once per item as soon as it settles (reply, timeout, error or abort), in settle order,
   * with the item's index in the input. For live progress. Exceptions it throws are caught and ignored.
   */
  readonly onOutcome?: (outcome: UdpOutcome, index: number) => void;
}

/** A name resolver; the default is `node:dns` `lookup` (the OS resolver, `/etc/hosts` included). */
export type UdpLookup = (hostname: string) => Promise<{ readonly address: string; readonly family?: number }>;

export interface UdpClientOptions {
  /** Default timeout of one exchange (one datagram and its reply), in ms. Default 3000. Any finite value > 0 and ≤ 2147483647. */
  readonly timeoutMs?: number;
  /** Larger payloads are refused before anything is sent (`UDP_REQUEST_TOO_LARGE`). Default 65507. */
  readonly maxRequestBytes?: number;
  /** Larger incoming datagrams are dropped and counted (`droppedOversize`). Default 65507. */
  readonly maxReplyBytes?: number;
  /** Idle sockets kept open per address family for reuse; more are closed as they fall idle. Default 4. */
  readonly maxIdleSockets?: number;
  /** Local addresses to bind sockets to (to pick an interface). Default: the wildcard address, any port. */
  readonly bindAddress?: { readonly ipv4?: string; readonly ipv6?: string };
  /** Name resolution for targets that are not IP literals. Default: `node:dns` `lookup`. */
  readonly lookup?: UdpLookup;
}

/** Counters since the client was created, plus two gauges (`inFlight`, `openSockets`). */
export interface UdpStats {
  /** Datagrams handed to the OS. */
  readonly sent: number;
  /** Replies accepted (matched to a pending item). */
  readonly received: number;
  /** Datagrams from an address and port no item on that socket ever sent to. */
  readonly droppedSpoofed: number;
  /** Datagrams from a known target whose item had already settled (duplicates, late replies). */
  readonly droppedLate: number;
  /** Datagrams larger than `maxReplyBytes`. */
  readonly droppedOversize: number;
  /** Datagrams from a pending item's target that its `accept` rejected (returned false or threw). */
  readonly droppedRejected: number;
  /** Items that timed out. */
  readonly timeouts: number;
  /** Items that failed with a network error (send, socket or name resolution failure). */
  readonly errors: number;
  /** Items settled by an abort signal or by `close()`. */
  readonly aborted: number;
  /** Items not yet settled. */
  readonly inFlight: number;
  /** Sockets currently open (busy or idle in the pool). */
  readonly openSockets: number;
}

export interface UdpClient {
  /** Sends one datagram and resolves with its reply; rejects with the `XError` of a failure. */
  request(target: UdpTarget, payload: Uint8Array, options?: UdpRequestOptions): Promise<UdpReply>;
  /**
   * Sends every item's datagram before awaiting any reply; each item has its own timeout. Resolves
   * with one outcome per item, in input order, once all have settled. Rejects only for invalid input,
   * an already-aborted signal or a closed client — then nothing was sent.
   */
  fanOut(items: readonly UdpFanOutItem[], options?: UdpFanOutOptions): Promise<UdpOutcome[]>;
  stats(): UdpStats;
  /** Settles everything pending with `UDP_CLOSED`, closes every socket; resolves once they are closed. */
  close(): Promise<void>;
}
