import type { Task } from 'graphile-worker';
import type { Queryable } from '../db/pool.js';
import { purgeInBatches } from '../jobs/maintenance.js';
import { tryLock, unlock } from '../jobs/repository.js';
import { deleteExpiredKeys } from './repository.js';

// Arbitrary constant: one purge at a time across every worker process.
const LOCK_ID = 7_305_221_002;
export const PURGE_TASK = 'purge_idempotency_keys';

/**
 * Deletes the idempotency keys past their 24 hours (nothing else ever did), in batches so that no
 * statement holds locks for long, and records the run in maintenance_runs.
 *
 * Harmless to run twice: a second run finds only what expired since. Never two at once: a run
 * holds a session advisory lock; one that cannot take it leaves the work to the one holding it
 * and records nothing.
 */
export const purgeIdempotencyKeys: Task = async (_payload, helpers) => {
  await helpers.withPgClient(async (client: Queryable) => {
    if (!(await tryLock(LOCK_ID, client))) {
      helpers.logger.info('another purge is running: leaving the work to it');
      return;
    }
    try {
      const deleted = await purgeInBatches(PURGE_TASK, client, deleteExpiredKeys);
      helpers.logger.info(`purged ${deleted} expired idempotency keys`);
    } finally {
      await unlock(LOCK_ID, client);
    }
  });
};
