import type { Config } from './config.js';
import { startProcessWorker } from './jobs/worker.js';
import { createLogger } from './logger.js';
import { Metrics } from './ops/metrics.js';
import { listenMetrics, type MetricsListener } from './ops/metrics-server.js';
import { openRuntime } from './runtime.js';
import { onStopSignal } from './process-signals.js';

/**
 * `relance worker`: migrate, then run only the background jobs, until SIGTERM or SIGINT (the
 * running jobs are finished first). Beside API processes started with WORKER=off, on the same
 * database; as many as wanted.
 */
export async function runWorkerProcess(config: Config): Promise<void> {
  const log = createLogger(config.logLevel);
  // A long-running process owns an embedded server rather than borrowing a serve's.
  const runtime = await openRuntime(config, log, { role: 'serve' });
  const metrics = new Metrics(runtime.db.pool, log);
  let worker;
  let metricsListener: MetricsListener | undefined;
  try {
    // With no API in this process, METRICS_PORT is the only way to see what its tasks do.
    if (config.metrics.port !== undefined) metricsListener = await listenMetrics(metrics, { host: config.metrics.host, port: config.metrics.port }, log);
    worker = await startProcessWorker(runtime.db.url, config, log, runtime.storage, runtime.keys, metrics);
  } catch (error) {
    await metricsListener?.close();
    await runtime.db.close();
    throw error;
  }
  log.info({ concurrency: config.worker.concurrency }, 'worker running');
  let stopping = false;
  onStopSignal(async (signal) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: finishing running jobs');
    const force = setTimeout(() => process.exit(1), 60_000).unref();
    try {
      await worker.stop();
      await metricsListener?.close();
      await runtime.db.close();
    } finally {
      clearTimeout(force);
      process.exit(0);
    }
  });
}
