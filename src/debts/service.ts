import type { Queryable } from '../db/pool.js';
import type { IdCodec } from '../security/encrypted-id.js';
import { formatTimestamp } from '../time/timestamp.js';
import { insertDebt, type DebtRow } from './repository.js';

export class DebtInputError extends Error {
  constructor(readonly details: Record<string, string>) {
    super(Object.values(details).join('; '));
  }
}

export interface DebtInput {
  firstname?: string;
  lastname?: string;
  phone?: string;
  email?: string;
  amount?: string | number;
  currency?: string;
}

/** Validates and stores a debt; every failing field is reported at once. */
export async function createDebt(companyId: number, input: DebtInput, db: Queryable): Promise<DebtRow> {
  const details: Record<string, string> = {};
  const firstname = input.firstname?.trim();
  const lastname = input.lastname?.trim();
  if (!firstname) details.firstname = 'firstname is required';
  if (!lastname) details.lastname = 'lastname is required';
  if (!input.phone && !input.email) details.phone = 'phone or email is required';
  if (input.email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(input.email)) details.email = 'email must be a valid email address';
  const amount = String(input.amount ?? '');
  if (!/^\d{1,12}(\.\d{1,2})?$/.test(amount) || Number(amount) <= 0) details.amount = 'amount must be a number greater than 0 with at most 2 decimals';
  const currency = input.currency?.toUpperCase() ?? '';
  if (!/^[A-Z]{3}$/.test(currency)) details.currency = 'currency must be an ISO 4217 code such as EUR';
  if (Object.keys(details).length > 0) throw new DebtInputError(details);
  return insertDebt(companyId, {
    firstname: firstname!,
    lastname: lastname!,
    phone: input.phone ?? null,
    email: input.email ?? null,
    amount,
    currency,
  }, db);
}

export function toDebt(row: DebtRow, ids: IdCodec) {
  return {
    id: ids.encode('debt', row.id),
    status: row.status,
    firstname: row.firstname,
    lastname: row.lastname,
    phone: row.phone,
    email: row.email,
    amount: Number(row.amount),
    currency: row.currency,
    import_date: formatTimestamp(row.created_at),
  };
}
