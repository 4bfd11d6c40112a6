import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { TokenClaims } from './auth/access-token.js';
import { createAppContext } from './app-context.js';
import { tokenRoutes } from './auth/token-routes.js';
import {
  DEFAULT_CLIENT_STATE_TTL_MS, DEFAULT_DATABASE_LIMITS, DEFAULT_MEDIA, DEFAULT_PAYMENT_ATTRIBUTION_DAYS, DEFAULT_RATE_LIMITS, defaultHttpLimits,
  type HttpLimits, type MediaSettings, type RateLimitSettings,
} from './config.js';
import type { Pool } from './db/pool.js';
import { debtRoutes } from './debts/routes.js';
import { enumRoutes } from './enums/routes.js';
import { followupListRoutes } from './followups/list-routes.js';
import { followupMediaRoutes } from './followups/media-routes.js';
import { followupRoutes } from './followups/routes.js';
import { mediaRoutes } from './media/routes.js';
import { limitClientConcurrency } from './http/client-concurrency.js';
import { onClientError } from './http/client-error.js';
import { dropStalledSockets } from './http/stalled-sockets.js';
import { onFrameworkError, registerErrorHandling } from './http/error-handler.js';
import { ErrorResponseSchema, errors } from './http/errors.js';
import { JSON_BODY_LIMIT, registerJsonParser } from './http/json-body.js';
import { DOCS_OPTIONS, openApiOptions } from './http/openapi.js';
import { requestId } from './http/request-id.js';
import { validatorCompiler } from './http/validation.js';
import { Metrics } from './ops/metrics.js';
import { countRequests, metricsRoutes } from './ops/metrics-routes.js';
import { opsRoutes } from './ops/routes.js';
import { paymentRoutes } from './payments/routes.js';
import { installRateLimits } from './rate-limit/limits.js';
import { trackingRoutes } from './tracking/routes.js';
import type { Keys } from './security/keys.js';
import type { BlobStore } from './storage/blob-store.js';
import { AllowList } from './net/allow-list.js';
import type { WebhookUrlRules } from './webhooks/rules.js';
import { webhookRoutes } from './webhooks/routes.js';

export const API_PREFIX = '/external-api/v1';
const PROBES = new Set(['/health', '/ready', '/metrics']);

export interface AppDependencies {
  pool: Pool;
  keys: Keys;
  logger: Logger;
  /** Timeouts and caps of the HTTP server; defaults as documented in the README. */
  http?: HttpLimits;
  /** While this many queries wait for a database connection, new requests are shed with 503. */
  databaseQueueLimit?: number;
  /** How long a process may trust what it read of a client's state (disabled, scopes, epoch). */
  clientStateTtlMs?: number;
  /** Base URL of the tracking pixel and links (PUBLIC_URL); default http://127.0.0.1:3000. */
  publicUrl?: string;
  /** PAYMENT_ATTRIBUTION_DAYS. */
  paymentAttributionDays?: number;
  /** Where recordings and PDFs are kept (src/storage/open-store.ts builds it from the settings). */
  storage: BlobStore;
  /** MEDIA_MAX_BYTES and MEDIA_URL_TTL_SECONDS. */
  media?: MediaSettings;
  /** WEBHOOK_ALLOW_HTTP and OUTBOUND_ALLOW: what subscription URLs may be; default https to public addresses. */
  webhooks?: WebhookUrlRules;
  /** The process's metrics, when shared with its worker; else the app makes its own. */
  metrics?: Metrics;
  /** METRICS_TOKEN: GET /metrics is served on this app's port only with it (else 404). */
  metricsToken?: string;
  /** Per-client budgets and the token endpoints' limits (RATE_LIMIT_*, REDIS_URL). */
  rateLimits?: RateLimitSettings;
  /** TRUST_PROXY: the proxies whose X-Forwarded-For gives the client's address. */
  trustProxy?: string[];
}

