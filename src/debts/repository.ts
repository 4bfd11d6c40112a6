import type { Queryable } from '../db/pool.js';

export interface DebtRow {
  id: number;
  company_id: number;
  status: string;
  firstname: string;
  lastname: string;
  civility: string | null;
  phone: string | null;
  email: string | null;
  amount: string;
  currency: string;
  created_at: Date;
  updated_at: Date;
}

export interface NewDebt {
  firstname: string;
  lastname: string;
  phone: string | null;
  email: string | null;
  amount: string;
  currency: string;
}

export async function insertDebt(companyId: number, debt: NewDebt, db: Queryable): Promise<DebtRow> {
  const { rows } = await db.query<DebtRow>(
    `INSERT INTO debts (company_id, firstname, lastname, phone, email, amount, currency)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
    [companyId, debt.firstname, debt.lastname, debt.phone, debt.email, debt.amount, debt.currency],
  );
  return rows[0]!;
}
