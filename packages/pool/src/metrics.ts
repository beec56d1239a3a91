import type { HedgeBudget } from '@x/rpc-strategies';
import { Counter, Gauge, Registry } from 'prom-client';
import type { HealthState } from './endpoint.js';
import type { ResolvedSettings } from './options.js';
import type { AttemptCounts, EndpointSnapshot, PoolSnapshot } from './snapshot.js';

const HEALTH_STATES: readonly HealthState[] = ['healthy', 'probing', 'ejected', 'suspect'];

const RESULT_LABELS: ReadonlyArray<readonly [keyof AttemptCounts, string]> = [
  ['success', 'success'],
  ['error', 'error'],
  ['timeout', 'timeout'],
  ['rateLimited', 'rate_limited'],
  ['rejected', 'rejected'],
  ['cancelled', 'cancelled'],
  ['abortedLoser', 'aborted_loser'],
];

const QUANTILES: ReadonlyArray<readonly [string, 'p50Ms' | 'p90Ms' | 'p99Ms']> = [
  ['0.5', 'p50Ms'],
  ['0.9', 'p90Ms'],
  ['0.99', 'p99Ms'],
];

const STREAM_QUANTILES: ReadonlyArray<readonly [string, 'behindP50Ms' | 'behindP99Ms']> = [
  ['0.5', 'behindP50Ms'],
  ['0.99', 'behindP99Ms'],
];

type EndpointLabels = { endpoint: string; label: string };

function labelsOf(endpoint: EndpointSnapshot): EndpointLabels {
  // Ids are checked at creation to hold no secret of their target, labels are redacted then.
  return { endpoint: endpoint.id, label: endpoint.label };
}

/**
 * A Prometheus registry of its own for one pool (never prom-client's global default registry), whose
 * metrics read the pool's state when scraped. All collectors of one scrape run in the same tick, so they
 * share one snapshot and agree with each other.
 */
