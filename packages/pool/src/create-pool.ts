import { createDualBalancer } from '@x/rpc-strategies';
import { registerBudgetMetrics } from './budget-metrics.js';
import { createBudgets, takeBudgetOf } from './budgets.js';
import { beginAttempt, createCore, importInto, rankEndpoints, recordOutcome, stateOf, suspectEndpoint } from './core.js';
import type { PoolCore } from './core.js';
import { executeOn, poolHedgeBudget } from './execute.js';
import type { Execute, ExecuteOptions, PoolAttemptFn } from './execute.js';
import { createPoolRegistry } from './metrics.js';
import { invalidOptions, resolveSettings, validateEndpoints } from './options.js';
import type { PoolOptions } from './options.js';
import { selectFrom } from './pool.js';
import type { Pool } from './pool.js';
import { buildSnapshot } from './snapshot.js';
import type { PoolSnapshot } from './snapshot.js';
import { recordDeliveryIn, selectForStreamsIn } from './stream-selection.js';
import { exportStates } from './warm-start.js';

export type { Pool } from './pool.js';

/**
 * Creates a pool of endpoints with live statistics, health, ranking and strategy execution: the one
 * constructor. The wiring only: options (options.ts), endpoint state and bookkeeping (core.ts,
 * endpoint.ts), ranking (selection.ts, pool.ts), `execute` (execute.ts, prepare-call.ts), snapshots
 * and metrics (snapshot.ts, metrics.ts), warm start (warm-start.ts).
 */
export function createPool<Target>(options: PoolOptions<Target>): Pool<Target> {
  if (typeof options !== 'object' || (options as unknown) === null)
    throw invalidOptions('options', 'createPool needs an options object { endpoints, … }', options);
  const settings = resolveSettings(options);
  const endpoints = validateEndpoints<Target>(options.endpoints);
  const budgets = createBudgets(settings, endpoints, options, () => core);
  const core: PoolCore<Target> = createCore<Target>(settings, endpoints, budgets.active ? budgets.afterRecord : undefined);
  const { states } = core;
  const now = settings.now;
  const shared = { hedgeBudget: poolHedgeBudget(options.hedgeBudget, now), balancer: createDualBalancer(), budgets };
  const snapshot = (): PoolSnapshot => buildSnapshot(states, now(), settings);
  const registry = createPoolRegistry(settings, snapshot, shared.hedgeBudget);
  if (budgets.active) registerBudgetMetrics(registry, settings.metricsPrefix, budgets);

  return {
    endpoints: states.map((state) => state.endpoint),
    execute: ((attempt: PoolAttemptFn<Target, unknown>, executeOptions: ExecuteOptions<Target, unknown>) =>
      executeOn(core, shared, attempt, executeOptions)) as Execute<Target>,
    hedgeBudget: shared.hedgeBudget,
    select(selectOptions) {
      const { chosen, degraded } = selectFrom(rankEndpoints(core, selectOptions?.role), selectOptions);
      return { endpoints: chosen.map((entry) => entry.state.endpoint), degraded };
    },
    record: (endpointId, outcome, recordOptions) => recordOutcome(core, stateOf(core, endpointId), outcome, recordOptions),
    startAttempt: (endpointId) => beginAttempt(core, stateOf(core, endpointId)),
    suspect: (endpointId, error) => suspectEndpoint(core, endpointId, error),
    recordDelivery: (endpointId, delivery) => recordDeliveryIn(core, endpointId, delivery),
    takeBudget: (endpointId, request) => takeBudgetOf(core, budgets, endpointId, request),
    selectForStreams: (streamOptions) => selectForStreamsIn(core, streamOptions),
    snapshot,
    registry,
    metrics: () => registry.metrics(),
    export: () => exportStates(states, now(), settings.wallNow(), settings),
    import: (data) => importInto(core, data),
  };
}
