import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/**
 * The hosts, addresses and CIDR ranges outbound requests may reach although they are private,
 * loopback or reserved (OUTBOUND_ALLOW): for tests and for operators who fetch from their own
 * network on purpose. A host entry matches the URL's host name exactly (it trusts whatever that
 * name resolves to); an address or range matches the address a name resolved to, or a literal
 * address in the URL. An IPv4 entry does not match an IPv4-mapped IPv6 address.
 */
export class AllowList {
  static readonly EMPTY = new AllowList(new Set(), []);

  private constructor(
    private readonly hosts: ReadonlySet<string>,
    private readonly ranges: readonly Range[],
  ) {}

  /** Parses `127.0.0.1,::1,10.0.0.0/8,minio.internal`; lists every entry it cannot read. */
  static parse(text: string): { allow: AllowList; problems: string[] } {
    const hosts = new Set<string>();
    const ranges: Range[] = [];
    const problems: string[] = [];
    for (const entry of text.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
      const range = parseRange(entry);
      if (range) ranges.push(range);
      else if (isCanonicalHostName(entry.toLowerCase())) hosts.add(entry.toLowerCase());
      else problems.push(`"${entry}" is not a host name, an IP address or a CIDR range`);
    }
    return { allow: problems.length > 0 ? AllowList.EMPTY : new AllowList(hosts, ranges), problems };
  }

  get isEmpty(): boolean {
    return this.hosts.size === 0 && this.ranges.length === 0;
  }

  /** `hostname` as in the URL (lower case, IPv6 without brackets); `address` as resolved. */
  permits(hostname: string, address: string): boolean {
    if (this.hosts.has(hostname)) return true;
    if (!ipaddr.isValid(address)) return false;
    const parsed = ipaddr.parse(address);
    // ipaddr throws when asked to match addresses of two families.
    return this.ranges.some(([base, bits]) => base.kind() === parsed.kind() && parsed.match(base, bits));
  }
}

/** Whether `entry` is an IP address or a CIDR range in its usual notation (`10.0.0.0/8`, `::1`). */
export function isAddressOrRange(entry: string): boolean {
  return parseRange(entry) !== undefined;
}

/** An address (a range of one) or CIDR range in its usual notation, else undefined. */
function parseRange(entry: string): Range | undefined {
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return undefined;
  const max = family === 4 ? 32 : 128;
  const bitsText = slash === -1 ? String(max) : entry.slice(slash + 1);
  const bits = Number(bitsText);
  if (!Number.isInteger(bits) || String(bits) !== bitsText || bits < 0 || bits > max) return undefined;
  return [ipaddr.parse(address), bits];
}

/**
 * A host name as the URL parser writes it (lower case, ASCII, no port), so it can match one; an
 * IPv6 address in brackets would never match the unbracketed address it is compared with.
 */
function isCanonicalHostName(entry: string): boolean {
  if (entry.startsWith('[')) return false;
  try {
    // Compared as host names, so that a port, a path or credentials do not pass for part of one.
    return new URL(`http://${entry}/`).hostname === entry;
  } catch {
    return false;
  }
}
