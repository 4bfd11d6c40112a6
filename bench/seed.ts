/**
 * Set-based seeding for the benchmark: one INSERT ... SELECT FROM generate_series per batch, with
 * the secondary indexes rebuilt afterwards, so a million followups take seconds, not a million
 * round trips. Values are derived from the series number (no random()), so two runs seed the
 * same data. Written against the tables (Relance's schema from `relance migrate`), not Relance's
 * code; the counters of migration 0004 are kept by their triggers as for any insert.
 */
import type pg from 'pg';

type Queryable = Pick<pg.Pool, 'query'>;

/** The values the followups table's CHECK constraints allow. */
const STATUSES = ['on_hold', 'scheduled', 'in_progress', 'sent', 'delivered', 'read', 'deal_found',
  'no_answer', 'deal_not_found', 'bad_behavior', 'failed', 'cancelled'];
const TYPES = ['call', 'sms', 'email', 'whatsapp', 'voicemail', 'manual_call', 'physical', 'postmail'];

const BATCH = 250_000;
const DAY_SECONDS = 86_400;

/** `count` debts for the company (internal_id `bench-debt-<n>`); returns their ids. */
export async function seedDebts(db: Queryable, companyId: number, count: number): Promise<number[]> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO debts (company_id, firstname, lastname, email, phone, amount, currency, internal_id)
     SELECT $1, 'Debtor', 'No ' || g, 'debtor' || g || '@example.com', '+3361' || lpad(g::text, 7, '0'),
            (50 + g % 5000)::numeric(14, 2), 'EUR', 'bench-debt-' || g
     FROM generate_series(1, $2::int) AS g
     RETURNING id`,
    [companyId, count],
  );
  return rows.map((r) => Number(r.id));
}

export interface FollowupSeed {
  companyId: number;
  /** Debts of that company; followups are dealt over them round-robin. */
  debtIds: number[];
  count: number;
  /** Activity dates are spread over this many days before `now` (default 730). */
  days?: number;
  now?: Date;
  /** Called after each batch with the number of rows inserted so far. */
  progress?: (inserted: number) => void;
}

/**
 * Inserts `count` followups spread over every status and type, created over the last `days`
 * days in id order; past activity has a call_date, pending work a future scheduled_at, and the
 * rest only a creation date, so every branch of the activity date is exercised. Each call has a
 * distinct call_id (unique per debt) and a duration.
 */
export async function seedFollowups(db: Queryable, seed: FollowupSeed): Promise<void> {
  await withoutSecondaryIndexes(db, 'followups', () => insertFollowups(db, seed));
}

async function insertFollowups(db: Queryable, seed: FollowupSeed): Promise<void> {
  const days = seed.days ?? 730;
  const now = seed.now ?? new Date();
  for (let start = 1; start <= seed.count; start += BATCH) {
    const end = Math.min(seed.count, start + BATCH - 1);
    await db.query(
      `WITH s AS (
         SELECT g,
                -- Neighbours get different statuses, and every status meets every type.
                ($4::text[])[1 + (g * 7) % cardinality($4::text[])] AS status,
                ($5::text[])[1 + (g + g / cardinality($4::text[])) % cardinality($5::text[])] AS type,
                -- Creation dates grow with g (as ids do in production), evenly over the period,
                -- with up to an hour of jitter. Rows in date order also keep index inserts local.
                $6::timestamptz - make_interval(secs => ($7::bigint * ${DAY_SECONDS}) * ($8::bigint - g) / $8::bigint
                                                         + (g::bigint * 7919) % 3600) AS created
         FROM generate_series($2::int, $3::int) AS g
       )
       INSERT INTO followups (company_id, debt_id, status, type, call_date, scheduled_at, summary, call_id,
                              duration_ms, direction, is_retry, processed_at, created_at, updated_at)
       SELECT $1,
              ($9::bigint[])[1 + g % cardinality($9::bigint[])],
              status,
              type,
              CASE WHEN status IN ('scheduled', 'on_hold') OR g % 11 = 0 THEN NULL ELSE created + interval '1 hour' END,
              CASE WHEN status IN ('scheduled', 'on_hold') THEN $6::timestamptz + make_interval(secs => g % (30 * ${DAY_SECONDS}))
                   WHEN g % 3 = 0 THEN created + interval '1 hour' END,
              'Seeded followup ' || g,
              CASE WHEN type IN ('call', 'manual_call') THEN 'bench-call-' || g END,
              CASE WHEN type IN ('call', 'manual_call') THEN (g::bigint * 997) % 600000 END,
              CASE WHEN type IN ('call', 'manual_call') THEN CASE WHEN g % 4 = 0 THEN 'inbound' ELSE 'outbound' END END,
              g % 10 = 0,
              created + interval '1 hour',
              created,
              created + interval '1 hour'
       FROM s`,
      [seed.companyId, start, end, STATUSES, TYPES, now, days, seed.count, seed.debtIds],
    );
    seed.progress?.(end);
  }
}

/**
 * Runs `work` with the table's secondary indexes dropped, then rebuilds them (in parallel when
 * `db` is a pool): one sorted build per index is several times faster than a million index
 * insertions. Indexes that back a constraint (the primary key) stay. Only for a database that
 * nothing else uses while it runs.
 */
async function withoutSecondaryIndexes(db: Queryable, table: string, work: () => Promise<void>): Promise<void> {
  const { rows: indexes } = await db.query<{ name: string; definition: string }>(
    `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
     FROM pg_index i
     WHERE i.indrelid = $1::regclass
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`,
    [table],
  );
  for (const index of indexes) await db.query(`DROP INDEX ${index.name}`);
  try {
    await work();
  } finally {
    await Promise.all(indexes.map((index) => db.query(index.definition)));
  }
}
