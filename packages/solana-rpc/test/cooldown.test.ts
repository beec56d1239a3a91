import { afterEach, expect, it } from 'vitest';
import { setup } from './helpers.js';
import type { Setup } from './helpers.js';

let current: Setup | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

it('a 429 endpoint cools down for its Retry-After, is left out meanwhile, and comes back', async () => {
  // One manual clock drives both the simulator's token bucket and the pool's cool-down.
  let nowMs = 0;
  const now = (): number => nowMs;
  current = await setup([{ id: 'a' }, { id: 'limited', behavior: { rateLimit: { requestsPerSecond: 1, burst: 1 } } }], {
    cluster: { now },
    client: { pool: { now } },
  });
  const { cluster, client } = current;
  const limitedOf = () => client.pool.snapshot().endpoints.find((endpoint) => endpoint.id === 'limited')!;

  // Broadcast asks every endpoint and waits for each answer, so the 429 is seen whatever the timing.
  await client.call('getSlot', [], { strategy: 'broadcast' });
  const refused = await client.callWithDetails('getSlot', [], { strategy: 'broadcast' });
  const outcome = refused.broadcast?.find((entry) => entry.endpoint === 'limited');
  expect(outcome?.ok === false && outcome.error.code).toBe('HTTP_RATE_LIMITED');
  expect(outcome?.ok === false && outcome.error.context.retryAfterMs).toBe(1_000);
  expect(limitedOf()).toMatchObject({ available: false, coolingDownForMs: 1_000, health: 'healthy' });
  expect(limitedOf().totals.rateLimited).toBe(1);
  expect(limitedOf().totals.error).toBe(0);

  // While it cools down, nothing is sent to it.
  const before = cluster.stats('limited').requests;
  for (let i = 0; i < 3; i++) {
    const details = await client.callWithDetails('getSlot', [], { strategy: 'race' });
    expect(details.attempts.map((attempt) => attempt.endpoint)).toEqual(['a']);
  }
  expect(cluster.stats('limited').requests).toBe(before);

  nowMs += 1_000;
  expect(limitedOf()).toMatchObject({ available: true, coolingDownForMs: 0 });
  const back = await client.callWithDetails('getSlot', [], { strategy: 'broadcast' });
  expect(back.broadcast?.find((entry) => entry.endpoint === 'limited')?.ok).toBe(true);
  expect(cluster.stats('limited').responses['rate-limited']).toBe(1);
});
