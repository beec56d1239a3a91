import { SocketAddress, isIP } from 'node:net';

/** An IP address in the exact text form Node reports as a datagram's source (`rinfo.address`). */
export interface IpAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/**
 * Replies are matched by comparing `rinfo.address` with the address a request went to, so an IPv6
 * literal must be written the way the OS prints it (`0:0::1` → `::1`). A zone (`%eth0`) is kept as given.
 */
function canonicalIPv6(address: string): string {
  const zoneAt = address.indexOf('%');
  const bare = zoneAt === -1 ? address : address.slice(0, zoneAt);
  const canonical = new SocketAddress({ address: bare, family: 'ipv6' }).address;
  return zoneAt === -1 ? canonical : canonical + address.slice(zoneAt);
}

/** The canonical address when `text` is an IP literal, otherwise `undefined` (a host name). */
export function parseIpLiteral(text: string): IpAddress | undefined {
  const family = isIP(text);
  if (family === 4) return { address: text, family: 4 };
  if (family === 6) return { address: canonicalIPv6(text), family: 6 };
  return undefined;
}

const CACHE_LIMIT = 1024;

/**
 * Remembers which hosts are IP literals (and their canonical form): callers send to the same few
 * targets over and over, and `isIP` is a regular expression per call. Bounded, per client.
 */
export function createLiteralCache(): (host: string) => IpAddress | null {
  const cache = new Map<string, IpAddress | null>();
  return (host) => {
    let hit = cache.get(host);
    if (hit !== undefined) return hit;
    hit = parseIpLiteral(host) ?? null;
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(host, hit);
    return hit;
  };
}
