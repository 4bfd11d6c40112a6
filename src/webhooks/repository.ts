import type { Lookup } from '../db/lookup.js';
import { selectPage, type PageWindow, type RowPage } from '../db/page.js';
import type { Queryable } from '../db/pool.js';
import { enqueue } from '../jobs/queue.js';
import type { DeliveryStatus } from './schema.js';
import type { StoredEvent } from './payload.js';

export const DELIVER_TASK = 'deliver_webhooks';

export interface SubscriptionRow {
  id: number;
  company_id: number;
  url: string;
  events: string[];
  description: string | null;
  secret: Buffer;
  previous_secret: Buffer | null;
  previous_secret_expires_at: Date | null;
  status: 'active' | 'disabled';
  disabled_reason: string | null;
  failing_since: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface DeliveryRow {
  id: number;
  company_id: number;
  subscription_id: number;
  event_id: number;
  event_type: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date | null;
  last_attempt_at: Date | null;
  last_status_code: number | null;
  last_duration_ms: number | null;
  last_error: string | null;
  delivered_at: Date | null;
  created_at: Date;
}

export interface AttemptRow {
  delivery_id: number;
  attempted_at: Date;
  status_code: number | null;
  duration_ms: number | null;
  error: string | null;
}

export interface NewSubscription {
  url: string;
  events: string[];
  description: string | null;
  secret: Buffer;
}

export async function insertSubscription(companyId: number, values: NewSubscription, db: Queryable): Promise<SubscriptionRow> {
  const { rows } = await db.query<SubscriptionRow>(
    `INSERT INTO webhook_subscriptions (company_id, url, events, description, secret) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
    [companyId, values.url, values.events, values.description, values.secret],
  );
  return rows[0]!;
}

/** A subscription of the company; `forbidden` when it is another company's. `lock` for a change that must not race a delivery's bookkeeping. */
export async function findSubscription(companyId: number, id: number, db: Queryable, lock = false): Promise<Lookup<SubscriptionRow>> {
  const { rows } = await db.query<SubscriptionRow>(`SELECT * FROM webhook_subscriptions WHERE id = $1${lock ? ' FOR NO KEY UPDATE' : ''}`, [id]);
  const row = rows[0];
  if (!row) return undefined;
  return row.company_id === companyId ? { found: row } : { forbidden: true };
}

export async function listSubscriptions(companyId: number, window: PageWindow, db: Queryable): Promise<RowPage<SubscriptionRow>> {
  return selectPage<SubscriptionRow>(db, {
    select: 'SELECT * FROM webhook_subscriptions WHERE company_id = $1 ORDER BY id',
    count: 'SELECT count(*)::int AS n FROM webhook_subscriptions WHERE company_id = $1',
  }, [companyId], window);
}

export interface SubscriptionChanges {
  url?: string;
  events?: string[];
  description?: string | null;
  status?: 'active' | 'disabled';
}

/**
 * Applies the fields given. Re-enabling forgets why the subscription was disabled and since when
 * it failed, so it gets a whole new grace period; disabling through the API gives no reason.
 */
export async function updateSubscription(companyId: number, id: number, changes: SubscriptionChanges, db: Queryable): Promise<SubscriptionRow | undefined> {
  const { rows } = await db.query<SubscriptionRow>(
    `UPDATE webhook_subscriptions SET
       url = CASE WHEN $3 THEN $4 ELSE url END,
       events = CASE WHEN $5 THEN $6::text[] ELSE events END,
       description = CASE WHEN $7 THEN $8 ELSE description END,
       status = coalesce($9, status),
       disabled_reason = CASE WHEN $9 IS NOT NULL THEN NULL ELSE disabled_reason END,
       failing_since = CASE WHEN $9 = 'active' AND status = 'disabled' THEN NULL ELSE failing_since END,
       updated_at = now()
     WHERE company_id = $1 AND id = $2
     RETURNING *`,
    [
      companyId, id, changes.url !== undefined, changes.url ?? null, changes.events !== undefined, changes.events ?? null,
      changes.description !== undefined, changes.description ?? null, changes.status ?? null,
    ],
  );
  return rows[0];
}

/** Deletes a subscription, its deliveries and their attempts (the events stay for other subscriptions, until purged). */
export async function deleteSubscription(companyId: number, id: number, db: Queryable): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM webhook_subscriptions WHERE company_id = $1 AND id = $2', [companyId, id]);
  return rowCount === 1;
}

/**
 * A new secret; the one it replaces keeps signing until `overlapSeconds` from now (none with 0).
 * A secret still in its overlap from an earlier rotation stops signing now.
 */
export async function rotateSecret(companyId: number, id: number, secret: Buffer, overlapSeconds: number, db: Queryable): Promise<SubscriptionRow | undefined> {
  const { rows } = await db.query<SubscriptionRow>(
    `UPDATE webhook_subscriptions SET
       previous_secret = CASE WHEN $4::int > 0 THEN secret END,
       previous_secret_expires_at = CASE WHEN $4::int > 0 THEN now() + make_interval(secs => $4::int) END,
       secret = $3,
       updated_at = now()
     WHERE company_id = $1 AND id = $2
     RETURNING *`,
    [companyId, id, secret, overlapSeconds],
  );
  return rows[0];
}

const DELIVERY_COLUMNS = `d.id, d.company_id, d.subscription_id, d.event_id, e.type AS event_type, d.status, d.attempts, d.next_attempt_at,
  d.last_attempt_at, d.last_status_code, d.last_duration_ms, d.last_error, d.delivered_at, d.created_at`;

/** One page of a subscription's deliveries, newest first, of one status if given. */
export async function listDeliveries(
  companyId: number,
  subscriptionId: number,
  status: DeliveryStatus | undefined,
  window: PageWindow,
  db: Queryable,
): Promise<RowPage<DeliveryRow>> {
  const filter = 'd.company_id = $1 AND d.subscription_id = $2 AND ($3::text IS NULL OR d.status = $3)';
  return selectPage<DeliveryRow>(db, {
    select: `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
             WHERE ${filter} ORDER BY d.id DESC`,
    count: `SELECT count(*)::int AS n FROM webhook_deliveries d WHERE ${filter}`,
  }, [companyId, subscriptionId, status ?? null], window);
}

export async function findDelivery(companyId: number, subscriptionId: number, id: number, db: Queryable): Promise<DeliveryRow | undefined> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
     WHERE d.company_id = $1 AND d.subscription_id = $2 AND d.id = $3`,
    [companyId, subscriptionId, id],
  );
  return rows[0];
}

/** The attempts of these deliveries of the company, oldest first. */
export async function attemptsOf(companyId: number, deliveryIds: readonly number[], db: Queryable): Promise<AttemptRow[]> {
  if (deliveryIds.length === 0) return [];
  const { rows } = await db.query<AttemptRow>(
    `SELECT a.delivery_id, a.attempted_at, a.status_code, a.duration_ms, a.error
     FROM webhook_delivery_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
     WHERE d.company_id = $1 AND a.delivery_id = ANY($2::bigint[])
     ORDER BY a.delivery_id, a.id`,
    [companyId, deliveryIds],
  );
  return rows;
}

/** Makes a delivery pending and due now, whatever its state (a delivered one is sent again). */
export async function retryDelivery(companyId: number, subscriptionId: number, id: number, db: Queryable): Promise<DeliveryRow | undefined> {
  const { rows } = await db.query<DeliveryRow>(
    `WITH d AS (
       UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now()
       WHERE company_id = $1 AND subscription_id = $2 AND id = $3
       RETURNING *
     )
     SELECT ${DELIVERY_COLUMNS} FROM d JOIN webhook_events e ON e.id = d.event_id`,
    [companyId, subscriptionId, id],
  );
  return rows[0];
}

/** A `webhook.test` event about the subscription, with one delivery, to it only. */
export async function insertTestEvent(companyId: number, subscriptionId: number, message: string, db: Queryable): Promise<DeliveryRow> {
  const { rows } = await db.query<DeliveryRow>(
    `WITH e AS (
       INSERT INTO webhook_events (company_id, type, subject_type, subject_id, snapshot)
       VALUES ($1, 'webhook.test', 'webhook', $2, jsonb_build_object('message', $3::text))
       RETURNING id, type
     ), d AS (
       INSERT INTO webhook_deliveries (company_id, subscription_id, event_id, subject_type, subject_id)
       SELECT $1, $2, e.id, 'webhook', $2 FROM e
       RETURNING *
     )
     SELECT ${DELIVERY_COLUMNS} FROM d JOIN e ON e.id = d.event_id`,
    [companyId, subscriptionId, message],
  );
  return rows[0]!;
}

/**
 * Wakes the deliverer of a subscription (one pending job per subscription, by its key), in the
 * transaction of the change that gave it work. `runAt` with `preserve`: a job already waiting
 * keeps its (earlier) time; the only jobs ever added for later are the deliverer's own.
 */
export async function wakeDeliverer(subscriptionId: number, db: Queryable, later?: Date): Promise<void> {
  await enqueue(db, DELIVER_TASK, { subscription_id: subscriptionId }, {
    jobKey: `webhooks:${subscriptionId}`, ...(later && { runAt: later, jobKeyMode: 'preserve_run_at' }),
  });
}

// What the deliverer runs: scoped to one subscription (or, for the sweep and the purge, to
// every company), not to a company of a request.

/** A pending delivery no earlier pending delivery of the same subject in its subscription holds back. */
const HEAD = `NOT EXISTS (
  SELECT 1 FROM webhook_deliveries p
  WHERE p.subscription_id = d.subscription_id AND p.subject_type = d.subject_type AND p.subject_id = d.subject_id
    AND p.status = 'pending' AND p.id < d.id)`;

export interface DueDelivery extends StoredEvent {
  id: number;
  subscription_id: number;
  attempts: number;
  created_at: Date;
  url: string;
  secret: Buffer;
  /** The secret a rotation replaced, while it still signs. */
  previous_secret: Buffer | null;
}

/**
 * Takes the next delivery of an active subscription to send, in `tx`, and keeps it locked until
 * `tx` ends: the oldest due one whose subject has no earlier pending delivery (events of one
 * followup go out in order; other subjects go on). SKIP LOCKED: two deliverers of one
 * subscription never send the same delivery at once. KEY SHARE on the subscription: a deletion
 * waits for the attempt's bookkeeping instead of deadlocking with it.
 */
export async function takeDueDelivery(subscriptionId: number, tx: Queryable): Promise<DueDelivery | undefined> {
  const { rows } = await tx.query<DueDelivery>(
    `SELECT d.id, d.company_id, d.subscription_id, d.attempts, d.created_at, e.id AS event_id, e.type, e.subject_type, e.subject_id,
            e.snapshot, e.changes, e.created_at AS event_created_at, s.url, s.secret,
            CASE WHEN s.previous_secret_expires_at > now() THEN s.previous_secret END AS previous_secret
     FROM webhook_deliveries d
     JOIN webhook_subscriptions s ON s.id = d.subscription_id
     JOIN webhook_events e ON e.id = d.event_id
     WHERE d.subscription_id = $1 AND d.status = 'pending' AND d.next_attempt_at <= now() AND s.status = 'active' AND ${HEAD}
     ORDER BY d.next_attempt_at, d.id
     LIMIT 1
     FOR UPDATE OF d SKIP LOCKED
     FOR KEY SHARE OF s`,
    [subscriptionId],
  );
  return rows[0];
}

export interface Attempt {
  startedAt: Date;
  statusCode: number | null;
  durationMs: number;
  /** Undefined when the attempt succeeded. */
  error?: string;
}

/** A 2xx: the delivery is done, and the subscription is no longer failing. */
export async function recordSuccess(delivery: DueDelivery, attempt: Attempt, tx: Queryable): Promise<void> {
  await tx.query(
    `WITH attempt AS (
       INSERT INTO webhook_delivery_attempts (delivery_id, attempted_at, status_code, duration_ms) VALUES ($1, $2, $3, $4)
     ), delivery AS (
       UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, next_attempt_at = NULL, last_attempt_at = $2,
         last_status_code = $3, last_duration_ms = $4, last_error = NULL, delivered_at = now()
       WHERE id = $1
     )
     UPDATE webhook_subscriptions SET failing_since = NULL WHERE id = $5 AND failing_since IS NOT NULL`,
    [delivery.id, attempt.startedAt, attempt.statusCode, attempt.durationMs, delivery.subscription_id],
  );
}

export interface FailurePolicy {
  /** Delay before the next attempt. */
  retryInMs: number;
  /** After this long since it was written, a delivery that fails is failed for good. */
  windowMs: number;
  /** A subscription failing this long is disabled. */
  disableAfterMs: number;
}

// Each SET expression reads the row as it was before this update (the one it waited for, if any).
const TOO_LONG = 'failing_since IS NOT NULL AND failing_since <= now() - make_interval(secs => $8::float8 / 1000)';

/**
 * Any other outcome: the attempt is logged; the delivery is tried again after the delay (its last
 * try at the end of the window at the latest), or failed once the window is over. The
 * subscription is failing from its first failure after a success, and disabled, with a reason
 * naming the dates and the error, once that is older than the policy allows.
 */
export async function recordFailure(delivery: DueDelivery, attempt: Attempt & { error: string }, policy: FailurePolicy, tx: Queryable): Promise<{ disabled: boolean }> {
  const { rows } = await tx.query<{ disabled: boolean }>(
    `WITH attempt AS (
       INSERT INTO webhook_delivery_attempts (delivery_id, attempted_at, status_code, duration_ms, error) VALUES ($1, $2, $3, $4, $5)
     ), delivery AS (
       UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = $2, last_status_code = $3, last_duration_ms = $4, last_error = $5,
         status = CASE WHEN created_at + make_interval(secs => $7::float8 / 1000) <= now() THEN 'failed' ELSE 'pending' END,
         next_attempt_at = CASE WHEN created_at + make_interval(secs => $7::float8 / 1000) <= now() THEN NULL
           ELSE least(now() + make_interval(secs => $6::float8 / 1000), created_at + make_interval(secs => $7::float8 / 1000)) END
       WHERE id = $1
     )
     UPDATE webhook_subscriptions SET
       failing_since = coalesce(failing_since, now()),
       status = CASE WHEN ${TOO_LONG} THEN 'disabled' ELSE status END,
       disabled_reason = CASE WHEN ${TOO_LONG} THEN format(
         'Disabled on %s: every delivery attempt failed since %s; the last error: %s',
         to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'),
         to_char(failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'), $5::text) ELSE disabled_reason END,
       updated_at = CASE WHEN ${TOO_LONG} THEN now() ELSE updated_at END
     WHERE id = $9
     RETURNING status = 'disabled' AS disabled`,
    [delivery.id, attempt.startedAt, attempt.statusCode, attempt.durationMs, attempt.error, policy.retryInMs, policy.windowMs, policy.disableAfterMs, delivery.subscription_id],
  );
  return { disabled: rows[0]?.disabled ?? false };
}

/**
 * When the subscription's next delivery will be due (the earliest of its subjects' first pending
 * ones), but not before `minDelayMs` from now (one due already is being sent by another run), on
 * the database's clock; undefined when it has none.
 */
export async function nextDueAt(subscriptionId: number, minDelayMs: number, db: Queryable): Promise<Date | undefined> {
  const { rows } = await db.query<{ at: Date | null }>(
    `SELECT greatest(min(d.next_attempt_at), now() + make_interval(secs => $2::float8 / 1000)) AS at
     FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
     WHERE d.subscription_id = $1 AND d.status = 'pending' AND s.status = 'active' AND ${HEAD}
     HAVING count(*) > 0`,
    [subscriptionId, minDelayMs],
  );
  return rows[0]?.at ?? undefined;
}

/** Wakes the deliverer of every active subscription with a due delivery; returns how many. */
export async function wakeDueSubscriptions(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(graphile_worker.add_job($1, json_build_object('subscription_id', s.id), job_key => 'webhooks:' || s.id))::int AS n
     FROM webhook_subscriptions s
     WHERE s.status = 'active' AND EXISTS (
       SELECT 1 FROM webhook_deliveries d
       WHERE d.subscription_id = s.id AND d.status = 'pending' AND d.next_attempt_at <= now() AND ${HEAD})`,
    [DELIVER_TASK],
  );
  return rows[0]!.n;
}

/** Deletes up to `limit` events older than 30 days with no pending delivery, with their deliveries and attempts. */
export async function deleteOldEvents(limit: number, db: Queryable): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM webhook_events WHERE id = ANY(ARRAY(
       SELECT e.id FROM webhook_events e
       WHERE e.created_at < now() - interval '30 days'
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND d.status = 'pending')
       LIMIT $1))`,
    [limit],
  );
  return rowCount ?? 0;
}
