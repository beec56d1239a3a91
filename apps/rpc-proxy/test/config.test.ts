import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isXError } from '@x/errors';
import { DEFAULT_LIMITS, loadConfig, parseConfig, resolveToken } from '../src/config.js';
import { createProxyServer } from '../src/server.js';

function configError(document: unknown): { message: string; option: unknown; issues: unknown } {
  try {
    parseConfig(document, 'proxy.json');
  } catch (error) {
    if (!isXError(error, 'PROXY_INVALID_CONFIG')) throw error;
    expect(error.category).toBe('config');
    return { message: error.message, option: error.context['option'], issues: error.context['issues'] };
  }
  throw new Error('expected PROXY_INVALID_CONFIG');
}

const endpoints = [{ url: 'https://rpc.example.com' }];

describe('parseConfig', () => {
  it('fills every default and keeps what was given', () => {
    const config = parseConfig({
      endpoints: [{ id: 'a', url: 'https://a.example/v2/KEY', weight: 2, role: 'primary', headers: { 'x-api-key': 'k' } }],
      methods: { getAccountInfo: { strategy: 'race', deadlineMs: 80 } },
      limits: { maxBatchSize: 10 },
      auth: { tokenEnv: 'PROXY_TOKEN' },
    });
    expect(config).toEqual({
      endpoints: [{ id: 'a', url: 'https://a.example/v2/KEY', weight: 2, role: 'primary', headers: { 'x-api-key': 'k' } }],
      defaults: undefined,
      methods: { getAccountInfo: { strategy: 'race', deadlineMs: 80 } },
      allowMethods: [],
      allowAnyMethod: false,
      limits: { ...DEFAULT_LIMITS, maxBatchSize: 10 },
      auth: { tokenEnv: 'PROXY_TOKEN' },
    });
    expect(parseConfig({}).endpoints).toEqual([]);
  });

  it.each([
    [{ endpoints, methods: { getAccountInfo: { deadlineMs: -5 } } }, 'methods.getAccountInfo.deadlineMs', 'expected a positive number'],
    [{ endpoints, methods: { getAccountInfo: { deadlineMs: '50' } } }, 'methods.getAccountInfo.deadlineMs', 'expected a positive number'],
    [{ endpoints, methods: { getTransaction: { strategy: 'vote' } } }, 'methods.getTransaction.strategy', 'expected one of race, hedge'],
    [{ endpoints, methods: { getTransaction: { quorum: 1.5 } } }, 'methods.getTransaction.quorum', 'expected an integer >= 1'],
    [{ endpoints, methods: { getSlot: { timeoutMS: 5 } } }, 'methods.getSlot.timeoutMS', 'unknown field'],
    [{ endpoints, methods: { getSlot: { timeoutMs: 5 } } }, 'methods.getSlot.timeoutMs', 'renamed deadlineMs'],
    [{ endpoints, limits: { requestTimeoutMs: 5 } }, 'limits.requestTimeoutMs', 'renamed requestDeadlineMs'],
    [{ endpoints, defaults: { hedgeDelayMs: -1 } }, 'defaults.hedgeDelayMs', 'expected a number >= 0'],
    [{ endpoints: [] }, 'endpoints', 'expected at least one endpoint'],
    [{ endpoints: [{ url: 'ftp://rpc.example.com' }] }, 'endpoints[0].url', 'expected an http: or https: URL'],
    [{ endpoints: [{ url: 'https://a.example', weight: 0 }] }, 'endpoints[0].weight', 'expected a positive number'],
    [{ endpoints: [{ url: 'https://a.example', id: 'has space' }] }, 'endpoints[0].id', 'expected 1-64 characters'],
    [
      {
        endpoints: [
          { url: 'https://a.example', id: 'a' },
          { url: 'https://b.example', id: 'a' },
        ],
      },
      'endpoints[1].id',
      'duplicate id "a"',
    ],
    [{ endpoints, limits: { maxBatchSize: 0 } }, 'limits.maxBatchSize', 'expected an integer >= 1'],
    [{ endpoints, limits: { maxBodyBytes: 10 } }, 'limits.maxBodyBytes', 'expected an integer >= 1024'],
    [{ endpoints, limits: { requestDeadlineMs: 0 } }, 'limits.requestDeadlineMs', 'expected a positive number'],
    [{ endpoints, limits: { headersTimeoutMs: -5 } }, 'limits.headersTimeoutMs', 'expected a positive number'],
    [{ endpoints, auth: { token: 'short' } }, 'auth.token', 'expected at least 16 characters'],
    [{ endpoints, auth: { tokenEnv: 'NOT A NAME' } }, 'auth.tokenEnv', 'expected an environment variable name'],
    [{ endpoints, auth: {} }, 'auth', 'expected either'],
    [{ endpoints, allowMethods: ['ok', 'not a method'] }, 'allowMethods[1]', 'expected a method name'],
    [{ endpoints, port: 80 }, 'port', 'unknown field'],
    [{ endpoints: [{ url: 'https://a.example', budget: {} }] }, 'endpoints[0].budget.requestsPerSecond', 'expected a positive number'],
    [{ endpoints: [{ url: 'https://a.example', budget: 10 }] }, 'endpoints[0].budget', 'expected { requestsPerSecond'],
    [
      { endpoints: [{ url: 'https://a.example', budget: { requestsPerSecond: 0 } }] },
      'endpoints[0].budget.requestsPerSecond',
      'expected a positive',
    ],
    [
      { endpoints: [{ url: 'https://a.example', budget: { requestsPerSecond: 5, burst: -1 } }] },
      'endpoints[0].budget.burst',
      'expected a positive',
    ],
    [
      { endpoints: [{ url: 'https://a.example', budget: { requestsPerSecond: 5, maxConcurrency: 1.5 } }] },
      'endpoints[0].budget.maxConcurrency',
      'expected an integer >= 1',
    ],
    [{ endpoints: [{ url: 'https://a.example', budget: { requestsPerSecond: 5, rps: 5 } }] }, 'endpoints[0].budget.rps', 'unknown field'],
    [
      { endpoints: [{ url: 'https://a.example', budget: { requestsPerSecond: 5, credits: { perSecond: 100, costs: { getSlot: -1 } } } }] },
      'endpoints[0].budget.credits.costs.getSlot',
      'expected a number >= 0',
    ],
    [
      { endpoints: [{ url: 'https://a.example', budget: { requestsPerSecond: 5, credits: { burst: 100 } } }] },
      'endpoints[0].budget.credits.perSecond',
      'expected a positive number',
    ],
    [{ endpoints, sharedState: {} }, 'sharedState.redis', 'expected { url'],
    [
      { endpoints, sharedState: { redis: { url: 'http://127.0.0.1:6379' } } },
      'sharedState.redis.url',
      'expected a redis:// or rediss:// URL',
    ],
    [
      { endpoints, sharedState: { redis: { url: 'redis://h:6379', keyPrefix: 'a b' } } },
      'sharedState.redis.keyPrefix',
      'expected 1-100 characters',
    ],
    [
      { endpoints, sharedState: { redis: { url: 'redis://h:6379', replicas: 0 } } },
      'sharedState.redis.replicas',
      'expected an integer >= 1',
    ],
    [{ endpoints, sharedState: { redis: { url: 'redis://h:6379', password: 'x' } } }, 'sharedState.redis.password', 'unknown field'],
  ])('%j is refused at %s', (document, field, message) => {
    const error = configError(document);
    expect(error.option).toBe(field);
    expect(error.message).toContain(`${field}: ${message}`);
    expect(error.message).toContain('proxy.json');
  });

  it('keeps budgets and shared state, with the default key prefix', () => {
    const budget = {
      requestsPerSecond: 25,
      burst: 50,
      maxConcurrency: 8,
      credits: { perSecond: 500, costs: { getProgramAccounts: 100 }, defaultCost: 1 },
    };
    const config = parseConfig({
      endpoints: [{ id: 'a', url: 'https://a.example', budget }],
      sharedState: { redis: { url: 'redis://127.0.0.1:6379', replicas: 2 } },
    });
    expect(config.endpoints[0]?.budget).toEqual(budget);
    expect(config.sharedState).toEqual({ redis: { url: 'redis://127.0.0.1:6379', keyPrefix: 'rpc-proxy:', replicas: 2 } });
    expect(parseConfig({ sharedState: { redis: { url: 'rediss://h:1', keyPrefix: 'bots:' } } }).sharedState?.redis.keyPrefix).toBe('bots:');
    expect(parseConfig({}).sharedState).toBeUndefined();
  });

  it('never quotes a Redis URL (it may carry a password)', () => {
    const error = configError({ sharedState: { redis: { url: 'htps://:s3cr3tPassw0rd@h:6379' } } });
    expect(error.option).toBe('sharedState.redis.url');
    expect(error.message).not.toContain('s3cr3tPassw0rd');
  });

  it('lists every bad field at once', () => {
    const error = configError({ endpoints: [{ url: 'nope' }], limits: { maxBatchSize: -1 }, methods: { getSlot: { deadlineMs: 0 } } });
    expect(error.issues).toEqual([
      { option: 'endpoints[0].url', message: 'expected an http: or https: URL' },
      { option: 'methods.getSlot.deadlineMs', message: 'expected a positive number' },
      { option: 'limits.maxBatchSize', message: 'expected an integer >= 1' },
    ]);
  });

  it('never quotes a URL or header value in its errors', () => {
    const error = configError({ endpoints: [{ url: 'htps://a.example/?api-key=s3cr3tKey123', headers: { authorization: 42 } }] });
    expect(error.message).not.toContain('s3cr3tKey123');
    expect(error.message).toContain('endpoints[0].headers.authorization: expected a string');
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rpc-proxy-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads and validates a file', async () => {
    const path = join(dir, 'good.json');
    await writeFile(path, JSON.stringify({ endpoints, methods: { getTransaction: { strategy: 'consensus', quorum: 2 } } }));
    expect((await loadConfig(path)).methods).toEqual({ getTransaction: { strategy: 'consensus', quorum: 2 } });
  });

  it('names the file and the line of a JSON syntax error without quoting the file', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '{\n  "endpoints": [{ "url": "https://a.example/?key=s3cr3tKey123" }],\n  oops\n}');
    const error = await loadConfig(path).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PROXY_INVALID_CONFIG', category: 'config' });
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toContain('line 3');
    expect((error as Error).message).not.toContain('s3cr3tKey123');
  });

  it('reports a missing file with its errno code', async () => {
    await expect(loadConfig(join(dir, 'absent.json'))).rejects.toMatchObject({
      code: 'PROXY_INVALID_CONFIG',
      context: { causeCode: 'ENOENT' },
    });
  });
});

