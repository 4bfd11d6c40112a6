import { STATUS_CODES } from 'node:http';
import type { FastifyDynamicSwaggerOptions, SwaggerTransformObject } from '@fastify/swagger';
import { SCOPE_DESCRIPTIONS, SCOPES } from '../auth/scopes.js';
import { tokenRequirement } from './authenticate.js';
import { ErrorResponseSchema, RateLimitedResponseSchema } from './errors.js';
import { componentName, responseHeadersOf, toOpenApi } from './openapi-schema.js';

/*
 * The options of @fastify/swagger that make `/openapi.json` say what the server does. Each route
 * declares its own schemas, operationId and the errors particular to it (404, 409, 422); the
 * rest is read from the route here: its security from its token hook, and the errors every route
 * of its kind can answer (a bad URL, a timeout, overload, a body too large...) with the headers
 * that come with them.
 */

type Vocabulary = 'api' | 'oauth';

interface Operation {
  vocabulary: Vocabulary;
  errors: number[];
  /** Header names by status, beyond X-Request-Id. */
  headers: Record<string, string[]>;
}

type Security = { [scheme: string]: string[] }[];

interface RouteSchema {
  operationId?: string;
  hide?: boolean;
  security?: Security;
  body?: unknown;
  querystring?: unknown;
  params?: unknown;
  headers?: unknown;
  response?: Record<string, unknown>;
  [key: string]: unknown;
}

const ERROR_SCHEMAS: Record<string, Vocabulary> = { Error: 'api', TokenError: 'oauth' };

const header = (description: string, schema: object) => ({ description, schema });
const HEADERS: Record<string, object> = {
  'X-Request-Id': header("The request's id: the client's own X-Request-Id when it sent a sane one, else a new UUID", { type: 'string' }),
  'WWW-Authenticate': header('The scheme to authenticate with; on a missing scope, `error="insufficient_scope"` and the scope', {
    type: 'string', examples: ['Bearer realm="relance"'],
  }),
  'WWW-Authenticate-Basic': header('Client credentials are sent with HTTP Basic', { type: 'string', enum: ['Basic realm="relance"'] }),
  'Retry-After': header('Seconds to wait before retrying', { type: 'integer', minimum: 1, examples: [1] }),
  'Idempotent-Replayed': header('Present when this is the stored response to an earlier request with the same Idempotency-Key', {
    type: 'string', enum: ['true'],
  }),
  'X-RateLimit-Limit': header('The budget of the current window this request was counted against: the API client\'s reads (GET, HEAD) or ' +
    'writes, or the token endpoints\' attempts. On every answer to a request with a valid bearer token', { type: 'integer', minimum: 1, examples: [1000] }),
  'X-RateLimit-Remaining': header('Requests left in the budget until the window ends', { type: 'integer', minimum: 0, examples: [999] }),
  'X-RateLimit-Reset': header('When the window ends, in unix seconds (windows are aligned: an hourly one ends on the hour)', {
    type: 'integer', examples: [1706180400],
  }),
  'X-RateLimit-Window': header('The length of the window, in seconds', { type: 'integer', minimum: 1, examples: [3600] }),
  'Cache-Control': header('Token responses are never cached', { type: 'string', enum: ['no-store'] }),
  Pragma: header('Token responses are never cached', { type: 'string', enum: ['no-cache'] }),
};
/** Response headers whose name differs from their component's. */
const HEADER_NAMES: Record<string, string> = { 'WWW-Authenticate-Basic': 'WWW-Authenticate' };

const RATE_LIMIT_HEADERS = ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'X-RateLimit-Window'];
/** The statuses answered after a request was counted against a budget (a 401, 408, 414 or 431 comes before). */
const COUNTED = new Set([400, 403, 404, 409, 413, 415, 422, 429, 500, 503]);

