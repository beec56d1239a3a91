import { rankEndpoints, stateOf } from './core.js';
import { isOut } from './endpoint.js';
import type { PoolCore } from './core.js';
import { checkCount, selectFrom } from './pool.js';
import type { SelectOptions, Selection } from './pool.js';
import { checkDelivery, rankForStreams, recordDeliveryOn } from './stream.js';

export interface StreamSelectOptions extends SelectOptions {
  /** Deliveries in the window before an endpoint's lead is trusted; fewer rank it first, to measure it. Default 10. */
  readonly minSamples?: number;
}

const DEFAULT_STREAM_MIN_SAMPLES = 10;

/** `pool.recordDelivery`: an unknown id throws `POOL_UNKNOWN_ENDPOINT`, a malformed delivery `POOL_INVALID_DELIVERY`; nothing recorded then. */
export function recordDeliveryIn<Target>(core: PoolCore<Target>, endpointId: string, delivery: unknown): void {
  const state = stateOf(core, endpointId);
  recordDeliveryOn(state.stream, core.settings.now(), checkDelivery(delivery));
}

/** `pool.selectForStreams`: like `select`, ranked by lead in streams (see `rankForStreams`). */
export function selectForStreamsIn<Target>(core: PoolCore<Target>, options: StreamSelectOptions = {}): Selection<Target> {
  checkCount('minSamples', options.minSamples, 1);
  const minSamples = options.minSamples ?? DEFAULT_STREAM_MIN_SAMPLES;
  // A subscription needs a live endpoint, not a free call slot: a rate-limit cool-down or a busy probe does not keep an
  // endpoint from streams; ejected and suspect ones stay out.
  const usable = rankEndpoints(core, options.role).map((entry) => ({ ...entry, available: !isOut(entry.state.health) }));
  const ranked = rankForStreams(usable, (entry) => entry.state.stream, core.settings.now(), minSamples);
  const { chosen, degraded } = selectFrom(ranked, options);
  return { endpoints: chosen.map((entry) => entry.state.endpoint), degraded };
}
