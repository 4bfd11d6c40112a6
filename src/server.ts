import type { FastifyInstance } from 'fastify';
import { createServer } from 'node:net';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { closeGracefully } from './http/shutdown.js';
import { startProcessWorker, type Worker } from './jobs/worker.js';
import { createLogger } from './logger.js';
import { Metrics } from './ops/metrics.js';
import { listenMetrics, type MetricsListener } from './ops/metrics-server.js';
import { onStopSignal } from './process-signals.js';
import { openRuntime } from './runtime.js';
import { seedDemoIfEmpty } from './cli/demo.js';

/** `relance serve`: migrate, listen, and shut down gracefully on SIGTERM / SIGINT. */
export async function serve(config: Config): Promise<FastifyInstance> {
  // A port already taken is found before the database is started and migrated.
  if (config.port !== 0) await assertFreePort(config.host, config.port);
  const log = createLogger(config.logLevel);
  const runtime = await openRuntime(config, log, { role: 'serve' });
  // One set of metrics for the API and the in-process worker: its deliveries show on /metrics.
  const metrics = new Metrics(runtime.db.pool, log);
  const app = await buildApp({
    pool: runtime.db.pool, keys: runtime.keys, logger: log, http: config.http, databaseQueueLimit: config.database.queueLimit,
    clientStateTtlMs: config.clientStateTtlMs, paymentAttributionDays: config.paymentAttributionDays, storage: runtime.storage, media: config.media,
    webhooks: { allowHttp: config.webhooks.allowHttp, allow: config.outbound.allow },
    rateLimits: config.rateLimits, trustProxy: config.trustProxy,
    publicUrl: config.publicUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`,
    metrics, metricsToken: config.metrics.token,
  });
  let worker: Worker | undefined;
  let metricsListener: MetricsListener | undefined;
  try {
    if (config.metrics.port !== undefined) metricsListener = await listenMetrics(metrics, { host: config.metrics.host, port: config.metrics.port }, log);
    if (config.worker.enabled) worker = await startProcessWorker(runtime.db.url, config, log, runtime.storage, runtime.keys, metrics);
  } catch (error) {
    await metricsListener?.close();
    await runtime.db.close();
    throw error;
  }

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down: finishing in-flight requests');
    // A stuck shutdown must not keep the process (and the embedded server) alive forever.
    const force = setTimeout(() => process.exit(1), config.http.shutdownGraceMs + 30_000).unref();
    try {
      // In order: stop accepting and finish requests, drain the jobs, stop serving metrics, close
      // the pool, stop the embedded server.
      await closeGracefully(app, config.http.shutdownGraceMs);
      await worker?.stop();
      await metricsListener?.close();
      await runtime.db.close();
    } finally {
      clearTimeout(force);
      process.exit(0);
    }
  };
  onStopSignal(shutdown);

  const address = await app.listen({ host: config.host, port: config.port });
  const baseUrl = config.publicUrl ?? address.replace('://0.0.0.0', '://127.0.0.1').replace('://[::]', '://127.0.0.1');
  if (runtime.db.embedded) await seedDemoIfEmpty(runtime.db.pool, runtime.keys, baseUrl, config.dataDir);
  return app;
}

/** Fails as listen() would (EADDRINUSE, EACCES, EADDRNOTAVAIL), without keeping the port. */
function assertFreePort(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}