const api = (status: number, description: string, message: string, headers: string[] = []): ResponseSpec => ({
  description, headers: [...headers, ...(COUNTED.has(status) ? RATE_LIMIT_HEADERS : [])], schema: 'Error', example: { error: true, message, code: status },
});
const oauth = (description: string, error: string, errorDescription: string, headers: string[] = []): ResponseSpec => ({
  description, headers: [...headers, 'Cache-Control', 'Pragma', ...RATE_LIMIT_HEADERS], schema: 'TokenError', example: { error, error_description: errorDescription },
});

interface ResponseSpec {
  description: string;
  headers: string[];
  schema: 'Error' | 'TokenError' | 'TokenErrorOrError' | 'RateLimitedOrError';
  example: object;
}

/** The error responses, by component name; each route refers to the ones it can answer. */
const RESPONSES: Record<string, ResponseSpec> = {
  BadRequest: {
    ...api(400, 'Validation failed (`details` names every bad field, one message each), or the body is not valid JSON or UTF-8, ' +
      'holds a `__proto__` key or is nested deeper than 64 levels, or the URL or the HTTP request is malformed', 'Validation failed'),
    example: { error: true, message: 'Validation failed', code: 400, details: { debt_id: 'Debt ID is required' } },
  },
  Unauthorized: api(401, 'No bearer token, or a malformed, forged, expired or revoked one', 'Authentication credentials are missing or invalid',
    ['WWW-Authenticate']),
  Forbidden: api(403, 'The token lacks the scope the operation needs, or the object belongs to another company',
    'Required scope "followups:read" not found in token', ['WWW-Authenticate']),
  NotFound: api(404, 'No such object (an ID that does not decode is unknown too)', 'Followup not found'),
  RequestTimeout: api(408, 'The request did not arrive whole in time; the connection is closed', 'Request timed out'),
  Conflict: api(409, 'The change conflicts with another followup of the debt (its `call_id`)',
    'call_id is already used by another followup of this debt'),
  PayloadTooLarge: api(413, 'The body is over 1 MiB', 'Request body is too large (limit: 1 MiB)'),
  UriTooLong: api(414, 'A path parameter is over 200 characters', 'A path parameter of the URL is too long'),
  UnsupportedMediaType: api(415, 'The body is not JSON, or declares a charset other than UTF-8', 'Unsupported Content-Type: send application/json'),
  IdempotencyKeyReused: api(422, 'The Idempotency-Key was used with another request body in the last 24 h',
    'Idempotency-Key was already used with a different request'),
  TooManyRequests: {
    ...api(429, 'The API client has spent its budget for this window (reads and writes are counted apart; see the X-RateLimit-* ' +
      'headers), or has too many requests in progress at once (`Too many concurrent requests from this client`)',
    'Rate limit exceeded. Please try again later.', ['Retry-After']),
    schema: 'RateLimitedOrError',
    example: { error: true, message: 'Rate limit exceeded. Please try again later.', code: 429, details: { retry_after: 1712, limit: 1000, reset_time: '2024-01-25T11:00:00+00:00' } },
  },
  RequestHeadersTooLarge: api(431, 'The request headers are too large; the connection is closed', 'Request headers are too large'),
  InternalError: api(500, 'An unexpected failure; the message names only the request id', 'Internal server error (request id 5f0c6f1e-2d4b-4c8e-9a51-0b6f3c2d1e7a)'),
  ServiceUnavailable: api(503, 'Overload or a database that cannot answer in time: retry after `Retry-After` seconds. (While the process ' +
    'shuts down, a request on a kept-alive connection gets `{"error":"Service Unavailable","message":"Service Unavailable","statusCode":503}`.)',
  'The service is busy: retry shortly', ['Retry-After']),
  TokenBadRequest: {
    ...oauth('An RFC 6749 error (`invalid_request`, `invalid_grant`, `invalid_scope`, `unsupported_grant_type`); a malformed URL gets the API\'s error envelope',
      'invalid_request', 'grant_type is required'),
    schema: 'TokenErrorOrError',
  },
  TokenUnauthorized: oauth('`invalid_client`: the client credentials are missing, wrong, or the client is disabled', 'invalid_client',
    'Client authentication failed', ['WWW-Authenticate-Basic']),
  TokenInternalError: oauth('`server_error`: an unexpected failure', 'server_error', 'Internal server error (request id 5f0c6f1e-2d4b-4c8e-9a51-0b6f3c2d1e7a)'),
  TokenTooManyRequests: oauth('`temporarily_unavailable`: too many attempts in this window from this address or for this client id ' +
    '(POST /token, /token/revoke and /token/introspect share the budget)', 'temporarily_unavailable', 'Too many attempts for this client: retry in 42 s',
  ['Retry-After']),
  TokenServiceUnavailable: oauth('`temporarily_unavailable`: overload or a database that cannot answer in time', 'temporarily_unavailable',
    'The service is busy: retry shortly', ['Retry-After']),
};

