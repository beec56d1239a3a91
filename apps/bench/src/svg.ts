/**
 * A small SVG chart generator for docs/: latency CDFs and horizontal bar panels. Self-contained SVG 1.1
 * (no scripts, no external fonts or CSS, a white background) so the files render the same on GitHub,
 * in browsers and in rsvg-convert.
 */

export interface CdfSeries {
  readonly name: string;
  /** Latencies in ms, any order. */
  readonly samples: readonly number[];
  /** Drawn dashed (the charts dash the baselines and draw ours solid). */
  readonly dashed?: boolean;
}

/** Rough width of a label at 12 px Helvetica/Arial: enough to size a legend without measuring fonts. */
function textWidth(label: string, fontSize = 12): number {
  return label.length * fontSize * 0.56;
}

export interface BarPanel {
  readonly title: string;
  /** One value per row, in row order; NaN draws no bar and prints "n/a". */
  readonly values: readonly number[];
  /** Digits after the point in value labels. Default 1. */
  readonly digits?: number;
  /** A vertical reference line (e.g. a goal or a baseline), labelled. */
  readonly marker?: { readonly value: number; readonly label: string };
}

/** Distinct colours that stay apart for people with the common colour-vision deficiencies (Okabe–Ito, then Tol). */
const PALETTE = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#000000',
  '#882255',
  '#117733',
  '#999933',
  '#6699CC',
  '#AA4499',
];

function colourOf(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Ticks for a log axis: 1, 2, 5 × 10^k within [min, max]. */
export function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  if (!(min > 0) || !(max > min)) return ticks;
  for (let exponent = Math.floor(Math.log10(min)); exponent <= Math.ceil(Math.log10(max)); exponent++) {
    for (const mantissa of [1, 2, 5]) {
      const value = mantissa * 10 ** exponent;
      if (value >= min * (1 - 1e-9) && value <= max * (1 + 1e-9)) ticks.push(Number(value.toPrecision(6)));
    }
  }
  return ticks;
}

/** "Nines" of a cumulative fraction: 0.9 → 1, 0.99 → 2. Percentile axes use it so tails get room. */
export function nines(fraction: number): number {
  return fraction <= 0 ? 0 : -Math.log10(1 - fraction);
}

/** Ticks for a linear axis from 0 to at least `max`: 1, 2 or 5 × 10^k steps, about `count` of them. */
export function linearTicks(max: number, count = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let value = 0; value < max + step; value += step) {
    ticks.push(Number(value.toPrecision(6)));
    if (value >= max) break;
  }
  return ticks;
}

function formatTick(value: number): string {
  if (value >= 1000) return `${value / 1000} s`;
  return `${value}`;
}

