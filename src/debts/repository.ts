import type { Lookup } from '../db/lookup.js';
import type { Queryable } from '../db/pool.js';
import { Where, type TimeRange } from '../db/where.js';
import type { DebtStatus } from './schema.js';

/** The client-writable columns, in a fixed order shared by the SQL below. */
export const WRITABLE_COLUMNS = [
  'civility', 'firstname', 'lastname', 'phone', 'email', 'amount', 'currency', 'birthdate', 'object', 'internal_id',
  'invoice_reference', 'debtor_reference', 'invoice_date', 'due_date', 'address', 'address_complement', 'zip_code',
  'city', 'country', 'iban', 'payment_link', 'metadata',
] as const;
type WritableColumn = (typeof WRITABLE_COLUMNS)[number];

/** Normalised values of the writable columns; dates are `YYYY-MM-DD`, amount a decimal string. */
export interface DebtValues {
  civility: 'Mr' | 'Ms' | null;
  firstname: string;
  lastname: string;
  phone: string | null;
  email: string | null;
  amount: string;
  currency: string;
  birthdate: string | null;
  object: string | null;
  internal_id: string | null;
  invoice_reference: string | null;
  debtor_reference: string | null;
  invoice_date: string | null;
  due_date: string | null;
  address: string | null;
  address_complement: string | null;
  zip_code: string | null;
  city: string | null;
  country: string | null;
  iban: string | null;
  payment_link: string | null;
  metadata: Record<string, unknown> | null;
}
export type DebtChanges = Partial<DebtValues> & { status?: DebtStatus };

export interface StoredDebt extends DebtValues {
  id: number;
  company_id: number;
  status: DebtStatus;
  created_at: Date;
  updated_at: Date;
}

export interface DebtCounts {
  followups_count: number;
  nb_reminders: number;
  nb_answered: number;
}
export type DebtRow = StoredDebt & DebtCounts;


export interface DebtFilters {
  statuses?: string[];
  currency?: string;
  created?: TimeRange;
}

// Dates are read as text: pg would turn a `date` into a Date at local midnight, off by a day
// west of UTC.
const COLUMNS = `
  d.id, d.company_id, d.status, d.civility, d.firstname, d.lastname, d.phone, d.email, d.amount, d.currency,
  to_char(d.birthdate, 'YYYY-MM-DD') AS birthdate, d.object, d.internal_id, d.invoice_reference, d.debtor_reference,
  to_char(d.invoice_date, 'YYYY-MM-DD') AS invoice_date, to_char(d.due_date, 'YYYY-MM-DD') AS due_date,
  d.address, d.address_complement, d.zip_code, d.city, d.country, d.iban, d.payment_link, d.metadata,
  d.created_at, d.updated_at`;

// The definitions documented on nb_reminders and nb_answered in schema.ts. Counted per debt
// through followups_debt_idx, for the debts of one page only.
const COUNTS = `
  CROSS JOIN LATERAL (
    SELECT
      count(*)::int AS followups_count,
      count(*) FILTER (
        WHERE f.direction IS DISTINCT FROM 'inbound' AND f.status NOT IN ('on_hold', 'scheduled', 'cancelled')
      )::int AS nb_reminders,
      count(*) FILTER (WHERE f.status IN ('deal_found', 'deal_not_found', 'bad_behavior'))::int AS nb_answered
    FROM followups f
    WHERE f.debt_id = d.id
  ) c`;

const ORDER = 'ORDER BY d.created_at DESC, d.id DESC';

function parameter(column: WritableColumn, values: Partial<DebtValues>): unknown {
  const value = values[column];
  // pg would send a JS array as a PostgreSQL array; metadata is always an object, but be explicit.
  return column === 'metadata' && value !== null && value !== undefined ? JSON.stringify(value) : value;
}

export async function insertDebt(companyId: number, values: DebtValues, db: Queryable): Promise<DebtRow> {
  const { rows } = await db.query<DebtRow>(
    `WITH d AS (
       INSERT INTO debts (company_id, ${WRITABLE_COLUMNS.join(', ')})
       VALUES ($1, ${WRITABLE_COLUMNS.map((_, i) => `$${i + 2}`).join(', ')})
       RETURNING *
     )
     SELECT ${COLUMNS}, 0 AS followups_count, 0 AS nb_reminders, 0 AS nb_answered FROM d`,
    [companyId, ...WRITABLE_COLUMNS.map((column) => parameter(column, values))],
  );
  return rows[0]!;
}

/** A debt of the company with its followup counts; `forbidden` when it is another company's. */
export async function findDebt(companyId: number, id: number, db: Queryable): Promise<Lookup<DebtRow>> {
  const { rows } = await db.query<DebtRow>(`SELECT ${COLUMNS}, c.* FROM debts d ${COUNTS} WHERE d.id = $1`, [id]);
  const row = rows[0];
  if (!row) return undefined;
  return row.company_id === companyId ? { found: row } : { forbidden: true };
}

