import type { LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { AllowList } from './allow-list.js';
import { blockedAddress, networkError, OutboundError, serverLabel, type Where } from './outbound-error.js';

/** Every address a host name resolves to (tests inject one to make `evil.test` resolve to loopback). */
export type Lookup = (hostname: string) => Promise<readonly LookupAddress[]>;

export const systemLookup: Lookup = (hostname) => dnsLookup(hostname, { all: true });

/** Where one hop connects: the addresses it may use, and those of them only the allow-list lets through. */
export interface Destination {
  /** As the URL writes it, without the brackets of an IPv6 address. */
  hostname: string;
  addresses: LookupAddress[];
  allowed: string[];
}

/**
 * Resolves a hop's host and refuses it if any of its addresses is not public unicast (private,
 * loopback, link-local, multicast, unspecified, CGNAT, reserved, IPv4-mapped…, by ipaddr.js's
 * ranges, the same rule as request-filtering-agent's) and not allowed: one bad address is enough,
 * or a name that resolves to a public and a private address would reach the private one.
 */
export async function resolveDestination(url: URL, allow: AllowList, lookup: Lookup, where: Where): Promise<Destination> {
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const family = isIP(hostname);
  let addresses: LookupAddress[];
  try {
    addresses = family !== 0 ? [{ address: hostname, family }] : [...(await lookup(hostname))];
  } catch (error) {
    throw networkError(serverLabel(where), error);
  }
  if (addresses.length === 0) throw new OutboundError('network', `${serverLabel(where)} could not be resolved`);
  const allowed: string[] = [];
  for (const { address } of addresses) {
    if (allow.permits(hostname, address)) allowed.push(address);
    else if (!isPublicUnicast(address)) throw blockedAddress(where, family !== 0);
  }
  return { hostname, addresses, allowed };
}

function isPublicUnicast(address: string): boolean {
  // request-filtering-agent lets through anything net.isIP does not call an address.
  return isIP(address) !== 0 && ipaddr.parse(address).range() === 'unicast';
}

/**
 * The lookup a hop's socket uses: the addresses already checked, so a second DNS answer (a
 * rebinding) never reaches the socket; the agent still checks each one it is given.
 */
export function pinnedLookup(addresses: readonly LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
    const matching = family ? addresses.filter((a) => a.family === family) : [...addresses];
    const first = matching[0];
    if (!first) {
      callback(Object.assign(new Error('no address of the family asked for'), { code: 'ENOTFOUND' }), '', 0);
    } else if (options.all) {
      callback(null, matching);
    } else {
      callback(null, first.address, first.family);
    }
  };
}
