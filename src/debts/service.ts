import type { Lookup } from '../db/lookup.js';
import { transaction, type Pool, type Queryable } from '../db/pool.js';
import { parseDebtChanges, parseNewDebt, type SchemaChecked } from './rules.js';
import { deleteDebt as deleteDebtRows, findDebt, insertDebt, lockDebt, updateDebt as updateDebtRow, type DebtRow } from './repository.js';

/**
 * Checks and stores a new debt: the code path of `POST /debts` and `relance debt create`.
 * `input` is the body with what the request schema found wrong with it; a bad one is a 400
 * ApiError naming every bad field.
 */
export async function createDebt(companyId: number, input: SchemaChecked, db: Queryable): Promise<DebtRow> {
  return insertDebt(companyId, parseNewDebt(input), db);
}

/**
 * Applies a partial update. The row is locked while the input is checked against it, so two
 * concurrent updates cannot together break a rule that each one alone keeps (such as clearing
 * phone in one and email in the other). Ownership is settled before the input is looked at.
 */
export async function updateDebt(companyId: number, id: number, input: SchemaChecked, pool: Pool): Promise<Lookup<DebtRow>> {
  return transaction(pool, async (tx) => {
    const current = await lockDebt(companyId, id, 'update', tx);
    if (!current || 'forbidden' in current) return current;
    const changes = parseDebtChanges(input, current.found);
    if (Object.keys(changes).length === 0) return findDebt(companyId, id, tx);
    const row = await updateDebtRow(companyId, id, changes, tx);
    return row && { found: row };
  });
}

/** Deletes the debt and its followups in one transaction. */
export async function deleteDebt(companyId: number, id: number, pool: Pool): Promise<Lookup<{ deletedFollowups: number }>> {
  return transaction(pool, async (tx) => {
    const current = await lockDebt(companyId, id, 'delete', tx);
    if (!current || 'forbidden' in current) return current;
    return { found: { deletedFollowups: await deleteDebtRows(companyId, id, tx) } };
  });
}
