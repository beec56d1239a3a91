import type { IpAddress } from './address.js';
import type { ResolvedOptions } from './options.js';
import type { Operation } from './pending.js';
import type { SocketPool } from './sockets.js';
import type { Counters } from './stats.js';
import type { UdpLookup } from './types.js';

/** The state of one UDP client, shared by the functions of its named modules. Never module-global. */
export interface UdpCore {
  readonly settings: ResolvedOptions;
  readonly counters: Counters;
  readonly sockets: SocketPool;
  /** Calls not yet settled, so that `close()` can settle them. */
  readonly operations: Set<Operation>;
  readonly lookup: UdpLookup;
  /** `host` → its canonical IP literal, or `null` for a host name (cached). */
  readonly literalOf: (host: string) => IpAddress | null;
}
