import { isXError } from '@x/errors';
import type { SolanaEndpointConfig } from '@x/solana-rpc';
import type { RpcCluster } from '@x/testkit';
import { USAGE, isLoopbackHost, parseCli } from './cli.js';
import { DEFAULT_KEY_PREFIX, invalidConfig, loadConfig, parseConfig, resolveToken } from './config.js';
import type { ProxyConfig, SharedStateConfig } from './config.js';
import { startLocalUpstreams } from './local.js';
import { createProxyServer } from './server.js';
import type { ProxyServer } from './server.js';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

/** The configuration's `sharedState`, with `--redis-url` over its URL (creating it when the file has none). */
function sharedStateOf(config: ProxyConfig, redisUrl: string | undefined): { sharedState?: SharedStateConfig } {
  const redis = config.sharedState?.redis;
  if (redisUrl === undefined) return redis === undefined ? {} : { sharedState: { redis } };
  return { sharedState: { redis: { keyPrefix: DEFAULT_KEY_PREFIX, ...redis, url: redisUrl } } };
}

function fail(message: string, code: number): number {
  process.stderr.write(`rpc-proxy: ${message}\n`);
  return code;
}

async function main(argv: readonly string[]): Promise<number> {
  let command;
  try {
    command = parseCli(argv);
  } catch (error) {
    return fail(`${(error as Error).message}\n\n${USAGE}`, EXIT_USAGE);
  }
  if (command.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_OK;
  }

  let config: ProxyConfig;
  let token: string | undefined;
  try {
    config = command.configPath === undefined ? parseConfig({}) : await loadConfig(command.configPath);
    if (!command.local && config.endpoints.length === 0) {
      throw invalidConfig([{ option: 'endpoints', message: 'expected at least one endpoint (or run with --local)' }], command.configPath);
    }
    token = resolveToken(config, command.tokenEnv, process.env);
  } catch (error) {
    return fail((error as Error).message, isXError(error) && error.category === 'config' ? EXIT_USAGE : EXIT_FAILURE);
  }
  if (!isLoopbackHost(command.host)) {
    process.stderr.write(
      `rpc-proxy: warning: listening on ${command.host} makes the proxy (and the provider keys behind it) reachable from other machines${token === undefined ? '; set a bearer token' : ''}\n`,
    );
  }

  let cluster: RpcCluster | undefined;
  let proxy: ProxyServer | undefined;
  try {
    let endpoints: readonly SolanaEndpointConfig[] = config.endpoints;
    if (command.local) {
      const local = await startLocalUpstreams(1, command.localLimit);
      cluster = local.cluster;
      endpoints = local.endpoints;
      process.stderr.write(`rpc-proxy: simulated cluster: ${cluster.endpoints.map((e) => `${e.id} ${e.url}`).join(', ')}\n`);
    }
    proxy = await createProxyServer({
      endpoints,
      methods: config.methods,
      ...(config.defaults === undefined && Object.keys(command.defaults).length === 0
        ? {}
        : { defaults: { ...config.defaults, ...command.defaults } }),
      allowMethods: config.allowMethods,
      allowAnyMethod: config.allowAnyMethod,
      limits: config.limits,
      ...(token === undefined ? {} : { token }),
      host: command.host,
      port: command.port,
      ...(command.stateFile === undefined ? {} : { stateFile: { path: command.stateFile } }),
      ...(config.cache === undefined ? {} : { cache: config.cache }),
      // --no-websocket or websocket.enabled: false turn it off; --ws-* flags go over the file's limits.
      // --local replaces the upstream WebSocket endpoints too (its providers serve both).
      websocket:
        command.websocket === false || config.websocket === false
          ? false
          : { ...config.websocket, ...(command.local ? { endpoints: undefined } : {}), ...command.websocket },
      ...sharedStateOf(config, command.redisUrl),
      log: (line) => process.stderr.write(`rpc-proxy: ${line}\n`),
    });
  } catch (error) {
    await cluster?.close();
    return fail((error as Error).message, isXError(error) && error.category === 'config' ? EXIT_USAGE : EXIT_FAILURE);
  }

  process.stdout.write(`rpc-proxy listening on ${proxy.url}\n`);
  const running = proxy;
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  process.stderr.write(`rpc-proxy: ${signal}, shutting down\n`);
  // A second signal while draining means "now".
  const force = (): void => process.exit(EXIT_FAILURE);
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  await running.close();
  await cluster?.close();
  process.off('SIGINT', force);
  process.off('SIGTERM', force);
  return EXIT_OK;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`rpc-proxy: unexpected failure: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = EXIT_FAILURE;
  },
);
