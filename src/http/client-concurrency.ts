import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The client whose concurrency slot this request holds, if any. */
    concurrencySlot?: number;
  }
}

/**
 * At most `limit` requests of one API client in progress at once in this process; the next is a
 * 429 with Retry-After at once. One client flooding the API (a retry loop gone wild) then fills
 * at most `limit` places of the database queue, and other clients' requests still find room.
 * Counted once the token is checked (the route's onRequest), before the body is read.
 */
export function limitClientConcurrency(app: FastifyInstance, limit: number): void {
  app.decorateRequest('concurrencySlot', undefined);
  const inProgress = new Map<number, number>();
  const release = (request: FastifyRequest) => {
    const client = request.concurrencySlot;
    if (client === undefined) return;
    request.concurrencySlot = undefined;
    const left = (inProgress.get(client) ?? 1) - 1;
    if (left > 0) inProgress.set(client, left);
    else inProgress.delete(client);
  };
  app.addHook('preParsing', async (request) => {
    const client = request.auth?.clientRowId;
    if (client === undefined) return;
    const current = inProgress.get(client) ?? 0;
    if (current >= limit) throw errors.tooManyConcurrentRequests(limit);
    inProgress.set(client, current + 1);
    request.concurrencySlot = client;
  });
  app.addHook('onResponse', async (request) => release(request));
  app.addHook('onRequestAbort', async (request) => release(request));
}
