import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import { databaseUnavailable } from '../db/unavailable.js';
import { ApiError, errors, RateLimitExceeded } from './errors.js';
import { JSON_BODY_LIMIT } from './json-body.js';
import { validationDetails } from './validation.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * Writes every error as the envelope; 5xx answers stay generic, the stack goes to the log. A
 * path that exists under other methods is a 405 with `Allow`, not a 404: every route is also
 * entered in a router of its own, which only answers "which methods has this path".
 */
export function registerErrorHandling(app: FastifyInstance): void {
  const known = FindMyWay({ ignoreTrailingSlash: true, maxParamLength: 200 });
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) known.on(method as HTTPMethod, route.url, () => {});
  });
  app.setErrorHandler((error: FastifyError, request, reply) => send(toApiError(error, request), reply));
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const allowed = METHODS.filter((method) => known.find(method, path) !== null);
    if (allowed.length > 0) {
      reply.header('Allow', allowed.join(', '));
      return send(errors.methodNotAllowed(request.method, allowed), reply);
    }
    return send(errors.routeNotFound(request.method, path.slice(0, 200)), reply);
  });
}

/**
 * Fastify's `frameworkErrors`: failures found while routing (bad percent-encoding, an over-long
 * path parameter), before any hook runs, so the request id header is set here.
 */
export function onFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  reply.header('X-Request-Id', request.id);
  return send(toApiError(error, request), reply);
}

export function toApiError(error: FastifyError, request: FastifyRequest): ApiError {
  if (error instanceof ApiError) return error;
  if (error.validation) return errors.validation(validationDetails(error.validation, error.validationContext));
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.invalidJson();
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errors.payloadTooLarge(request.routeOptions.bodyLimit ?? JSON_BODY_LIMIT);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_TYPE':
      return errors.unsupportedMediaType();
    case 'FST_ERR_BAD_URL':
      return errors.malformedUrl();
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return errors.pathParameterTooLong();
  }
  if (error instanceof SyntaxError && error.statusCode === 400) return errors.invalidJson();
  const unavailable = asUnavailable(error, request);
  if (unavailable) return unavailable;
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return new ApiError(status, error.message);
  request.log.error({ err: error }, 'unexpected error');
  return errors.internal(String(request.id));
}

/** The 503 for shed load or a database that could not answer in time, or undefined. */
export function asUnavailable(error: unknown, request: FastifyRequest): ApiError | undefined {
  if (error instanceof ApiError) return error.statusCode === 503 ? error : undefined;
  const reason = databaseUnavailable(error);
  if (!reason) return undefined;
  request.log.warn({ err: error, reason }, 'database unavailable: answered 503');
  return errors.serviceUnavailable(reason);
}

function send(error: ApiError, reply: FastifyReply) {
  if (error.retryAfter !== undefined) reply.header('Retry-After', String(error.retryAfter));
  const details = error instanceof RateLimitExceeded ? error.budget : error.details;
  return reply
    .code(error.statusCode)
    .type('application/json; charset=utf-8')
    .send({ error: true, message: error.message, code: error.statusCode, ...(details && { details }) });
}
