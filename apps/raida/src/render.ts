import Table from 'cli-table3';
import picocolors from 'picocolors';
import type { RaidaCoinResult, RaidaResult, RaidaServerResult, RaidaServerStatus } from '@x/raida-client';
import { RAIDA_COUNT } from '@x/raida-protocol';

export interface RenderOptions {
  /** ANSI colours. Default false. */
  readonly color?: boolean;
}

type Colors = ReturnType<typeof picocolors.createColors>;

const BAR_WIDTH = 12;

function isCoinResult(result: RaidaResult): result is RaidaCoinResult {
  return 'coins' in result;
}

function paintStatus(c: Colors, status: RaidaServerStatus): string {
  switch (status) {
    case 'ready':
    case 'pass':
      return c.green(status);
    case 'fail':
    case 'server-error':
    case 'protocol-error':
    case 'network-error':
      return c.red(status);
    case 'mixed':
    case 'timeout':
      return c.yellow(status);
    case 'skipped':
      return c.dim(status);
  }
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

function bar(latencyMs: number, maxMs: number): string {
  const filled = maxMs <= 0 ? 0 : Math.max(1, Math.round((latencyMs / maxMs) * BAR_WIDTH));
  return '█'.repeat(filled) + '·'.repeat(BAR_WIDTH - filled);
}

function detailOf(server: RaidaServerResult): string {
  const attempts = server.attempts > 1 ? ` (${server.attempts} attempts)` : '';
  switch (server.status) {
    case 'ready':
      return (server.version ?? '') + attempts;
    case 'pass':
    case 'fail':
    case 'mixed':
      return `${server.statusCode} ${server.statusName}${attempts}`;
    case 'server-error':
      return `${server.statusCode} ${server.statusName}: ${server.statusDescription}`;
    case 'timeout':
      return `no reply${attempts}`;
    case 'protocol-error':
      return server.errorCode ?? 'invalid reply';
    case 'network-error':
      return server.message ?? server.errorCode ?? 'network error';
    case 'skipped':
      return 'not awaited (early finish)';
  }
}

function newTable(head: string[], c: Colors, colAligns: Array<'left' | 'right'>): Table.Table {
  return new Table({
    head: head.map((h) => c.bold(h)),
    colAligns,
    // No rule between rows: 25 rows stay 25 lines.
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    style: { head: [], border: [], 'padding-left': 1, 'padding-right': 1 },
  });
}

/** One row per server: id, address, status, latency with a bar scaled to the slowest, and a detail. */
function renderServerTable(result: RaidaResult, options: RenderOptions = {}): string {
  const c = picocolors.createColors(options.color ?? false);
  const maxMs = Math.max(0, ...result.latencies);
  const table = newTable(['id', 'address', 'status', 'latency', 'detail'], c, ['right', 'left', 'left', 'left', 'left']);
  for (const server of result.servers) {
    const replied = server.status !== 'timeout' && server.status !== 'skipped';
    table.push([
      String(server.id),
      server.address,
      paintStatus(c, server.status),
      `${formatMs(server.latencyMs).padStart(9)} ${replied ? c.cyan(bar(server.latencyMs, maxMs)) : c.dim(bar(server.latencyMs, maxMs))}`,
      detailOf(server),
    ]);
  }
  return table.toString();
}

/** One row per coin: serial number, denomination, verdict, votes and the servers that failed it. */
function renderCoinTable(result: RaidaCoinResult, options: RenderOptions = {}): string {
  const c = picocolors.createColors(options.color ?? false);
  const table = newTable(['coin', 'serial', 'den', 'verdict', 'pass', 'fail', 'unknown', 'failed on (heal these)'], c, [
    'right',
    'right',
    'right',
    'left',
    'right',
    'right',
    'right',
    'left',
  ]);
  for (const coin of result.coins) {
    const paint = coin.verdict === 'authentic' ? c.green : coin.verdict === 'counterfeit' ? c.red : c.yellow;
    table.push([
      String(coin.index),
      String(coin.serialNumber),
      String(coin.denomination),
      paint(coin.verdict),
      String(coin.pass),
      String(coin.fail),
      String(coin.unknown),
      coin.verdict === 'fracked' ? coin.failedOn.join(', ') : '',
    ]);
  }
  return table.toString();
}

/** The summary lines: replies, consensus, fastest and slowest, and the other statuses. */
function renderSummary(result: RaidaResult, options: RenderOptions = {}): string {
  const c = picocolors.createColors(options.color ?? false);
  const { totals } = result;
  const total = result.servers.length;
  const lines: string[] = [];
  const label = (text: string): string => c.dim(text.padEnd(10));
  if (result.command === 'echo' || result.command === 'version') {
    lines.push(`${label('ready')}${totals.ready} of ${total}`);
  } else {
    lines.push(`${label('replied')}${totals.replied} of ${total} (pass ${totals.pass}, fail ${totals.fail}, mixed ${totals.mixed})`);
  }
  const consensus = totals.consensus ? c.green('yes') : c.red('no');
  // The bar is 13 of the 25 RAIDA servers whatever subset is configured.
  const rule = isCoinResult(result)
    ? `every coin decided by ${totals.quorum} of ${RAIDA_COUNT}`
    : `${totals.quorum} of ${RAIDA_COUNT} ready needed`;
  const subset =
    total < RAIDA_COUNT
      ? `; only ${total} of the ${RAIDA_COUNT} servers configured${total < totals.quorum ? ', too few ever to reach it' : ''}`
      : '';
  lines.push(`${label('consensus')}${consensus} (${rule}${subset})`);
  const where = (ref: NonNullable<RaidaResult['fastest']>): string => `RAIDA ${ref.id} (${ref.address}) ${formatMs(ref.latencyMs)}`;
  if (result.fastest !== undefined) lines.push(`${label('fastest')}${where(result.fastest)}`);
  if (result.slowest !== undefined) lines.push(`${label('slowest')}${where(result.slowest)}`);
  const others = (['timeout', 'network-error', 'protocol-error', 'server-error', 'skipped'] as const)
    .filter((status) => totals[status] > 0)
    .map((status) => `${totals[status]} ${status}`);
  if (others.length > 0) lines.push(`${label('other')}${others.join(', ')}`);
  if (isCoinResult(result)) {
    const counts = (['authentic', 'fracked', 'counterfeit', 'limbo'] as const)
      .map((verdict) => [verdict, result.coins.filter((coin) => coin.verdict === verdict).length] as const)
      .filter(([, n]) => n > 0)
      .map(([verdict, n]) => `${n} ${verdict}`);
    lines.push(`${label('coins')}${counts.join(', ')}`);
  }
  lines.push(`${label('took')}${formatMs(result.elapsedMs)}`);
  return lines.join('\n');
}

/** Everything the human output shows for one call. */
export function renderResult(result: RaidaResult, options: RenderOptions = {}): string {
  const parts = [renderServerTable(result, options)];
  if (isCoinResult(result)) parts.push(renderCoinTable(result, options));
  parts.push(renderSummary(result, options));
  return `${parts.join('\n')}\n`;
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

/** The `--json` document: the result without the raw error objects, latencies rounded to µs. */
export function toJsonReport(result: RaidaResult): Record<string, unknown> {
  const servers = result.servers.map((server) => {
    const { error: _error, ...rest } = server;
    return { ...rest, latencyMs: round(server.latencyMs) };
  });
  return {
    command: result.command,
    statuses: result.statuses,
    latencies: result.latencies.map(round),
    totals: result.totals,
    fastest: result.fastest === undefined ? null : { ...result.fastest, latencyMs: round(result.fastest.latencyMs) },
    slowest: result.slowest === undefined ? null : { ...result.slowest, latencyMs: round(result.slowest.latencyMs) },
    elapsedMs: round(result.elapsedMs),
    servers,
    ...(isCoinResult(result) ? { coins: result.coins } : {}),
  };
}
