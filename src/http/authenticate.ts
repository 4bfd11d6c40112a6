import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { TokenClaims } from '../auth/access-token.js';
import type { Scope } from '../auth/scopes.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { errors } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    auth: TokenClaims;
  }
}

const BEARER = /^Bearer +([^\s]+) *$/i;

// The published document reads each route's security from its hook, so the scope it shows is
// the scope checked: null for "any valid token".
const REQUIREMENTS = new WeakMap<object, Scope | null>();

/**
 * onRequest hook: a valid bearer token (and `scope`, if given) or the request ends here,
 * before its body is even read. The token is checked against its seal and against its client's
 * state as this process knows it (TokenVerifier), normally with no database round trip.
 */
export function authenticate(tokens: TokenVerifier, scope?: Scope): onRequestHookHandler {
  const checkToken = async (request: FastifyRequest, reply: FastifyReply) => {
    const token = bearerToken(request);
    const claims = token === undefined ? undefined : await tokens.verify(token);
    if (!claims) {
      reply.header('WWW-Authenticate', 'Bearer realm="relance"');
      throw errors.unauthenticated();
    }
    if (scope && !claims.scopes.includes(scope)) {
      reply.header('WWW-Authenticate', `Bearer realm="relance", error="insufficient_scope", scope="${scope}"`);
      throw errors.missingScope(scope);
    }
    request.auth = claims;
  };
  REQUIREMENTS.set(checkToken, scope ?? null);
  return checkToken;
}

/** The bearer token the request carries in its Authorization header, unchecked. */
export function bearerToken(request: FastifyRequest): string | undefined {
  return BEARER.exec(request.headers.authorization ?? '')?.[1];
}

/** What the route's onRequest hooks ask of a bearer token, or undefined when they ask none. */
export function tokenRequirement(onRequest: unknown): Scope | null | undefined {
  for (const hook of [onRequest].flat()) {
    if (typeof hook === 'function' && REQUIREMENTS.has(hook)) return REQUIREMENTS.get(hook);
  }
  return undefined;
}