export function createPoolRegistry(settings: ResolvedSettings, takeSnapshot: () => PoolSnapshot, hedgeBudget: HedgeBudget): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ ...settings.metricsLabels });
  const prefix = settings.metricsPrefix;
  let cached: PoolSnapshot | undefined;
  const snapshot = (): PoolSnapshot => {
    if (cached === undefined) {
      cached = takeSnapshot();
      queueMicrotask(() => {
        cached = undefined;
      });
    }
    return cached;
  };

  function endpointGauge(name: string, help: string, value: (endpoint: EndpointSnapshot) => number | null): void {
    new Gauge({
      name: `${prefix}${name}`,
      help,
      labelNames: ['endpoint', 'label'],
      registers: [registry],
      collect() {
        this.reset();
        for (const endpoint of snapshot().endpoints) {
          const result = value(endpoint);
          if (result !== null) this.set(labelsOf(endpoint), result);
        }
      },
    });
  }

  new Gauge({
    name: `${prefix}degraded`,
    help: '1 when no endpoint is available and selections fall back to the least bad ones.',
    registers: [registry],
    collect() {
      this.set(snapshot().degraded ? 1 : 0);
    },
  });
  endpointGauge(
    'endpoint_available',
    'Whether the endpoint can be selected now (healthy or probing with a free slot, not cooling down).',
    (e) => (e.available ? 1 : 0),
  );
  new Gauge({
    name: `${prefix}endpoint_health`,
    help: 'Health state of the endpoint: 1 for the current state, 0 for the others.',
    labelNames: ['endpoint', 'label', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const endpoint of snapshot().endpoints) {
        for (const state of HEALTH_STATES) this.set({ ...labelsOf(endpoint), state }, endpoint.health === state ? 1 : 0);
      }
    },
  });
  endpointGauge(
    'endpoint_primary',
    '1 when the endpoint currently has the primary role (configured or classified), 0 for secondary.',
    (e) => (e.role === 'primary' ? 1 : 0),
  );
  new Counter({
    name: `${prefix}endpoint_attempts_total`,
    help: 'Attempts recorded since the pool was created, by result.',
    labelNames: ['endpoint', 'label', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const endpoint of snapshot().endpoints) {
        for (const [key, result] of RESULT_LABELS) this.inc({ ...labelsOf(endpoint), result }, endpoint.totals[key]);
      }
    },
  });
  new Counter({
    name: `${prefix}endpoint_ejections_total`,
    help: 'Ejections since the pool was created.',
    labelNames: ['endpoint', 'label'],
    registers: [registry],
    collect() {
      this.reset();
      for (const endpoint of snapshot().endpoints) this.inc(labelsOf(endpoint), endpoint.ejectionsTotal);
    },
  });
  new Gauge({
    name: `${prefix}endpoint_latency_seconds`,
    help: 'Latency quantiles of successful attempts over the sliding window (DDSketch, 1% relative accuracy by default).',
    labelNames: ['endpoint', 'label', 'quantile'],
    registers: [registry],
    collect() {
      this.reset();
      for (const endpoint of snapshot().endpoints) {
        for (const [quantile, key] of QUANTILES) {
          const ms = endpoint.latency[key];
          if (ms !== null) this.set({ ...labelsOf(endpoint), quantile }, ms / 1000);
        }
      }
    },
  });
  endpointGauge('endpoint_latency_samples', 'Successful attempts in the sliding window.', (e) => e.latency.samples);
  endpointGauge('endpoint_latency_ewma_seconds', 'Exponentially weighted moving average of successful latencies.', (e) =>
    e.latency.ewmaMs === null ? null : e.latency.ewmaMs / 1000,
  );
  endpointGauge('endpoint_latency_peak_ewma_seconds', 'Peak-sensitive latency cost used by the ranking.', (e) =>
    e.latency.peakEwmaMs === null ? null : e.latency.peakEwmaMs / 1000,
  );
  endpointGauge('endpoint_error_rate', 'Share of errors among answered or failed attempts in the window.', (e) => e.window.errorRate);
  endpointGauge('endpoint_timeout_rate', 'Share of timeouts among answered or failed attempts in the window.', (e) => e.window.timeoutRate);
  endpointGauge('endpoint_utilisation', "The endpoint's share of all attempts of the pool in the window.", (e) => e.window.utilisation);
  endpointGauge('endpoint_in_flight', 'Attempts currently running against the endpoint.', (e) => e.inFlight);
  endpointGauge('endpoint_consecutive_failures', 'Failures since the last success.', (e) => e.consecutiveFailures);
  endpointGauge('endpoint_cooldown_seconds', 'Rate-limit cool-down left (0 when none).', (e) => e.coolingDownForMs / 1000);
  endpointGauge('endpoint_score', 'Ranking score, lower is better.', (e) => e.score);

  new Counter({
    name: `${prefix}endpoint_stream_deliveries_total`,
    help: 'Stream events (merged subscriptions) the endpoint delivered since the pool was created, first or not.',
    labelNames: ['endpoint', 'label'],
    registers: [registry],
    collect() {
      this.reset();
      for (const endpoint of snapshot().endpoints) this.inc(labelsOf(endpoint), endpoint.stream.deliveries);
    },
  });
  new Counter({
    name: `${prefix}endpoint_stream_firsts_total`,
    help: 'Stream events the endpoint delivered before any other endpoint.',
    labelNames: ['endpoint', 'label'],
    registers: [registry],
    collect() {
      this.reset();
      for (const endpoint of snapshot().endpoints) this.inc(labelsOf(endpoint), endpoint.stream.firsts);
    },
  });
  endpointGauge(
    'endpoint_stream_first_share',
    "Share of the endpoint's stream deliveries in the window that were first.",
    (e) => e.stream.firstShare,
  );
  new Gauge({
    name: `${prefix}endpoint_stream_behind_seconds`,
    help: 'How far behind the first copy of a stream event the endpoint delivered it (0 when first), quantiles over the window.',
    labelNames: ['endpoint', 'label', 'quantile'],
    registers: [registry],
    collect() {
      this.reset();
      for (const endpoint of snapshot().endpoints) {
        for (const [quantile, key] of STREAM_QUANTILES) {
          const ms = endpoint.stream[key];
          if (ms !== null) this.set({ ...labelsOf(endpoint), quantile }, ms / 1000);
        }
      }
    },
  });

  new Gauge({
    name: `${prefix}hedge_budget_available`,
    help: 'Extra (hedged) attempts the pool may start right now.',
    registers: [registry],
    collect() {
      this.set(hedgeBudget.snapshot().available);
    },
  });
  new Counter({
    name: `${prefix}hedge_budget_acquired_total`,
    help: 'Hedged attempts the budget allowed.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(hedgeBudget.snapshot().acquired);
    },
  });
  new Counter({
    name: `${prefix}hedge_budget_denied_total`,
    help: 'Hedged attempts the budget refused.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(hedgeBudget.snapshot().denied);
    },
  });
  return registry;
}
