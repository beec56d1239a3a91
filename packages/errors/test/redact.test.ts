import { describe, expect, it } from 'vitest';
import { redactCause, redactSecrets, redactUrl, secretsOfUrl } from '@x/errors';

const providerUrls = [
  ['https://mainnet.helius-rpc.com/?api-key=3f2a9c1e-7b4d-4e2a-9f10-1c2d3e4f5a6b', 'https://mainnet.helius-rpc.com?api-key=***'],
  ['https://solana-mainnet.g.alchemy.com/v2/AbCdEf123456GhIjKl7890MnOp', 'https://solana-mainnet.g.alchemy.com/v2/***'],
  ['https://x.solana-mainnet.quiknode.pro/0123456789abcdef0123456789abcdef01234567/', 'https://x.solana-mainnet.quiknode.pro/***/'],
  ['https://user:pa55word@rpc.example.com:8899/solana/mainnet', 'https://***@rpc.example.com:8899/solana/mainnet'],
  ['http://127.0.0.1:8899', 'http://127.0.0.1:8899'],
  ['https://rpc.example.com/path#token=abc', 'https://rpc.example.com/path'],
] as const;

describe('redactUrl', () => {
  it.each(providerUrls)('%s -> %s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });

  it('never echoes text that is not a URL', () => {
    expect(redactUrl('not a url with secret sk_live_123')).toBe('[invalid URL]');
  });

  it('accepts URL objects', () => {
    expect(redactUrl(new URL('https://a.example/?token=t0ps3cr3t'))).toBe('https://a.example?token=***');
  });
});

describe('redactSecrets / secretsOfUrl', () => {
  it('removes every secret of a URL from free text, encoded or not', () => {
    const url = 'https://u:p%40ss@rpc.example.com/v2/AbCdEf123456GhIjKl7890MnOp?api-key=k%2Fy&x=';
    const secrets = secretsOfUrl(url);
    const text = `fetch ${url} failed; key k/y or p@ss or AbCdEf123456GhIjKl7890MnOp`;
    const clean = redactSecrets(text, secrets);
    for (const s of ['AbCdEf123456GhIjKl7890MnOp', 'k/y', 'k%2Fy', 'p@ss', 'p%40ss']) expect(clean).not.toContain(s);
    expect(clean).toContain('rpc.example.com');
  });

  it('ignores empty secrets and keeps text without secrets intact', () => {
    expect(redactSecrets('hello world', ['', 'absent'])).toBe('hello world');
  });
});

describe('redactCause', () => {
  const SECRET = 'AbCdEf123456GhIjKl7890MnOp';

  it('returns the error itself when what it renders quotes no secret', () => {
    const error = new Error('connect ECONNREFUSED');
    expect(redactCause(error, [SECRET], `${error.stack ?? ''}`)).toBe(error);
    expect(redactCause(error, [''], 'anything')).toBe(error);
  });

  it('replaces an error whose rendering quotes a secret by a copy without it, keeping name and string code only', () => {
    const error = Object.assign(new TypeError(`bad url https://h/v2/${SECRET}`, { cause: new Error(SECRET) }), {
      code: 'ERR_BAD',
      extra: SECRET,
    });
    const copy = redactCause(error, [SECRET], `${error.message} cause: ${SECRET}`) as Error & { code?: string; extra?: string };
    expect(copy).not.toBe(error);
    expect(copy).toBeInstanceOf(Error);
    expect([copy.name, copy.message, copy.code, copy.extra, copy.cause]).toEqual([
      'TypeError',
      'bad url https://h/v2/***',
      'ERR_BAD',
      undefined,
      undefined,
    ]);
    expect(copy.stack).not.toContain(SECRET);
  });

  it('found only in the rendering (a nested cause), the secret still gets the error replaced', () => {
    const error = new Error('outer');
    const copy = redactCause(error, [SECRET], `outer [cause]: ${SECRET}`);
    expect(copy).not.toBe(error);
    expect((copy as Error).message).toBe('outer');
  });

  it('turns anything but an Error into its redacted rendering', () => {
    expect(redactCause({ url: SECRET }, [SECRET], `{ url: '${SECRET}' }`)).toBe("{ url: '***' }");
  });
});
