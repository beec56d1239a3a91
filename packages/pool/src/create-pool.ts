import type { HedgeBudget } from '@x/rpc-strategies';
import { createExecutor } from './execute.js';
import type { Execute } from './execute.js';
import type { PoolOptions } from './options.js';
import { createPoolBase, createPoolCore } from './pool.js';
import type { PoolBase } from './pool.js';

export interface Pool<Target> extends PoolBase<Target> {
  /**
   * Chooses candidates (available endpoints, best first; a probe that is due first, other probes last; falling back to the least bad),
   * runs the strategy of `@x/rpc-strategies` over them and records every attempt.
   */
  readonly execute: Execute<Target>;
  /** The budget every hedged call of this pool draws from (its `snapshot()` is exported as metrics). */
  readonly hedgeBudget: HedgeBudget;
}

/** Creates a pool of endpoints with live statistics, health, ranking and strategy execution. */
export function createPool<Target>(options: PoolOptions<Target>): Pool<Target> {
  const core = createPoolCore(options);
  const executor = createExecutor(core, options.hedgeBudget);
  const base = createPoolBase(core, executor.hedgeBudget);
  return { ...base, execute: executor.execute, hedgeBudget: executor.hedgeBudget };
}
