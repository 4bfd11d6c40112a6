import type { QueryResultRow } from 'pg';
import type { Queryable } from './pool.js';

/** The rows of a list a page holds. */
export interface PageWindow {
  limit: number;
  offset: number;
}

/** A page of rows, and how many rows the list holds in all. */
export interface RowPage<Row> {
  rows: Row[];
  total: number;
}

/**
 * A page of a list and its total, the two queries side by side (on a pool, two connections).
 * `select` (with its ORDER BY) gets the window's LIMIT and OFFSET as the two parameters after
 * `params`; `count` is `SELECT count(*)::int AS n ...` over the same `params`.
 */
export async function selectPage<Row extends QueryResultRow>(
  db: Queryable,
  sql: { select: string; count: string },
  params: unknown[],
  window: PageWindow,
): Promise<RowPage<Row>> {
  const [page, count] = await Promise.all([
    db.query<Row>(`${sql.select} LIMIT $${params.length + 1} OFFSET $${params.length + 2}`, [...params, window.limit, window.offset]),
    db.query<{ n: number }>(sql.count, params),
  ]);
  return { rows: page.rows, total: count.rows[0]!.n };
}
