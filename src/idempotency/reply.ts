import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Pool, Queryable } from '../db/pool.js';
import { idempotent, readIdempotencyKey } from './service.js';

/**
 * Answers a write at most once per `Idempotency-Key` (the header is optional): the service does
 * the write in the key's transaction and returns rows; `respond` turns them into the status and
 * body, which are serialized here once and stored, so that a replay sends the same bytes (with
 * `Idempotent-Replayed: true`).
 */
export async function replyOnce<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  pool: Pool,
  write: (db: Queryable) => Promise<T>,
  respond: (result: T) => { status: number; body: unknown },
): Promise<FastifyReply> {
  const key = readIdempotencyKey(request.headers['idempotency-key']);
  // The route as its feature declares it (`/followups`), without the prefix it is mounted under:
  // the request hash of a stored key stays the same whatever the mount point.
  const route = (request.routeOptions.url ?? request.url).slice(request.server.prefix.length);
  const caller = { method: request.method, route, body: request.body };
  const result = await idempotent(pool, request.auth.companyId, key, caller, async (db) => {
    const { status, body } = respond(await write(db));
    return { status, body: JSON.stringify(body) };
  });
  if (result.replayed) reply.header('Idempotent-Replayed', 'true');
  // Already serialized: a JSON string is sent as it is, not through the response schema again.
  return reply.code(result.status).type('application/json; charset=utf-8').send(result.body);
}
