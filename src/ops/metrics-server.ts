import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import type { Logger } from 'pino';
import { StartRefused } from '../start-refused.js';
import type { Metrics } from './metrics.js';
import { METRICS_PATH, sendMetrics } from './metrics-routes.js';

export interface MetricsListener {
  /** `http://host:port`, as bound. */
  address: string;
  close(): Promise<void>;
}

/**
 * GET /metrics on a listener of its own (METRICS_HOST:METRICS_PORT, loopback by default), with no
 * token: whoever can reach that address may scrape. `relance serve` runs it beside the API, and
 * `relance worker`, which has no API, runs it alone.
 */
export async function listenMetrics(metrics: Metrics, where: { host: string; port: number }, log: Logger): Promise<MetricsListener> {
  // Warnings and errors only (or less, as LOG_LEVEL says): Fastify's own "Server listening at" line is the API's.
  const level = log.levelVal > log.levels.values.warn! ? log.level : 'warn';
  const app = Fastify({
    loggerInstance: log.child({ component: 'metrics' }, { level }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // A scraper sends no body and reads a few kB: nothing here needs to wait long.
    bodyLimit: 1_024,
    requestTimeout: 10_000,
    connectionTimeout: 30_000,
    keepAliveTimeout: 5_000,
    return503OnClosing: true,
  });
  app.get(METRICS_PATH, (request, reply) => sendMetrics(metrics, request, reply));
  app.setNotFoundHandler((_request, reply) => reply.code(404).type('text/plain; charset=utf-8').send(`Not found: this listener serves GET ${METRICS_PATH} only\n`));
  app.server.maxConnections = 64;
  let address: string;
  try {
    address = await app.listen({ host: where.host, port: where.port });
  } catch (error) {
    await app.close();
    throw new StartRefused(`cannot serve /metrics on ${where.host}:${where.port}: ${listenProblem(error)} (METRICS_HOST, METRICS_PORT)`);
  }
  log.info({ address }, 'metrics listening');
  return { address, close: () => app.close() };
}

function listenProblem(error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE': return 'the port is already in use: set METRICS_PORT to a free port';
    case 'EACCES': return 'not allowed (ports below 1024 need privileges): set METRICS_PORT to another port';
    case 'EADDRNOTAVAIL': return 'not an address of this machine: set METRICS_HOST to one of its addresses';
    default: return (error as Error).message;
  }
}
