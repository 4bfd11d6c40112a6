import type { Queryable } from '../db/pool.js';
import { Where, type TimeRange } from '../db/where.js';
import type { FollowupRow } from './repository.js';

export interface FollowupFilters {
  statuses?: string[];
  types?: string[];
  debtId?: number;
  activity?: TimeRange;
  scheduled?: TimeRange;
  updatedSince?: Date;
}

export interface ListOrder {
  column: 'activity_at' | 'updated_at';
  descending: boolean;
}

/**
 * Position after the last row of a page: its exact sort value as UTC text with microseconds
 * (`2024-01-25T10:00:00.123456`; a JS Date would lose the microseconds), and its id.
 */
export interface Keyset {
  key: string;
  id: number;
}

export type ListedRow = FollowupRow & { sort_key: string };

function where(companyId: number, filters: FollowupFilters): Where {
  // One status or type compares with =, so that the (company_id, status, activity_at) index also gives the order.
  return new Where()
    .equals('f.company_id', companyId)
    .oneOf('f.status', filters.statuses)
    .oneOf('f.type', filters.types)
    .equals('f.debt_id', filters.debtId)
    .within('f.activity_at', filters.activity)
    .within('f.scheduled_at', filters.scheduled)
    .since('f.updated_at', filters.updatedSince);
}

/**
 * One page of the company's followups. With `after` it is a keyset page (as fast 10,000 rows
 * deep as on the first page); otherwise `offset` applies. Fetches `limit + 1` rows so the caller
 * knows whether another page follows.
 */
export async function listFollowups(
  companyId: number,
  filters: FollowupFilters,
  order: ListOrder,
  window: { limit: number; offset?: number; after?: Keyset },
  db: Queryable,
): Promise<ListedRow[]> {
  const conditions = where(companyId, filters);
  const direction = order.descending ? 'DESC' : 'ASC';
  const after = window.after;
  if (after) {
    const bound = `(${conditions.param(after.key)}::timestamp AT TIME ZONE 'UTC', ${conditions.param(after.id)}::bigint)`;
    conditions.condition(`(f.${order.column}, f.id) ${order.descending ? '<' : '>'} ${bound}`);
  }
  const { rows } = await db.query<ListedRow>(
    `SELECT f.*, to_char(f.${order.column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS sort_key
     FROM followups f
     WHERE ${conditions}
     ORDER BY f.${order.column} ${direction}, f.id ${direction}
     LIMIT ${conditions.param(window.limit + 1)} OFFSET ${conditions.param(window.offset ?? 0)}`,
    conditions.params,
  );
  return rows;
}

/**
 * How many followups of the company match. Filtered on status and type only (or not at all),
 * the answer is summed from the counters that triggers keep (migration 0004), a few rows;
 * other filters count the matching rows themselves, which their own bounds keep narrow.
 */
export async function countFollowups(companyId: number, filters: FollowupFilters, db: Queryable): Promise<number> {
  const { statuses, types, ...others } = filters;
  if (Object.values(others).every((value) => value === undefined)) {
    const { rows } = await db.query<{ n: string }>(
      `SELECT coalesce(sum(n), 0)::text AS n FROM followup_counts
       WHERE company_id = $1 AND ($2::text[] IS NULL OR status = ANY($2)) AND ($3::text[] IS NULL OR type = ANY($3))`,
      [companyId, statuses ?? null, types ?? null],
    );
    return Number(rows[0]!.n);
  }
  const conditions = where(companyId, filters);
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM followups f WHERE ${conditions}`, conditions.params);
  return rows[0]!.n;
}
