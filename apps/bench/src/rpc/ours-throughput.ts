import { createHttpTransport } from '@x/http-transport';
import type { HttpTransport } from '@x/http-transport';
import { createPool } from '@x/pool';
import type { BudgetStore } from '@x/pool';
import type { RpcContender } from './contender.js';

/**
 * `limits`: each endpoint's budget is its provider's limit, rate and burst. `margin`: the same rate with half the
 * burst, so that the provider's bucket keeps tokens in hand for requests that reach it closer together than the pool
 * sent them (network and event-loop jitter): B / (2R) seconds of it.
 */
export type OursThroughputVariant = 'limits' | 'margin';

export const OURS_THROUGHPUT_VARIANTS: readonly OursThroughputVariant[] = ['limits', 'margin'];

/** The call's deadline: how long a call may wait for budget and run. */
const DEADLINE_MS = 1000;

export function oursThroughputName(variant: OursThroughputVariant): string {
  return variant === 'limits' ? 'ours: budgets = the limits' : 'ours: budgets = the limits, half the burst (tuned)';
}

export function oursThroughputSettings(variant: OursThroughputVariant): string {
  const budget =
    variant === 'limits'
      ? "budget { requestsPerSecond: R, burst: B } equal to the endpoint's limit"
      : "budget { requestsPerSecond: R, burst: B / 2 }: the endpoint's rate, half its burst (B / 2R s of jitter absorbed)";
  return (
    `@x/pool execute() over one @x/http-transport per endpoint, eth_getBalance: each endpoint declared with ${budget} (local budget store); ` +
    "strategy hedge (redundancy only where the budget has room: hedge → single attempt), onBudgetExhausted 'wait', " +
    `deadlineMs ${DEADLINE_MS}; pool and transport defaults otherwise`
  );
}

/** Ours as a bot that knows its providers' limits would set it up: budgets equal to the limits, spread by headroom. */
export function oursThroughput(
  variant: OursThroughputVariant,
  endpoints: ReadonlyArray<{ id: string; url: string }>,
  limit: { readonly requestsPerSecond: number; readonly burst: number },
  /** Where the budgets live (the caller owns it); default: a local store of the pool's own. */
  budgetStore?: BudgetStore,
): RpcContender {
  const transports = endpoints.map((e) => createHttpTransport({ url: e.url }));
  const pool = createPool<HttpTransport>({
    endpoints: endpoints.map((e, i) => ({
      id: e.id,
      target: transports[i]!,
      budget: { requestsPerSecond: limit.requestsPerSecond, burst: variant === 'limits' ? limit.burst : Math.max(1, limit.burst / 2) },
    })),
    onBudgetExhausted: 'wait',
    ...(budgetStore === undefined ? {} : { budgetStore }),
  });
  return {
    name: oursThroughputName(variant),
    kind: 'ours',
    settings: oursThroughputSettings(variant),
    async getBalance(target) {
      const result = await pool.execute(
        (endpoint, { signal }) => endpoint.target.call<string>('eth_getBalance', [target.evm, 'latest'], { signal }),
        { strategy: 'hedge', deadlineMs: DEADLINE_MS },
      );
      return BigInt(result.value);
    },
    diagnostics: () => ({
      endpoints: pool.snapshot().endpoints.map((e) => ({ id: e.id, health: e.health, totals: e.totals })),
    }),
    close: async () => {
      await Promise.all(transports.map((t) => t.close()));
    },
  };
}
