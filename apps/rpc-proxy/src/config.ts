import { readFile } from 'node:fs/promises';
import { MAX_TIMER_MS, XError } from '@x/errors';
import { z } from 'zod';
import type { MethodPolicyOverride } from '@x/solana-rpc';
import { WEBSOCKET_LIMITS, WEBSOCKET_LIMIT_NAMES } from './websocket-limits.js';
import type { ProxyWebSocketLimits, WebSocketLimitName } from './websocket-limits.js';

/** Limits applied to every request; the defaults are in the README. */
export interface ProxyLimits {
  /** Largest request body; larger ones get HTTP 413. */
  readonly maxBodyBytes: number;
  /** Most calls in one batch; more get JSON-RPC -32600. */
  readonly maxBatchSize: number;
  /** The deadline of a whole request, from its arrival to its answer; calls still running then get JSON-RPC -32051. Was `requestTimeoutMs`. */
  readonly requestDeadlineMs: number;
  /**
   * Time a client has to send the request line and every header, from the connection's first byte (or
   * its previous request); past it the connection gets HTTP 408 and is closed, however slowly the bytes
   * still trickle in.
   */
  readonly headersTimeoutMs: number;
}

export const DEFAULT_LIMITS: ProxyLimits = Object.freeze({
  maxBodyBytes: 1_048_576,
  maxBatchSize: 100,
  requestDeadlineMs: 10_000,
  headersTimeoutMs: 10_000,
});

// ---- Answer cache (upstream batching, coalescing and caching, issue 17) --------------------------------------
/** The bounds of the cache of answers that can never change (finalized transactions and blocks). */
export interface CacheLimits {
  /** Most answers kept. */
  readonly maxEntries: number;
  /** Most bytes kept (answers as JSON text, with their keys). */
  readonly maxBytes: number;
}

const DEFAULT_CACHE_LIMITS: CacheLimits = Object.freeze({ maxEntries: 10_000, maxBytes: 64 * 1_048_576 });

const MAX_CACHE_ENTRIES = 1_000_000;
const MAX_CACHE_BYTES = 4_096 * 1_048_576;

const cacheSchema = z.strictObject(
  {
    maxEntries: z
      .number({ error: `expected an integer from 1 to ${MAX_CACHE_ENTRIES}` })
      .int({ error: `expected an integer from 1 to ${MAX_CACHE_ENTRIES}` })
      .min(1, { error: `expected an integer from 1 to ${MAX_CACHE_ENTRIES}` })
      .max(MAX_CACHE_ENTRIES, { error: `expected an integer from 1 to ${MAX_CACHE_ENTRIES}` })
      .optional(),
    maxBytes: z
      .number({ error: `expected an integer from 1024 to ${MAX_CACHE_BYTES}` })
      .int({ error: `expected an integer from 1024 to ${MAX_CACHE_BYTES}` })
      .min(1024, { error: `expected an integer from 1024 to ${MAX_CACHE_BYTES}` })
      .max(MAX_CACHE_BYTES, { error: `expected an integer from 1024 to ${MAX_CACHE_BYTES}` })
      .optional(),
  },
  { error: 'expected an object { maxEntries?, maxBytes? }' },
);

/**
 * The cache bounds of `cache` (an object, its missing bounds defaulted), or `undefined` for no cache.
 * Throws `PROXY_INVALID_CONFIG` naming the bad option (`cache.maxBytes`…).
 */
export function cacheLimitsOf(value: unknown): CacheLimits | undefined {
  if (value === undefined) return undefined;
  const result = z.strictObject({ cache: cacheSchema }).safeParse({ cache: value });
  if (!result.success) throw invalidConfig(issuesOf(result.error), undefined);
  return { ...DEFAULT_CACHE_LIMITS, ...result.data.cache };
}
// ---- end of the answer cache ------------------------------------------------------------------------------------

/** A method's strategy settings in the file (`methods.<name>`, `defaults`): `@x/solana-rpc`'s own, each optional. */
export type MethodOverride = MethodPolicyOverride;

