import type { Queryable } from '../db/pool.js';
import type { FollowupRow } from './repository.js';

/** `from` is inclusive, `before` exclusive. */
export interface TimeRange {
  from?: Date;
  before?: Date;
}

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

/** Appends WHERE conditions for the filters; values go through parameters only. */
function where(companyId: number, filters: FollowupFilters, params: unknown[]): string {
  params.push(companyId);
  const conditions = [`f.company_id = $${params.length}`];
  const add = (sql: (placeholder: string) => string, value: unknown) => {
    params.push(value);
    conditions.push(sql(`$${params.length}`));
  };
  // One value compares with =, so that the (company_id, status, activity_at) index also gives the order.
  const oneOf = (column: string, values: string[] | undefined) => {
    if (!values) return;
    if (values.length === 1) add((p) => `f.${column} = ${p}`, values[0]);
    else add((p) => `f.${column} = ANY(${p}::text[])`, values);
  };
  const range = (column: string, bounds: TimeRange | undefined) => {
    if (bounds?.from) add((p) => `f.${column} >= ${p}`, bounds.from);
    if (bounds?.before) add((p) => `f.${column} < ${p}`, bounds.before);
  };
  oneOf('status', filters.statuses);
  oneOf('type', filters.types);
  if (filters.debtId !== undefined) add((p) => `f.debt_id = ${p}`, filters.debtId);
  range('activity_at', filters.activity);
  range('scheduled_at', filters.scheduled);
  if (filters.updatedSince) add((p) => `f.updated_at >= ${p}`, filters.updatedSince);
  return conditions.join(' AND ');
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
  const params: unknown[] = [];
  let conditions = where(companyId, filters, params);
  const direction = order.descending ? 'DESC' : 'ASC';
  if (window.after) {
    params.push(window.after.key, window.after.id);
    const bound = `($${params.length - 1}::timestamp AT TIME ZONE 'UTC', $${params.length}::bigint)`;
    conditions += ` AND (f.${order.column}, f.id) ${order.descending ? '<' : '>'} ${bound}`;
  }
  params.push(window.limit + 1, window.offset ?? 0);
  const { rows } = await db.query<ListedRow>(
    `SELECT f.*, to_char(f.${order.column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS sort_key
     FROM followups f
     WHERE ${conditions}
     ORDER BY f.${order.column} ${direction}, f.id ${direction}
     LIMIT $${params.length - 1} OFFSET $${params.length}`,
    params,
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
  const params: unknown[] = [];
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM followups f WHERE ${where(companyId, filters, params)}`,
    params,
  );
  return rows[0]!.n;
}

/** The company owning a debt, to tell "not yours" (403) from "no such debt" (404). */
export async function debtCompany(debtId: number, db: Queryable): Promise<number | undefined> {
  const { rows } = await db.query<{ company_id: number }>('SELECT company_id FROM debts WHERE id = $1', [debtId]);
  return rows[0]?.company_id;
}
