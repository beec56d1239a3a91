/**
 * Latency averages of one endpoint.
 *
 * - `ewma`: exponentially weighted moving average over successful samples, with a half-life counted in
 *   samples (`alpha = 1 − 2^(−1 / halfLifeSamples)`), so a burst of traffic and a trickle weigh each
 *   sample alike and a known sequence always gives the same result.
 * - `peak` (peak-EWMA cost): jumps at once to any sample above it, moves toward lower samples with the
 *   same `alpha`, and its excess over the EWMA halves every `peakHalfLifeMs` of time. A sudden slowdown is
 *   therefore seen on the first slow answer, while a single spike on an endpoint that then gets little
 *   traffic still fades instead of starving it forever.
 */
export interface LatencyAverages {
  observe(now: number, latencyMs: number): void;
  ewma(): number | undefined;
  peak(now: number): number | undefined;
  restore(now: number, ewma: number, peak: number): void;
  clear(): void;
}

export function createLatencyAverages(options: { halfLifeSamples: number; peakHalfLifeMs: number }): LatencyAverages {
  const alpha = 1 - 2 ** (-1 / options.halfLifeSamples);
  let average: number | undefined;
  let peakValue = 0;
  let peakAt = 0;

  function decayedPeak(now: number): number | undefined {
    if (average === undefined) return undefined;
    const elapsed = Math.max(0, now - peakAt);
    return average + (peakValue - average) * 2 ** (-elapsed / options.peakHalfLifeMs);
  }

  return {
    observe(now, latencyMs) {
      const sample = Math.max(0, latencyMs);
      const previousPeak = decayedPeak(now);
      if (average === undefined || previousPeak === undefined) {
        average = sample;
        peakValue = sample;
      } else {
        average += alpha * (sample - average);
        peakValue = Math.max(sample, previousPeak + alpha * (sample - previousPeak));
      }
      peakAt = now;
    },
    ewma: () => average,
    peak: decayedPeak,
    restore(now, ewma, peak) {
      average = ewma;
      peakValue = Math.max(ewma, peak);
      peakAt = now;
    },
    clear() {
      average = undefined;
      peakValue = 0;
      peakAt = 0;
    },
  };
}