function text(x: number, y: number, content: string, attributes = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attributes}>${escapeXml(content)}</text>`;
}

/**
 * The points of one CDF polyline, already in pixels, thinned so consecutive points are at least half a
 * pixel apart (a 100 000-sample series stays a few kilobytes).
 */
export function cdfPath(
  sorted: readonly number[],
  x: (ms: number) => number,
  y: (fraction: number) => number,
  maxNines: number,
): Array<[number, number]> {
  const points: Array<[number, number]> = [];
  const n = sorted.length;
  for (let i = 0; i < n; i++) {
    // The i-th smallest of n samples is the i/n quantile; stop where the axis ends.
    const fraction = i / n;
    if (nines(fraction) > maxNines + 1e-9) break;
    const point: [number, number] = [x(sorted[i]!), y(fraction)];
    const last = points[points.length - 1];
    if (last === undefined || Math.abs(point[0] - last[0]) >= 0.5 || Math.abs(point[1] - last[1]) >= 0.5 || i === n - 1) points.push(point);
  }
  return points;
}

/**
 * Latency CDF per series: latency on a log x axis, the cumulative share of calls on a "nines" y axis
 * (0 %, 90 %, 99 %, 99.9 %), so the tail that matters is as tall as the body.
 */
export function cdfChart(options: {
  title: string;
  subtitle?: string;
  series: readonly CdfSeries[];
  xLabel?: string;
  yLabel?: string;
  maxNines?: number;
}): string {
  const legendRowHeight = 18;
  const plot = { left: 70, top: 48, width: 560, height: 340 };
  const legendX = plot.left + plot.width + 24;
  const sortedSeries = options.series.map((s) => ({
    name: s.name,
    dashed: s.dashed === true,
    sorted: [...s.samples].filter(Number.isFinite).sort((a, b) => a - b),
  }));
  const legendLabels = sortedSeries.map((s) => `${s.name} (n=${s.sorted.length})`);
  const width = Math.ceil(legendX + 28 + Math.max(0, ...legendLabels.map((l) => textWidth(l))) + 16);
  const height = Math.max(plot.top + plot.height + 60, plot.top + options.series.length * legendRowHeight + 20);
  const largest = Math.max(0, ...sortedSeries.map((s) => s.sorted.length));
  const maxNines = options.maxNines ?? Math.min(3, Math.max(1, Math.floor(Math.log10(Math.max(10, largest)))));
  const all = sortedSeries.flatMap((s) => (s.sorted.length > 0 ? [s.sorted[0]!, s.sorted[s.sorted.length - 1]!] : []));
  const positive = all.filter((v) => v > 0);
  const xMin = positive.length > 0 ? Math.min(...positive) / 1.15 : 0.1;
  const xMax = positive.length > 0 ? Math.max(...positive) * 1.15 : 10;
  const logMin = Math.log10(xMin);
  const logSpan = Math.max(1e-9, Math.log10(xMax) - logMin);
  const x = (ms: number): number => plot.left + ((Math.log10(Math.max(ms, xMin)) - logMin) / logSpan) * plot.width;
  const y = (fraction: number): number => plot.top + plot.height - (Math.min(nines(fraction), maxNines) / maxNines) * plot.height;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    text(plot.left, 22, options.title, 'font-size="15" font-weight="bold" fill="#222"'),
  );
  if (options.subtitle) parts.push(text(plot.left, 38, options.subtitle, 'font-size="11" fill="#555"'));
  // Grid and axes.
  for (const tick of logTicks(xMin, xMax)) {
    const px = x(tick);
    parts.push(`<line x1="${px.toFixed(1)}" y1="${plot.top}" x2="${px.toFixed(1)}" y2="${plot.top + plot.height}" stroke="#e4e4e4"/>`);
    parts.push(text(px, plot.top + plot.height + 16, formatTick(tick), 'text-anchor="middle" fill="#444"'));
  }
  for (let k = 0; k <= maxNines; k++) {
    const fraction = 1 - 10 ** -k;
    const py = y(fraction);
    parts.push(`<line x1="${plot.left}" y1="${py.toFixed(1)}" x2="${plot.left + plot.width}" y2="${py.toFixed(1)}" stroke="#e4e4e4"/>`);
    parts.push(text(plot.left - 8, py + 4, `${Number((fraction * 100).toFixed(3))} %`, 'text-anchor="end" fill="#444"'));
  }
  for (const fraction of [0.5]) {
    const py = y(fraction);
    parts.push(
      `<line x1="${plot.left}" y1="${py.toFixed(1)}" x2="${plot.left + plot.width}" y2="${py.toFixed(1)}" stroke="#f0f0f0" stroke-dasharray="3,3"/>`,
    );
    parts.push(text(plot.left - 8, py + 4, '50 %', 'text-anchor="end" fill="#888"'));
  }
  parts.push(`<rect x="${plot.left}" y="${plot.top}" width="${plot.width}" height="${plot.height}" fill="none" stroke="#888"/>`);
  parts.push(
    text(
      plot.left + plot.width / 2,
      plot.top + plot.height + 36,
      options.xLabel ?? 'latency (ms, log scale)',
      'text-anchor="middle" fill="#222"',
    ),
  );
  parts.push(
    text(
      18,
      plot.top + plot.height / 2,
      options.yLabel ?? 'calls answered within (percentile)',
      `text-anchor="middle" fill="#222" transform="rotate(-90 18 ${plot.top + plot.height / 2})"`,
    ),
  );
  // Series, then the legend.
  sortedSeries.forEach((series, index) => {
    const points = cdfPath(series.sorted, x, y, maxNines);
    if (points.length === 0) return;
    const d = points.map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${px.toFixed(1)},${py.toFixed(1)}`).join('');
    const dash = series.dashed ? ' stroke-dasharray="6,3"' : '';
    parts.push(`<path d="${d}" fill="none" stroke="${colourOf(index)}" stroke-width="1.8" stroke-linejoin="round"${dash}/>`);
  });
  sortedSeries.forEach((series, index) => {
    const ly = plot.top + 6 + index * legendRowHeight;
    const dash = series.dashed ? ' stroke-dasharray="6,3"' : '';
    parts.push(`<line x1="${legendX}" y1="${ly}" x2="${legendX + 22}" y2="${ly}" stroke="${colourOf(index)}" stroke-width="3"${dash}/>`);
    parts.push(text(legendX + 28, ly + 4, legendLabels[index]!, 'fill="#222"'));
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/**
 * Horizontal bars, one row per contender, in side-by-side panels (e.g. p99 latency and requests per
 * call), each panel with its own linear scale from 0.
 */
export function barChart(options: { title: string; rows: readonly string[]; panels: readonly BarPanel[]; note?: string }): string {
  const labelWidth = Math.ceil(Math.max(120, ...options.rows.map((row) => textWidth(row))) + 24);
  const panelWidth = 260;
  const gap = 30;
  const rowHeight = 24;
  const top = 64;
  const width = labelWidth + options.panels.length * (panelWidth + gap) + 10;
  const height = top + options.rows.length * rowHeight + (options.note ? 52 : 34);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    text(10, 24, options.title, 'font-size="15" font-weight="bold" fill="#222"'),
  ];
  options.rows.forEach((row, index) => {
    parts.push(text(labelWidth - 10, top + index * rowHeight + rowHeight / 2 + 4, row, 'text-anchor="end" fill="#222"'));
  });
  options.panels.forEach((panel, p) => {
    const left = labelWidth + p * (panelWidth + gap);
    const finite = panel.values.filter(Number.isFinite);
    const ticks = linearTicks(Math.max(0, ...finite, panel.marker?.value ?? 0));
    const max = ticks[ticks.length - 1]!;
    const scale = (value: number): number => left + (value / max) * (panelWidth - 50);
    parts.push(text(left, top - 22, panel.title, 'font-weight="bold" fill="#222"'));
    for (const tick of ticks) {
      const px = scale(tick);
      parts.push(
        `<line x1="${px.toFixed(1)}" y1="${top - 6}" x2="${px.toFixed(1)}" y2="${top + options.rows.length * rowHeight}" stroke="#e4e4e4"/>`,
      );
      parts.push(text(px, top + options.rows.length * rowHeight + 14, String(tick), 'text-anchor="middle" fill="#666" font-size="10"'));
    }
    panel.values.forEach((value, index) => {
      const y = top + index * rowHeight + 4;
      if (Number.isFinite(value)) {
        const barWidth = Math.max(0.5, scale(value) - left);
        parts.push(`<rect x="${left}" y="${y}" width="${barWidth.toFixed(1)}" height="${rowHeight - 8}" fill="${colourOf(index)}"/>`);
        // A white halo keeps the value readable where it crosses a grid or marker line.
        parts.push(
          text(
            left + barWidth + 4,
            y + rowHeight / 2,
            value.toFixed(panel.digits ?? 1),
            'fill="#222" font-size="11" stroke="#fff" stroke-width="3" paint-order="stroke"',
          ),
        );
      } else {
        parts.push(text(left + 4, y + rowHeight / 2, 'n/a', 'fill="#888" font-size="11"'));
      }
    });
    if (panel.marker !== undefined) {
      const px = scale(panel.marker.value);
      parts.push(
        `<line x1="${px.toFixed(1)}" y1="${top - 8}" x2="${px.toFixed(1)}" y2="${top + options.rows.length * rowHeight}" stroke="#c00" stroke-dasharray="4,3"/>`,
      );
      parts.push(text(px + 3, top - 8, panel.marker.label, 'fill="#c00" font-size="10"'));
    }
  });
  if (options.note) parts.push(text(10, height - 12, options.note, 'fill="#555" font-size="11"'));
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
