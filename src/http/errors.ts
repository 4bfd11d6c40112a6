import { Type } from '@sinclair/typebox';
import type { Lookup } from '../db/lookup.js';
import type { Unavailable } from '../db/unavailable.js';
import { named } from './openapi-schema.js';

export type ErrorDetails = Record<string, string>;

/** An error the API answers with on purpose: status, user-facing message, optional details. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly details?: ErrorDetails,
    /** Seconds, sent as `Retry-After`. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The spent budget of a 429 (SPEC §10): numbers and a timestamp, not messages. */
export interface BudgetDetails {
  retry_after: number;
  limit: number;
  reset_time: string;
}

/** Over the client's rate-limit budget: `details` as SPEC §10 gives it, `Retry-After` the rest of the window. */
export class RateLimitExceeded extends ApiError {
  constructor(readonly budget: BudgetDetails) {
    super(429, 'Rate limit exceeded. Please try again later.', undefined, budget.retry_after);
  }
}

/** The one catalogue of API errors; messages are part of the contract. */
export const errors = {
  validation: (details: ErrorDetails) => new ApiError(400, 'Validation failed', details),
  invalidJson: () => new ApiError(400, 'Invalid JSON body'),
  invalidUtf8: () => new ApiError(400, 'Request body must be valid UTF-8'),
  unsupportedCharset: () => new ApiError(415, 'Unsupported charset: send JSON in UTF-8'),
  forbiddenJsonKey: () =>
    new ApiError(400, 'JSON body must not contain a "__proto__" key, nor a "constructor" object with a "prototype" key'),
  tooDeeplyNested: (limit: number) => new ApiError(400, `JSON body is nested too deeply (limit: ${limit} levels of arrays and objects)`),
  unauthenticated: () => new ApiError(401, 'Authentication credentials are missing or invalid'),
  missingScope: (scope: string) => new ApiError(403, `Required scope "${scope}" not found in token`),
  /** `resource` as the API names it, in lower case: "debt", "followup", "payment". */
  accessDenied: (resource: string) => new ApiError(403, `Access denied to this ${resource}`),
  notFound: (resource: string) => new ApiError(404, `${resource[0]!.toUpperCase()}${resource.slice(1)} not found`),
  methodNotAllowed: (method: string, allowed: readonly string[]) =>
    new ApiError(405, `Method ${method.slice(0, 20)} is not allowed here; allowed: ${allowed.join(', ')}`),
  routeNotFound: (method: string, path: string) => new ApiError(404, `Route ${method} ${path} not found`),
  malformedUrl: () => new ApiError(400, 'Malformed URL: invalid percent-encoding'),
  pathParameterTooLong: () => new ApiError(414, 'A path parameter of the URL is too long'),
  conflict: (message: string) => new ApiError(409, message),
  idempotencyKeyReused: () => new ApiError(422, 'Idempotency-Key was already used with a different request'),
  /** `limit` is the route's own body limit (uploads allow more than JSON bodies). */
  payloadTooLarge: (limit: number) => new ApiError(413, `Request body is too large (limit: ${formatBytes(limit)})`),
  unsupportedMediaType: () => new ApiError(415, 'Unsupported Content-Type: send application/json'),
  /** An upload of a type the route does not take; `accepted` as in `audio/*`. */
  unsupportedUpload: (accepted: string) => new ApiError(415, `Unsupported Content-Type: send the file as ${accepted}`),
  emptyUpload: () => new ApiError(400, 'The request body must be the file, and it is empty'),
  uploadInterrupted: () => new ApiError(400, 'The upload was interrupted before the whole file arrived'),
  /** Overload and database outages: the same request may succeed a little later. */
  serviceUnavailable: (reason: Unavailable) => new ApiError(503, UNAVAILABLE[reason].message, undefined, UNAVAILABLE[reason].retryAfter),
  rateLimitExceeded: (budget: BudgetDetails) => new RateLimitExceeded(budget),
  tooManyConcurrentRequests: (limit: number) =>
    new ApiError(429, `Too many concurrent requests from this client (limit: ${limit}): retry shortly`, undefined, 1),
  requestTimeout: () => new ApiError(408, 'Request timed out'),
  mediaKeyMalformed: () => new ApiError(400, 'Malformed media URL: the path must be /media/<kind>/<id> exactly as it was given out'),
  mediaLinkUnsigned: () => new ApiError(403, 'The media URL is not signed: it needs its expires and signature parameters'),
  mediaLinkInvalid: () => new ApiError(403, 'The media URL signature does not match: use the URL exactly as it was given out'),
  mediaLinkExpired: () => new ApiError(403, 'The media URL has expired: read the followup again for a fresh one'),
  mediaNotFound: () => new ApiError(404, 'Media not found'),
  rangeNotSatisfiable: (size: number) => new ApiError(416, `Range not satisfiable: the file is ${size} bytes`),
  internal: (requestId: string) => new ApiError(500, `Internal server error (request id ${requestId})`),
};

/** 1048576 → "1 MiB", 16384 → "16 KiB", 1000 → "1000 bytes". */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} bytes`;
}

const UNAVAILABLE = {
  busy: { message: 'The service is busy: retry shortly', retryAfter: 1 },
  timeout: { message: 'The request took too long to process: retry shortly', retryAfter: 2 },
  down: { message: 'The database is unavailable: retry shortly', retryAfter: 5 },
};

/** The row of a company-scoped lookup, or the 404 / 403 the API answers instead. */
export function owned<T>(lookup: Lookup<T>, resource: string): T {
  if (!lookup) throw errors.notFound(resource);
  if ('forbidden' in lookup) throw errors.accessDenied(resource);
  return lookup.found;
}

export const ErrorResponseSchema = named('Error', Type.Object(
  {
    error: Type.Literal(true),
    message: Type.String(),
    code: Type.Integer({ description: 'The HTTP status code' }),
    details: Type.Optional(
      Type.Record(Type.String(), Type.String(), { description: 'One message per invalid field' }),
    ),
  },
  { $id: 'Error', description: 'Error envelope' },
));

/** The 429 of a spent rate-limit budget, as SPEC §10 gives it (published only: it is written by the error handler). */
export const RateLimitedResponseSchema = named('RateLimited', Type.Object(
  {
    error: Type.Literal(true),
    message: Type.Literal('Rate limit exceeded. Please try again later.'),
    code: Type.Literal(429),
    details: Type.Object({
      retry_after: Type.Integer({ minimum: 1, description: 'Seconds until the window ends, as in Retry-After' }),
      limit: Type.Integer({ minimum: 1, description: 'The budget of the window (reads or writes, whichever the request is)' }),
      reset_time: Type.String({ format: 'date-time', description: 'When the window ends and the budget is whole again', examples: ['2024-01-25T11:00:00+00:00'] }),
    }),
  },
  { description: 'Over the API client\'s budget for this window' },
));
