import type { Scenario } from '../types.js';
import { udpFanoutScenario } from './udp-fanout.js';
import { rpcTailScenario } from './rpc-tail.js';
import { rpcCorrectnessScenario } from './rpc-correctness.js';
import { evmFaultsScenario, evmNormalScenario } from './evm-anvil.js';
import { strategyOverheadScenario } from './strategy-overhead.js';
import { steadyStateScenario } from './steady-state.js';
import { proxyCpuScenario } from './proxy-cpu.js';
import { streamMergeScenario } from './stream-merge.js';
import { throughputScenario } from './throughput.js';

/** Every scenario `pnpm bench` runs, in this order. Add new ones here, one line each. */
export const scenarios: readonly Scenario[] = [
  udpFanoutScenario,
  rpcTailScenario,
  rpcCorrectnessScenario,
  evmNormalScenario,
  evmFaultsScenario,
  strategyOverheadScenario,
  steadyStateScenario,
  proxyCpuScenario,
  streamMergeScenario,
  throughputScenario,
];
