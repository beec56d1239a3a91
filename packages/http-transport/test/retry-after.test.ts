import { describe, expect, it, vi } from 'vitest';
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

  it('reads all three HTTP date formats (IMF-fixdate, RFC 850, asctime as GMT)', () => {
    const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wednesday, 21-Oct-15 07:29:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Wed Oct 21 07:28:10 2015', now)).toBe(10_000);
  });

  it('defaults now to the wall clock', () => {
    vi.useFakeTimers();
    try {
      vi.setSystemTime(NOW);
      expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:05 GMT')).toBe(5_000);
    } finally {
      vi.useRealTimers();
    }
  });

  it('takes the first of repeated headers', () => {
    expect(parseRetryAfter(['5', '10'], NOW)).toBe(5_000);
  });

  it('gives undefined for anything else instead of inventing a delay', () => {
    for (const value of [undefined, null, '', '   ', '-1', '1e3', 'soon', 'Thu, 99 Foo 2025', '0x10', '2015-10-21T07:28:30Z']) {
      expect(parseRetryAfter(value, NOW)).toBeUndefined();
    }
  });
});
