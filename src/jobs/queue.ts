import type { Queryable } from '../db/pool.js';

/** Every background task, by name. Each handler lives in its feature's folder (see tasks.ts). */
export type TaskName = 'purge_idempotency_keys' | 'ingest_recording' | 'deliver_webhooks' | 'sweep_webhooks' | 'purge_webhook_events';

export interface JobOptions {
  /** Jobs of one named queue run one at a time, across every worker process. */
  queue?: string;
  runAt?: Date;
  maxAttempts?: number;
  /** At most one pending job per key: adding another replaces it. */
  jobKey?: string;
  /** `preserve_run_at`: a pending job of the key keeps its run_at instead of taking this one's. */
  jobKeyMode?: 'replace' | 'preserve_run_at';
}

/**
 * The one way to ask for background work: a graphile-worker job added by SQL in the transaction
 * `db` writes in, so the job exists if and only if the change that caused it commits (an
 * outbox). Failed jobs are retried with exponential backoff by the worker.
 */
export async function enqueue(db: Queryable, task: TaskName, payload: object = {}, options: JobOptions = {}): Promise<void> {
  await db.query(
    'SELECT graphile_worker.add_job($1, $2::json, queue_name => $3, run_at => $4, max_attempts => $5, job_key => $6, job_key_mode => $7)',
    [
      task, JSON.stringify(payload), options.queue ?? null, options.runAt ?? null, options.maxAttempts ?? null, options.jobKey ?? null,
      options.jobKeyMode ?? 'replace',
    ],
  );
}