const RESPONSE_BY_STATUS: Record<Vocabulary, Record<number, string>> = {
  api: {
    400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 408: 'RequestTimeout', 409: 'Conflict', 413: 'PayloadTooLarge',
    414: 'UriTooLong', 415: 'UnsupportedMediaType', 422: 'IdempotencyKeyReused', 429: 'TooManyRequests', 431: 'RequestHeadersTooLarge',
    500: 'InternalError', 503: 'ServiceUnavailable',
  },
  oauth: {
    400: 'TokenBadRequest', 401: 'TokenUnauthorized', 408: 'RequestTimeout', 429: 'TokenTooManyRequests', 431: 'RequestHeadersTooLarge',
    500: 'TokenInternalError', 503: 'TokenServiceUnavailable',
  },
};

const TAGS = [
  { name: 'followups', description: 'Calls, emails, SMS and every other contact made to recover a debt, with their outcome and history' },
  { name: 'debts', description: 'The debts followups belong to' },
  { name: 'tracking', description: 'Email opens and clicks: tracked links, the open pixel, provider events' },
  { name: 'payments', description: 'Payments received on debts, and the followups they are attributed to' },
  { name: 'webhooks', description: 'Signed event notifications: subscriptions, their deliveries, redelivery and tests' },
  { name: 'reference', description: 'Enumerated values' },
  { name: 'auth', description: 'OAuth 2.0 client credentials: access tokens, their revocation and introspection' },
  { name: 'operations', description: 'Probes for load balancers and orchestrators' },
];

const DESCRIPTION = `Debt-collection followups, wire-compatible with the GetBill External API v1 followups endpoints.

**Authentication**: OAuth 2.0 client credentials. \`POST /token\` with an API client's \`client_id\` and \`client_secret\` (HTTP Basic, form or JSON) returns a bearer token valid 3600 s, limited to the scopes asked for; each operation names the scope it needs. On this page, *Authorize* with the client's id and secret fetches a token.

**Conventions**
- Success: \`{"error": false, "message", "data"}\`; lists: \`{"error": false, "data": [...], "pagination"}\`.
- Errors: \`{"error": true, "message", "code", "details"?}\`; a validation error is a 400 \`Validation failed\` whose \`details\` maps every bad field to one message.
- Every response carries \`X-Request-Id\`.
- An unknown route is a 404; a known path with another method is a 405 whose \`Allow\` header lists the methods the path has.
- IDs are opaque 22-character strings; an ID of one type is never valid as another, and one that does not decode is a 404.
- Timestamps out are UTC to the second (\`2024-01-25T10:00:00+00:00\`); in, any ISO 8601 date-time (without a zone: UTC) or a date.`;

/**
 * @fastify/swagger-ui's options. Authorize starts with every scope ticked: the token endpoint
 * refuses an empty scope, and the demo client holds them all (untick what a client lacks).
 */
export const DOCS_OPTIONS = { routePrefix: '/docs', initOAuth: { scopes: [...SCOPES] } };