/** Builds the HTTP application from its parts; listening is the caller's business. */
export async function buildApp({
  pool, keys, logger, http = defaultHttpLimits(), databaseQueueLimit = DEFAULT_DATABASE_LIMITS.queueLimit,
  clientStateTtlMs = DEFAULT_CLIENT_STATE_TTL_MS, publicUrl = 'http://127.0.0.1:3000',
  paymentAttributionDays = DEFAULT_PAYMENT_ATTRIBUTION_DAYS, storage, media = DEFAULT_MEDIA,
  webhooks = { allowHttp: false, allow: AllowList.EMPTY },
  metrics = new Metrics(pool, logger), metricsToken, rateLimits = DEFAULT_RATE_LIMITS, trustProxy = [],
}: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: JSON_BODY_LIMIT,
    // No socket lives for ever: a request must arrive whole within requestTimeout (headers
    // within headersTimeout), an idle keep-alive connection closes, a socket with no traffic
    // either way is dropped. Node checks these every connectionsCheckingInterval.
    requestTimeout: http.requestTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    connectionTimeout: http.socketTimeoutMs,
    // Past this many requests on one connection the client is asked to reconnect: pipelining
    // cannot queue more answers than that for a client that never reads.
    maxRequestsPerSocket: http.maxRequestsPerSocket,
    http: { headersTimeout: http.headersTimeoutMs, connectionsCheckingInterval: Math.min(1_000, Math.ceil(http.headersTimeoutMs / 2)) },
    genReqId: requestId,
    // Fastify's own request logging is off: the onResponse hook below writes one line per request.
    logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }),
    return503OnClosing: true,
    routerOptions: { maxParamLength: 200, ignoreTrailingSlash: true },
    frameworkErrors: onFrameworkError,
    clientErrorHandler: onClientError,
    trustProxy: trustProxy.length > 0 ? trustProxy : false,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Fastify parses text/plain by default; the API speaks JSON, so any other body is a 415.
  app.removeContentTypeParser('text/plain');
  registerJsonParser(app);

  // Past the cap, new connections are refused by the kernel-facing server at once, before any
  // file descriptor runs out for /health, the database pool or the logs.
  app.server.maxConnections = http.maxConnections;
  dropStalledSockets(app.server, http.socketTimeoutMs);
  let lastDropWarning = 0;
  app.server.on('drop', () => {
    if (Date.now() - lastDropWarning < 10_000) return;
    lastDropWarning = Date.now();
    logger.warn({ max_connections: http.maxConnections }, 'connection refused: MAX_CONNECTIONS reached');
  });

  app.decorateRequest('auth', null as unknown as TokenClaims);
  app.setValidatorCompiler(validatorCompiler);
  registerErrorHandling(app);
  app.addSchema(ErrorResponseSchema);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
  });
  // Shed load early: a request that would only queue behind a full pool answers 503 now rather
  // than 503 (or worse) after waiting, and the queue stays short for everyone else.
  // The probes answer in their own format, /ready must say what the database does, and /metrics
  // must show an overload rather than be shed by it.
  app.addHook('onRequest', async (request) => {
    if (pool.waitingCount >= databaseQueueLimit && !PROBES.has(request.routeOptions.url ?? '')) throw errors.serviceUnavailable('busy');
  });

  app.addHook('onResponse', async (request, reply) => {
    // One line per request; no bodies, headers or tokens, which may carry secrets or debtor data.
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
        client_id: request.auth?.clientId,
        duration_ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });

  limitClientConcurrency(app, http.clientConcurrency);
  metrics.watchPool('api', pool);
  countRequests(app, metrics);

  await app.register(swagger, openApiOptions());
  await app.register(swaggerUi, DOCS_OPTIONS);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const context = createAppContext(pool, keys, logger, {
    clientStateTtlMs, publicUrl, paymentAttributionDays, storage, media: { ...media, ownUrlPrefix: `${publicUrl}/media/` }, webhooks, metrics,
  });
  await context.clientStates.listen();
  app.addHook('onClose', () => context.clientStates.close());
  await installRateLimits(app, {
    settings: rateLimits, apiPrefix: API_PREFIX, tokens: context.tokens, log: logger, onRejected: (bucket) => metrics.rateLimitRejection(bucket),
  });
  // One line per feature: removing a feature is removing its folder and its line.
  await app.register(opsRoutes, context);
  if (metricsToken) await app.register(metricsRoutes, { metrics, token: metricsToken });
  await app.register(tokenRoutes, context);
  await app.register(followupRoutes, { prefix: API_PREFIX, ...context });
  await app.register(debtRoutes, { prefix: API_PREFIX, ...context });
  await app.register(followupListRoutes, { prefix: API_PREFIX, ...context });
  await app.register(enumRoutes, { prefix: API_PREFIX, ...context });
  await app.register(trackingRoutes, { apiPrefix: API_PREFIX, ...context });
  await app.register(paymentRoutes, { prefix: API_PREFIX, ...context });
  await app.register(mediaRoutes, context);
  await app.register(followupMediaRoutes, { prefix: API_PREFIX, ...context });
  await app.register(webhookRoutes, { prefix: API_PREFIX, ...context });
  return app;
}