/** An upstream's declared limits: the pool's endpoint `budget` (see the README, "Budgets and replicas"). */
interface BudgetEntry {
  readonly requestsPerSecond: number;
  readonly burst?: number;
  readonly maxConcurrency?: number;
  readonly credits?: {
    readonly perSecond: number;
    readonly burst?: number;
    readonly costs?: Readonly<Record<string, number>>;
    readonly defaultCost?: number;
  };
}

interface EndpointEntry {
  /** Default (from @x/solana-rpc): the URL's host, `#2`… appended to repeats. */
  readonly id?: string;
  readonly url: string;
  readonly weight?: number;
  readonly role?: 'primary' | 'secondary';
  readonly headers?: Readonly<Record<string, string>>;
  readonly budget?: BudgetEntry;
}

/** Budgets, cool-downs and health shared by every replica through Redis. */
export interface SharedStateConfig {
  readonly redis: {
    /** `redis://[user:password@]host:port[/db]`; never echoed with its password. */
    readonly url: string;
    /** Default `rpc-proxy:`; replicas sharing budgets use the same one. */
    readonly keyPrefix: string;
    /** Replicas sharing the budgets (each serves 1/replicas while Redis is away). Default: counted by heartbeats. */
    readonly replicas?: number;
  };
}

export const DEFAULT_KEY_PREFIX = 'rpc-proxy:';

/** A validated configuration file. */
export interface ProxyConfig {
  readonly endpoints: readonly EndpointEntry[];
  readonly defaults: MethodOverride | undefined;
  readonly methods: Readonly<Record<string, MethodOverride>>;
  /** Methods forwarded besides the built-in allow-list and the keys of `methods`. */
  readonly allowMethods: readonly string[];
  /** Forward every method, known or not. */
  readonly allowAnyMethod: boolean;
  readonly limits: ProxyLimits;
  readonly auth: { readonly token: string } | { readonly tokenEnv: string } | undefined;
  /** The cache of answers that can never change; `undefined`: off. */
  readonly cache: CacheLimits | undefined;
  /** The WebSocket side: its limits and upstream endpoints, or `false` (`"websocket": { "enabled": false }`). */
  readonly websocket: ProxyWebSocketConfig | false;
  readonly sharedState: SharedStateConfig | undefined;
}

/** `websocket` of the configuration file, without `enabled`. */
interface ProxyWebSocketConfig extends ProxyWebSocketLimits {
  readonly endpoints?: ReadonlyArray<{ readonly url: string; readonly id?: string; readonly headers?: Readonly<Record<string, string>> }>;
}

const MIN_TOKEN_LENGTH = 16;

const positiveMs = z
  .number({ error: 'expected a positive number' })
  .positive({ error: 'expected a positive number' })
  .max(MAX_TIMER_MS, { error: `expected at most ${MAX_TIMER_MS}` });
const nonNegativeMs = z
  .number({ error: 'expected a number >= 0' })
  .min(0, { error: 'expected a number >= 0' })
  .max(MAX_TIMER_MS, { error: `expected at most ${MAX_TIMER_MS}` });
/** A key that was renamed: refused with a message naming the new one (a silent default would be worse). */
const renamed = (to: string) => z.never({ error: `renamed ${to}` }).optional();
const count = z
  .number({ error: 'expected an integer >= 1' })
  .int({ error: 'expected an integer >= 1' })
  .min(1, { error: 'expected an integer >= 1' });
const methodName = z.string({ error: 'expected a method name' }).regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, { error: 'expected a method name' });

const methodOverride = z.strictObject({
  strategy: z
    .enum(['race', 'hedge', 'consensus', 'dual', 'single', 'broadcast'], {
      error: 'expected one of race, hedge, consensus, dual, single, broadcast',
    })
    .optional(),
  deadlineMs: positiveMs.optional(),
  timeoutMs: renamed('deadlineMs'),
  attemptTimeoutMs: positiveMs.optional(),
  maxCandidates: count.optional(),
  hedgeDelayMs: nonNegativeMs.optional(),
  maxAttempts: count.optional(),
  quorum: count.optional(),
  across: z.enum(['race', 'balance'], { error: 'expected "race" or "balance"' }).optional(),
});

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

