import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type TObject, type TSchema, type TString } from '@sinclair/typebox';
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

/**
 * What a route of the API says about itself; its tag, token check, path parameters and
 * OBJECT_ERRORS are filled in.
 */
export interface Operation extends Omit<FastifySchema, 'params'> {
  operationId: string;
  summary: string;
  description?: string;
  response: Record<number, TSchema>;
}

/**
 * What an operation is, as the document names and tells it: its `operationId` (what generated
 * clients call it), a one-line summary and, where a line is not enough, a description.
 */
export function operation<const I extends string>(operationId: I, summary: string, description?: string) {
  return { operationId, summary, ...(description !== undefined && { description }) };
}

/** The scope the route's token must carry, alone or with other route options (attachValidation, bodyLimit, a hook). */
export type Access = Scope | (Omit<RouteShorthandOptions, 'schema' | 'onRequest'> & { scope: Scope });

/** The names of a URL's parameters: `'id' | 'delivery_id'` for `/webhooks/:id/deliveries/:delivery_id`. */
type PathParams<U extends string> = U extends `${string}:${infer P}/${infer Rest}` ? P | PathParams<`/${Rest}`>
  : U extends `${string}:${infer P}` ? P : never;

/** The route's schema as Fastify sees it: the operation, with `params` built from its URL. */
type RouteSchema<U extends string, S extends Operation> = [PathParams<U>] extends [never] ? S
  : S & { params: TObject<{ [K in PathParams<U>]: TString }> };

type Handler<S extends FastifySchema> = RouteHandlerMethod<
  RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, RouteGenericInterface, ContextConfigDefault, S, TypeBoxTypeProvider
>;

type Declare<N extends string> = <const U extends string, const S extends Operation>(
  url: PathParams<U> extends N ? U : never, access: Access, operation: S, handler: Handler<RouteSchema<U, S>>,
) => void;

export interface ApiRoutes<N extends string> {
  get: Declare<N>;
  post: Declare<N>;
  put: Declare<N>;
  patch: Declare<N>;
  delete: Declare<N>;
}

/**
 * Declares the routes of one feature of the API under `tag`: each behind `authenticate(tokens,
 * scope)`, which also gives the document its security, and typed by its schemas as with `app.get`.
 * A URL's parameters (`:id`) are described once for the feature, in `pathParams`, and every route
 * naming one gets its schema, typed: a route cannot name a parameter the feature does not describe.
 */
export function apiRoutes<N extends string>(app: Api, tokens: TokenVerifier, tag: string, pathParams: Record<N, TString>): ApiRoutes<N> {
  const paramsOf = (url: string): TObject | undefined => {
    // `::` is Fastify's escaped colon, not a parameter.
    const names = [...url.matchAll(/(?<!:):(\w+)/g)].map((match) => match[1]!);
    if (names.length === 0) return undefined;
    const unknown = names.filter((name) => !Object.hasOwn(pathParams, name));
    if (unknown.length > 0) throw new Error(`${url}: no schema for the path parameter ${unknown.join(', ')}`);
    return Type.Object(Object.fromEntries(names.map((name) => [name, pathParams[name as N]])));
  };
  const declare = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'): Declare<N> => (url, access, operation, handler) => {
    const { scope, ...options } = typeof access === 'string' ? { scope: access } : access;
    const { operationId, ...described } = operation;
    const params = paramsOf(url);
    const response = params ? { ...operation.response, ...OBJECT_ERRORS } : operation.response;
    app.route({
      ...options,
      method,
      url,
      onRequest: authenticate(tokens, scope),
      schema: { operationId, tags: [tag], ...described, ...(params && { params }), response },
      handler: handler as RouteHandlerMethod,
    });
  };
  return { get: declare('GET'), post: declare('POST'), put: declare('PUT'), patch: declare('PATCH'), delete: declare('DELETE') };
}
