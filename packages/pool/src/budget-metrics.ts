import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Budgets } from './budgets.js';

/** The `budget_*` metrics of a pool with budgets, read from its budgets when scraped. */
export function registerBudgetMetrics(registry: Registry, prefix: string, budgets: Budgets): void {
  new Gauge({
    name: `${prefix}budget_tokens`,
    help: "Tokens left in the endpoint's budget buckets (requests, credits), as this pool last saw them, refilled to now.",
    labelNames: ['endpoint', 'bucket'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { endpoint, bucket, tokens } of budgets.tokens()) this.set({ endpoint, bucket }, tokens);
    },
  });
  new Counter({
    name: `${prefix}budget_refused_total`,
    help: "Attempts the endpoint's budget (tokens or concurrency cap) refused; nothing was sent.",
    labelNames: ['endpoint'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [endpoint, count] of budgets.counters.refused) this.inc({ endpoint }, count);
    },
  });
  new Counter({
    name: `${prefix}budget_degraded_total`,
    help: 'Calls whose redundancy the budgets reduced (race → hedge → single), by step.',
    labelNames: ['from', 'to'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [step, count] of budgets.counters.degraded) {
        const [from = '', to = ''] = step.split('>');
        this.inc({ from, to }, count);
      }
    },
  });
  new Counter({
    name: `${prefix}budget_waits_total`,
    help: 'Calls that waited for a budget before starting.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(budgets.counters.waits);
    },
  });
  new Counter({
    name: `${prefix}budget_wait_seconds_total`,
    help: 'Time calls spent waiting for a budget.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(budgets.counters.waitedMs / 1000);
    },
  });
  new Counter({
    name: `${prefix}budget_exhausted_total`,
    help: 'Calls that failed with POOL_BUDGET_EXHAUSTED.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(budgets.counters.exhausted);
    },
  });
  new Gauge({
    name: `${prefix}budget_store_mode`,
    help: 'Mode of the budget store: 1 for the current one (local, shared, degraded), 0 for the others.',
    labelNames: ['mode'],
    registers: [registry],
    collect() {
      const { mode } = budgets.store.status();
      for (const each of ['local', 'shared', 'degraded'] as const) this.set({ mode: each }, each === mode ? 1 : 0);
    },
  });
}
