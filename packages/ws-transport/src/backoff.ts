import type { ResolvedReconnect } from './options.js';

/**
 * The wait before reconnect attempt `attempt` (1 for the first): exponential growth from
 * `initialDelayMs` by `multiplier`, capped at `maxDelayMs`, then the `jitter` fraction of it made
 * random so that many clients dropped at once do not come back at once.
 */
export function backoffDelay(attempt: number, policy: ResolvedReconnect, random: () => number): number {
  const exponent = Math.max(0, attempt - 1);
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** exponent);
  const draw = Math.min(1, Math.max(0, random()));
  return Math.max(1, Math.round(base * (1 - policy.jitter + policy.jitter * draw)));
}
