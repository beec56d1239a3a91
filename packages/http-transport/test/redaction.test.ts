// Internal helpers, tested directly: no real server makes undici quote a URL in its errors, yet the
// redaction of foreign causes must hold when one does.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { safeCause, safeText } from '../src/errors.js';

const SECRET = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6';

describe('safeCause', () => {
  it('keeps a foreign error untouched when it quotes no secret', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(safeCause(error, [SECRET])).toBe(error);
  });

  it('replaces an error quoting a secret by a redacted copy with the same name and code, without nested causes', () => {
    const inner = new Error(`inner ${SECRET}`);
    const error = Object.assign(new TypeError(`bad url https://h/v2/${SECRET}`, { cause: inner }), { code: 'UND_ERR_INVALID_ARG' });
    const safe = safeCause(error, [SECRET]) as Error & { code: string };
    expect(safe).not.toBe(error);
    expect(safe.name).toBe('TypeError');
    expect(safe.code).toBe('UND_ERR_INVALID_ARG');
    expect(safe.message).toBe('bad url https://h/v2/***');
    expect(inspect(safe, { depth: Infinity })).not.toContain(SECRET);
  });

  it('catches a secret hidden only in a nested cause', () => {
    const error = new Error('outer', { cause: new Error(SECRET) });
    expect(inspect(safeCause(error, [SECRET]), { depth: Infinity })).not.toContain(SECRET);
  });
});

describe('safeText', () => {
  it('redacts before cutting, so no fragment of a secret survives the cut', () => {
    const text = `${'x'.repeat(190)}${SECRET}`;
    const safe = safeText(text, [SECRET]);
    expect(safe).toBe(`${'x'.repeat(190)}***`);
  });

  it('collapses whitespace and caps the length', () => {
    expect(safeText('a \n\t b', [])).toBe('a b');
    expect(safeText('y'.repeat(500), [])).toBe(`${'y'.repeat(200)}…`);
  });
});