const positiveRate = z
  .number({ error: 'expected a positive number' })
  .positive({ error: 'expected a positive number' })
  .max(1_000_000, { error: 'expected at most 1000000' });
const cost = z
  .number({ error: 'expected a number >= 0' })
  .min(0, { error: 'expected a number >= 0' })
  .max(1_000_000, { error: 'expected at most 1000000' });

const budget = z.strictObject(
  {
    requestsPerSecond: positiveRate,
    burst: positiveRate.optional(),
    maxConcurrency: count.max(100_000, { error: 'expected at most 100000' }).optional(),
    burstReserve: z
      .number({ error: 'expected a number from 0 to below 1' })
      .min(0, { error: 'expected a number from 0 to below 1' })
      .lt(1, { error: 'expected a number from 0 to below 1' })
      .optional(),
    credits: z
      .strictObject(
        {
          perSecond: positiveRate,
          burst: positiveRate.optional(),
          costs: z.record(methodName, cost, { error: 'expected an object of method name to cost' }).optional(),
          defaultCost: cost.optional(),
        },
        { error: 'expected { perSecond, burst?, costs?, defaultCost? }' },
      )
      .optional(),
  },
  { error: 'expected { requestsPerSecond, burst?, maxConcurrency?, burstReserve?, credits? }' },
);

/** A `redis://` or `rediss://` URL with a host. */
export function isRedisUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const redisUrl = z
  .string({ error: 'expected a redis:// or rediss:// URL' })
  .refine(isRedisUrl, { error: 'expected a redis:// or rediss:// URL' });

const sharedState = z.strictObject(
  {
    redis: z.strictObject(
      {
        url: redisUrl,
        keyPrefix: z
          .string({ error: 'expected a string' })
          .regex(/^[A-Za-z0-9:._-]{1,100}$/, { error: 'expected 1-100 characters of A-Z a-z 0-9 : . _ -' })
          .optional(),
        replicas: count.max(10_000, { error: 'expected at most 10000' }).optional(),
      },
      { error: 'expected { url, keyPrefix?, replicas? }' },
    ),
  },
  { error: 'expected { redis: { url, keyPrefix?, replicas? } }' },
);

// Zod never quotes the offending input in its messages, which matters here: URLs and headers carry keys.
const endpoint = z.strictObject({
  id: z
    .string({ error: 'expected a string' })
    .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'expected 1-64 characters of A-Z a-z 0-9 . _ -' })
    .optional(),
  url: z.string({ error: 'expected an http: or https: URL' }).refine(isHttpUrl, { error: 'expected an http: or https: URL' }),
  weight: z.number({ error: 'expected a positive number' }).positive({ error: 'expected a positive number' }).finite().optional(),
  role: z.enum(['primary', 'secondary'], { error: 'expected "primary" or "secondary"' }).optional(),
  headers: z.record(z.string(), z.string({ error: 'expected a string' })).optional(),
  budget: budget.optional(),
});

function isWsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'ws:' || url.protocol === 'wss:';
  } catch {
    return false;
  }
}

const endpointId = z
  .string({ error: 'expected a string' })
  .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'expected 1-64 characters of A-Z a-z 0-9 . _ -' });

function limitSchema(name: WebSocketLimitName) {
  const { min, max } = WEBSOCKET_LIMITS[name];
  const message = `expected an integer from ${min} to ${max}`;
  return z.number({ error: message }).int({ error: message }).min(min, { error: message }).max(max, { error: message }).optional();
}

const websocketSchema = z.strictObject({
  enabled: z.boolean({ error: 'expected true or false' }).optional(),
  ...(Object.fromEntries(WEBSOCKET_LIMIT_NAMES.map((name) => [name, limitSchema(name)])) as Record<
    WebSocketLimitName,
    ReturnType<typeof limitSchema>
  >),
  endpoints: z
    .array(
      z.strictObject({
        id: endpointId.optional(),
        url: z.string({ error: 'expected a ws: or wss: URL' }).refine(isWsUrl, { error: 'expected a ws: or wss: URL' }),
        headers: z.record(z.string(), z.string({ error: 'expected a string' })).optional(),
      }),
      { error: 'expected an array of endpoints' },
    )
    .min(1, { error: 'expected at least one endpoint' })
    .max(64, { error: 'expected at most 64 endpoints' })
    .optional(),
});