/** Whether the debt is the company's (`found`), another company's (`forbidden`), or unknown. */
export async function debtOwnership(companyId: number, id: number, db: Queryable): Promise<Lookup<true>> {
  const { rows } = await db.query<{ company_id: number }>('SELECT company_id FROM debts WHERE id = $1', [id]);
  if (!rows[0]) return undefined;
  return rows[0].company_id === companyId ? { found: true } : { forbidden: true };
}

/**
 * The debt, locked until the end of the transaction, so that an update checks its rules (phone
 * or email present, decimals of the currency) against the values it will write over. Another
 * company's row is never locked. An update takes the weaker lock that lets followups be created
 * on the debt meanwhile; a deletion makes them wait, then fail on the foreign key.
 */
export async function lockDebt(companyId: number, id: number, purpose: 'update' | 'delete', tx: Queryable): Promise<Lookup<StoredDebt>> {
  const lock = purpose === 'update' ? 'FOR NO KEY UPDATE' : 'FOR UPDATE';
  const { rows } = await tx.query<StoredDebt>(
    `SELECT ${COLUMNS} FROM debts d WHERE d.company_id = $1 AND d.id = $2 ${lock}`,
    [companyId, id],
  );
  if (rows[0]) return { found: rows[0] };
  const { rowCount } = await tx.query('SELECT 1 FROM debts WHERE id = $1', [id]);
  return rowCount ? { forbidden: true } : undefined;
}

/** Writes the given columns only; returns the debt with its counts. */
export async function updateDebt(companyId: number, id: number, changes: DebtChanges, tx: Queryable): Promise<DebtRow | undefined> {
  const columns = [...WRITABLE_COLUMNS.filter((column) => column in changes)];
  const params: unknown[] = [companyId, id, ...columns.map((column) => parameter(column, changes))];
  const assignments = columns.map((column, i) => `${column} = $${i + 3}`);
  if (changes.status !== undefined) {
    params.push(changes.status);
    assignments.push(`status = $${params.length}`);
  }
  const { rows } = await tx.query<DebtRow>(
    `WITH d AS (
       UPDATE debts SET ${[...assignments, 'updated_at = now()'].join(', ')}
       WHERE company_id = $1 AND id = $2
       RETURNING *
     )
     SELECT ${COLUMNS}, c.* FROM d ${COUNTS}`,
    params,
  );
  return rows[0];
}

/**
 * Deletes the debt's followups, then the debt; returns how many followups went with it and the
 * keys of their stored files, to be removed from blob storage once this commits.
 */
export async function deleteDebt(companyId: number, id: number, tx: Queryable): Promise<{ followups: number; mediaKeys: string[] }> {
  const followups = await tx.query<{ audio_key: string | null; pdf_key: string | null }>(
    'DELETE FROM followups WHERE company_id = $1 AND debt_id = $2 RETURNING audio_key, pdf_key',
    [companyId, id],
  );
  await tx.query('DELETE FROM debts WHERE company_id = $1 AND id = $2', [companyId, id]);
  const mediaKeys = followups.rows.flatMap((row) => [row.audio_key, row.pdf_key]).filter((key): key is string => key !== null);
  return { followups: followups.rowCount ?? 0, mediaKeys };
}

function where(companyId: number, filters: DebtFilters): Where {
  const conditions = new Where().equals('d.company_id', companyId).oneOf('d.status', filters.statuses);
  return conditions.equals('d.currency', filters.currency).within('d.created_at', filters.created);
}

/** One page of the company's debts, newest first (ties by id), with their counts. */
export async function listDebts(
  companyId: number,
  filters: DebtFilters,
  page: { limit: number; offset: number },
  db: Queryable,
): Promise<DebtRow[]> {
  const conditions = where(companyId, filters);
  // The page is cut first, so the followups are counted for its rows only.
  const { rows } = await db.query<DebtRow>(
    `SELECT ${COLUMNS}, c.*
     FROM (SELECT * FROM debts d WHERE ${conditions} ${ORDER} LIMIT ${conditions.param(page.limit)} OFFSET ${conditions.param(page.offset)}) d
     ${COUNTS}
     ${ORDER}`,
    conditions.params,
  );
  return rows;
}

export async function countDebts(companyId: number, filters: DebtFilters, db: Queryable): Promise<number> {
  const conditions = where(companyId, filters);
  const { rows } = await db.query<{ total: number }>(`SELECT count(*)::int AS total FROM debts d WHERE ${conditions}`, conditions.params);
  return rows[0]!.total;
}
