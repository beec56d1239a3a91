import { DDSketch } from '@datadog/sketches-js';

/** How one finished attempt is counted. */
export type AttemptResult = 'success' | 'error' | 'timeout' | 'rate-limited' | 'rejected' | 'cancelled' | 'aborted-loser';

export const ATTEMPT_RESULTS: readonly AttemptResult[] = [
  'success',
  'error',
  'timeout',
  'rate-limited',
  'rejected',
  'cancelled',
  'aborted-loser',
];

export type ResultCounts = Record<AttemptResult, number>;

export function emptyCounts(): ResultCounts {
  return { success: 0, error: 0, timeout: 0, 'rate-limited': 0, rejected: 0, cancelled: 0, 'aborted-loser': 0 };
}

interface Bucket {
  /** `floor(time / bucketMs)` of the interval this bucket holds; stale when it falls out of the window. */
  index: number;
  counts: ResultCounts;
  sketch: DDSketch;
}

/** A latency histogram in portable form: DDSketch bucket representatives and their counts. */
interface LatencyBins {
  readonly zeroCount: number;
  /** `[representative latency in ms, count]`, ascending. */
  readonly bins: ReadonlyArray<readonly [number, number]>;
}

/**
 * A time-sliding window as a ring of per-interval buckets, each with outcome counts and a DDSketch of
 * latencies. Reads merge the live buckets, so the window spans between `windowMs − bucketMs` and
 * `windowMs` of history and samples expire one whole bucket at a time. Time rather than a sample count
 * bounds the window because an endpoint's past stops describing it after a while, however little traffic
 * it had.
 */
export interface SlidingWindow {
  add(now: number, result: AttemptResult, latencyMs?: number): void;
  /** Adds already aggregated history (warm start) to the current bucket. */
  addAggregate(now: number, counts: Partial<ResultCounts>, latency: LatencyBins | undefined): void;
  counts(now: number): ResultCounts;
  /** The value at quantile `q` (0…1) of the latencies in the window, or undefined with no samples. */
  quantile(now: number, q: number): number | undefined;
  latencySamples(now: number): number;
  latencyBins(now: number): LatencyBins;
  /** Forgets every outcome count (not the latencies): used when an endpoint recovers, so old failures do not eject it again. */
  clearCounts(): void;
  clear(): void;
}

export function createSlidingWindow(options: { windowMs: number; buckets: number; relativeAccuracy: number }): SlidingWindow {
  const { buckets: size, relativeAccuracy } = options;
  const bucketMs = options.windowMs / size;
  const ring: Bucket[] = Array.from({ length: size }, () => ({
    index: Number.NEGATIVE_INFINITY,
    counts: emptyCounts(),
    sketch: newSketch(),
  }));
  // Merging the ring on every read would cost a DDSketch merge per bucket per ranking; reads are far
  // more frequent than changes, so the merged sketch is cached until a sample lands or a bucket expires.
  let version = 0;
  let merged: { version: number; index: number; sketch: DDSketch } | undefined;

  function newSketch(): DDSketch {
    return new DDSketch({ relativeAccuracy });
  }

  function indexAt(now: number): number {
    return Math.floor(now / bucketMs);
  }

  function current(now: number): Bucket {
    const index = indexAt(now);
    const slot = ((index % size) + size) % size;
    const bucket = ring[slot] as Bucket;
    if (bucket.index !== index) {
      bucket.index = index;
      bucket.counts = emptyCounts();
      bucket.sketch = newSketch();
      version++;
    }
    return bucket;
  }

  function live(now: number): Bucket[] {
    const index = indexAt(now);
    return ring.filter((bucket) => bucket.index <= index && bucket.index > index - size);
  }

  function mergedSketch(now: number): DDSketch {
    const index = indexAt(now);
    if (merged?.version === version && merged.index === index) return merged.sketch;
    const sketch = newSketch();
    for (const bucket of live(now)) sketch.merge(bucket.sketch);
    merged = { version, index, sketch };
    return sketch;
  }

  return {
    add(now, result, latencyMs) {
      const bucket = current(now);
      bucket.counts[result]++;
      if (latencyMs !== undefined) bucket.sketch.accept(Math.max(0, latencyMs));
      version++;
    },
    addAggregate(now, counts, latency) {
      const bucket = current(now);
      for (const result of ATTEMPT_RESULTS) bucket.counts[result] += counts[result] ?? 0;
      if (latency !== undefined) {
        if (latency.zeroCount > 0) bucket.sketch.accept(0, latency.zeroCount);
        for (const [value, count] of latency.bins) if (count > 0) bucket.sketch.accept(value, count);
      }
      version++;
    },
    counts(now) {
      const total = emptyCounts();
      for (const bucket of live(now)) for (const result of ATTEMPT_RESULTS) total[result] += bucket.counts[result];
      return total;
    },
    quantile(now, q) {
      const sketch = mergedSketch(now);
      if (sketch.count === 0) return undefined;
      return sketch.getValueAtQuantile(q);
    },
    latencySamples(now) {
      return mergedSketch(now).count;
    },
    latencyBins(now) {
      const sketch = mergedSketch(now);
      const { store, mapping } = sketch;
      const bins: Array<readonly [number, number]> = [];
      if (store.count > 0) {
        for (let key = store.minKey; key <= store.maxKey; key++) {
          const count = store.bins[key - store.offset] ?? 0;
          if (count > 0) bins.push([mapping.value(key), count]);
        }
      }
      return { zeroCount: sketch.zeroCount, bins };
    },
    clearCounts() {
      for (const bucket of ring) bucket.counts = emptyCounts();
      version++;
    },
    clear() {
      for (const bucket of ring) {
        bucket.index = Number.NEGATIVE_INFINITY;
        bucket.counts = emptyCounts();
        bucket.sketch = newSketch();
      }
      version++;
    },
  };
}
