import type { Lookup } from '../db/lookup.js';
import { selectPage, type PageWindow, type RowPage } from '../db/page.js';
import type { Queryable } from '../db/pool.js';

export interface PaymentRow {
  id: number;
  company_id: number;
  debt_id: number;
  followup_id: number | null;
  /** numeric, as PostgreSQL writes it ("120.50"): never a float. */
  amount: string;
  currency: string;
  paid_at: Date;
  reference: string | null;
  created_at: Date;
}

export interface NewPayment {
  amount: string;
  currency: string;
  paidAt: Date;
  reference: string | null;
  followupId: number | null;
}

/** The transaction's clock (no company data, so no company id): a default paid_at on the clock the clicks were recorded with. */
export async function transactionTime(tx: Queryable): Promise<Date> {
  const { rows } = await tx.query<{ now: Date }>('SELECT now() AS now');
  return rows[0]!.now;
}

/**
 * The new payment, or undefined when the debt has one with this reference already (the unique
 * index decides, so two requests racing with one reference make one payment).
 */
export async function insertPayment(companyId: number, debtId: number, payment: NewPayment, tx: Queryable): Promise<PaymentRow | undefined> {
  const { rows } = await tx.query<PaymentRow>(
    `INSERT INTO payments (company_id, debt_id, followup_id, amount, currency, paid_at, reference)
     VALUES ($1, $2, $3, $4::numeric, $5, $6, $7)
     ON CONFLICT (debt_id, reference) WHERE reference IS NOT NULL DO NOTHING
     RETURNING *`,
    [companyId, debtId, payment.followupId, payment.amount, payment.currency, payment.paidAt, payment.reference],
  );
  return rows[0];
}

export async function findPaymentByReference(companyId: number, debtId: number, reference: string, db: Queryable): Promise<PaymentRow | undefined> {
  const { rows } = await db.query<PaymentRow>(
    'SELECT * FROM payments WHERE company_id = $1 AND debt_id = $2 AND reference = $3',
    [companyId, debtId, reference],
  );
  return rows[0];
}

/** A payment of the company; `forbidden` when it is another company's. */
export async function findPayment(companyId: number, id: number, db: Queryable): Promise<Lookup<PaymentRow>> {
  const { rows } = await db.query<PaymentRow>('SELECT * FROM payments WHERE id = $1', [id]);
  const row = rows[0];
  if (!row) return undefined;
  return row.company_id === companyId ? { found: row } : { forbidden: true };
}

/**
 * Whether the debt's payments add up to its amount, summed and compared in SQL (exact decimals).
 * Only payments in the debt's currency count: a debt's currency can be changed after payments in
 * the former one, and 90 EUR plus 10 JPY is not 100 JPY.
 */
export async function paymentsCoverDebt(companyId: number, debtId: number, tx: Queryable): Promise<boolean> {
  const { rows } = await tx.query<{ covered: boolean }>(
    `SELECT COALESCE(sum(p.amount), 0) >= d.amount AS covered
     FROM debts d LEFT JOIN payments p ON p.debt_id = d.id AND p.currency = d.currency
     WHERE d.company_id = $1 AND d.id = $2
     GROUP BY d.amount`,
    [companyId, debtId],
  );
  return rows[0]?.covered ?? false;
}

/** One page of the company's payments (of one debt, if given), latest paid first, and their total. */
export async function listPayments(companyId: number, debtId: number | undefined, window: PageWindow, db: Queryable): Promise<RowPage<PaymentRow>> {
  const filter = 'company_id = $1 AND ($2::bigint IS NULL OR debt_id = $2)';
  return selectPage<PaymentRow>(db, {
    select: `SELECT * FROM payments WHERE ${filter} ORDER BY paid_at DESC, id DESC`,
    count: `SELECT count(*)::int AS n FROM payments WHERE ${filter}`,
  }, [companyId, debtId ?? null], window);
}
