import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay } from '../src/backoff.js';
import { startKeepAlive } from '../src/keepalive.js';

const policy = {
  initialDelayMs: 100,
  maxDelayMs: 1_000,
  multiplier: 2,
  jitter: 0.5,
  maxAttempts: Number.POSITIVE_INFINITY,
  resetAfterMs: 10_000,
};

describe('backoffDelay', () => {
  it('grows exponentially from initialDelayMs and stops at maxDelayMs', () => {
    const delays = [1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, { ...policy, jitter: 0 }, () => 0.5));
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('makes the jitter fraction of each delay random, within [d × (1 − jitter), d]', () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(200);
    expect(backoffDelay(3, policy, () => 0.999_999)).toBe(400);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(300);
    expect(backoffDelay(3, { ...policy, jitter: 1 }, () => 0)).toBe(1);
  });

  it('keeps a broken random source inside the bounds', () => {
    expect(backoffDelay(1, policy, () => 7)).toBe(100);
    expect(backoffDelay(1, policy, () => -3)).toBe(50);
  });
});

class FakeSocket extends EventEmitter {
  pings = 0;
  ping(): void {
    this.pings += 1;
  }
}

describe('startKeepAlive', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('pings every interval and reports a pong that never comes, once', () => {
    vi.useFakeTimers();
    const socket = new FakeSocket();
    const onTimeout = vi.fn();
    startKeepAlive(socket, 1_000, 300, onTimeout);
    vi.advanceTimersByTime(999);
    expect(socket.pings).toBe(0);
    vi.advanceTimersByTime(1);
    expect(socket.pings).toBe(1);
    vi.advanceTimersByTime(299);
    expect(onTimeout).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onTimeout).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(onTimeout).toHaveBeenCalledTimes(1);
    expect(socket.pings).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
    expect(socket.listenerCount('pong')).toBe(0);
  });

  it('keeps going while pongs come back in time', () => {
    vi.useFakeTimers();
    const socket = new FakeSocket();
    const onTimeout = vi.fn();
    const stop = startKeepAlive(socket, 1_000, 300, onTimeout);
    vi.advanceTimersByTime(1_000);
    for (let round = 0; round < 5; round += 1) {
      vi.advanceTimersByTime(250);
      socket.emit('pong');
      vi.advanceTimersByTime(750);
    }
    expect(socket.pings).toBe(6);
    expect(onTimeout).not.toHaveBeenCalled();
    stop();
    expect(vi.getTimerCount()).toBe(0);
    expect(socket.listenerCount('pong')).toBe(0);
  });

  it('does not stack pings while one is unanswered (pong timeout longer than the interval)', () => {
    vi.useFakeTimers();
    const socket = new FakeSocket();
    const onTimeout = vi.fn();
    startKeepAlive(socket, 100, 1_000, onTimeout);
    vi.advanceTimersByTime(999);
    expect(socket.pings).toBe(1);
    vi.advanceTimersByTime(200);
    expect(onTimeout).toHaveBeenCalledTimes(1);
  });
});
