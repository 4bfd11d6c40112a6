import formbody from '@fastify/formbody';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Pool } from '../db/pool.js';
import { asUnavailable } from '../http/error-handler.js';
import { secretMatches } from '../security/secrets.js';
import { TOKEN_TTL_SECONDS, type TokenSigner } from './access-token.js';
import { findClientByClientId } from './clients-repository.js';
import type { Scope } from './scopes.js';

export interface TokenRoutesOptions {
  pool: Pool;
  signer: TokenSigner;
  pepper: Buffer;
}

type OAuthError = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'invalid_scope' | 'unsupported_grant_type';

/** An RFC 6749 §5.2 error response. */
class TokenError extends Error {
  constructor(readonly error: OAuthError, readonly description: string, readonly statusCode = 400) {
    super(description);
  }
}

const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ examples: [TOKEN_TTL_SECONDS] }),
  scope: Type.String({ description: 'Space-separated scopes granted' }),
});
const TokenErrorResponse = Type.Object({ error: Type.String(), error_description: Type.String() });
const TokenRequest = Type.Object({
  grant_type: Type.Literal('client_credentials'),
  client_id: Type.Optional(Type.String()),
  client_secret: Type.Optional(Type.String()),
  scope: Type.Optional(Type.String({ description: 'Space-separated subset of the client scopes; default: all' })),
});

/** `POST /token`: OAuth 2.0 client credentials (RFC 6749 §4.4), form-encoded or JSON, or HTTP Basic. */
export const tokenRoutes: FastifyPluginAsync<TokenRoutesOptions> = async (app, { pool, signer, pepper }) => {
  // Form bodies are accepted here only; the API itself speaks JSON.
  await app.register(formbody, { bodyLimit: 16 * 1024 });

  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    if (error instanceof TokenError) return sendError(reply, error);
    // Shed load and database outages: RFC 6749's temporarily_unavailable, with Retry-After.
    const unavailable = asUnavailable(error, request);
    if (unavailable) {
      return reply.code(503).header('Retry-After', String(unavailable.retryAfter)).header('Cache-Control', 'no-store')
        .send({ error: 'temporarily_unavailable', error_description: unavailable.message });
    }
    if ((error.statusCode ?? 500) < 500) {
      return sendError(reply, new TokenError('invalid_request', 'The request body could not be read: send a form-encoded or JSON body'));
    }
    request.log.error({ err: error }, 'token endpoint failure');
    return reply.code(500).send({ error: 'server_error', error_description: `Internal server error (request id ${request.id})` });
  });

  app.post('/token', {
    schema: {
      tags: ['auth'],
      summary: 'Get an access token (OAuth 2.0 client credentials)',
      consumes: ['application/x-www-form-urlencoded', 'application/json'],
      body: TokenRequest,
      response: { 200: TokenResponse, 400: TokenErrorResponse, 401: TokenErrorResponse },
    },
    // The body is checked by hand below so that every failure is an RFC 6749 error.
    validatorCompiler: () => () => true,
  }, async (request, reply) => {
    const body = readBody(request.body);
    if (body.grant_type === undefined) throw new TokenError('invalid_request', 'grant_type is required');
    if (body.grant_type !== 'client_credentials') {
      throw new TokenError('unsupported_grant_type', 'Only grant_type=client_credentials is supported');
    }
    const basic = readBasic(request.headers.authorization);
    if (basic && (body.client_id !== undefined || body.client_secret !== undefined)) {
      throw new TokenError('invalid_request', 'Send the client credentials either in the Authorization header or in the body, not both');
    }
    const credentials = basic ?? { id: body.client_id, secret: body.client_secret };
    if (!credentials.id || !credentials.secret) throw invalidClient();

    const client = CLIENT_ID.test(credentials.id) ? await findClientByClientId(credentials.id, pool) : undefined;
    if (!client || client.disabled_at || !secretMatches(pepper, credentials.secret, client.secret_hash)) throw invalidClient();

    const scopes = body.scope === undefined ? client.scopes : body.scope.split(' ').filter(Boolean);
    const outside = scopes.filter((s) => !(client.scopes as string[]).includes(s));
    if (outside.length > 0) throw new TokenError('invalid_scope', `Scope not granted to this client: ${outside.join(' ')}`);
    if (scopes.length === 0) throw new TokenError('invalid_scope', 'scope must name at least one scope');
    const granted = [...new Set(scopes)] as Scope[];

    const { token } = signer.issue({ clientRowId: client.id, clientId: client.client_id, companyId: client.company_id, scopes: granted });
    reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
    return { access_token: token, token_type: 'Bearer' as const, expires_in: TOKEN_TTL_SECONDS, scope: granted.join(' ') };
  });
};

// Client ids are printable ASCII; anything else is unknown without a query (PostgreSQL text
// cannot even hold a NUL byte).
const CLIENT_ID = /^[\x21-\x7e]{1,64}$/;

function invalidClient() {
  return new TokenError('invalid_client', 'Client authentication failed', 401);
}

function sendError(reply: FastifyReply, error: TokenError) {
  if (error.statusCode === 401) reply.header('WWW-Authenticate', 'Basic realm="relance"');
  return reply.code(error.statusCode).header('Cache-Control', 'no-store').send({ error: error.error, error_description: error.description });
}

const FIELDS = ['grant_type', 'client_id', 'client_secret', 'scope'] as const;
type TokenFields = Partial<Record<(typeof FIELDS)[number], string>>;

function readBody(body: unknown): TokenFields {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new TokenError('invalid_request', 'The body must be a form or a JSON object');
  const fields: TokenFields = {};
  for (const name of FIELDS) {
    const value = (body as Record<string, unknown>)[name];
    if (value === undefined) continue;
    // RFC 6749 §3.2: parameters must not be repeated.
    if (typeof value !== 'string') throw new TokenError('invalid_request', `${name} must be given once, as a string`);
    fields[name] = value;
  }
  return fields;
}

/** HTTP Basic client credentials; per RFC 6749 §2.3.1 each part is form-urlencoded first. */
function readBasic(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header ?? '');
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