const configSchema = z.strictObject({
  endpoints: z
    .array(endpoint, { error: 'expected an array of endpoints' })
    .min(1, { error: 'expected at least one endpoint' })
    .max(64, { error: 'expected at most 64 endpoints' })
    .optional(),
  defaults: methodOverride.optional(),
  methods: z.record(methodName, methodOverride, { error: 'expected an object of method name to strategy settings' }).optional(),
  allowMethods: z.array(methodName, { error: 'expected an array of method names' }).optional(),
  allowAnyMethod: z.boolean({ error: 'expected true or false' }).optional(),
  limits: z
    .strictObject({
      maxBodyBytes: z
        .number({ error: 'expected an integer >= 1024' })
        .int({ error: 'expected an integer >= 1024' })
        .min(1024, { error: 'expected an integer >= 1024' })
        .max(64 * 1_048_576, { error: 'expected at most 67108864' })
        .optional(),
      maxBatchSize: count.max(10_000, { error: 'expected at most 10000' }).optional(),
      requestDeadlineMs: positiveMs.optional(),
      requestTimeoutMs: renamed('requestDeadlineMs'),
      headersTimeoutMs: positiveMs.optional(),
    })
    .optional(),
  auth: z
    .union(
      [
        z.strictObject({
          token: z
            .string({ error: 'expected a string' })
            .min(MIN_TOKEN_LENGTH, { error: `expected at least ${MIN_TOKEN_LENGTH} characters` }),
        }),
        z.strictObject({
          tokenEnv: z
            .string({ error: 'expected a string' })
            .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected an environment variable name' }),
        }),
      ],
      { error: 'expected either { "token": "…" } or { "tokenEnv": "NAME" }' },
    )
    .optional(),
  cache: cacheSchema.optional(),
  websocket: websocketSchema.optional(),
  sharedState: sharedState.optional(),
});

/** One problem of a configuration, by the path of its option: `methods.getAccountInfo.deadlineMs`. */
export interface ConfigIssue {
  readonly option: string;
  readonly message: string;
}

function optionOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === '' ? '(root)' : out;
}

export function invalidConfig(issues: readonly ConfigIssue[], source: string | undefined): XError {
  const where = source === undefined ? '' : ` in ${source}`;
  const list = issues.map((issue) => `${issue.option}: ${issue.message}`).join('; ');
  return new XError({
    code: 'PROXY_INVALID_CONFIG',
    category: 'config',
    message: `Invalid configuration${where}: ${list}`,
    context: { option: issues[0]?.option ?? '(root)', issues, ...(source === undefined ? {} : { source }) },
  });
}

function issuesOf(error: z.ZodError): ConfigIssue[] {
  return error.issues
    .map((issue) => {
      const path = issue.path;
      // An unknown key is reported at its parent; naming the key itself is what the reader needs.
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((key) => ({ option: optionOf([...path, key]), message: 'unknown field' }));
      }
      return [{ option: optionOf(path), message: issue.message }];
    })
    .flat();
}

/**
 * Validates a parsed configuration document. Throws `PROXY_INVALID_CONFIG` (category `config`) whose
 * message lists every bad option and whose `context.option` is the first of them.
 */
