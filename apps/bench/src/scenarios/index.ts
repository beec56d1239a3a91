import type { Scenario } from '../types.js';

/** Every scenario `pnpm bench` runs, in order. Add new ones here. */
export const scenarios: readonly Scenario[] = [];
