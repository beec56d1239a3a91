import { isIntegerInRange } from './bytes.js';
import { invalidInput } from './errors.js';

/** One RAIDA server: its id (0–24 on the public network) and UDP address. */
export interface RaidaServer {
  readonly id: number;
  /** Hostname, IPv4 address, or IPv6 address without brackets. */
  readonly host: string;
  readonly port: number;
}

/** Number of servers in a RAIDA. */
export const RAIDA_COUNT = 25;
/** Agreeing servers needed for consensus (13 of 25). */
export const RAIDA_QUORUM = 13;
/** Servers listen on `RAIDA_BASE_PORT + id`. */
const RAIDA_BASE_PORT = 50000;

const PUBLIC_HOSTS = [
  '78.46.170.45',
  '47.229.9.94',
  '209.46.126.167',
  '116.203.157.233',
  '95.183.51.104',
  '31.163.201.90',
  '52.14.83.91',
  '161.97.169.229',
  '13.234.55.11',
  '124.187.106.233',
  '94.130.179.247',
  '67.181.90.11',
  '3.16.169.178',
  '113.30.247.109',
  '168.220.219.199',
  '185.37.61.73',
  '193.7.195.250',
  '5.161.63.179',
  '76.114.47.144',
  '190.105.235.113',
  '184.18.166.118',
  '125.236.210.184',
  '5.161.123.254',
  '130.255.77.156',
  '209.205.66.24',
] as const;

/** The public RAIDA list of early 2026. Lists drift: let users supply their own through {@link parseServerList}. */
export const PUBLIC_RAIDA_SERVERS: readonly RaidaServer[] = Object.freeze(
  PUBLIC_HOSTS.map((host, id) => Object.freeze({ id, host, port: RAIDA_BASE_PORT + id })),
);

/** `host:port`, with an IPv6 host in brackets. */
export function formatServerAddress(server: Pick<RaidaServer, 'host' | 'port'>): string {
  return server.host.includes(':') ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

function isIpv4(host: string): boolean {
  const parts = host.split('.');
  return parts.length === 4 && parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255);
}

