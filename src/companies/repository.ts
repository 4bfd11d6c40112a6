import type { Queryable } from '../db/pool.js';

export interface CompanyRow {
  id: number;
  name: string;
}

export async function insertCompany(name: string, db: Queryable): Promise<CompanyRow> {
  const { rows } = await db.query<CompanyRow>('INSERT INTO companies (name) VALUES ($1) RETURNING id, name', [name]);
  return rows[0]!;
}

export async function countCompanies(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM companies');
  return rows[0]!.n;
}
