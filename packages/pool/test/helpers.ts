import { XError } from '@x/errors';
import type { ErrorCategory } from '@x/errors';
import type { AttemptOutcome } from '@x/pool';

export const ok = (latencyMs: number): AttemptOutcome => ({ ok: true, value: undefined, latencyMs });

export function fail(
  category: ErrorCategory,
  latencyMs = 5,
  context: Record<string, unknown> = {},
  message = `${category} failure`,
): AttemptOutcome {
  return {
    ok: false,
    latencyMs,
    error: new XError({ code: `TEST_${category.toUpperCase().replace('-', '_')}`, category, message, context }),
  };
}

/** Prometheus text exposition parsed back into samples, for assertions. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string>; help: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      (meta[1] === 'HELP' ? help : types).set(meta[2]!, meta[3]!);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    const labelText = sample[2] ?? '';
    const labelPattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/gy;
    let consumed = 0;
    for (let match = labelPattern.exec(labelText); match !== null; match = labelPattern.exec(labelText)) {
      labels[match[1]!] = match[2]!.replace(/\\(["\\n])/g, (_, ch: string) => (ch === 'n' ? '\n' : ch));
      consumed = labelPattern.lastIndex;
    }
    if (consumed !== labelText.length) throw new Error(`unparseable labels: ${labelText}`);
    const raw = sample[3]!;
    const value =
      raw === 'NaN' ? Number.NaN : raw === '+Inf' ? Number.POSITIVE_INFINITY : raw === '-Inf' ? Number.NEGATIVE_INFINITY : Number(raw);
    if (Number.isNaN(value) && raw !== 'NaN') throw new Error(`unparseable value: ${line}`);
    samples.push({ name: sample[1]!, labels, value });
  }
  return { samples, types, help };
}

export function findSample(samples: readonly Sample[], name: string, labels: Record<string, string>): Sample | undefined {
  return samples.find((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
}

/**
 * DDSketch's guarantee: the value at quantile q is within the relative accuracy of an order statistic at
 * rank q × (n − 1) (it does not interpolate, so either neighbour of a fractional rank is correct).
 */
export function expectedQuantileRange(sorted: readonly number[], q: number, accuracy = 0.01): [number, number] {
  const rank = q * (sorted.length - 1);
  const low = sorted[Math.floor(rank)]!;
  const high = sorted[Math.ceil(rank)]!;
  return [low * (1 - accuracy), high * (1 + accuracy)];
}
