import { parseArgs } from 'node:util';
import { checkTimerMs, configError } from '@x/errors';
import type { ConfigErrorContext, XError } from '@x/errors';
import { WEBSOCKET_LIMITS, WEBSOCKET_LIMIT_NAMES, limitProblem } from './websocket-limits.js';
import type { ProxyWebSocketLimits } from './websocket-limits.js';
import { isRedisUrl } from './config.js';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8899;

export const USAGE = `Usage: pnpm rpc-proxy [--config FILE] [--local] [--host HOST] [--port N] [--token-env NAME] [--state-file PATH]
                       [--deadline-ms N] [--attempt-timeout-ms N] [--no-websocket] [--ws-max-subscriptions N]
                       [--ws-max-message-bytes N] [--ws-max-connections N] [--ws-max-buffered-bytes N] [--ws-max-providers N]
                       [--redis-url URL] [--local-limit N]

A JSON-RPC proxy any Solana client can point at. It forwards every call through @x/solana-rpc
to several upstream endpoints at once, with a strategy per method (race, hedge, consensus, dual).

Options:
  --config FILE      JSON configuration: endpoints, per-method strategies, limits, auth (see README)
  --local            boot the simulated Solana cluster of @x/testkit in-process and use its endpoints
                     (replaces the endpoints of --config, keeps everything else)
  --host HOST        address to listen on (default ${DEFAULT_HOST}; a warning is printed unless it is loopback)
  --port N           port to listen on, 0 for an ephemeral one (default ${DEFAULT_PORT})
  --token-env NAME   require "Authorization: Bearer <token>", the token read from environment variable NAME
  --state-file PATH  keep what the pool learned (health, latency per endpoint) in PATH: restored at start
                     (ignored when older than 15 minutes), saved atomically every minute and at shutdown
  --deadline-ms N    the budget of a whole call of a method without a preset (defaults.deadlineMs of the
                     configuration, which this overrides)
  --attempt-timeout-ms N
                     one attempt against one endpoint, for methods without a preset (defaults.attemptTimeoutMs)
  --no-websocket     do not serve WebSocket subscriptions (websocket.enabled: false of the configuration)
  --ws-max-subscriptions N
                     most live subscriptions per client connection (default 100), over
                     websocket.maxSubscriptionsPerConnection of the configuration, as the other --ws-* flags
  --ws-max-message-bytes N
                     largest client message; a larger one closes the connection with 1009 (default 65536)
  --ws-max-connections N
                     most client WebSocket connections at once, more get HTTP 503 (default 1000)
  --ws-max-buffered-bytes N
                     bytes waiting for one slow client before it is disconnected with 1008 (default 4194304)
  --ws-max-providers N
                     most providers one merged upstream subscription uses, the best-ranked for streams (default all)
  --local-limit N    with --local: every simulated provider allows N requests a second (HTTP 429 beyond, bursts
                     of N), and the proxy is given that budget for each, to try budgets without real providers
  --redis-url URL    share budgets, cool-downs and health with the other replicas through this Redis
                     (sharedState.redis.url of the configuration, which this overrides; see README)
  --help             print this help

Routes: POST / (JSON-RPC, single or batch), GET /health, GET /metrics, GET /stats.
Exit codes: 0 clean shutdown (SIGINT/SIGTERM), 1 runtime failure, 2 usage or configuration error.`;

export type CliCommand =
  | { readonly kind: 'help' }
  | {
      readonly kind: 'run';
      readonly configPath: string | undefined;
      readonly local: boolean;
      readonly host: string;
      readonly port: number;
      readonly tokenEnv: string | undefined;
      readonly stateFile: string | undefined;
      /** `--redis-url`: over the configuration's `sharedState.redis.url`. */
      readonly redisUrl: string | undefined;
      /** `--local-limit`: requests a second each simulated provider allows (and the budget the proxy is given). */
      readonly localLimit: number | undefined;
      /** `--deadline-ms` and `--attempt-timeout-ms`: over the configuration's `defaults`. */
      readonly defaults: { readonly deadlineMs?: number; readonly attemptTimeoutMs?: number };
      /** `--no-websocket` (false), or the `--ws-*` limits given (over the configuration's `websocket`). */
      readonly websocket: ProxyWebSocketLimits | false;
    };

/** A usage error: `context.option` names the flag at fault (`argv` when it is the command line as a whole). */
function usageError(message: string, option = 'argv'): XError<'PROXY_USAGE', ConfigErrorContext> {
  return configError('PROXY_USAGE', option, message);
}

/** A duration flag as the policy key it sets; `{}` when the flag is absent. */
function timerFlag<K extends string>(flag: string, key: K, text: string | undefined): Partial<Record<K, number>> {
  if (text === undefined) return {};
  const value = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : Number.NaN;
  return { [key]: checkTimerMs('PROXY_USAGE', flag, value) } as Partial<Record<K, number>>;
}

