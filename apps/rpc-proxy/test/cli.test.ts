import { describe, expect, it } from 'vitest';
import { DEFAULT_HOST, DEFAULT_PORT, isLoopbackHost, parseCli } from '../src/cli.js';

describe('parseCli', () => {
  it('applies the defaults', () => {
    expect(parseCli(['--local'])).toEqual({
      kind: 'run',
      configPath: undefined,
      local: true,
      host: DEFAULT_HOST,
      port: DEFAULT_PORT,
      tokenEnv: undefined,
      stateFile: undefined,
      defaults: {},
      websocket: {},
    });
  });

  it('reads every option', () => {
    const argv = [
      '--config',
      'p.json',
      '--host',
      '0.0.0.0',
      '--port',
      '0',
      '--token-env',
      'PROXY_TOKEN',
      '--state-file',
      'pool.json',
      '--deadline-ms',
      '750',
      '--attempt-timeout-ms',
      '200',
      '--redis-url',
      'redis://:pw@10.0.0.5:6379/2',
    ];
    expect(parseCli(argv)).toEqual({
      kind: 'run',
      configPath: 'p.json',
      local: false,
      host: '0.0.0.0',
      port: 0,
      tokenEnv: 'PROXY_TOKEN',
      stateFile: 'pool.json',
      redisUrl: 'redis://:pw@10.0.0.5:6379/2',
      defaults: { deadlineMs: 750, attemptTimeoutMs: 200 },
      websocket: {},
    });
  });

  it('reads the WebSocket limits and --no-websocket', () => {
    const argv = ['--local', '--ws-max-subscriptions', '5', '--ws-max-message-bytes', '4096', '--ws-max-connections', '10'];
    argv.push('--ws-max-buffered-bytes', '65536', '--ws-max-providers', '2');
    expect(parseCli(argv)).toMatchObject({
      websocket: {
        maxSubscriptionsPerConnection: 5,
        maxMessageBytes: 4_096,
        maxConnections: 10,
        maxBufferedBytes: 65_536,
        maxProviders: 2,
      },
    });
    expect(parseCli(['--local', '--no-websocket'])).toMatchObject({ websocket: false });
  });

  it('reads --local-limit with --local', () => {
    expect(parseCli(['--local', '--local-limit', '20'])).toMatchObject({ kind: 'run', local: true, localLimit: 20 });
    expect(parseCli(['--local'])).toMatchObject({ localLimit: undefined });
  });

  it('answers --help before anything else', () => {
    expect(parseCli(['--help', '--port', 'nope'])).toEqual({ kind: 'help' });
  });

  it.each([
    [['--local', '--port', '65536'], '--port must be an integer from 0 to 65535'],
    [['--local', '--port=-1'], '--port must be an integer'],
    [['--local', '--port', '80.5'], '--port must be an integer'],
    [['--local', '--token-env', 'A-B'], '--token-env must be an environment variable name'],
    [['--local', '--host', ' '], '--host must not be empty'],
    [['--local', '--state-file', ''], '--state-file must not be empty'],
    [['--local', '--deadline-ms', '0'], '--deadline-ms must be a number of milliseconds'],
    [['--local', '--attempt-timeout-ms', 'soon'], '--attempt-timeout-ms must be a number of milliseconds'],
    [['--local', '--redis-url', 'http://h:6379'], '--redis-url must be a redis:// or rediss:// URL'],
    [['--local', '--timeout-ms', '5'], "Unknown option '--timeout-ms'"],
    [['--local', '--ws-max-subscriptions', '0'], '--ws-max-subscriptions must be an integer from 1 to 100000, got "0"'],
    [['--local', '--ws-max-message-bytes', '1k'], '--ws-max-message-bytes must be an integer from 1024 to 67108864'],
    [['--local', '--ws-max-connections=-1'], '--ws-max-connections must be an integer'],
    [['--local', '--ws-max-providers', '65'], '--ws-max-providers must be an integer from 1 to 64'],
    [['--local', '--no-websocket', '--ws-max-connections', '5'], '--no-websocket turns the WebSocket side off'],
    [['--local', '--local-limit', '0'], '--local-limit must be an integer from 1 to 100000, got "0"'],
    [['--local', '--local-limit', '2.5'], '--local-limit must be an integer from 1 to 100000'],
    [['--config', 'p.json', '--local-limit', '20'], '--local-limit goes with --local'],
    [['--local', '--verbose'], "Unknown option '--verbose'"],
    [['--local', 'extra'], 'Unexpected argument'],
    [[], 'give --config FILE'],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseCli(argv)).toThrow(
      expect.objectContaining({ code: 'PROXY_USAGE', category: 'config', message: expect.stringContaining(message) as unknown }),
    );
  });
});

describe('usage errors', () => {
  it('name the flag at fault in context.option', () => {
    const caught = (argv: string[]): unknown => {
      try {
        parseCli(argv);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    expect(caught(['--local', '--port', 'x'])).toMatchObject({ code: 'PROXY_USAGE', context: { option: '--port' } });
    expect(caught(['--local', '--deadline-ms', '0'])).toMatchObject({ code: 'PROXY_USAGE', context: { option: '--deadline-ms' } });
    const redis = caught(['--local', '--redis-url', 'tcp://:s3cr3tPassw0rd@h:6379']);
    expect(redis).toMatchObject({ code: 'PROXY_USAGE', context: { option: '--redis-url' } });
    expect(JSON.stringify(redis)).not.toContain('s3cr3tPassw0rd');
    expect(caught(['--local', '--verbose'])).toMatchObject({ code: 'PROXY_USAGE', context: { option: 'argv' } });
    expect(caught(['--local', '--ws-max-providers', '0'])).toMatchObject({
      code: 'PROXY_USAGE',
      context: { option: '--ws-max-providers' },
    });
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.10', false],
    ['example.com', false],
  ])('%s -> %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});
