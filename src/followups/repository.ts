import type { Queryable } from '../db/pool.js';
import type { FollowupStatus, FollowupType } from './schema.js';

export interface FollowupRow {
  id: number;
  company_id: number;
  debt_id: number;
  status: FollowupStatus;
  type: FollowupType;
  call_date: Date | null;
  scheduled_at: Date | null;
  summary: string | null;
  notes: string | null;
  call_id: string | null;
  audio_url: string | null;
  pdf_url: string | null;
  duration_ms: number | null;
  disconnection_reason: string | null;
  direction: 'inbound' | 'outbound' | null;
  phone_number_used: string | null;
  is_retry: boolean;
  processed_at: Date;
  triggered_payment: boolean;
  email_opened: boolean;
  email_open_count: number;
  email_first_opened_at: Date | null;
  email_clicked: boolean;
  email_click_count: number;
  created_at: Date;
  updated_at: Date;
}

/** The client-writable columns, in a fixed order shared by the SQL below. */
export const WRITABLE_COLUMNS = [
  'type', 'status', 'call_date', 'scheduled_at', 'summary', 'notes', 'call_id', 'audio_url',
  'duration_ms', 'phone_number_used', 'direction', 'disconnection_reason', 'is_retry',
] as const;
export type WritableColumn = (typeof WRITABLE_COLUMNS)[number];
export type FollowupValues = { [K in WritableColumn]: FollowupRow[K] };

const INSERT_SQL = `
  INSERT INTO followups (company_id, debt_id, ${WRITABLE_COLUMNS.join(', ')})
  SELECT d.company_id, d.id, ${WRITABLE_COLUMNS.map((_, i) => `$${i + 3}`).join(', ')}
  FROM debts d
  WHERE d.company_id = $1 AND d.id = $2
  RETURNING *`;

/**
 * Inserts a followup on a debt of the company. Returns undefined when the company has no such
 * debt: the ownership check and the insert are one statement, so they cannot race.
 */
export async function insertFollowup(
  companyId: number,
  debtId: number,
  values: FollowupValues,
  db: Queryable,
): Promise<FollowupRow | undefined> {
  const { rows } = await db.query<FollowupRow>(INSERT_SQL, [companyId, debtId, ...WRITABLE_COLUMNS.map((c) => values[c])]);
  return rows[0];
}

export type Lookup<T> = { found: T } | { forbidden: true } | undefined;

/** A followup of the company; `forbidden` when it exists but belongs to another company. */
export async function findFollowup(companyId: number, id: number, db: Queryable): Promise<Lookup<FollowupRow>> {
  const { rows } = await db.query<FollowupRow>('SELECT * FROM followups WHERE id = $1', [id]);
  const row = rows[0];
  if (!row) return undefined;
  return row.company_id === companyId ? { found: row } : { forbidden: true };
}
