import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../app-context.js';
import { errors } from '../http/errors.js';
import { recordClick, recordOpen } from './service.js';

/** A 1×1 transparent GIF89a, 43 bytes. */
export const PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');

const NO_CACHE = {
  'cache-control': 'no-store, no-cache, must-revalidate, private',
  pragma: 'no-cache',
  expires: '0',
};

/**
 * The URLs in the messages: no login, the token is all there is. They are wildcard routes so
 * that a token of any length reaches the handler (a parametric one would be a 414 past the
 * router's limit): anything that is not a known token is simply unknown. Hidden from the
 * document, which describes the API, not what mail clients fetch.
 */
export const trackedUrlRoutes: FastifyPluginAsyncTypebox<AppContext> = async (app, { pool }) => {
  app.get('/o/*', { schema: { hide: true } }, async (request, reply) => {
    const token = (request.params as { '*': string })['*'];
    try {
      await recordOpen(pool, token, { userAgent: request.headers['user-agent'], method: request.method });
    } catch (error) {
      // The reader's mail client gets its image whatever happens; a lost open is only logged.
      request.log.warn({ err: error }, 'tracking open not recorded');
    }
    // Valid or not, the answer is the same: a token's validity is never revealed.
    return reply.code(200).headers(NO_CACHE).type('image/gif').send(PIXEL_GIF);
  });

  app.get('/c/*', { schema: { hide: true } }, async (request, reply) => {
    const token = (request.params as { '*': string })['*'];
    const destination = await recordClick(pool, token, { userAgent: request.headers['user-agent'], method: request.method });
    if (destination === undefined) throw errors.notFound('tracking link');
    return reply.code(302).headers(NO_CACHE).header('location', destination).send();
  });
};
