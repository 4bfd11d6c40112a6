import { Logger, parseCrontab, run, type LogLevel, type Runner } from 'graphile-worker';
import type { Logger as Pino } from 'pino';
import type { Config } from '../config.js';
import { createPool, type Pool } from '../db/pool.js';
import type { Metrics, WebhookDeliveryOutcome } from '../ops/metrics.js';
import { StartRefused } from '../start-refused.js';
import { INGEST_TIMEOUT_MS } from '../followups/ingest-task.js';
import { IdCodec } from '../security/encrypted-id.js';
import type { Keys } from '../security/keys.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { DeliveryOutcome } from '../webhooks/deliver-task.js';
import { SWEEP_TASK } from '../webhooks/sweep-task.js';
import { crontab, taskList, type TaskDeps } from './tasks.js';

export interface WorkerSettings {
  /** Jobs run at once by this process. */
  concurrency: number;
  /** When the idempotency-key purge runs (cron syntax, UTC). */
  purgeSchedule: string;
}

export interface Worker {
  /** Stops taking jobs and waits for the running ones to finish. */
  stop(): Promise<void>;
}

/**
 * Runs the background tasks on graphile-worker (jobs in PostgreSQL, taken with FOR UPDATE SKIP
 * LOCKED, woken by LISTEN/NOTIFY, retried with exponential backoff), in as many processes as
 * wanted. `pool` should be the worker's own, so that jobs never take the API's connections.
 * Signals are the caller's: it stops the worker in its own shutdown order.
 */
export async function startWorker(pool: Pool, log: Pino, settings: WorkerSettings, deps: TaskDeps): Promise<Worker> {
  const runner: Runner = await run({
    pgPool: pool,
    taskList: taskList(deps),
    crontab: crontab(settings.purgeSchedule),
    concurrency: settings.concurrency,
    noHandleSignals: true,
    logger: workerLogger(log.child({ component: 'worker' })),
  });
  // Deliveries a dead worker held go out now rather than at the next minute's sweep.
  await runner.addJob(SWEEP_TASK, {}, { jobKey: 'webhooks:sweep' });
  return { stop: () => runner.stop() };
}

/** A delivery attempt's outcome as the webhook_delivery_attempts metric labels it. */
const DELIVERY_OUTCOMES: Record<DeliveryOutcome, WebhookDeliveryOutcome> = {
  delivered: 'delivered', http_error: 'failed_http', network: 'failed_network', timeout: 'timeout', blocked: 'blocked',
};

/**
 * The worker of a process (`serve`, `relance worker`), on a pool of its own sized for its
 * concurrency (graphile-worker also keeps one connection listening): jobs never take the API's
 * connections. Stopping it drains the running jobs, then closes that pool. Its pool and its
 * webhook delivery attempts are reported by `metrics`.
 */
export async function startProcessWorker(
  url: string,
  config: Config,
  log: Pino,
  storage: BlobStore,
  keys: Keys,
  metrics: Metrics,
): Promise<Worker> {
  const { allowHttp: _allowHttp, ...delivery } = config.webhooks;
  const deps: TaskDeps = {
    storage, maxBytes: config.media.maxBytes, allow: config.outbound.allow, timeoutMs: INGEST_TIMEOUT_MS,
    webhooks: {
      ids: new IdCodec(keys.ids), sealKey: keys.webhooks, storage, allow: config.outbound.allow, delivery,
      media: { ...config.media, ownUrlPrefix: undefined },
      onDelivery: (outcome) => metrics.webhookDeliveryAttempt(DELIVERY_OUTCOMES[outcome]),
    },
  };
  try {
    parseCrontab(crontab(config.worker.purgeSchedule));
  } catch (error) {
    throw new StartRefused(`PURGE_SCHEDULE "${config.worker.purgeSchedule}" is not a cron schedule (minute hour day month weekday, in UTC): ${(error as Error).message}`);
  }
  const pool = createPool(url, config.worker.concurrency + 2, config.database);
  metrics.watchPool('worker', pool);
  try {
    const worker = await startWorker(pool, log, config.worker, deps);
    return {
      stop: async () => {
        await worker.stop();
        await pool.end();
      },
    };
  } catch (error) {
    await pool.end();
    throw error;
  }
}

const LEVELS: Record<LogLevel, 'error' | 'warn' | 'info' | 'debug'> = { error: 'error', warning: 'warn', info: 'info', debug: 'debug' };

function workerLogger(log: Pino): Logger {
  return new Logger(() => (level, message, meta) => log[LEVELS[level]]({ ...meta }, message));
}
