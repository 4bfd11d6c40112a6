import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TokenVerifier } from '../auth/token-verifier.js';
import type { RateLimitSettings } from '../config.js';
import { bearerToken } from '../http/authenticate.js';
import { errors } from '../http/errors.js';
import { resetTime, retryAfter, setBudgetHeaders, type Bucket } from './budget.js';
import type { CounterStore } from './counter-store.js';

const READS = new Set(['GET', 'HEAD']);

export interface ApiLimitOptions {
  prefix: string;
  tokens: TokenVerifier;
  store: CounterStore;
  settings: RateLimitSettings;
  onRejected?: (bucket: Bucket) => void;
}

/**
 * Every request under the API prefix that carries a valid token is counted against its client's
 * budget, reads (GET, HEAD) and writes apart, whatever the route then answers (2xx, 400, 403,
 * 404, or an unknown route): its response carries the X-RateLimit-* headers. A request over
 * budget is a 429 here, in the first onRequest hooks after load shedding, before the route's own
 * hooks, before its body is read, and so before any work. A request without a valid token is not
 * counted (no client is known); the route answers it 401.
 */
export function limitApiRequests(app: FastifyInstance, { prefix, tokens, store, settings, onRejected }: ApiLimitOptions): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!isUnder(routedPath(request), prefix)) return;
    const token = bearerToken(request);
    // The same check as the route's authenticate hook, which will find it in memory: no second round trip.
    const claims = token === undefined ? undefined : await tokens.verify(token);
    if (!claims) return;
    const state = await tokens.states.get(claims.clientRowId);
    const bucket: Bucket = READS.has(request.method) ? 'read' : 'write';
    const limit = (bucket === 'read' ? state?.readLimit : state?.writeLimit) ?? (bucket === 'read' ? settings.reads : settings.writes);
    const hit = await store.hit(`api:${bucket}:${claims.clientId}`, limit, settings.windowSeconds);
    setBudgetHeaders(reply, limit, hit, settings.windowSeconds);
    if (hit.allowed) return;
    onRejected?.(bucket);
    throw errors.rateLimitExceeded({ retry_after: retryAfter(hit), limit, reset_time: resetTime(hit) });
  });
}

/**
 * The path as the router read it: the matched route's pattern, or for a request no route
 * matched, its percent-decoded path. Never the raw URL: `/%65xternal-api/v1/…` reaches the same
 * routes as `/external-api/v1/…` and must be counted as they are.
 */
function routedPath(request: FastifyRequest): string {
  const route = request.routeOptions.url;
  if (route !== undefined) return route;
  const path = request.url.split('?', 1)[0]!;
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function isUnder(url: string, prefix: string): boolean {
  if (!url.startsWith(prefix)) return false;
  const next = url[prefix.length];
  return next === undefined || next === '/' || next === '?';
}
