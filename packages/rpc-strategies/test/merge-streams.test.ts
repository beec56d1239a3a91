import { getEventListeners } from 'node:events';
import { isXError } from '@x/errors';
import { mergeStreams } from '@x/rpc-strategies';
import type { MergeSink, MergeSource, MergedItem, MergedStream } from '@x/rpc-strategies';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

interface Ev {
  readonly sig: string;
  readonly from: string;
}

/** A push source whose sink the test drives, recording its cleanup. */
function pushSource(name: string) {
  const handle = { sink: undefined as MergeSink<Ev> | undefined, cleanups: 0 };
  const source: MergeSource<Ev> = {
    name,
    start(sink) {
      handle.sink = sink;
      return () => {
        handle.cleanups++;
      };
    },
  };
  return { source, handle, sink: () => handle.sink as MergeSink<Ev> };
}

/** A push source that delivers `sigs` in order, each `delayMs` after the previous (fake timers), then stays open. */
function timedSource(name: string, schedule: ReadonlyArray<readonly [atMs: number, sig: string]>) {
  let timers = 0;
  const source: MergeSource<Ev> = {
    name,
    start(sink) {
      const handles = schedule.map(([atMs, sig]) => {
        timers++;
        return setTimeout(() => {
          timers--;
          sink.event({ sig, from: name });
        }, atMs);
      });
      return () => {
        for (const h of handles) clearTimeout(h);
        timers = 0;
      };
    },
  };
  return { source, pendingTimers: () => timers };
}

