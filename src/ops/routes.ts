import { Type } from '@sinclair/typebox';
import type { AppContext } from '../app-context.js';
import type { FastifyPluginAsync } from 'fastify';
import { named } from '../http/openapi-schema.js';

const Status = named('ProbeStatus', Type.Object({ status: Type.String({ examples: ['ok'] }) }));

/** Liveness and readiness probes for load balancers and orchestrators. */
export const opsRoutes: FastifyPluginAsync<AppContext> = async (app, { pool }) => {
  // Someone who opens the server's address in a browser or with curl learns where to go.
  app.get('/', {
    schema: {
      operationId: 'getIndex',
      tags: ['operations'],
      summary: 'Where the API reference is',
      response: {
        200: Type.Object({
          error: Type.Literal(false),
          message: Type.String(),
          data: Type.Object({ docs: Type.String(), openapi: Type.String(), api: Type.String() }),
        }, { description: 'Where the interactive reference, the OpenAPI document and the API are' }),
      },
    },
  }, async () => ({
    error: false as const,
    message: 'Relance API: the interactive reference is at /docs',
    data: { docs: '/docs', openapi: '/openapi.json', api: '/external-api/v1' },
  }));

  app.get('/health', {
    schema: { operationId: 'getHealth', tags: ['operations'], summary: 'The process is up', response: { 200: Status } },
  }, async () => ({
    status: 'ok',
  }));

  app.get('/ready', {
    schema: {
      operationId: 'getReady',
      tags: ['operations'],
      summary: 'The database answers',
      response: { 200: Status, 503: Status },
    },
  }, async (request, reply) => {
    try {
      await pool.query('SELECT 1');
      return { status: 'ready' };
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check failed');
      return reply.code(503).send({ status: 'database unavailable' });
    }
  });
};
