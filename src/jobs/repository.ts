import type { Queryable } from '../db/pool.js';

/** A session advisory lock: held until unlocked or the connection ends. False when another session holds it. */
export async function tryLock(lockId: number, client: Queryable): Promise<boolean> {
  const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [lockId]);
  return rows[0]!.locked;
}

export async function unlock(lockId: number, client: Queryable): Promise<void> {
  await client.query('SELECT pg_advisory_unlock($1)', [lockId]);
}

/** Records a run of a maintenance task (and forgets runs older than 30 days). */
export async function recordMaintenanceRun(task: string, startedAt: Date, rowsAffected: number, db: Queryable): Promise<void> {
  await db.query(
    `WITH trimmed AS (DELETE FROM maintenance_runs WHERE started_at < now() - interval '30 days')
     INSERT INTO maintenance_runs (task, started_at, rows_affected) VALUES ($1, $2, $3)`,
    [task, startedAt, rowsAffected],
  );
}
