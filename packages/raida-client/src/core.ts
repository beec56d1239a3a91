import type { ResolvedClientOptions } from './options.js';
import type { ReplyGate } from './reply-gate.js';
import type { ReplyCounterTracker } from './reply-counters.js';
import type { UdpClient } from '@x/udp-transport';

/** The state of one RAIDA client, shared by the functions of its named modules. */
export interface RaidaCore {
  readonly config: ResolvedClientOptions;
  /** The injected transport, or the client's own. */
  readonly udp: UdpClient;
  /** True when `udp` was created by this client (and is closed by its `close()`). */
  readonly ownsUdp: boolean;
  /** One controller per call in flight that has something to stop its fan-out with. */
  readonly calls: Set<AbortController>;
  readonly gate: ReplyGate;
  readonly replyCounters: ReplyCounterTracker;
  /** `host:port` of each server, in server order. */
  readonly addresses: readonly string[];
  closed: boolean;
}
