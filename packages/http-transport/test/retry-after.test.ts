import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '@x/http-transport';

const NOW = Date.parse('2025-01-01T00:00:00Z');

describe('parseRetryAfter', () => {
  it('reads delay-seconds, tolerating a fraction', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
    expect(parseRetryAfter('1.5', NOW)).toBe(1_500);
  });

  it('reads an HTTP date as the time left until it, never negative', () => {
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', NOW)).toBe(30_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', NOW)).toBe(0);
  });

  it('takes the first of repeated headers', () => {
    expect(parseRetryAfter(['5', '10'], NOW)).toBe(5_000);
  });

  it('gives undefined for anything else instead of inventing a delay', () => {
    for (const value of [undefined, '', '-1', '1e3', 'soon', 'Thu, 99 Foo 2025', '0x10']) {
      expect(parseRetryAfter(value, NOW)).toBeUndefined();
    }
  });
});
