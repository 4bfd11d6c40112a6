import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { TSchema } from '@sinclair/typebox';
import type {
  ContextConfigDefault, FastifyBaseLogger, FastifyInstance, FastifySchema, RawReplyDefaultExpression, RawRequestDefaultExpression,
  RawServerDefault, RouteGenericInterface, RouteHandlerMethod, RouteShorthandOptions,
} from 'fastify';
import type { Scope } from '../auth/scopes.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { authenticate } from './authenticate.js';
import { ErrorResponseSchema } from './errors.js';

type Api = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

/**
 * The errors of a route that names an object: another company's (403) or none (404). Every route
 * with path parameters answers them; the document adds those every route of its kind can answer
 * (http/openapi.ts).
 */
export const OBJECT_ERRORS = { 403: ErrorResponseSchema, 404: ErrorResponseSchema };

/** What a route of the API says about itself; its tag, token check and OBJECT_ERRORS are filled in. */
export interface Operation extends FastifySchema {
  operationId: string;
  summary: string;
  description?: string;
  response: Record<number, TSchema>;
}

/** The scope the route's token must carry, alone or with other route options (attachValidation, bodyLimit, a hook). */
export type Access = Scope | (Omit<RouteShorthandOptions, 'schema' | 'onRequest'> & { scope: Scope });

type Handler<S extends Operation> = RouteHandlerMethod<
  RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, RouteGenericInterface, ContextConfigDefault, S, TypeBoxTypeProvider
>;

type Declare = <const S extends Operation>(url: string, access: Access, operation: S, handler: Handler<S>) => void;

export interface ApiRoutes {
  get: Declare;
  post: Declare;
  put: Declare;
  patch: Declare;
  delete: Declare;
}

/**
 * Declares the routes of one feature of the API under `tag`: each behind `authenticate(tokens,
 * scope)`, which also gives the document its security, and typed by its schemas as with `app.get`.
 */
export function apiRoutes(app: Api, tokens: TokenVerifier, tag: string): ApiRoutes {
  const declare = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'): Declare => (url, access, operation, handler) => {
    const { scope, ...options } = typeof access === 'string' ? { scope: access } : access;
    const { operationId, ...described } = operation;
    const response = operation.params ? { ...operation.response, ...OBJECT_ERRORS } : operation.response;
    app.route({
      ...options,
      method,
      url,
      onRequest: authenticate(tokens, scope),
      schema: { operationId, tags: [tag], ...described, response },
      handler: handler as RouteHandlerMethod,
    });
  };
  return { get: declare('GET'), post: declare('POST'), put: declare('PUT'), patch: declare('PATCH'), delete: declare('DELETE') };
}