/** An async iterable fed by the test (values, then an end or an error), recording whether `return()` was called. */
function channel(name: string) {
  type Entry = { value: Ev } | { done: true } | { error: unknown };
  const buffered: Entry[] = [];
  let waiting: { resolve: (r: IteratorResult<Ev>) => void; reject: (e: unknown) => void } | undefined;
  const state = { returned: false };
  function settle(entry: Entry, w: NonNullable<typeof waiting>): void {
    if ('value' in entry) w.resolve({ value: entry.value, done: false });
    else if ('done' in entry) w.resolve({ value: undefined, done: true });
    else w.reject(entry.error);
  }
  function feed(entry: Entry): void {
    const w = waiting;
    waiting = undefined;
    if (w) settle(entry, w);
    else buffered.push(entry);
  }
  const iterator: AsyncIterableIterator<Ev> = {
    next() {
      const entry = buffered.shift();
      return new Promise((resolve, reject) => {
        if (entry !== undefined) settle(entry, { resolve, reject });
        else waiting = { resolve, reject };
      });
    },
    return() {
      state.returned = true;
      feed({ done: true });
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return {
    source: { name, iterable: iterator } satisfies MergeSource<Ev>,
    state,
    push: (sig: string) => feed({ value: { sig, from: name } }),
    end: () => feed({ done: true }),
    error: (e: unknown) => feed({ error: e }),
  };
}

async function take<T>(stream: MergedStream<T>, n: number): Promise<MergedItem<T>[]> {
  const items: MergedItem<T>[] = [];
  while (items.length < n) {
    const r = await stream.next();
    if (r.done === true) break;
    items.push(r.value);
  }
  return items;
}

const key = (e: Ev) => e.sig;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('mergeStreams', () => {
  it('delivers each event once, from the first source to deliver it, and measures how late the others were', async () => {
    const a = timedSource('a', [
      [10, 's1'],
      [20, 's2'],
      [30, 's3'],
    ]);
    const b = timedSource('b', [
      [5, 's1'],
      [25, 's2'],
      [40, 's3'],
    ]);
    const c = timedSource('c', [
      [110, 's1'],
      [120, 's2'],
      [130, 's3'],
    ]);
    const copies: string[] = [];
    const stream = mergeStreams([a.source, b.source, c.source], {
      key,
      now: () => Date.now(),
      onCopy: (copy) => copies.push(`${copy.source}:${copy.first ? 'first' : copy.lagMs}`),
    });
    await vi.advanceTimersByTimeAsync(200);
    const items = await take(stream, 3);
    expect(items.map((i) => (i.type === 'event' ? `${i.value.sig}@${i.source}` : i.type))).toEqual(['s1@b', 's2@a', 's3@a']);
    const stats = stream.stats();
    expect(stats.delivered).toBe(3);
    expect(stats.duplicates).toBe(6);
    const [sa, sb, sc] = stats.sources;
    expect([sa?.first, sb?.first, sc?.first]).toEqual([2, 1, 0]);
    expect(sc?.late).toBe(3);
    // c was 105, 100 and 100 ms behind: its median lag is 100 ms within the sketch's 1 % accuracy.
    expect(sc?.lagP50Ms).toBeGreaterThan(98);
    expect(sc?.lagP50Ms).toBeLessThan(102);
    expect(sc?.lagP99Ms).toBeGreaterThan(99);
    expect(sc?.lagP99Ms).toBeLessThan(107);
    expect(sa?.lagP50Ms).toBe(0);
    expect(stats.queued).toBe(0);
    expect(copies).toEqual(['b:first', 'a:5', 'a:first', 'b:5', 'a:first', 'b:10', 'c:105', 'c:100', 'c:100']);
    stream.close();
    expect(a.pendingTimers() + b.pendingTimers() + c.pendingTimers()).toBe(0);
  });

  it('keeps every distinct event when sources deliver in different orders, and ignores a source repeating itself', async () => {
    const a = pushSource('a');
    const b = pushSource('b');
    const stream = mergeStreams([a.source, b.source], { key });
    for (const s of ['1', '2', '3', '4']) a.sink().event({ sig: s, from: 'a' });
    for (const s of ['4', '2', '5', '1', '3', '5', '5']) b.sink().event({ sig: s, from: 'b' });
    const items = await take(stream, 5);
    expect(items.map((i) => (i.type === 'event' ? i.value.sig : i.type))).toEqual(['1', '2', '3', '4', '5']);
    const [sa, sb] = stream.stats().sources;
    expect(sa?.first).toBe(4);
    expect(sb).toMatchObject({ first: 1, late: 4, repeats: 2, received: 7 });
    stream.close();
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('reports disconnects as gaps and reconnects as resumed, and counts keys a connected source missed', async () => {
    let clock = 0;
    const a = pushSource('a');
    const b = pushSource('b');
    const stream = mergeStreams([a.source, b.source], { key, now: () => clock, dedupeWindow: 2 });
    a.sink().event({ sig: 'x1', from: 'a' });
    clock = 50;
    b.sink().disconnected(new Error('socket closed'));
    b.sink().disconnected(new Error('again')); // still down: no second gap
    a.sink().event({ sig: 'x2', from: 'a' });
    clock = 80;
    b.sink().connected();
    a.sink().event({ sig: 'x3', from: 'a' });
    a.sink().event({ sig: 'x4', from: 'a' });
    const items = await take(stream, 6);
    expect(items.map((i) => i.type)).toEqual(['event', 'gap', 'event', 'resumed', 'event', 'event']);
    const gap = items[1];
    expect(gap).toMatchObject({ type: 'gap', source: 'b', index: 1, at: 50, ended: false });
    expect(gap?.type === 'gap' && gap.reason?.code).toBe('STRATEGY_SOURCE_FAILED');
    expect(items[3]).toMatchObject({ type: 'resumed', source: 'b', downMs: 30 });
    // Window of 2 keys: x1 and x2 are forgotten. b was connected when x1 arrived and never sent it (missed);
    // it was down when x2 arrived (not counted against it).
    const sb = stream.stats().sources[1];
    expect(sb).toMatchObject({ missed: 1, disconnects: 1, reconnects: 1, connected: true });
    stream.close();
  });

  it('delivers a copy again once its key left the dedupe window (count and time)', () => {
    let clock = 0;
    const a = pushSource('a');
    const stream = mergeStreams([a.source], { key, now: () => clock, dedupeWindow: 3, dedupeTtlMs: 1_000 });
    for (const s of ['k1', 'k2', 'k3', 'k1']) a.sink().event({ sig: s, from: 'a' });
    expect(stream.stats().delivered).toBe(3);
    a.sink().event({ sig: 'k4', from: 'a' }); // k1 is now the 4th newest: forgotten
    a.sink().event({ sig: 'k1', from: 'a' });
    expect(stream.stats().delivered).toBe(5);
    clock = 1_000;
    a.sink().event({ sig: 'k4', from: 'a' }); // older than dedupeTtlMs
    expect(stream.stats().delivered).toBe(6);
    stream.close();
  });

  it('bounds the queue under a flood: drop-oldest keeps the newest items and counts the drops', async () => {
    const a = pushSource('a');
    const stream = mergeStreams([a.source], { key, queueSize: 10 });
    for (let i = 0; i < 1_000; i++) a.sink().event({ sig: `f${i}`, from: 'a' });
    const stats = stream.stats();
    expect(stats).toMatchObject({ delivered: 1_000, dropped: 990, queued: 10, queueHighWater: 10 });
    const items = await take(stream, 10);
    expect(items.map((i) => (i.type === 'event' ? i.value.sig : ''))).toEqual(Array.from({ length: 10 }, (_, i) => `f${990 + i}`));
    stream.close();
  });

  it('drop-oldest drops events before notices; drop-newest keeps the oldest items', async () => {
    const a = pushSource('a');
    const b = pushSource('b');
    const oldest = mergeStreams([a.source, b.source], { key, queueSize: 2 });
    b.sink().disconnected();
    a.sink().event({ sig: 'e1', from: 'a' });
    a.sink().event({ sig: 'e2', from: 'a' });
    expect((await take(oldest, 2)).map((i) => i.type + (i.type === 'event' ? i.value.sig : ''))).toEqual(['gap', 'evente2']);
    oldest.close();

    const c = pushSource('c');
    const newest = mergeStreams([c.source], { key, queueSize: 2, overflow: 'drop-newest' });
    for (const s of ['n1', 'n2', 'n3', 'n4']) c.sink().event({ sig: s, from: 'c' });
    expect(newest.stats().dropped).toBe(2);
    expect((await take(newest, 2)).map((i) => (i.type === 'event' ? i.value.sig : ''))).toEqual(['n1', 'n2']);
    newest.close();
  });

  it("overflow 'error' ends the stream with STRATEGY_STREAM_OVERFLOW and stops every source", async () => {
    const a = pushSource('a');
    const stream = mergeStreams([a.source], { key, queueSize: 3, overflow: 'error' });
    for (const s of ['1', '2', '3', '4', '5']) a.sink().event({ sig: s, from: 'a' });
    expect(a.handle.cleanups).toBe(1);
    expect(a.sink().signal.aborted).toBe(true);
    const error = await stream.next().catch((e: unknown) => e);
    expect(isXError(error) && error.code).toBe('STRATEGY_STREAM_OVERFLOW');
    expect(isXError(error) && error.category).toBe('rate-limit');
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('abort mid-stream rejects the waiting consumer, stops push and iterable sources and removes its listener', async () => {
    const controller = new AbortController();
    const a = pushSource('a');
    const b = channel('b');
    const t = timedSource('t', [[1_000, 'later']]);
    const stream = mergeStreams([a.source, b.source, t.source], { key, signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    b.push('m1');
    await vi.advanceTimersByTimeAsync(0);
    expect((await take(stream, 1))[0]).toMatchObject({ type: 'event', source: 'b' });
    const waiting = stream.next();
    controller.abort(new Error('user stop'));
    const error = await waiting.catch((e: unknown) => e);
    expect(isXError(error, 'ABORTED')).toBe(true);
    expect(a.handle.cleanups).toBe(1);
    expect(a.sink().signal.aborted).toBe(true);
    expect(b.state.returned).toBe(true);
    expect(t.pendingTimers()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(stream.closed).toBe(true);
    a.sink().event({ sig: 'after', from: 'a' }); // a careless source after the end: ignored
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('an already-aborted signal starts no source and rejects the first next()', async () => {
    const a = pushSource('a');
    const stream = mergeStreams([a.source], { key, signal: AbortSignal.abort('nope') });
    expect(a.handle.sink).toBeUndefined();
    await expect(stream.next()).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('ends after the queue drains once every source ended, with a gap per ended source', async () => {
    const a = channel('a');
    const b = channel('b');
    const stream = mergeStreams([a.source, b.source], { key });
    a.push('1');
    b.push('1');
    b.push('2');
    a.end();
    b.error(new Error('boom'));
    const seen: string[] = [];
    for await (const item of stream) seen.push(item.type === 'event' ? item.value.sig : `${item.type}:${item.source}`);
    // The two pumps interleave; each source's own order is kept and nothing is lost or repeated.
    expect([...seen].sort()).toEqual(['1', '2', 'gap:a', 'gap:b']);
    expect(seen.indexOf('2')).toBeLessThan(seen.indexOf('gap:b'));
    expect(stream.stats().sources.map((s) => s.ended)).toEqual([true, true]);
  });

  it('breaking out of for-await closes every source', async () => {
    const a = pushSource('a');
    const b = channel('b');
    const stream = mergeStreams([a.source, b.source], { key });
    a.sink().event({ sig: 'only', from: 'a' });
    for await (const item of stream) {
      expect(item.type).toBe('event');
      break;
    }
    expect(a.handle.cleanups).toBe(1);
    expect(b.state.returned).toBe(true);
    expect(stream.closed).toBe(true);
  });

  it('add() starts a source while the stream runs: a replacement keeps the stream alive when the old source ends', async () => {
    const a = pushSource('a');
    const stream = mergeStreams([a.source], { key });
    a.sink().event({ sig: '1', from: 'a' });
    const b = pushSource('b');
    // Added before the only source ends, so that the stream does not end with it.
    expect(stream.add(b.source)).toBe(true);
    a.sink().end(new Error('gave up'));
    b.sink().event({ sig: '1', from: 'b' });
    b.sink().event({ sig: '2', from: 'b' });
    const items = await take(stream, 3);
    expect(items).toMatchObject([
      { type: 'event', key: '1', source: 'a', index: 0 },
      { type: 'gap', source: 'a', ended: true },
      { type: 'event', key: '2', source: 'b', index: 1 },
    ]);
    expect(stream.stats().sources).toMatchObject([
      { name: 'a', ended: true, first: 1 },
      { name: 'b', ended: false, first: 1, late: 1 },
    ]);
    expect(a.handle.cleanups).toBe(1);
    expect(() => stream.add({ name: 'bad' } as never)).toThrow(/sources\[0\]/);
    stream.close();
    expect(b.handle.cleanups).toBe(1);
    const c = pushSource('c');
    expect(stream.add(c.source)).toBe(false);
    expect(c.handle.sink).toBeUndefined();
  });

  it('add() refuses a source beyond MAX_MERGE_SOURCES', () => {
    const sources = Array.from({ length: 30 }, (_, i) => pushSource(`s${i}`).source);
    const stream = mergeStreams(sources, { key });
    const extra = pushSource('extra');
    expect(stream.add(extra.source)).toBe(false);
    expect(extra.handle.sink).toBeUndefined();
    stream.close();
  });

  it('backfill delivers only what no source delivered, and sources copies of backfilled events are duplicates', async () => {
    const a = pushSource('a');
    const stream = mergeStreams([a.source], { key });
    a.sink().event({ sig: 'live', from: 'a' });
    expect(stream.has('live')).toBe(true);
    expect(stream.has('missed')).toBe(false);
    expect(stream.backfill({ sig: 'live', from: 'query' })).toBe(false);
    expect(stream.backfill({ sig: 'missed', from: 'query' })).toBe(true);
    a.sink().event({ sig: 'missed', from: 'a' });
    const items = await take(stream, 2);
    expect(items).toMatchObject([{ source: 'a' }, { source: 'backfill', index: -1 }]);
    expect(stream.stats()).toMatchObject({ delivered: 2, backfilled: 1, duplicates: 2 });
    stream.close();
  });

  it('a key function that throws drops that copy only; a source whose start throws ends with a gap', async () => {
    const a = pushSource('a');
    const bad: MergeSource<Ev> = {
      name: 'bad',
      start() {
        throw new Error('cannot connect');
      },
    };
    const stream = mergeStreams([a.source, bad], {
      key: (e) => {
        if (e.sig === '') throw new Error('no signature');
        return e.sig;
      },
    });
    a.sink().event({ sig: '', from: 'a' });
    a.sink().event({ sig: 'ok', from: 'a' });
    const items = await take(stream, 2);
    expect(items).toMatchObject([
      { type: 'gap', source: 'bad', ended: true },
      { type: 'event', key: 'ok' },
    ]);
    expect(stream.stats().sources[0]?.invalid).toBe(1);
    stream.close();
  });

  it('rejects bad options with STRATEGY_INVALID_OPTIONS naming the option', () => {
    const a = pushSource('a');
    const cases: Array<[() => unknown, string]> = [
      [() => mergeStreams([], { key }), 'sources'],
      [() => mergeStreams([{ name: 'x' } as never], { key }), 'sources[0]'],
      [() => mergeStreams([a.source], { key: 'sig' as never }), 'key'],
      [() => mergeStreams([a.source], { key, queueSize: 0 }), 'queueSize'],
      [() => mergeStreams([a.source], { key, dedupeWindow: 1.5 }), 'dedupeWindow'],
      [() => mergeStreams([a.source], { key, dedupeTtlMs: -1 }), 'dedupeTtlMs'],
      [() => mergeStreams([a.source], { key, overflow: 'block' as never }), 'overflow'],
      [() => mergeStreams([a.source], { key, signal: {} as never }), 'signal'],
    ];
    for (const [call, option] of cases) {
      let error: unknown;
      try {
        call();
      } catch (e) {
        error = e;
      }
      expect(isXError(error) && error.code, option).toBe('STRATEGY_INVALID_OPTIONS');
      expect(isXError(error) && error.context.option).toBe(option);
    }
    expect(a.handle.sink).toBeUndefined();
  });
});
