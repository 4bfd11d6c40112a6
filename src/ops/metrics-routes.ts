import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../http/errors.js';
import { UNMATCHED_ROUTE, type Metrics } from './metrics.js';

export const METRICS_PATH = '/metrics';

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * GET /metrics on the API's port, for a scraper holding METRICS_TOKEN; registered only when the
 * token is set, so that without it the path is a plain 404 and the figures are not public.
 */
export const metricsRoutes: FastifyPluginAsync<{ metrics: Metrics; token: string }> = async (app, { metrics, token }) => {
  // Digests of equal length, compared in constant time: neither the token nor its length leaks.
  const expected = sha256(token);
  app.get(METRICS_PATH, {
    schema: { hide: true },
    onRequest: async (request, reply) => {
      const given = BEARER.exec(request.headers.authorization ?? '')?.[1];
      if (given === undefined || !timingSafeEqual(sha256(given), expected)) {
        reply.header('WWW-Authenticate', 'Bearer realm="relance-metrics"');
        throw errors.unauthenticated();
      }
    },
  }, (request, reply) => sendMetrics(metrics, request, reply));
};

/** The exposition text; a failure to produce it is a 503 (the next scrape may succeed), never a 500. */
export async function sendMetrics(metrics: Metrics, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  try {
    const text = await metrics.text();
    return reply.type(metrics.contentType).header('Cache-Control', 'no-store').send(text);
  } catch (error) {
    request.log.error({ err: error }, 'metrics could not be collected');
    return reply.code(503).header('Retry-After', '5').type('text/plain; charset=utf-8').send('metrics could not be collected: retry shortly\n');
  }
}

/**
 * Counts every answered request by route pattern (never the raw URL: ids and query strings would
 * make a series per value), method and status. Scrapes of /metrics are left out, so that
 * scraping does not move the figures it reads.
 */
export function countRequests(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url;
    if (route === METRICS_PATH) return;
    metrics.request(route ?? UNMATCHED_ROUTE, request.method, reply.statusCode, reply.elapsedTime / 1_000);
  });
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
