import { describe, expect, it } from 'vitest';
import { ERROR_CATEGORIES, XError, abortedError, hasCategory, isAbortSignal, isXError, throwIfAborted, toXError } from '@x/errors';

describe('XError', () => {
  it('carries code, category, frozen context and the standard cause', () => {
    const cause = new Error('socket hang up');
    const error = new XError({
      code: 'HTTP_NETWORK',
      category: 'network',
      message: 'connection failed',
      context: { endpoint: 'https://a.example' },
      cause,
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('XError');
    expect(error.code).toBe('HTTP_NETWORK');
    expect(error.category).toBe('network');
    expect(error.cause).toBe(cause);
    expect(error.context).toEqual({ endpoint: 'https://a.example' });
    expect(Object.isFrozen(error.context)).toBe(true);
    expect(error.stack).toContain('connection failed');
  });

  it('rejects a category outside the documented list', () => {
    expect(() => new XError({ code: 'X', category: 'weird' as never, message: 'm' })).toThrow(TypeError);
    expect(ERROR_CATEGORIES).toEqual(['network', 'timeout', 'protocol', 'server', 'rate-limit', 'aborted', 'config']);
  });

  it('serialises to plain JSON with its cause described, not dumped', () => {
    const inner = new XError({ code: 'INNER', category: 'server', message: 'inner' });
    const error = new XError({ code: 'OUTER', category: 'timeout', message: 'outer', cause: inner });
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'XError',
      code: 'OUTER',
      category: 'timeout',
      message: 'outer',
      context: {},
      cause: { name: 'XError', code: 'INNER', category: 'server', message: 'inner', context: {} },
    });
  });
});

describe('guards', () => {
  const timeout = new XError({ code: 'UDP_TIMEOUT', category: 'timeout', message: 't' });

  it('isXError recognises only XErrors and narrows by one or several codes', () => {
    expect(isXError(timeout)).toBe(true);
    expect(isXError(new Error('x'))).toBe(false);
    expect(isXError({ code: 'UDP_TIMEOUT', category: 'timeout' })).toBe(false);
    expect(isXError(null)).toBe(false);
    expect(isXError(timeout, 'UDP_TIMEOUT')).toBe(true);
    expect(isXError(timeout, 'OTHER')).toBe(false);
    expect(isXError(timeout, ['A', 'UDP_TIMEOUT'])).toBe(true);
    if (isXError(timeout, 'UDP_TIMEOUT')) {
      const code: 'UDP_TIMEOUT' = timeout.code;
      expect(code).toBe('UDP_TIMEOUT');
    }
  });

  it('isXError works across copies of the class (dual ESM/CJS loading)', () => {
    const foreign = Object.create(Error.prototype) as Record<string | symbol, unknown>;
    Object.defineProperty(foreign, Symbol.for('@x/errors.XError'), { value: true });
    foreign.code = 'C';
    expect(isXError(foreign)).toBe(true);
  });

  it('hasCategory checks one or several categories', () => {
    expect(hasCategory(timeout, 'timeout')).toBe(true);
    expect(hasCategory(timeout, ['network', 'timeout'])).toBe(true);
    expect(hasCategory(timeout, 'network')).toBe(false);
    expect(hasCategory(new Error('x'), 'timeout')).toBe(false);
  });

  it('toXError keeps XErrors and wraps anything else with the fallback', () => {
    expect(toXError(timeout, { code: 'X', category: 'server' })).toBe(timeout);
    const plain = new Error('boom');
    const wrapped = toXError(plain, { code: 'ATTEMPT_FAILED', category: 'server' });
    expect(wrapped.code).toBe('ATTEMPT_FAILED');
    expect(wrapped.category).toBe('server');
    expect(wrapped.message).toBe('boom');
    expect(wrapped.cause).toBe(plain);
    expect(toXError('text', { code: 'S', category: 'protocol' }).message).toBe('text');
  });
});

describe('abort helpers', () => {
  it('abortedError makes an aborted-category error that keeps the reason as cause', () => {
    const reason = new Error('user pressed ctrl-c');
    const error = abortedError(reason);
    expect(error.code).toBe('ABORTED');
    expect(error.category).toBe('aborted');
    expect(error.cause).toBe(reason);
    expect(error.message).toContain('user pressed ctrl-c');
    expect(abortedError().message).toBe('The operation was aborted');
  });

  it('abortedError returns an XError reason unchanged (a deadline stays a timeout)', () => {
    const deadline = new XError({ code: 'DEADLINE', category: 'timeout', message: 'deadline' });
    expect(abortedError(deadline)).toBe(deadline);
  });

  it('throwIfAborted throws only for an aborted signal', () => {
    expect(() => throwIfAborted(undefined)).not.toThrow();
    const controller = new AbortController();
    expect(() => throwIfAborted(controller.signal)).not.toThrow();
    controller.abort();
    expect(() => throwIfAborted(controller.signal)).toThrow(expect.objectContaining({ category: 'aborted' }));
  });
});

describe('isAbortSignal', () => {
  it('accepts real signals and signal-shaped objects, rejects everything else', () => {
    expect(isAbortSignal(new AbortController().signal)).toBe(true);
    expect(isAbortSignal(AbortSignal.timeout(1_000))).toBe(true);
    expect(isAbortSignal({ aborted: false, addEventListener: () => {}, removeEventListener: () => {} })).toBe(true);
    for (const value of [undefined, null, 'signal', 1, {}, { aborted: false }, new AbortController()]) {
      expect(isAbortSignal(value)).toBe(false);
    }
  });
});