export function parseConfig(document: unknown, source?: string): ProxyConfig {
  const result = configSchema.safeParse(document);
  if (!result.success) throw invalidConfig(issuesOf(result.error), source);
  const value = result.data;
  const entries = value.endpoints ?? [];
  const seen = new Map<string, number>();
  const issues: ConfigIssue[] = [];
  entries.forEach(({ id }, index) => {
    if (id === undefined) return;
    const first = seen.get(id);
    if (first !== undefined) issues.push({ option: `endpoints[${index}].id`, message: `duplicate id "${id}" (also endpoints[${first}])` });
    else seen.set(id, index);
  });
  if (issues.length > 0) throw invalidConfig(issues, source);
  return {
    endpoints: entries.map((entry) => ({
      ...(entry.id === undefined ? {} : { id: entry.id }),
      url: entry.url,
      ...(entry.weight === undefined ? {} : { weight: entry.weight }),
      ...(entry.role === undefined ? {} : { role: entry.role }),
      ...(entry.headers === undefined ? {} : { headers: entry.headers }),
      ...(entry.budget === undefined ? {} : { budget: entry.budget }),
    })),
    defaults: value.defaults,
    methods: value.methods ?? {},
    allowMethods: value.allowMethods ?? [],
    allowAnyMethod: value.allowAnyMethod ?? false,
    limits: { ...DEFAULT_LIMITS, ...value.limits },
    auth: value.auth,
    cache: value.cache === undefined ? undefined : { ...DEFAULT_CACHE_LIMITS, ...value.cache },
    websocket: websocketOf(value.websocket),
    sharedState:
      value.sharedState === undefined
        ? undefined
        : {
            redis: {
              url: value.sharedState.redis.url,
              keyPrefix: value.sharedState.redis.keyPrefix ?? DEFAULT_KEY_PREFIX,
              ...(value.sharedState.redis.replicas === undefined ? {} : { replicas: value.sharedState.redis.replicas }),
            },
          },
  };
}

function websocketOf(value: z.infer<typeof websocketSchema> | undefined): ProxyWebSocketConfig | false {
  if (value === undefined) return {};
  const { enabled, endpoints, ...limits } = value;
  if (enabled === false) return false;
  const defined = Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) as ProxyWebSocketLimits;
  return {
    ...defined,
    ...(endpoints === undefined
      ? {}
      : {
          endpoints: endpoints.map((e) => ({
            url: e.url,
            ...(e.id === undefined ? {} : { id: e.id }),
            ...(e.headers === undefined ? {} : { headers: e.headers }),
          })),
        }),
  };
}

/** Turns a JSON parse failure into a line and column; the parser's own message may quote the file. */
function jsonPosition(text: string, error: unknown): string {
  const match = error instanceof Error ? /position (\d+)/.exec(error.message) : null;
  if (match === null) return '';
  const offset = Number(match[1]);
  const before = text.slice(0, offset).split('\n');
  return ` at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

/** Reads and validates a configuration file. Throws `PROXY_INVALID_CONFIG` for a missing, unreadable or invalid file. */
export async function loadConfig(path: string): Promise<ProxyConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new XError({
      code: 'PROXY_INVALID_CONFIG',
      category: 'config',
      message: `Cannot read the configuration file ${path}: ${code}`,
      context: { option: '--config', source: path, causeCode: code },
    });
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new XError({
      code: 'PROXY_INVALID_CONFIG',
      category: 'config',
      message: `The configuration file ${path} is not valid JSON${jsonPosition(text, error)}`,
      context: { option: '--config', source: path },
    });
  }
  return parseConfig(document, path);
}

/**
 * The bearer token to require: from the environment variable named by `--token-env` (which wins), or
 * by `auth.tokenEnv`, or `auth.token` itself; `undefined` when none is configured. A named variable
 * that is unset or shorter than 16 characters is a `PROXY_INVALID_CONFIG` error, never "no token".
 */
export function resolveToken(
  config: ProxyConfig,
  tokenEnv: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const fromConfig = config.auth !== undefined && 'tokenEnv' in config.auth ? config.auth.tokenEnv : undefined;
  const name = tokenEnv ?? fromConfig;
  if (name === undefined) return config.auth !== undefined && 'token' in config.auth ? config.auth.token : undefined;
  const value = env[name];
  if (value === undefined || value.length < MIN_TOKEN_LENGTH) {
    throw invalidConfig(
      [
        {
          option: tokenEnv === undefined ? 'auth.tokenEnv' : '--token-env',
          message: `environment variable ${name} must hold a token of at least ${MIN_TOKEN_LENGTH} characters`,
        },
      ],
      undefined,
    );
  }
  return value;
}