/** The @fastify/swagger options of the app; each app gets its own, as they keep what the routes told them. */
export function openApiOptions(): FastifyDynamicSwaggerOptions {
  const schemas: Record<string, unknown> = {};
  const sources = new Map<string, unknown>();
  const operations = new Map<string, Operation>();
  const publish = (schema: unknown) => (schema === undefined ? undefined : toOpenApi(schema, { schemas, sources }));
  // Every error response refers to it, whether or not a route declares one.
  publish(ErrorResponseSchema);
  publish(RateLimitedResponseSchema);

  return {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Relance API', version: '1.0.0', description: DESCRIPTION },
      // Relative: "Try it out" calls the server that serves this page.
      servers: [{ url: '/', description: 'This server' }],
      tags: TAGS,
      components: {
        securitySchemes: {
          oauth2: {
            type: 'oauth2',
            description: 'OAuth 2.0 client credentials: the API client\'s id and secret get a bearer token from `POST /token`, ' +
              'limited to the scopes asked for (at least one; each must be one of the client\'s)',
            flows: { clientCredentials: { tokenUrl: '/token', scopes: SCOPE_DESCRIPTIONS } },
          },
          bearer: { type: 'http', scheme: 'bearer', description: 'An access token from `POST /token`, sent as `Authorization: Bearer <token>`' },
          clientBasic: { type: 'http', scheme: 'basic', description: 'The API client\'s `client_id` and `client_secret` (or send them in the body)' },
        },
      },
    },
    transform: ({ schema, url, route }) => {
      const routeSchema = schema as RouteSchema | undefined;
      if (!routeSchema || routeSchema.hide) return { schema, url };
      const { operationId } = routeSchema;
      if (!operationId) throw new Error(`${String(route.method)} ${url}: a documented route needs an operationId`);
      const requirement = tokenRequirement(route.onRequest);
      const response: Record<string, unknown> = {};
      const operation: Operation = { vocabulary: 'api', errors: [], headers: {} };
      for (const [status, declared] of Object.entries(routeSchema.response ?? {})) {
        const shown = publish(declared) as Record<string, unknown>;
        const vocabulary = ERROR_SCHEMAS[componentName(declared) ?? ''];
        if (vocabulary) {
          operation.vocabulary = vocabulary;
          operation.errors.push(Number(status));
          continue;
        }
        // A named schema is shown as a $ref, which carries no description of its own.
        response[status] = shown.$ref ? { ...shown, description: (declared as { description?: string }).description ?? STATUS_CODES[status] } : shown;
        operation.headers[status] = responseHeadersOf(declared);
      }
      // Counted against a budget: the API's requests with a token, the token endpoints' attempts.
      if (requirement !== undefined || operation.vocabulary === 'oauth') {
        for (const status of Object.keys(response)) operation.headers[status] = [...(operation.headers[status] ?? []), ...RATE_LIMIT_HEADERS];
      }
      const readsBody = routeSchema.body !== undefined || [route.method].flat().includes('DELETE');
      operation.errors = [...new Set([...operation.errors, ...commonErrors(routeSchema, requirement, operation.vocabulary, readsBody)])];
      operations.set(operationId, operation);
      return {
        url,
        schema: {
          ...routeSchema,
          security: routeSchema.security ?? securityOf(requirement),
          body: publish(routeSchema.body),
          querystring: publish(routeSchema.querystring),
          params: publish(routeSchema.params),
          headers: publish(routeSchema.headers),
          response,
        },
      };
    },
    transformObject: (documentObject) => {
      const document = (documentObject as { openapiObject: Document }).openapiObject;
      for (const item of Object.values(document.paths)) {
        for (const operation of Object.values(item)) completeOperation(operation, operations.get(operation.operationId));
      }
      const referenced = JSON.stringify(document.paths);
      const used = (name: string, kind: string) => referenced.includes(`"#/components/${kind}/${name}"`);
      const responses = Object.fromEntries(Object.entries(RESPONSES).filter(([name]) => used(name, 'responses')).map(([name, spec]) => [name, toResponse(spec)]));
      const headersUsed = JSON.stringify(responses) + referenced;
      document.components = {
        ...document.components,
        // Replaces what @fastify/swagger made of the app's shared schemas: the routes refer to these.
        schemas,
        responses,
        headers: Object.fromEntries(Object.entries(HEADERS).filter(([name]) => headersUsed.includes(`"#/components/headers/${name}"`))),
      };
      document.tags = TAGS.filter((tag) => referenced.includes(`"${tag.name}"`));
      return document as ReturnType<SwaggerTransformObject>;
    },
  };
}

