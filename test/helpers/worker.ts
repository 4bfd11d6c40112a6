import { after } from 'node:test';
import type { Logger } from 'pino';
import { createPool, type Pool } from '../../src/db/pool.js';
import type { TaskDeps } from '../../src/jobs/tasks.js';
import { startWorker, type WorkerSettings } from '../../src/jobs/worker.js';
import { DEFAULT_DATABASE_LIMITS, type DatabaseLimits } from '../../src/config.js';

/**
 * A worker on a pool of its own (`poolSize` connections to `url`), as in a separate process.
 * `stop` stops it and closes its pool, once: it is also called after the file's tests.
 */
export async function ownWorker(
  url: string, poolSize: number, log: Logger, settings: WorkerSettings, deps: TaskDeps, database: Partial<DatabaseLimits> = {},
): Promise<{ pool: Pool; stop: () => Promise<void> }> {
  const pool = createPool(url, poolSize, { ...DEFAULT_DATABASE_LIMITS, ...database });
  const worker = await startWorker(pool, log, settings, deps);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await worker.stop();
    await pool.end();
  };
  after(stop);
  return { pool, stop };
}
