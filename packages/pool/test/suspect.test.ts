import { XError } from '@x/errors';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPool } from '@x/pool';
import { ok } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const contradiction = new XError({
  code: 'TEST_CONTRADICTED',
  category: 'server',
  message: 'answers contradict the others at https://node.example/v2/sekret-key-123',
});

describe('suspect: an endpoint whose answers contradict the others', () => {
  it('is out of selection for the ejection backoff, then probed and back to healthy', () => {
    const pool = createPool({
      endpoints: [
        { id: 'a', target: 'https://node.example/v2/sekret-key-123' },
        { id: 'b', target: 'b' },
      ],
      ejection: { baseMs: 1_000 },
    });
    pool.suspect('a', contradiction);
    const a = () => pool.snapshot().endpoints.find((endpoint) => endpoint.id === 'a');
    expect(a()).toMatchObject({
      health: 'suspect',
      available: false,
      ejectedForMs: 1_000,
      lastEjectionReason: 'suspect',
      ejectionsTotal: 1,
    });
    expect(a()?.lastError?.code).toBe('TEST_CONTRADICTED');
    expect(a()?.lastError?.message).not.toContain('sekret-key-123');
    expect(pool.select().endpoints.map((endpoint) => endpoint.id)).toEqual(['b']);
    // Marking it again while suspect changes nothing (no longer backoff for one event).
    pool.suspect('a');
    expect(a()).toMatchObject({ ejectedForMs: 1_000, ejectionsTotal: 1 });
    vi.advanceTimersByTime(1_000);
    expect(a()?.health).toBe('probing');
    for (let i = 0; i < 3; i++) pool.record('a', ok(5));
    expect(a()?.health).toBe('healthy');
  });

  it('is a state of its own in the metrics and survives export/import', async () => {
    const pool = createPool({
      endpoints: [
        { id: 'a', target: 'a' },
        { id: 'b', target: 'b' },
      ],
    });
    pool.suspect('a');
    expect(await pool.metrics()).toMatch(/x_pool_endpoint_health\{endpoint="a",label="a",state="suspect"\} 1/);
    const copy = createPool({
      endpoints: [
        { id: 'a', target: 'a' },
        { id: 'b', target: 'b' },
      ],
    });
    copy.import(JSON.parse(JSON.stringify(pool.export())));
    expect(copy.snapshot().endpoints[0]).toMatchObject({ health: 'suspect', lastEjectionReason: 'suspect' });
  });

  it('an unknown endpoint id is a POOL_UNKNOWN_ENDPOINT error', () => {
    const pool = createPool({ endpoints: [{ id: 'a', target: 'a' }] });
    expect(() => pool.suspect('nope')).toThrow(expect.objectContaining({ code: 'POOL_UNKNOWN_ENDPOINT' }));
  });
});
