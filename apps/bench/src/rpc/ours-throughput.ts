import { createHttpTransport } from '@x/http-transport';
import type { HttpTransport } from '@x/http-transport';
import { createPool } from '@x/pool';
import type { BudgetStore } from '@x/pool';
import type { RpcContender } from './contender.js';

/**
 * `defaults`: each endpoint's budget is its provider's limit, rate and burst, as a user declares it; the pool holds back
 * half the burst (`burstReserve`, default 0.5) so that the provider's bucket keeps tokens in hand for requests that reach
 * it closer together than the pool sent them (network and event-loop jitter). `exact`: `burstReserve: 0`, the whole
 * burst spent to the last token: what the reserve is for.
 */
export type OursThroughputVariant = 'defaults' | 'exact';

export const OURS_THROUGHPUT_VARIANTS: readonly OursThroughputVariant[] = ['defaults', 'exact'];

/** The call's deadline: how long a call may wait for budget and run. */
const DEADLINE_MS = 1000;

export function oursThroughputName(variant: OursThroughputVariant): string {
  return variant === 'defaults' ? 'ours: budgets = the limits (defaults)' : 'ours: budgets = the limits, burstReserve 0';
}

export function oursThroughputSettings(variant: OursThroughputVariant): string {
  const budget =
    variant === 'defaults'
      ? "budget { requestsPerSecond: R, burst: B } equal to the endpoint's limit (the pool holds back half the burst: burstReserve 0.5 by default)"
      : "budget { requestsPerSecond: R, burst: B, burstReserve: 0 }: the endpoint's limit, its whole burst spent";
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
      budget: { requestsPerSecond: limit.requestsPerSecond, burst: limit.burst, ...(variant === 'exact' ? { burstReserve: 0 } : {}) },
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
