import type { FastifyInstance } from 'fastify';

/**
 * Stops accepting connections, lets in-flight requests finish for up to `graceMs`, then closes
 * every socket still open (a client trickling its body, a keep-alive connection mid-request), so
 * a slow or hostile client can never hold a shutdown up.
 */
export async function closeGracefully(app: FastifyInstance, graceMs: number): Promise<void> {
  const cut = setTimeout(() => app.server.closeAllConnections(), graceMs);
  try {
    await app.close();
  } finally {
    clearTimeout(cut);
  }
}
