import type { Scenario } from '../types.js';
import { udpFanoutScenario } from './udp-fanout.js';
import { rpcTailScenario } from './rpc-tail.js';
import { rpcCorrectnessScenario } from './rpc-correctness.js';
import { strategyOverheadScenario } from './strategy-overhead.js';
import { steadyStateScenario } from './steady-state.js';
import { proxyCpuScenario } from './proxy-cpu.js';

/** Every scenario `pnpm bench` runs, in the order of issue 8. Add new ones here. */
export const scenarios: readonly Scenario[] = [
  udpFanoutScenario,
  rpcTailScenario,
  rpcCorrectnessScenario,
  strategyOverheadScenario,
  steadyStateScenario,
  proxyCpuScenario,
];
