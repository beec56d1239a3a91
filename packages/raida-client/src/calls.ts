import { isXError } from '@x/errors';
import type { CommandName } from '@x/raida-protocol';
import type { RaidaCore } from './core.js';
import { summarise } from './describe.js';
import { checkCoins, checkNewAns, resolveCallOptions } from './options.js';
import type { ResolvedCallOptions } from './options.js';
import { planCall } from './plan.js';
import { runRounds } from './rounds.js';
import type {
  RaidaCoin,
  RaidaCoinResult,
  RaidaCoinVerdict,
  RaidaDetectOptions,
  RaidaEchoOptions,
  RaidaNewAns,
  RaidaResult,
} from './types.js';
import { coinVerdict, countVotes } from './verdicts.js';

/** Type-1 version requests sent at most to a server whose convention is not known, before an encrypted detect or pown. */
const REPLY_COUNTER_PROBES = 3;

/** Echo or version: a status per server; consensus when at least `quorum` servers are ready. */
export async function plainCall(core: RaidaCore, command: 'echo' | 'version', options: RaidaEchoOptions | undefined): Promise<RaidaResult> {
  const call = resolveCallOptions(options, core.config, command);
  const { results, startedAt } = await runRounds(core, planCall(core.config, command, call, [], undefined), call);
  const { quorum } = core.config;
  return summarise(command, results, quorum, (counts) => counts.ready >= quorum, startedAt);
}

/** Detect or pown: a status per server, and a 13-of-25 verdict per coin. */
export async function coinCall(
  core: RaidaCore,
  command: 'detect' | 'pown',
  coins: readonly RaidaCoin[],
  newAns: readonly RaidaNewAns[] | undefined,
  options: RaidaDetectOptions | undefined,
): Promise<RaidaCoinResult> {
  const { servers, quorum } = core.config;
  const call = resolveCallOptions(options, core.config, command);
  checkCoins(coins, servers);
  if (command === 'pown') checkNewAns(newAns, coins.length, servers);
  const work = planCall(core.config, command, call, coins, newAns);
  if (call.encryption.type === 1) await learnReplyCounters(core, call);
  const { votes, startedAt, results } = await runRounds(core, work, call);
  const verdicts: RaidaCoinVerdict[] = coins.map((coin, index) => {
    const coinVotes = votes![index]!;
    const { pass, fail, unknown } = countVotes(coinVotes);
    return {
      index,
      denomination: coin.denomination,
      serialNumber: coin.serialNumber,
      verdict: coinVerdict(pass, fail, quorum),
      pass,
      fail,
      unknown,
      failedOn: coinVotes.flatMap((vote, serverIndex) => (vote === 'fail' ? [servers[serverIndex]!.id] : [])),
      votes: coinVotes,
    };
  });
  const summary = summarise(command, results, quorum, () => verdicts.every((coin) => coin.verdict !== 'limbo'), startedAt);
  return { ...summary, command, coins: verdicts };
}

/**
 * Before an encrypted detect or pown: a type-1 version to each server whose reply counter convention is not known
 * yet, whose printable ASCII body tells the conventions apart (accepting it pins the convention). A server it
 * does not settle stays unknown, and a reply of its that both conventions read is a protocol error, not a verdict.
 * The probes count against the call's deadline.
 */
async function learnReplyCounters(core: RaidaCore, call: ResolvedCallOptions): Promise<void> {
  const probeCall: ResolvedCallOptions = { ...call, onReply: undefined, retries: 0, earlyFinish: false };
  const command: CommandName = 'version';
  let asking = new Set(core.replyCounters.unknown());
  // An 8-character version reads as printable under the wrong convention too about once in 2,800 replies: a server
  // whose reply was ambiguous is asked again, with a fresh nonce, up to PROBES times. Silent servers are not.
  for (let probe = 0; probe < REPLY_COUNTER_PROBES && asking.size > 0; probe++) {
    const { units } = planCall(core.config, command, probeCall, [], undefined);
    const sent = units.filter((unit) => asking.has(unit.serverIndex));
    await runRounds(core, { command, coins: [], units: sent }, probeCall);
    asking = new Set(sent.filter((unit) => isXError(unit.result?.error, 'RAIDA_REPLY_COUNTER_AMBIGUOUS')).map((unit) => unit.serverIndex));
  }
}
