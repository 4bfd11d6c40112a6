import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Pool } from '../db/pool.js';
import { asUnavailable } from '../http/error-handler.js';
import { ApiError } from '../http/errors.js';
import { secretMatches } from '../security/secrets.js';
import { findClientByClientId, type ClientRow } from './clients-repository.js';

/*
 * What the three OAuth endpoints (token, revoke, introspect) share: RFC 6749 errors, reading
 * their form or JSON bodies, and authenticating the calling client.
 */

export type OAuthError =
  | 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'invalid_scope' | 'unsupported_grant_type' | 'unsupported_token_type'
  | 'temporarily_unavailable';

/** An RFC 6749 §5.2 error response. */
export class TokenError extends Error {
  constructor(readonly error: OAuthError, readonly description: string, readonly statusCode = 400) {
    super(description);
  }
}

export function invalidClient() {
  return new TokenError('invalid_client', 'Client authentication failed', 401);
}

/** Every failure of these endpoints in RFC 6749's format, never the API's envelope. */
export function oauthErrorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof TokenError) return sendError(reply, error);
  // Shed load and database outages: RFC 6749's temporarily_unavailable, with Retry-After.
  const unavailable = asUnavailable(error, request);
  if (unavailable) {
    return reply.code(503).header('Retry-After', String(unavailable.retryAfter)).header('Cache-Control', 'no-store')
      .send({ error: 'temporarily_unavailable', error_description: unavailable.message });
  }
  if (((error as FastifyError).statusCode ?? 500) < 500) {
    // The JSON parser's own refusals (too deep, a prototype key, bad UTF-8) say what is wrong.
    const description = error instanceof ApiError ? error.message : 'The request body could not be read: send a form-encoded or JSON body';
    return sendError(reply, new TokenError('invalid_request', description));
  }
  request.log.error({ err: error }, 'token endpoint failure');
  return reply.code(500).send({ error: 'server_error', error_description: `Internal server error (request id ${request.id})` });
}

function sendError(reply: FastifyReply, error: TokenError) {
  if (error.statusCode === 401) reply.header('WWW-Authenticate', 'Basic realm="relance"');
  return reply.code(error.statusCode).header('Cache-Control', 'no-store').send({ error: error.error, error_description: error.description });
}

/** The named string fields of a form or JSON body; a repeated or non-string one is refused. */
export function readFields<F extends string>(body: unknown, names: readonly F[]): Partial<Record<F, string>> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new TokenError('invalid_request', 'The body must be a form or a JSON object');
  const fields: Partial<Record<F, string>> = {};
  for (const name of names) {
    const value = (body as Record<string, unknown>)[name];
    if (value === undefined) continue;
    // RFC 6749 §3.2: parameters must not be repeated.
    if (typeof value !== 'string') throw new TokenError('invalid_request', `${name} must be given once, as a string`);
    fields[name] = value;
  }
  return fields;
}

// Client ids are printable ASCII; anything else is unknown without a query (PostgreSQL text
// cannot even hold a NUL byte).
const CLIENT_ID = /^[\x21-\x7e]{1,64}$/;
const BASIC = /^Basic +([A-Za-z0-9+/=]+) *$/i;

/**
 * The enabled client whose credentials the request carries, in the Authorization header (HTTP
 * Basic) or in the body, never both (RFC 6749 §2.3.1); otherwise invalid_client.
 */
export async function authenticateClient(
  request: FastifyRequest,
  body: { client_id?: string; client_secret?: string },
  pool: Pool,
  pepper: Buffer,
): Promise<ClientRow> {
  const basic = readBasic(request.headers.authorization);
  if (basic && (body.client_id !== undefined || body.client_secret !== undefined)) {
    throw new TokenError('invalid_request', 'Send the client credentials either in the Authorization header or in the body, not both');
  }
  const credentials = basic ?? { id: body.client_id, secret: body.client_secret };
  if (!credentials.id || !credentials.secret) throw invalidClient();
  const client = CLIENT_ID.test(credentials.id) ? await findClientByClientId(credentials.id, pool) : undefined;
  if (!client || client.disabled_at || !secretMatches(pepper, credentials.secret, client.secret_hash)) throw invalidClient();
  return client;
}

/**
 * The client id a request presents, in the Authorization header or the body, when it is one
 * `authenticateClient` would look up; undefined otherwise. Nothing is checked against the
 * database: this is what the token endpoints' rate limit counts attempts by.
 */
export function presentedClientId(request: FastifyRequest): string | undefined {
  let id: string | undefined;
  try {
    id = readBasic(request.headers.authorization)?.id;
  } catch {
    return undefined;
  }
  const body = request.body as { client_id?: unknown } | null | undefined;
  if (id === undefined && typeof body === 'object' && body !== null && typeof body.client_id === 'string') id = body.client_id;
  return id !== undefined && CLIENT_ID.test(id) ? id : undefined;
}

/** HTTP Basic client credentials; per RFC 6749 §2.3.1 each part is form-urlencoded first. */
function readBasic(header: string | undefined): { id: string; secret: string } | undefined {
  const match = BASIC.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw invalidClient();
  try {
    const decode = (part: string) => decodeURIComponent(part.replace(/\+/g, ' '));
    return { id: decode(decoded.slice(0, colon)), secret: decode(decoded.slice(colon + 1)) };
  } catch {
    throw invalidClient();
  }
}
