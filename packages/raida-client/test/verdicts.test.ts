import { describe, expect, it } from 'vitest';
import {
  RAIDA_SERVER_STATUSES,
  coinVerdict,
  isCoinSettled,
  isReplyStatus,
  isRetryableStatus,
  majorityOf,
  retryTimeoutMs,
} from '@x/raida-client';

describe('coin verdicts (13 of 25)', () => {
  it('needs 13 passes for authentic and 13 fails for counterfeit', () => {
    expect(coinVerdict(25, 0, 13)).toBe('authentic');
    expect(coinVerdict(13, 0, 13)).toBe('authentic');
    expect(coinVerdict(12, 0, 13)).toBe('limbo');
    expect(coinVerdict(0, 13, 13)).toBe('counterfeit');
    expect(coinVerdict(12, 12, 13)).toBe('limbo');
  });

  it('calls an authentic coin that some servers failed fracked', () => {
    expect(coinVerdict(24, 1, 13)).toBe('fracked');
    expect(coinVerdict(13, 12, 13)).toBe('fracked');
    expect(coinVerdict(12, 13, 13)).toBe('counterfeit');
  });

  it('settles a coin once a threshold is met or neither can be met any more', () => {
    expect(isCoinSettled({ pass: 13, fail: 0, pending: 12 }, 13)).toBe(true);
    expect(isCoinSettled({ pass: 0, fail: 13, pending: 12 }, 13)).toBe(true);
    expect(isCoinSettled({ pass: 12, fail: 0, pending: 1 }, 13)).toBe(false);
    // 12 pass, 12 fail, one pending: that one decides.
    expect(isCoinSettled({ pass: 12, fail: 12, pending: 1 }, 13)).toBe(false);
    // The other 12 servers are silent or errored: neither side can reach 13, the coin is in limbo for good.
    expect(isCoinSettled({ pass: 7, fail: 6, pending: 0 }, 13)).toBe(true);
    expect(isCoinSettled({ pass: 5, fail: 5, pending: 2 }, 13)).toBe(true);
    expect(isCoinSettled({ pass: 11, fail: 5, pending: 2 }, 13)).toBe(false);
  });

  it('defaults the quorum to a strict majority', () => {
    expect(majorityOf(25)).toBe(13);
    expect(majorityOf(24)).toBe(13);
    expect(majorityOf(5)).toBe(3);
    expect(majorityOf(1)).toBe(1);
  });
});

describe('retry timeouts', () => {
  it('grow ×1.5 per retry and stop at 10 s', () => {
    expect(retryTimeoutMs(3000, 1)).toBe(4500);
    expect(retryTimeoutMs(3000, 2)).toBe(6750);
    expect(retryTimeoutMs(3000, 3)).toBe(10_000);
    expect(retryTimeoutMs(3000, 9)).toBe(10_000);
    expect(retryTimeoutMs(100, 2)).toBe(225);
  });

  it('never shrink below a first timeout that is already over 10 s', () => {
    expect(retryTimeoutMs(15_000, 1)).toBe(15_000);
  });
});

describe('status vocabulary', () => {
  it('is the documented list, in table order', () => {
    expect(RAIDA_SERVER_STATUSES).toEqual([
      'ready',
      'pass',
      'fail',
      'mixed',
      'timeout',
      'network-error',
      'protocol-error',
      'server-error',
      'skipped',
    ]);
  });

  it('counts valid replies and retries only what may not have been heard', () => {
    expect(RAIDA_SERVER_STATUSES.filter(isReplyStatus)).toEqual(['ready', 'pass', 'fail', 'mixed', 'server-error']);
    expect(RAIDA_SERVER_STATUSES.filter(isRetryableStatus)).toEqual(['timeout', 'network-error']);
  });
});
