import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import ipaddr from 'ipaddr.js';
import { presentedClientId, TokenError } from '../auth/oauth.js';
import type { RateLimitSettings } from '../config.js';
import { remaining, retryAfter, setBudgetHeaders, type Bucket } from './budget.js';
import type { CounterStore, Hit } from './counter-store.js';

/** Each of them checks a client secret: one budget of attempts for the three. */
const TOKEN_ROUTES = new Set(['/token', '/token/revoke', '/token/introspect']);

export interface TokenLimitOptions {
  store: CounterStore;
  settings: RateLimitSettings['token'];
  onRejected?: (bucket: Bucket) => void;
}

/**
 * The endpoints that check client secrets take a budget of attempts per window from each remote
 * address and for each client id, so that a secret cannot be guessed at line speed: counted on
 * the address as the request arrives (before its body is read), on the client id once the body
 * is parsed, and both before the secret is looked up. Every attempt counts, successful or not:
 * a limit that let a right secret through would tell a guesser when they found it. The price is
 * that someone who knows a client id can keep that client from getting new tokens while they
 * keep trying (its tokens last an hour, and the window is short). A client id is counted whether
 * or not it exists, so a 429 tells nothing about which ids do.
 */
export function limitTokenRequests(app: FastifyInstance, { store, settings, onRejected }: TokenLimitOptions): void {
  const isTokenRoute = (request: FastifyRequest) => request.method === 'POST' && TOKEN_ROUTES.has(request.routeOptions.url ?? '');

  app.addHook('onRequest', async (request, reply) => {
    if (!isTokenRoute(request)) return;
    // A socket already gone has no address: such requests share one budget.
    const hit = await store.hit(`token:address:${addressKey(request.ip ?? '')}`, settings.perAddress, settings.windowSeconds);
    setBudgetHeaders(reply, settings.perAddress, hit, settings.windowSeconds);
    if (!hit.allowed) refuse(reply, hit, 'from this address');
  });

  app.addHook('preHandler', async (request, reply) => {
    if (!isTokenRoute(request)) return;
    const clientId = presentedClientId(request);
    if (clientId === undefined) return;
    const hit = await store.hit(`token:client:${clientId}`, settings.perClient, settings.windowSeconds);
    // The headers show whichever budget runs out first.
    const addressLeft = Number(reply.getHeader('X-RateLimit-Remaining') ?? Infinity);
    if (!hit.allowed || remaining(settings.perClient, hit) < addressLeft) setBudgetHeaders(reply, settings.perClient, hit, settings.windowSeconds);
    if (!hit.allowed) refuse(reply, hit, 'for this client');
  });

  function refuse(reply: FastifyReply, hit: Hit, whose: string): never {
    onRejected?.('token');
    const seconds = retryAfter(hit);
    reply.header('Retry-After', String(seconds));
    // The token endpoints answer in RFC 6749's format; it has no code for this, and
    // temporarily_unavailable ("retry later") is the nearest.
    throw new TokenError('temporarily_unavailable', `Too many attempts ${whose}: retry in ${seconds} s`, 429);
  }
}

/**
 * What the address budget counts by: the address itself for IPv4 (an IPv4-mapped IPv6 address
 * is its IPv4 address), the /64 network for IPv6, since a single host is commonly given a whole
 * /64 and could otherwise take a fresh budget from each of its addresses.
 */
export function addressKey(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip.slice(0, 64);
  const address = ipaddr.process(ip);
  if (address.kind() === 'ipv4') return address.toString();
  return `${(address as ipaddr.IPv6).parts.slice(0, 4).map((part) => part.toString(16)).join(':')}::/64`;
}