/** Parses the command line (without `node` and the script). Throws `PROXY_USAGE` for anything it cannot use. */
export function parseCli(argv: readonly string[]): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: false,
      strict: true,
      options: {
        config: { type: 'string' },
        local: { type: 'boolean', default: false },
        host: { type: 'string', default: DEFAULT_HOST },
        port: { type: 'string', default: String(DEFAULT_PORT) },
        'token-env': { type: 'string' },
        'state-file': { type: 'string' },
        'deadline-ms': { type: 'string' },
        'attempt-timeout-ms': { type: 'string' },
        'no-websocket': { type: 'boolean', default: false },
        ...Object.fromEntries(WEBSOCKET_LIMIT_NAMES.map((name) => [WEBSOCKET_LIMITS[name].flag.slice(2), { type: 'string' as const }])),
        'redis-url': { type: 'string' },
        'local-limit': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw usageError((error as Error).message);
  }
  const { values } = parsed;
  if (values.help) return { kind: 'help' };
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || !Number.isSafeInteger(port) || port > 65_535) {
    throw usageError(`--port must be an integer from 0 to 65535, got ${JSON.stringify(values.port)}`, '--port');
  }
  if (values.host.trim() === '') throw usageError('--host must not be empty', '--host');
  const tokenEnv = values['token-env'];
  if (tokenEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(tokenEnv)) {
    throw usageError(`--token-env must be an environment variable name, got ${JSON.stringify(tokenEnv)}`, '--token-env');
  }
  const stateFile = values['state-file'];
  if (stateFile !== undefined && stateFile.trim() === '') throw usageError('--state-file must not be empty', '--state-file');
  const redisUrl = values['redis-url'];
  if (redisUrl !== undefined && !isRedisUrl(redisUrl)) {
    // Not echoed: it may carry a password.
    throw usageError('--redis-url must be a redis:// or rediss:// URL', '--redis-url');
  }
  const localLimitText = values['local-limit'];
  let localLimit: number | undefined;
  if (localLimitText !== undefined) {
    localLimit = /^\d+$/.test(localLimitText) ? Number(localLimitText) : Number.NaN;
    if (!Number.isSafeInteger(localLimit) || localLimit < 1 || localLimit > 100_000)
      throw usageError(`--local-limit must be an integer from 1 to 100000, got ${JSON.stringify(localLimitText)}`, '--local-limit');
    if (!values.local) throw usageError('--local-limit goes with --local (it limits the simulated providers)', '--local-limit');
  }
  if (values.config === undefined && !values.local) {
    throw usageError('give --config FILE with upstream endpoints, or --local for the simulated cluster');
  }
  const defaults = {
    ...timerFlag('--deadline-ms', 'deadlineMs', values['deadline-ms']),
    ...timerFlag('--attempt-timeout-ms', 'attemptTimeoutMs', values['attempt-timeout-ms']),
  };
  const websocket = websocketFlags(values);
  return {
    kind: 'run',
    configPath: values.config,
    local: values.local,
    host: values.host,
    port,
    tokenEnv,
    stateFile,
    redisUrl,
    localLimit,
    defaults,
    websocket,
  };
}

/** `--no-websocket` and the `--ws-*` limits (integers in each limit's range); both at once is a usage error. */
function websocketFlags(values: Readonly<Record<string, string | boolean | undefined>>): ProxyWebSocketLimits | false {
  const limits: Record<string, number> = {};
  for (const name of WEBSOCKET_LIMIT_NAMES) {
    const { flag } = WEBSOCKET_LIMITS[name];
    const text = values[flag.slice(2)];
    if (typeof text !== 'string') continue;
    const value = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
    const problem = limitProblem(name, value);
    if (problem !== undefined)
      throw usageError(
        `${flag} must be an integer from ${WEBSOCKET_LIMITS[name].min} to ${WEBSOCKET_LIMITS[name].max}, got ${JSON.stringify(text)}`,
        flag,
      );
    limits[name] = value;
  }
  if (values['no-websocket'] === true) {
    const given = Object.keys(limits);
    if (given.length > 0) {
      const flag = WEBSOCKET_LIMITS[given[0] as keyof ProxyWebSocketLimits].flag;
      throw usageError(`--no-websocket turns the WebSocket side off: ${flag} cannot go with it`, flag);
    }
    return false;
  }
  return limits;
}

/** True for addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === 'localhost' || bare === '::1') return true;
  return /^127(\.\d{1,3}){3}$/.test(bare) || /^::ffff:127(\.\d{1,3}){3}$/i.test(bare);
}
