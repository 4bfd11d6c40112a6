import type { Queryable } from '../db/pool.js';

/*
 * What the metrics read from the database when scraped. These are counts over every company
 * (operators' figures, never served to an API client), so unlike the API's repositories they
 * take no company id.
 */

export interface JobCounts {
  task: string;
  /** Waiting for a worker: due, not locked, attempts left. */
  ready: number;
  /** Due later: a run_at in the future, or a retry waiting out its backoff. */
  scheduled: number;
  /** Taken by a worker (running, or held by a worker that died until the lock expires). */
  locked: number;
  /** Out of attempts: kept by graphile-worker until someone removes them. */
  failed: number;
  /** Age of the oldest ready job (how far behind the workers are); null without ready jobs. */
  oldestReadySeconds: number | null;
}

/** Bounds every statement of the transaction `tx` is in, so a scrape cannot hold up the database. */
export async function limitStatements(statementTimeoutMs: number, tx: Queryable): Promise<void> {
  await tx.query("SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $1, true)", [String(statementTimeoutMs)]);
}

/** Jobs of graphile-worker's public `jobs` view, by task and state. */
export async function jobCounts(db: Queryable): Promise<JobCounts[]> {
  const { rows } = await db.query<JobCounts>(
    `SELECT task_identifier AS task,
            count(*) FILTER (WHERE locked_at IS NULL AND attempts < max_attempts AND run_at <= now())::int AS ready,
            count(*) FILTER (WHERE locked_at IS NULL AND attempts < max_attempts AND run_at > now())::int AS scheduled,
            count(*) FILTER (WHERE locked_at IS NOT NULL)::int AS locked,
            count(*) FILTER (WHERE locked_at IS NULL AND attempts >= max_attempts)::int AS failed,
            extract(epoch FROM now() - min(run_at) FILTER (WHERE locked_at IS NULL AND attempts < max_attempts AND run_at <= now()))::float8
              AS "oldestReadySeconds"
       FROM graphile_worker.jobs
      GROUP BY task_identifier`,
  );
  return rows;
}

/**
 * Webhook deliveries by status, or undefined while the webhooks' table does not exist (a
 * database migrated before them): a query naming a missing table would fail as a whole.
 */
export async function webhookDeliveryCounts(db: Queryable): Promise<Map<string, number> | undefined> {
  const { rows: [table] } = await db.query<{ present: boolean }>("SELECT to_regclass('webhook_deliveries') IS NOT NULL AS present");
  if (!table?.present) return undefined;
  const { rows } = await db.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM webhook_deliveries GROUP BY status');
  return new Map(rows.map((row) => [row.status, row.n]));
}
