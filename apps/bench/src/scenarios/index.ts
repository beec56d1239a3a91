import type { Scenario } from '../types.js';
import { udpFanoutScenario } from './udp-fanout.js';
import { strategyOverheadScenario } from './strategy-overhead.js';

/** Every scenario `pnpm bench` runs, in order. Add new ones here. */
export const scenarios: readonly Scenario[] = [
  udpFanoutScenario,
  strategyOverheadScenario,
];