describe('createProxyServer configuration', () => {
  it('reports what @x/solana-rpc refuses as a configuration field, e.g. a write that would be sent twice', async () => {
    const error = await createProxyServer({
      endpoints: [{ url: 'http://127.0.0.1:9' }],
      methods: { sendTransaction: { strategy: 'race' } },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'PROXY_INVALID_CONFIG',
      category: 'config',
      context: { option: 'methods.sendTransaction.strategy' },
    });
    expect((error as Error).message).toMatch(/^Invalid configuration: methods\.sendTransaction\.strategy: sendTransaction is a write/);
  });
});

describe('resolveToken', () => {
  const token = 'a-token-of-24-characters';

  it('takes --token-env over the file, auth.tokenEnv over nothing, and auth.token as is', () => {
    const env = { CLI_TOKEN: `cli-${token}`, FILE_TOKEN: `file-${token}` };
    expect(resolveToken(parseConfig({ auth: { tokenEnv: 'FILE_TOKEN' } }), 'CLI_TOKEN', env)).toBe(`cli-${token}`);
    expect(resolveToken(parseConfig({ auth: { tokenEnv: 'FILE_TOKEN' } }), undefined, env)).toBe(`file-${token}`);
    expect(resolveToken(parseConfig({ auth: { token } }), undefined, env)).toBe(token);
    expect(resolveToken(parseConfig({}), undefined, env)).toBeUndefined();
  });

  it('refuses a named variable that is unset or too short instead of running without a token', () => {
    expect(() => resolveToken(parseConfig({}), 'ABSENT', {})).toThrow(
      expect.objectContaining({ code: 'PROXY_INVALID_CONFIG', context: expect.objectContaining({ option: '--token-env' }) as unknown }),
    );
    expect(() => resolveToken(parseConfig({ auth: { tokenEnv: 'SHORT' } }), undefined, { SHORT: 'abc' })).toThrow(
      /auth\.tokenEnv: environment variable SHORT/,
    );
  });
});
