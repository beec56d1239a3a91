import { configError, describeValue } from '@x/errors';
import type { ConfigErrorContext, XError } from '@x/errors';
import type { ResolvedSettings } from './options.js';
import type { RankedEndpoint } from './selection.js';
import { createSlidingWindow } from './window.js';
import type { SlidingWindow } from './window.js';

/**
 * Lead statistics of streams (merged subscriptions): every provider delivers the same events, one of
 * them first. Per endpoint the pool keeps how many events it delivered and how many of those first
 * (since creation), and, over the same sliding window as latencies, its share of first deliveries and
 * how far behind the first copy its copies were (DDSketch quantiles; a first delivery is 0 ms behind).
 *
 * The window is the attempts' one (`createSlidingWindow`): a first delivery is counted as a `success`
 * (it won the race), a later copy as an `aborted-loser` (it lost it), and `behindMs` is the sample.
 */

/** One event delivered by one endpoint (see `pool.recordDelivery`). */
export interface StreamDelivery {
  /** True when no other endpoint had delivered this event before. */
  readonly first: boolean;
  /** How far behind the first copy this one arrived, in ms (0 when first). */
  readonly behindMs: number;
}

/** Per endpoint in `pool.snapshot()`: its lead in streams. */
export interface StreamStatistics {
  /** Events delivered since the pool was created (first or not). */
  readonly deliveries: number;
  /** Of those, delivered first. */
  readonly firsts: number;
  /** Deliveries in the sliding window: `firstShare` and the quantiles are over these. */
  readonly samples: number;
  /** Share of the window's deliveries that were first (0…1); null without any. */
  readonly firstShare: number | null;
  /** How far behind the first copy, median and p99 over the window (0 when first); null without any. */
  readonly behindP50Ms: number | null;
  readonly behindP99Ms: number | null;
}

/** The stream part of an endpoint's state. */
export interface StreamState {
  deliveries: number;
  firsts: number;
  readonly window: SlidingWindow;
}

declare module '@x/errors' {
  interface ErrorContexts {
    /** A malformed delivery handed to `recordDelivery`; `option` is `delivery`. */
    POOL_INVALID_DELIVERY: ConfigErrorContext;
  }
}

export function createStreamState(settings: ResolvedSettings): StreamState {
  return {
    deliveries: 0,
    firsts: 0,
    window: createSlidingWindow({
      windowMs: settings.statistics.windowMs,
      buckets: settings.statistics.windowBuckets,
      relativeAccuracy: settings.statistics.quantileAccuracy,
    }),
  };
}

/** The delivery a caller handed over, well-formed, or `POOL_INVALID_DELIVERY` (nothing recorded). */
export function checkDelivery(delivery: unknown): StreamDelivery {
  const d = typeof delivery === 'object' && delivery !== null ? (delivery as Record<string, unknown>) : undefined;
  const invalid = (message: string): XError =>
    configError('POOL_INVALID_DELIVERY', 'delivery', `${message}, got ${describeValue(delivery)}`, delivery) as unknown as XError;
  if (d === undefined) throw invalid('delivery must be an object { first, behindMs }');
  if (typeof d.first !== 'boolean') throw invalid('delivery.first must be a boolean');
  const behindMs = d.behindMs;
  if (typeof behindMs !== 'number' || !Number.isFinite(behindMs) || behindMs < 0) {
    throw invalid('delivery.behindMs must be a finite number ≥ 0');
  }
  return { first: d.first, behindMs: d.first ? 0 : behindMs };
}

export function recordDeliveryOn(stream: StreamState, now: number, delivery: StreamDelivery): void {
  stream.deliveries++;
  if (delivery.first) stream.firsts++;
  stream.window.add(now, delivery.first ? 'success' : 'aborted-loser', delivery.behindMs);
}

export function streamStatistics(stream: StreamState, now: number): StreamStatistics {
  const counts = stream.window.counts(now);
  const samples = counts.success + counts['aborted-loser'];
  return {
    deliveries: stream.deliveries,
    firsts: stream.firsts,
    samples,
    firstShare: samples === 0 ? null : counts.success / samples,
    behindP50Ms: stream.window.quantile(now, 0.5) ?? null,
    behindP99Ms: stream.window.quantile(now, 0.99) ?? null,
  };
}

/**
 * Endpoints ranked for a stream, best first. Usable endpoints (`available` as the caller set it) come first; among them,
 * those with fewer than `minSamples` deliveries in the window go first, so that every provider gets
 * measured (and one left out long enough to be forgotten is tried again); the measured ones follow by
 * `behindP50Ms + behindP99Ms` (lower is better: a provider that leads most often has a median of 0),
 * then by share of first deliveries, then by the pool's own order. Unavailable endpoints keep the
 * pool's least-bad order at the end.
 */
export function rankForStreams<Target>(
  ranked: ReadonlyArray<RankedEndpoint<Target>>,
  streamOf: (entry: RankedEndpoint<Target>) => StreamState,
  now: number,
  minSamples: number,
): Array<RankedEndpoint<Target>> {
  const keyed = ranked.map((entry, position) => {
    const stats = streamStatistics(streamOf(entry), now);
    const measured = stats.samples >= minSamples;
    return {
      entry,
      position,
      measured,
      cost: measured ? (stats.behindP50Ms ?? 0) + (stats.behindP99Ms ?? 0) : 0,
      share: stats.firstShare ?? 0,
    };
  });
  keyed.sort((a, b) => {
    if (a.entry.available !== b.entry.available) return a.entry.available ? -1 : 1;
    if (!a.entry.available) return a.position - b.position;
    if (a.measured !== b.measured) return a.measured ? 1 : -1;
    return a.cost - b.cost || b.share - a.share || a.position - b.position;
  });
  return keyed.map((k) => k.entry);
}