function isIpv6(host: string): boolean {
  if (!/^[0-9a-f:.]+$/i.test(host) || !host.includes(':')) return false;
  try {
    // The WHATWG URL parser is a complete IPv6 validator available in browsers and Node alike.
    return new URL(`http://[${host}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

function isHostname(host: string): boolean {
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  if (!labels.every((label) => LABEL.test(label))) return false;
  // All-numeric dotted names are meant as IPv4 addresses; reject malformed ones instead of resolving them.
  return !/^[\d.]+$/.test(name) || isIpv4(name);
}

/** Why `host` is not usable, or `undefined` when it is. */
function hostProblem(host: string): string | undefined {
  if (host.length === 0) return 'the host is empty';
  if (host.includes(':')) return isIpv6(host) ? undefined : `"${host}" is not a valid IPv6 address`;
  return isHostname(host) ? undefined : `"${host}" is not a valid hostname or IPv4 address`;
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

export interface ParseServerListOptions {
  /** Require exactly this many servers (e.g. 25). Default: any number from 1. */
  readonly expectedCount?: number;
}

/**
 * Context of `RAIDA_INVALID_SERVER_LIST`: where the problem is (a text `line`, a JSON `entry`, or the `index`/`id` of a
 * server in the list) and the `problem` itself, the message without its location, for a caller that words the location
 * its own way (a command line's comma list counts entries, not lines).
 */
export type ServerListErrorContext = {
  readonly problem: string;
  readonly line?: number;
  readonly entry?: number;
  readonly index?: number;
  readonly id?: number;
  readonly count?: number;
  readonly expectedCount?: number;
};

type Place = Omit<ServerListErrorContext, 'problem'>;

/** Throws `RAIDA_INVALID_SERVER_LIST`: `where` (e.g. `Server list line 3`) prefixes the `problem` in the message. */
function listError(where: string | undefined, problem: string, place: Place = {}): never {
  const context: ServerListErrorContext = { ...place, problem };
  throw invalidInput('RAIDA_INVALID_SERVER_LIST', where === undefined ? problem : `${where}: ${problem}`, context);
}

function parseAddress(text: string, where: string, context: Place, id: number): RaidaServer {
  let host: string;
  let portText: string;
  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(text);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2] ?? '';
    if (!host.includes(':')) listError(where, `brackets are only for IPv6 addresses ("${text}")`, context);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) listError(where, `"${text}" is not host:port`, context);
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) listError(where, `write an IPv6 address in brackets, as [address]:port ("${text}")`, context);
  }
  const problem = hostProblem(host);
  if (problem !== undefined) listError(where, problem, context);
  const port = parsePort(portText);
  if (port === undefined) listError(where, `"${portText}" is not a port from 1 to 65535`, context);
  return { id, host, port };
}

function parseJsonEntry(entry: unknown, index: number): RaidaServer {
  const where = `Server list entry ${index}`;
  if (typeof entry === 'string') {
    return parseAddress(entry.trim(), where, { entry: index }, index);
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    listError(where, 'expected "host:port" or an object with host and port', { entry: index });
  }
  const record = entry as Record<string, unknown>;
  const { host, port } = record;
  if (typeof host !== 'string') listError(where, 'host must be a string', { entry: index });
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const problem = hostProblem(bare);
  if (problem !== undefined) listError(where, problem, { entry: index });
  if (!isIntegerInRange(port, 1, 65535)) listError(where, 'port must be an integer from 1 to 65535', { entry: index });
  let id = index;
  if (record.id !== undefined) {
    if (!isIntegerInRange(record.id, 0, RAIDA_COUNT - 1))
      listError(where, `id must be an integer from 0 to ${RAIDA_COUNT - 1}`, { entry: index });
    id = record.id;
  }
  return { id, host: bare, port };
}

/**
 * Checks what every list of RAIDA servers must be: ids 0–24 (a RAIDA has 25 servers), no id twice and no address
 * (`host:port`, host names compared case-insensitively) twice. Calls `fail` with the first problem.
 */
export function checkServerSet(
  servers: readonly RaidaServer[],
  fail: (message: string, context: { readonly index: number; readonly id?: number }) => never,
): void {
  const ids = new Set<number>();
  const addresses = new Set<string>();
  servers.forEach((server, index) => {
    if (!isIntegerInRange(server.id, 0, RAIDA_COUNT - 1))
      fail(`entry ${index}: id ${String(server.id)} is not a RAIDA id from 0 to ${RAIDA_COUNT - 1}`, { index });
    if (ids.has(server.id)) fail(`names id ${server.id} twice`, { index, id: server.id });
    ids.add(server.id);
    const address = formatServerAddress({ host: server.host.toLowerCase(), port: server.port });
    if (addresses.has(address)) fail(`names address ${address} twice`, { index, id: server.id });
    addresses.add(address);
  });
}

/**
 * Reads a user-supplied server list. Two forms:
 * - text, one `host:port` per line (IPv6 as `[address]:port`); blank lines and `#` comments are skipped;
 * - JSON, an array of `"host:port"` strings or of `{ host, port, id? }` objects.
 * Ids are positions (0, 1, …) unless a JSON object gives its own `id`; they must be RAIDA ids 0–24, so a list of 26
 * is an error, not a 26th RAIDA. Throws `RAIDA_INVALID_SERVER_LIST` (category config) naming the offending line or
 * entry, for an id outside 0–24, a duplicate id or address, more than 25 servers, and an empty list.
 */
export function parseServerList(text: string, options: ParseServerListOptions = {}): RaidaServer[] {
  if (typeof text !== 'string') listError(undefined, 'A server list must be text');
  const trimmed = text.trim();
  let servers: RaidaServer[];
  // JSON starts with `[` or `{`; a text list may too, when its first line is a bracketed IPv6 address.
  const looksLikeJson = (trimmed.startsWith('[') || trimmed.startsWith('{')) && !/^\[[^\]"{[]*\]:/.test(trimmed);
  if (looksLikeJson) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      listError(undefined, `Server list is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!Array.isArray(parsed)) listError(undefined, 'A JSON server list must be an array');
    servers = parsed.map((entry, index) => parseJsonEntry(entry, index));
  } else {
    servers = [];
    text.split(/\r?\n/).forEach((raw, index) => {
      const line = (raw.split('#', 1)[0] ?? '').trim();
      if (line.length > 0) servers.push(parseAddress(line, `Server list line ${index + 1}`, { line: index + 1 }, servers.length));
    });
  }
  if (servers.length === 0) listError(undefined, 'The server list is empty');
  if (servers.length > RAIDA_COUNT) {
    listError(undefined, `Server list has ${servers.length} servers; a RAIDA has ${RAIDA_COUNT} (ids 0 to ${RAIDA_COUNT - 1})`, {
      count: servers.length,
    });
  }
  checkServerSet(servers, (message, context) => listError(undefined, `Server list ${message}`, context));
  const { expectedCount } = options;
  if (expectedCount !== undefined && servers.length !== expectedCount) {
    listError(undefined, `Server list has ${servers.length} servers, expected ${expectedCount}`, { count: servers.length, expectedCount });
  }
  return servers;
}
