import type { Queryable } from '../db/pool.js';
import { recordMaintenanceRun } from './repository.js';

/** Rows a purge deletes per statement: no statement holds its locks for long. */
const BATCH = 5_000;

/**
 * A maintenance task's purge: `deleteBatch` deletes at most `limit` rows and says how many it
 * did, and is called until a batch comes back short; then the run is recorded in
 * maintenance_runs under `task`. Returns how many rows were deleted.
 */
export async function purgeInBatches(
  task: string,
  client: Queryable,
  deleteBatch: (limit: number, db: Queryable) => Promise<number>,
): Promise<number> {
  const started = new Date();
  let deleted = 0;
  let count: number;
  do {
    count = await deleteBatch(BATCH, client);
    deleted += count;
  } while (count === BATCH);
  await recordMaintenanceRun(task, started, deleted, client);
  return deleted;
}
