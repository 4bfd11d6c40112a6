import formbody from '@fastify/formbody';
import { Type, type TSchema } from '@sinclair/typebox';
import type { AppContext } from '../app-context.js';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { named, publishedWith, withResponseHeaders } from '../http/openapi-schema.js';
import { TOKEN_TTL_SECONDS } from './access-token.js';
import { bumpTokenEpoch, clientState, revokeToken } from './clients-repository.js';
import { authenticateClient, oauthErrorHandler, readFields, TokenError } from './oauth.js';
import type { Scope } from './scopes.js';
import { liveClaims } from './token-verifier.js';

const TokenResponse = named('AccessToken', Type.Object({
  access_token: Type.String({ description: 'Send it as `Authorization: Bearer <access_token>`' }),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'Seconds the token is valid', examples: [TOKEN_TTL_SECONDS] }),
  scope: Type.String({ description: 'Space-separated scopes granted', examples: ['followups:read followups:write'] }),
}, { description: 'An access token (RFC 6749 §5.1)' }));
const TOKEN_ERRORS = [
  'invalid_request', 'invalid_client', 'invalid_grant', 'invalid_scope', 'unsupported_grant_type', 'unsupported_token_type',
  'temporarily_unavailable', 'server_error',
];
const TokenErrorResponse = named('TokenError', Type.Object({
  error: publishedWith(Type.String(), { enum: TOKEN_ERRORS }),
  error_description: Type.String(),
}, { description: 'An RFC 6749 §5.2 error' }));
const clientCredentials = {
  client_id: Type.Optional(Type.String()),
  client_secret: Type.Optional(Type.String({ description: 'Or send both with HTTP Basic' })),
};
const TokenRequest = Type.Object({
  grant_type: Type.Literal('client_credentials'),
  ...clientCredentials,
  scope: Type.Optional(Type.String({ description: 'Space-separated subset of the client scopes; default: all' })),
});
const TokenOnlyRequest = Type.Object({
  token: Type.String({ description: 'An access token' }),
  token_type_hint: Type.Optional(Type.String({ description: 'Ignored: every token is an access token' })),
  ...clientCredentials,
});
const IntrospectionResponse = Type.Object({
  active: Type.Boolean(),
  scope: Type.Optional(Type.String({ description: 'The scopes the token still carries' })),
  client_id: Type.Optional(Type.String()),
  token_type: Type.Optional(Type.Literal('Bearer')),
  exp: Type.Optional(Type.Integer()),
  iat: Type.Optional(Type.Integer()),
  sub: Type.Optional(Type.String()),
});

// The client authenticates with HTTP Basic, or with client_id and client_secret in the body.
const CLIENT_AUTHENTICATION: Record<string, string[]>[] = [{ clientBasic: [] }, {}];
const oauth = (operationId: string, summary: string, body: TSchema, ok: TSchema) => ({
  operationId,
  tags: ['auth'],
  summary,
  security: CLIENT_AUTHENTICATION,
  consumes: ['application/x-www-form-urlencoded', 'application/json'],
  body,
  response: {
    200: withResponseHeaders(ok, ['Cache-Control', 'Pragma']), 400: TokenErrorResponse, 401: TokenErrorResponse, 503: TokenErrorResponse,
  },
});
// Bodies are checked by hand so that every failure is an RFC 6749 error.
const checkedByHand = () => () => true;

/**
 * OAuth 2.0: `POST /token` (client credentials, RFC 6749 §4.4), `POST /token/revoke` (RFC 7009)
 * and `POST /token/introspect` (RFC 7662); form-encoded or JSON bodies, client credentials in
 * the body or with HTTP Basic.
 */