/** The errors any route of this kind can answer, beyond those it declares. */
function commonErrors(schema: RouteSchema, requirement: string | null | undefined, vocabulary: Vocabulary, readsBody: boolean): number[] {
  // Before routing (a malformed URL or request, a timeout, oversized headers), on any route.
  const statuses = [400, 408, 431, 500, 503];
  if (requirement !== undefined || vocabulary === 'oauth') statuses.push(429);
  if (requirement !== undefined) statuses.push(401);
  if (requirement) statuses.push(403);
  // Fastify's router refuses a path parameter past maxParamLength.
  if (schema.params) statuses.push(414);
  // Fastify reads a body sent with a DELETE too. The OAuth endpoints answer a body they cannot
  // read with invalid_request (a 400).
  if (readsBody && vocabulary === 'api') statuses.push(413, 415);
  return statuses;
}

function securityOf(requirement: string | null | undefined): Security {
  if (requirement === undefined) return [];
  const scopes = requirement === null ? [] : [requirement];
  // OpenAPI 3.1 lets a bearer scheme name roles too: the scope the token must carry.
  return [{ oauth2: scopes }, { bearer: scopes }];
}

interface OperationObject {
  operationId: string;
  parameters?: { in: string; schema?: { type?: unknown }; style?: string; explode?: boolean }[];
  responses: Record<string, { $ref?: string; headers?: Record<string, unknown> }>;
}
interface Document {
  paths: Record<string, Record<string, OperationObject>>;
  components?: Record<string, unknown>;
  tags?: unknown[];
}

const ref = (kind: string, name: string) => ({ $ref: `#/components/${kind}/${name}` });

function completeOperation(operation: OperationObject, facts: Operation | undefined): void {
  if (!facts) return;
  for (const [status, response] of Object.entries(operation.responses)) {
    response.headers = Object.fromEntries(['X-Request-Id', ...(facts.headers[status] ?? [])].map((name) => [HEADER_NAMES[name] ?? name, ref('headers', name)]));
  }
  for (const status of facts.errors) {
    // A route's own schema for a status (GET /ready's 503) stands.
    if (operation.responses[status]) continue;
    const name = RESPONSE_BY_STATUS[facts.vocabulary][status];
    if (name === undefined) throw new Error(`${operation.operationId}: no ${facts.vocabulary} error response for status ${status}`);
    operation.responses[status] = ref('responses', name);
  }
  operation.responses = Object.fromEntries(Object.entries(operation.responses).sort(([a], [b]) => a.localeCompare(b)));
  // A list parameter is sent comma-separated (`status=scheduled,no_answer`); a repeated one is refused.
  for (const parameter of operation.parameters ?? []) {
    if (parameter.in === 'query' && parameter.schema?.type === 'array') Object.assign(parameter, { style: 'form', explode: false });
  }
}

function toResponse(spec: ResponseSpec) {
  const schema = spec.schema === 'TokenErrorOrError'
    ? { anyOf: [ref('schemas', 'TokenError'), ref('schemas', 'Error')] }
    : spec.schema === 'RateLimitedOrError' ? { anyOf: [ref('schemas', 'RateLimited'), ref('schemas', 'Error')] } : ref('schemas', spec.schema);
  return {
    description: spec.description,
    headers: Object.fromEntries(['X-Request-Id', ...spec.headers].map((name) => [HEADER_NAMES[name] ?? name, ref('headers', name)])),
    content: { 'application/json': { schema, example: spec.example } },
  };
}