export const tokenRoutes: FastifyPluginAsync<AppContext> = async (app, { pool, sealer, clientStates: states, keys }) => {
  const pepper = keys.secrets;
  // Form bodies are accepted here only; the API itself speaks JSON.
  await app.register(formbody, { bodyLimit: 16 * 1024 });
  app.setErrorHandler(oauthErrorHandler);
  app.addHook('onSend', async (_request, reply) => {
    reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
  });

  app.post('/token', {
    schema: oauth('issueToken', 'Get an access token (OAuth 2.0 client credentials)', TokenRequest, TokenResponse),
    validatorCompiler: checkedByHand,
  }, async (request) => {
    const body = readFields(request.body, ['grant_type', 'client_id', 'client_secret', 'scope']);
    if (body.grant_type === undefined) throw new TokenError('invalid_request', 'grant_type is required');
    if (body.grant_type !== 'client_credentials') {
      throw new TokenError('unsupported_grant_type', 'Only grant_type=client_credentials is supported');
    }
    const client = await authenticateClient(request, body, pool, pepper);
    const scopes = body.scope === undefined ? client.scopes : body.scope.split(' ').filter(Boolean);
    const outside = scopes.filter((s) => !(client.scopes as string[]).includes(s));
    if (outside.length > 0) throw new TokenError('invalid_scope', `Scope not granted to this client: ${outside.join(' ')}`);
    if (scopes.length === 0) throw new TokenError('invalid_scope', 'scope must name at least one scope');
    const granted = [...new Set(scopes)] as Scope[];

    const { token } = sealer.issue({
      clientRowId: client.id, clientId: client.client_id, companyId: client.company_id, scopes: granted, epoch: client.token_epoch,
    });
    return { access_token: token, token_type: 'Bearer' as const, expires_in: TOKEN_TTL_SECONDS, scope: granted.join(' ') };
  });

  /** Revocation and introspection both take an authenticated client and the token it asks about. */
  const tokenRequest = async (request: FastifyRequest) => {
    const body = readFields(request.body, ['token', 'token_type_hint', 'client_id', 'client_secret']);
    const client = await authenticateClient(request, body, pool, pepper);
    if (!body.token) throw new TokenError('invalid_request', 'token is required');
    return { client, token: body.token };
  };

  app.post('/token/revoke', {
    schema: {
      ...oauth('revokeToken', 'Revoke an access token (RFC 7009)', TokenOnlyRequest, Type.Object({})),
      description: 'Answers 200 whether or not the token was valid, as RFC 7009 asks; a token of another client is left alone. ' +
        'Takes effect in every process within milliseconds.',
    },
    validatorCompiler: checkedByHand,
  }, async (request) => {
    const { client, token } = await tokenRequest(request);
    const claims = sealer.verify(token);
    if (claims && claims.clientRowId === client.id) {
      if (claims.tokenId !== undefined) await revokeToken(client.id, claims.tokenId, new Date(claims.exp * 1000), pool);
      // A token from before token ids can only be ended with all its client's tokens so far.
      else await bumpTokenEpoch(client.id, pool);
      states.forget(client.id);
    }
    return {};
  });

  app.post('/token/introspect', {
    schema: {
      ...oauth('introspectToken', 'Introspect an access token (RFC 7662)', TokenOnlyRequest, IntrospectionResponse),
      description: 'Tokens of the calling client\'s own company only: any other token is `{"active": false}`.',
    },
    validatorCompiler: checkedByHand,
  }, async (request) => {
    const { client, token } = await tokenRequest(request);
    const sealed = sealer.verify(token);
    if (!sealed || sealed.companyId !== client.company_id) return { active: false };
    // Read afresh, not from the cache: introspection is the authoritative answer.
    const state = await clientState(sealed.clientRowId, pool);
    const claims = state && liveClaims(sealed, state);
    if (!claims) return { active: false };
    return {
      active: true, scope: claims.scopes.join(' '), client_id: claims.clientId, token_type: 'Bearer' as const,
      exp: claims.exp, iat: claims.exp - TOKEN_TTL_SECONDS, sub: claims.clientId,
    };
  });
};
